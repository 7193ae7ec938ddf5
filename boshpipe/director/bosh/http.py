"""The one HTTPS channel to a director and its UAA: session, TLS trust, redirects, host allow-list.

Rules, and why:

* one ``requests.Session`` for every call, so a whole deploy rides on one kept-alive connection per
  host instead of a TLS handshake per poll;
* ``verify=<director CA>`` is passed on *every* request: when ``REQUESTS_CA_BUNDLE`` or
  ``CURL_CA_BUNDLE`` is set, requests replaces ``Session.verify`` with it, which would silently
  trust the corporate bundle instead of the director's CA;
* redirects are never followed. The director answers task-starting requests with a 302/303 whose
  ``Location`` may name a host we were not configured with (a front end's address); the caller
  takes the task id out of it and keeps talking to its own base URL;
* ``~/.netrc`` is never consulted: requests would otherwise replace our ``Authorization`` header
  with the netrc entry for the host;
* requests go only to the origins this channel was opened for (the director, and the UAA that
  director's ``/info`` names). Anything else is refused before a byte is sent, so no
  ``Authorization`` header or client secret can leave for another host.

Transport failures become one-line ``DirectorError``s naming the URL and what to check.
"""

from __future__ import annotations

import contextlib
import logging
import os
import ssl
import tempfile
import weakref
from collections.abc import Mapping
from pathlib import Path
from urllib.parse import urlsplit

import requests
import requests.auth

from boshpipe.errors import ConfigError, DirectorError

log = logging.getLogger(__name__)

DEFAULT_TIMEOUT = (10.0, 120.0)  # (connect, read) seconds


def origin(url: str) -> str:
    """``scheme://host:port`` of a URL, with the default port made explicit (for comparisons)."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    port = parts.port or (443 if scheme == "https" else 80)
    host = (parts.hostname or "").lower()
    if ":" in host:  # IPv6 literal
        host = f"[{host}]"
    return f"{scheme}://{host}:{port}"


class CaBundle:
    """The CA that director certificates must chain to, as a file path requests can use.

    ``BOSH_CA_CERT`` may hold PEM text or a path; PEM text is written to a private (0600) temporary
    file that is removed by ``close()``, at garbage collection, or at interpreter exit.
    ``None`` means the system trust store (verification stays on).
    """

    def __init__(self, path: str | None, *, owned: bool = False) -> None:
        self.path = path
        self._finalizer = weakref.finalize(self, _remove, path) if owned and path else None

    @classmethod
    def from_setting(cls, value: str | None, *, source: str = "BOSH_CA_CERT") -> CaBundle:
        if value is None or not value.strip():
            return cls(None)
        if "-----BEGIN" in value:
            if "CERTIFICATE-----" not in value:
                raise ConfigError(f"{source} holds PEM text but no CERTIFICATE block")
            _check_pem(value, source)
            fd, path = tempfile.mkstemp(prefix="boshpipe-director-ca-", suffix=".pem")
            try:
                os.write(fd, value.encode())
            finally:
                os.close(fd)
            return cls(path, owned=True)
        file = Path(value).expanduser()
        if not file.is_file():
            raise ConfigError(f"{source} is neither PEM text nor an existing file: {file}")
        _check_pem(file.read_text(errors="replace"), source)
        return cls(str(file))

    @property
    def verify(self) -> str | bool:
        """The value for requests' ``verify=``: the CA file, or True for the system trust store."""
        return self.path if self.path is not None else True

    def close(self) -> None:
        if self._finalizer is not None:
            self._finalizer()


def _remove(path: str) -> None:
    with contextlib.suppress(FileNotFoundError):
        os.unlink(path)


def _check_pem(text: str, source: str) -> None:
    try:
        ssl.create_default_context(cadata=text)
    except (ssl.SSLError, ValueError):
        raise ConfigError(f"{source} does not contain a usable PEM CA certificate") from None


class _HeadersAsGiven(requests.auth.AuthBase):
    """An auth that changes nothing; passing it stops requests from applying ``~/.netrc``."""

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        return request


_AS_GIVEN = _HeadersAsGiven()


class DirectorHttp:
    """Sends requests to allowed origins only, with the director's CA and without redirects."""

    def __init__(
        self,
        ca: CaBundle,
        origins: set[str],
        *,
        timeout: tuple[float, float] = DEFAULT_TIMEOUT,
        session: requests.Session | None = None,
    ) -> None:
        self.ca = ca
        self._origins = {origin(o) for o in origins}
        self.timeout = timeout
        self.session = session or requests.Session()

    def allow(self, url: str) -> None:
        """Add an origin (the UAA named by the director's /info)."""
        self._origins.add(origin(url))

    def request(
        self,
        method: str,
        url: str,
        *,
        what: str,
        headers: Mapping[str, str] | None = None,
        data: bytes | None = None,
        auth: tuple[str, str] | None = None,
    ) -> requests.Response:
        """One request; ``what`` names the peer in error messages ("director", "UAA")."""
        if origin(url) not in self._origins:
            raise DirectorError(f"refusing to send a request to {origin(url)}: not the configured {what}")
        try:
            response = self.session.request(
                method,
                url,
                headers=dict(headers or {}),
                data=data,
                auth=auth if auth is not None else _AS_GIVEN,
                verify=self.ca.verify,
                timeout=self.timeout,
                allow_redirects=False,
            )
        except requests.exceptions.SSLError:
            raise DirectorError(
                f"TLS verification of the {what} at {origin(url)} failed: its certificate is not signed"
                f" by {self._ca_name()} (check BOSH_CA_CERT)"
            ) from None
        except requests.exceptions.Timeout:
            raise DirectorError(
                f"the {what} at {origin(url)} did not answer within {self.timeout[1]:g}s"
            ) from None
        except requests.exceptions.ConnectionError as exc:
            raise DirectorError(
                f"cannot reach the {what} at {origin(url)}: {_reason(exc)} (check the URL, network and"
                " BOSH_ENVIRONMENT)"
            ) from None
        except requests.exceptions.RequestException as exc:
            raise DirectorError(
                f"request to the {what} at {origin(url)} failed: {type(exc).__name__}"
            ) from None
        # Read the body now so the connection goes back to the pool for the next call.
        _ = response.content
        log.debug("%s %s -> %s", method, urlsplit(url).path, response.status_code)
        return response

    def _ca_name(self) -> str:
        return "the CA in BOSH_CA_CERT" if self.ca.path is not None else "a CA of the system trust store"

    def close(self) -> None:
        self.session.close()
        self.ca.close()


def _reason(exc: BaseException) -> str:
    """A short cause ("connection refused", "name or service not known") without the URL noise."""
    text = str(exc).lower()
    for needle, reason in (
        ("refused", "connection refused"),
        ("name or service not known", "host name not found"),
        ("nodename nor servname", "host name not found"),
        ("temporary failure in name resolution", "host name not found"),
        ("timed out", "connection timed out"),
        ("no route to host", "no route to host"),
        ("network is unreachable", "network unreachable"),
        ("reset by peer", "connection reset"),
        ("remote end closed", "connection closed by the server"),
    ):
        if needle in text:
            return reason
    return type(exc).__name__
