"""Director authentication: basic auth, or UAA bearer tokens with refresh.

``GET /info`` tells which one a director wants. For UAA, a CI client (``BOSH_CLIENT`` +
``BOSH_CLIENT_SECRET``) uses the ``client_credentials`` grant; a person without ``BOSH_CLIENT`` is
asked for a user name and password on the terminal and the ``password`` grant runs with the bosh
CLI's public client ``bosh_cli`` (empty secret). When the token response carries a
``refresh_token`` it is used to renew the access token; otherwise the original grant is repeated.

Tokens are renewed before use when they are known to have expired, and once more when the director
still answers 401. Credentials and tokens live only in these objects (``repr`` hides them) and the
scrubber is told about every one of them, so none can end up in output.
"""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol
from urllib.parse import urlencode

from boshpipe.director.bosh.http import DirectorHttp
from boshpipe.director.redact import Scrubber, one_line
from boshpipe.errors import DirectorError

PUBLIC_CLI_CLIENT = "bosh_cli"  # the client the bosh CLI uses for people's password grant
EXPIRY_MARGIN = 10.0  # seconds: renew a little before the UAA's expiry, not after a wasted 401


class Auth(Protocol):
    """Produces the ``Authorization`` header for director requests."""

    def header(self) -> str: ...

    def renew(self) -> bool:
        """Get fresh credentials after a 401. False when there is nothing fresher to try."""
        ...

    def who(self) -> str:
        """Who we are, for messages (client or user name; never a secret)."""
        ...


@dataclass(frozen=True)
class Credentials:
    """A client/user name and its secret. The secret never appears in ``repr``."""

    name: str
    secret: str = field(repr=False)


LoginPrompt = Callable[[str], Credentials]
"""Asks a person for credentials; the argument says for what (e.g. the director URL)."""


class BasicAuth:
    def __init__(self, credentials: Credentials) -> None:
        self._credentials = credentials

    def header(self) -> str:
        raw = f"{self._credentials.name}:{self._credentials.secret}".encode()
        return "Basic " + base64.b64encode(raw).decode()

    def renew(self) -> bool:
        return False

    def who(self) -> str:
        return f"user '{self._credentials.name}' (basic auth)"

    def __repr__(self) -> str:
        return f"BasicAuth({self._credentials.name!r})"


@dataclass
class _Token:
    access: str = field(repr=False)
    refresh: str | None = field(repr=False)
    expires_at: float | None


class UaaAuth:
    """Bearer tokens from a UAA's ``/oauth/token``."""

    def __init__(
        self,
        http: DirectorHttp,
        uaa_url: str,
        *,
        client: Credentials | None,
        login: LoginPrompt | None,
        scrub: Scrubber,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._http = http
        self._token_url = uaa_url.rstrip("/") + "/oauth/token"
        self._client = client
        self._login = login
        self._user: Credentials | None = None
        self._scrub = scrub
        self._clock = clock
        self._token: _Token | None = None

    def who(self) -> str:
        if self._client is not None:
            return f"client '{self._client.name}' (UAA)"
        return f"user '{self._user.name}' (UAA)" if self._user else "a UAA user"

    def header(self) -> str:
        token = self._token
        if token is None:
            token = self._grant()
        elif token.expires_at is not None and self._clock() >= token.expires_at:
            token = self._renewed(token)
        return f"bearer {token.access}"

    def renew(self) -> bool:
        if self._token is None:
            self._grant()
        else:
            self._renewed(self._token)
        return True

    def _renewed(self, token: _Token) -> _Token:
        if token.refresh:
            try:
                return self._request({"grant_type": "refresh_token", "refresh_token": token.refresh})
            except DirectorError:
                pass  # refresh token expired or revoked: fall back to a fresh grant
        return self._grant()

    def _grant(self) -> _Token:
        if self._client is not None:
            return self._request({"grant_type": "client_credentials"})
        if self._user is None:
            if self._login is None:
                raise DirectorError(
                    f"the director authenticates with UAA at {self._token_url.removesuffix('/oauth/token')}"
                    " and no credentials are set: export BOSH_CLIENT and BOSH_CLIENT_SECRET"
                )
            self._user = self._login(self._token_url.removesuffix("/oauth/token"))
            self._scrub.add(self._user.secret)
        return self._request(
            {"grant_type": "password", "username": self._user.name, "password": self._user.secret}
        )

    def _request(self, form: dict[str, str]) -> _Token:
        client = self._client or Credentials(PUBLIC_CLI_CLIENT, "")
        response = self._http.request(
            "POST",
            self._token_url,
            what="UAA",
            headers={"Accept": "application/json", "Content-Type": "application/x-www-form-urlencoded"},
            data=urlencode(form).encode(),
            auth=(client.name, client.secret),
        )
        if response.status_code != 200:
            raise DirectorError(
                f"UAA at {self._token_url} refused {self.who()} ({response.status_code}"
                f"{self._uaa_error(response.text)}): check BOSH_CLIENT and BOSH_CLIENT_SECRET"
            )
        try:
            body = json.loads(response.text)
            access = str(body["access_token"])
        except (ValueError, KeyError, TypeError):
            raise DirectorError(
                f"UAA at {self._token_url} sent a token response without access_token"
            ) from None
        refresh = body.get("refresh_token")
        refresh = str(refresh) if refresh else None
        self._scrub.add(access, refresh)
        expires_in = body.get("expires_in")
        expires_at = None
        if isinstance(expires_in, int | float) and not isinstance(expires_in, bool):
            expires_at = self._clock() + max(0.0, float(expires_in) - EXPIRY_MARGIN)
        self._token = _Token(access, refresh, expires_at)
        return self._token

    def _uaa_error(self, text: str) -> str:
        try:
            body = json.loads(text)
            detail = body.get("error_description") or body.get("error")
        except (ValueError, AttributeError):
            return ""
        return f": {one_line(self._scrub(str(detail)), 160)}" if detail else ""

    def __repr__(self) -> str:
        return f"UaaAuth({self._token_url!r}, {self.who()})"


def terminal_login(prompt_for: str) -> Credentials:
    """Ask a person on the terminal (password not echoed). Used when BOSH_CLIENT is unset."""
    import getpass
    import sys

    if not sys.stdin.isatty():
        raise DirectorError(
            f"{prompt_for} needs credentials and there is no terminal to ask: export BOSH_CLIENT and"
            " BOSH_CLIENT_SECRET"
        )
    print(f"Log in to {prompt_for}", file=sys.stderr)
    name = input("Username: ").strip()
    secret = getpass.getpass("Password: ")
    return Credentials(name, secret)
