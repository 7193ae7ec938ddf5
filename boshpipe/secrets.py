"""The Redis password of a deployment (redaction of what is shown lives in ``director.redact``).

The password never enters a candidate or a record: it is added by the generated stub at render time.
``BOSHPIPE_REDIS_PASSWORD`` (set from credentials in Concourse) wins; on the embedded default a random
one is generated once per env and kept, mode 0600, in the git-ignored work dir.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

ENV_VAR = "BOSHPIPE_REDIS_PASSWORD"


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
