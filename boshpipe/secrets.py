"""The Redis password of a deployment (redaction of what is shown lives in ``director.redact``).

The password never enters a candidate or a record: it is added by the generated stub at render time.
``BOSHPIPE_REDIS_PASSWORD`` (set from credentials in Concourse) wins; on the embedded default a random
one is generated once per env and kept, mode 0600, in the git-ignored work dir.

Why so strict: an empty password file (left behind when the disk filled while it was written) used
to become ``requirepass ""``, i.e. Redis without authentication, and the smoke test stayed green. So:
a password is never empty or shorter than :data:`MIN_LENGTH`; a generated one is 43 characters from
the OS CSPRNG (``secrets``), written to a temp file that is fsynced, then linked into place
(create-if-absent), so the file is either complete or absent; a bad file is refused, never repaired
silently (deleting it makes a new one, which changes the deployment's password on the next deploy).
"""

from __future__ import annotations

import contextlib
import os
import secrets
from pathlib import Path

from boshpipe.errors import ConfigError

ENV_VAR = "BOSHPIPE_REDIS_PASSWORD"
MIN_LENGTH = 16
MAX_LENGTH = 512
GENERATED_BYTES = 32  # token_urlsafe(32): 43 characters, 256 bits


def redis_password(workdir: Path, env: str) -> str:
    if ENV_VAR in os.environ:
        return _checked(os.environ[ENV_VAR], f"{ENV_VAR}", f"set {ENV_VAR} to a longer password, or unset it")
    path = workdir / "secrets" / f"{env}.redis-password"
    existing = _read(path)
    if existing is not None:
        return existing
    return _generate(path)


def _read(path: Path) -> str | None:
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return None
    except OSError as err:
        raise ConfigError(f"{path}: cannot read the Redis password ({err.strerror}): fix its permissions") from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        text = ""
    return _checked(text.strip(), str(path), "delete the file to have a new password generated")


def _checked(value: str, where: str, fix: str) -> str:
    """The password, or one line saying why it cannot protect a Redis instance."""
    if not value:
        raise ConfigError(f"{where}: the Redis password is empty (Redis would accept anyone): {fix}")
    if len(value) < MIN_LENGTH:
        raise ConfigError(f"{where}: the Redis password is shorter than {MIN_LENGTH} characters: {fix}")
    if len(value) > MAX_LENGTH or not value.isprintable():
        raise ConfigError(f"{where}: the Redis password must be {MAX_LENGTH} printable characters at most: {fix}")
    return value


def _generate(path: Path) -> str:
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    value = secrets.token_urlsafe(GENERATED_BYTES)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(value + "\n")
            handle.flush()
            os.fsync(handle.fileno())
        try:
            os.link(tmp, path)  # create-if-absent: complete or not there at all
        except FileExistsError:  # another process made it first: use theirs
            theirs = _read(path)
            if theirs is None:  # pragma: no cover - deleted again in between
                raise ConfigError(f"{path}: the Redis password file vanished while it was made: run again") from None
            return theirs
    except OSError as err:
        raise ConfigError(
            f"{path}: cannot write the generated Redis password ({err.strerror}): free space or fix permissions"
        ) from None
    finally:
        with contextlib.suppress(OSError):
            tmp.unlink()
    return value
