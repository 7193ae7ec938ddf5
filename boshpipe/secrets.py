"""The Redis password of a deployment, and redaction of secrets in anything shown to people.

The password never enters a candidate or a record: it is added by the generated stub at render time.
``BOSHPIPE_REDIS_PASSWORD`` (set from credentials in Concourse) wins; on the embedded default a random
one is generated once per env and kept, mode 0600, in the git-ignored work dir.
"""

from __future__ import annotations

import os
import re
import secrets
from pathlib import Path
from typing import Any

ENV_VAR = "BOSHPIPE_REDIS_PASSWORD"
SECRET_KEY = re.compile(r"password|secret|token|credential|private_key|passphrase", re.IGNORECASE)
REDACTED = "<redacted>"


def redis_password(workdir: Path, env: str) -> str:
    given = os.environ.get(ENV_VAR)
    if given:
        return given
    path = workdir / "secrets" / f"{env}.redis-password"
    try:
        return path.read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    value = secrets.token_urlsafe(18)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another process made it first: use theirs
        return path.read_text(encoding="utf-8").strip()
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(value + "\n")
    return value


def redact(node: Any) -> Any:
    """A copy of a manifest with every value under a secret-looking key replaced."""
    if isinstance(node, dict):
        return {
            k: REDACTED if isinstance(k, str) and SECRET_KEY.search(k) else redact(v) for k, v in node.items()
        }
    if isinstance(node, list):
        return [redact(item) for item in node]
    return node
