"""The local director's memory: JSON files under its state directory.

Processes outlive the Python process that started them, so everything a later ``instances()``,
``deployed_manifest()`` or ``delete_deployment()`` needs is on disk. Files are replaced atomically
(write a temp file, rename) so readers never need a lock and never see half a file; writers that
change a deployment hold an exclusive ``fcntl`` lock so two deploys cannot interleave. Files are
0600 and directories 0700: state holds the manifest, and manifests hold passwords.
"""

from __future__ import annotations

import fcntl
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
        path = self.deployment_dir(name) / "state.json"
        try:
            data: dict[str, Any] = json.loads(path.read_text())
        except FileNotFoundError:
            return None
        except (OSError, ValueError) as err:
            raise DirectorError(f"local director state {path} is unreadable ({err}): delete it by hand") from err
        return data

    def save(self, name: str, data: dict[str, Any]) -> None:
        write_json(self._ensure(self.deployment_dir(name)) / "state.json", data)

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
