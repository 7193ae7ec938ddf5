"""The local director's memory: JSON files under its state directory.

Processes outlive the Python process that started them, so everything a later ``instances()``,
``deployed_manifest()`` or ``delete_deployment()`` needs is on disk. Files are replaced atomically
(write a temp file, rename) so readers never need a lock and never see half a file; writers that
change a deployment hold an exclusive ``fcntl`` lock so two deploys cannot interleave. Files are
0600 and directories 0700: state holds the manifest, and manifests hold passwords.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import re
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from boshpipe.errors import DirectorError

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")


class StateDir:
    def __init__(self, root: Path) -> None:
        self.root = root

    def deployment_dir(self, name: str) -> Path:
        if not _NAME.match(name):
            raise DirectorError(f"deployment name '{name}' is not usable: use letters, digits, '.', '_' and '-' only")
        return self.root / "deployments" / name

    @contextmanager
    def locked(self) -> Iterator[None]:
        """Exclusive over every change to deployments (IP conflicts span deployments)."""
        with _flock(self._ensure(self.root) / "deploy.lock"):
            yield

    def next_task_id(self) -> str:
        """Director-style incrementing task ids, shared by every process using this state dir."""
        with _flock(self._ensure(self.root) / "tasks.lock"):
            counter = self.root / "task_counter"
            last = self._last_task_id(counter)
            write_text(counter, f"{last + 1}\n")
            return str(last + 1)

    def _last_task_id(self, counter: Path) -> int:
        """The counter's number; without a counter, the highest recorded task (ids never repeat)."""
        try:
            text = counter.read_text(errors="replace").strip()
        except FileNotFoundError:
            ids = [int(p.stem) for p in (self.root / "tasks").glob("*.json") if p.stem.isdigit()]
            return max(ids, default=0)
        except OSError as err:
            raise DirectorError(f"cannot read the local director task counter {counter}: {err.strerror}") from None
        if not text.isdigit():
            shown = text[:20] + ("…" if len(text) > 20 else "")
            raise DirectorError(
                f"the local director task counter {counter} holds {shown!r}, not a task number:"
                " delete it (numbering resumes after the highest task recorded in the tasks folder beside it)"
            )
        return int(text)

    def record_task(self, task: dict[str, Any]) -> None:
        write_json(self._ensure(self.root / "tasks") / f"{task['id']}.json", task)

    def load(self, name: str) -> dict[str, Any] | None:
        """The deployment's state, its secrets (``secrets.json``) put back in place."""
        folder = self.deployment_dir(name)
        data = _read_json(folder / "state.json")
        if data is None:
            return None
        return _join(data, _read_json(folder / SECRETS) or {})

    def save(self, name: str, data: dict[str, Any]) -> None:
        """``state.json`` without secrets, ``secrets.json`` with them (secrets first: a reader between
        the two writes finds the new secrets, which the old state's instances never need)."""
        folder = self._ensure(self.deployment_dir(name))
        public, hidden = _split(data)
        write_json(folder / SECRETS, hidden)
        write_json(folder / "state.json", public)

    def names(self) -> list[str]:
        base = self.root / "deployments"
        if not base.is_dir():
            return []
        return sorted(p.name for p in base.iterdir() if (p / "state.json").exists())

    def remove(self, name: str) -> None:
        shutil.rmtree(self.deployment_dir(name), ignore_errors=True)

    def _ensure(self, path: Path) -> Path:
        path.mkdir(parents=True, exist_ok=True, mode=0o700)
        return path


SECRETS = "secrets.json"
_SECRET_KEYS = ("manifest", "attempted_manifest")  # manifests carry redis.password


def _split(data: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """(state without secrets, the secrets): manifests and instance passwords go to ``secrets.json``.

    Why: ``state.json`` is what people open, copy into bug reports and diff; the password belongs in
    one 0600 file next to it (as a director keeps credentials in its config server), and in the
    instance's redis.conf, where redis-server needs it.
    """
    public = {k: v for k, v in data.items() if k not in _SECRET_KEYS}
    hidden: dict[str, Any] = {k: data[k] for k in _SECRET_KEYS if k in data}
    for key in _SECRET_KEYS:
        if key in data and data[key] is not None:
            public[f"{key}_sha256"] = hashlib.sha256(str(data[key]).encode()).hexdigest()
    instances = data.get("instances")
    if isinstance(instances, dict):
        public["instances"] = {k: {f: v for f, v in rec.items() if f != "password"} for k, rec in instances.items()}
        hidden["passwords"] = {k: rec.get("password") for k, rec in instances.items()}
    return public, hidden


def _join(public: dict[str, Any], hidden: dict[str, Any]) -> dict[str, Any]:
    data = {k: v for k, v in public.items() if not (k.endswith("_sha256") and k[: -len("_sha256")] in _SECRET_KEYS)}
    data.update({k: hidden[k] for k in _SECRET_KEYS if k in hidden})
    passwords = hidden.get("passwords") or {}
    for key, rec in (data.get("instances") or {}).items():
        if key in passwords and "password" not in rec:
            rec["password"] = passwords[key]
    return data


def _read_json(path: Path) -> dict[str, Any] | None:
    try:
        data = json.loads(path.read_text())
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as err:
        raise DirectorError(f"local director state {path} is unreadable ({err}): delete it by hand") from err
    if not isinstance(data, dict):
        raise DirectorError(f"local director state {path} is not a JSON object: delete it by hand")
    return data


def write_json(path: Path, data: dict[str, Any]) -> None:
    write_text(path, json.dumps(data, indent=1, sort_keys=True) + "\n")


def write_text(path: Path, text: str) -> None:
    """Atomic replace with mode 0600 (the new file never exists with wider permissions)."""
    try:
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    except OSError as err:
        raise _write_failed(path, err) from None
    try:
        with os.fdopen(fd, "w") as handle:
            handle.write(text)
        os.replace(tmp, path)
    except OSError as err:
        Path(tmp).unlink(missing_ok=True)
        raise _write_failed(path, err) from None
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _write_failed(path: Path, err: OSError) -> DirectorError:
    """A full disk or a read-only work dir while the local director writes its state: one line."""
    return DirectorError(
        f"the local director cannot write {path} ({err.strerror}): free space or fix the permissions of"
        f" {path.parent}, then deploy again"
    )


@contextmanager
def _flock(path: Path) -> Iterator[None]:
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)
