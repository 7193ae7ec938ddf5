"""Which director, with which credentials and CA: the env's setting and the bosh CLI's variables.

Precedence (chosen so a stray shell variable can never redirect a deploy, nor send one director's
credentials to another):

* the env's ``director`` setting is a URL: that URL names the director. ``BOSH_ENVIRONMENT`` may be
  unset or name the same director; if it names a *different* one, this is a configuration error
  (the BOSH_CLIENT/BOSH_CLIENT_SECRET in the shell most likely belong to that other director);
* the env's ``director`` setting is ``env`` (or ``bosh-env``): the director is whatever
  ``BOSH_ENVIRONMENT`` says, like the bosh CLI. Unset is an error.

Addresses are normalized like the bosh CLI does: ``10.0.0.6`` → ``https://10.0.0.6:25555``.
Plain ``http://`` and URLs carrying credentials are refused.

Credentials: ``BOSH_CLIENT`` + ``BOSH_CLIENT_SECRET`` (both or neither). Neither means a person at a
terminal will be asked. ``BOSH_CA_CERT`` holds PEM text or a path; unset means the system trust
store (TLS verification is never turned off).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from boshpipe.director.bosh.http import origin
from boshpipe.errors import ConfigError

DEFAULT_PORT = 25555
FROM_ENVIRONMENT = frozenset({"env", "bosh-env", "$BOSH_ENVIRONMENT"})


@dataclass(frozen=True)
class DirectorConfig:
    url: str
    client: str | None = None
    client_secret: str | None = field(default=None, repr=False)
    ca_cert: str | None = field(default=None, repr=False)  # PEM text or a path, as given


def normalize_url(value: str, *, source: str) -> str:
    """``https://host:port`` for an address given as host, host:port or URL."""
    text = value.strip().rstrip("/")
    if "://" not in text:
        text = "https://" + text
    parts = urlsplit(text)
    if parts.scheme.lower() != "https":
        raise ConfigError(f"{source}: the director must be reached over https, not {parts.scheme}://")
    if parts.username or parts.password:
        raise ConfigError(f"{source}: put credentials in BOSH_CLIENT/BOSH_CLIENT_SECRET, not in the URL")
    if not parts.hostname:
        raise ConfigError(f"{source}: {value!r} names no host")
    try:
        port = parts.port or DEFAULT_PORT
    except ValueError:
        raise ConfigError(f"{source}: {value!r} has an invalid port") from None
    host = parts.hostname if ":" not in parts.hostname else f"[{parts.hostname}]"
    path = parts.path.rstrip("/")
    return f"https://{host}:{port}{path}"


def resolve(setting: str, environ: Mapping[str, str] | None = None) -> DirectorConfig:
    """The director configuration for an env's ``director`` setting and the process environment."""
    env = os.environ if environ is None else environ
    bosh_environment = env.get("BOSH_ENVIRONMENT", "").strip()
    if setting.strip() in FROM_ENVIRONMENT:
        if not bosh_environment:
            raise ConfigError(f"the env's director is {setting.strip()!r} but BOSH_ENVIRONMENT is not set")
        url = normalize_url(bosh_environment, source="BOSH_ENVIRONMENT")
    else:
        url = normalize_url(setting, source="env director")
        if bosh_environment:
            other = normalize_url(bosh_environment, source="BOSH_ENVIRONMENT")
            if origin(other) != origin(url):
                raise ConfigError(
                    f"the env names director {url} but BOSH_ENVIRONMENT is {other}: unset BOSH_ENVIRONMENT"
                    " (and check BOSH_CLIENT is meant for this director), or set the env's director to 'env'"
                )
    client = env.get("BOSH_CLIENT") or None
    secret = env.get("BOSH_CLIENT_SECRET") or None
    if (client is None) != (secret is None):
        missing = "BOSH_CLIENT_SECRET" if secret is None else "BOSH_CLIENT"
        raise ConfigError(f"BOSH_CLIENT and BOSH_CLIENT_SECRET go together: {missing} is not set")
    ca_cert = env.get("BOSH_CA_CERT") or None
    return DirectorConfig(url=url, client=client, client_secret=secret, ca_cert=ca_cert)
