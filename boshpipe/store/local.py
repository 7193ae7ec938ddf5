"""The artifact store as a directory: the embedded default.

Objects are plain files under ``root`` (``root/candidates/redis-templates-3.tgz`` is the candidate
itself, readable by people and tools), so the layout mirrors the S3 bucket exactly.

Safety comes from the file system, not from care:

- ``create`` writes a hidden temp file in the target directory, fsyncs it and ``os.link``\\ s it to
  the final name. ``link`` fails with EEXIST when the name exists, which is create-if-absent, and a
  reader only ever sees a complete file (the name appears when the data is already there).
- ``replace`` compares the current content's ETag (its sha256) with the caller's and renames a temp
  file over the object, under an exclusive ``fcntl`` lock for the key, so two compare-and-swaps can
  not both win.
- metadata lives in a sidecar under ``root/.meta/``; ``get`` takes the key's lock shared so it never
  pairs new data with old metadata.

Locks are striped (a fixed number of lock files chosen by a hash of the key) so that 10,000 records
do not mean 10,000 lock files. Hidden names (starting with ``.``) are never keys, which keeps temp
files, sidecars and lock files out of listings.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import secrets
from collections.abc import Iterator
from pathlib import Path

from boshpipe.errors import AlreadyExists, NotFound, PreconditionFailed, StoreError
from boshpipe.store.protocol import Blob

_META_DIR = ".meta"
_LOCK_DIR = ".locks"
_LOCK_STRIPES = 64


def check_key(key: str) -> str:
    """A key is ``/``-separated names, none empty or hidden: the same rule on every backend."""
    parts = key.split("/")
    if not key or any(not part or part.startswith(".") for part in parts):
        raise StoreError(
            f"invalid store key {key!r}: keys are '/'-separated names that do not start with '.'"
            " (this is a bug in boshpipe, please report it)"
        )
    return key


def etag_of(data: bytes) -> str:
    """The local ETag: the content's sha256, so equal content means equal ETag on every read."""
    return hashlib.sha256(data).hexdigest()


class LocalStore:
    """An :class:`~boshpipe.store.ArtifactStore` on a local (or shared POSIX) directory."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def describe(self) -> str:
        return str(self.root)

    # -- reads ---------------------------------------------------------------------------------

    def get(self, key: str) -> Blob:
        path = self._path(key)
        with self._os_errors("read", key), self._locked(key, exclusive=False):
            try:
                data = path.read_bytes()
            except (FileNotFoundError, NotADirectoryError):
                raise NotFound(f"{key} not found in {self.root}") from None
            metadata = self._read_meta(key)
        return Blob(data=data, etag=etag_of(data), metadata=metadata)

    def exists(self, key: str) -> bool:
        return self._path(key).is_file()

    def list(self, prefix: str, start_after: str | None = None) -> Iterator[str]:
        """Keys under ``prefix``, sorted, one directory at a time (never the whole tree in memory)."""
        directory, _, name_prefix = prefix.rpartition("/")
        key_prefix = f"{directory}/" if directory else ""
        base = self.root / directory if directory else self.root
        yield from self._walk(base, key_prefix, name_prefix, start_after or "")

    # -- writes --------------------------------------------------------------------------------

    def create(self, key: str, data: bytes, metadata: dict[str, str] | None = None) -> str:
        path = self._path(key)
        with self._os_errors("create", key):
            path.parent.mkdir(parents=True, exist_ok=True)
            with self._locked(key, exclusive=True):
                if path.exists():
                    raise AlreadyExists(f"{key} already exists in {self.root}")
                # Metadata first: once the data's name is visible, its sidecar already is.
                self._write_meta(key, metadata or {})
                temp = self._write_temp(path, data)
                try:
                    os.link(temp, path)
                except FileExistsError:
                    raise AlreadyExists(f"{key} already exists in {self.root}") from None
                finally:
                    temp.unlink()
                _fsync_dir(path.parent)
        return etag_of(data)

    def replace(self, key: str, data: bytes, etag: str, metadata: dict[str, str] | None = None) -> str:
        path = self._path(key)
        with self._os_errors("replace", key), self._locked(key, exclusive=True):
            try:
                current = path.read_bytes()
            except (FileNotFoundError, NotADirectoryError):
                raise PreconditionFailed(f"{key} in {self.root} was deleted by someone else") from None
            if etag_of(current) != etag:
                raise PreconditionFailed(f"{key} in {self.root} was changed by someone else")
            temp = self._write_temp(path, data)
            os.replace(temp, path)
            # The new metadata or none, as on S3 (a PUT without metadata clears it).
            self._write_meta(key, metadata or {})
            _fsync_dir(path.parent)
        return etag_of(data)

    def delete(self, key: str, etag: str | None = None) -> None:
        path = self._path(key)
        with self._os_errors("delete", key), self._locked(key, exclusive=True):
            if etag is not None:
                try:
                    current = path.read_bytes()
                except (FileNotFoundError, NotADirectoryError):
                    return
                if etag_of(current) != etag:
                    raise PreconditionFailed(f"{key} in {self.root} was changed by someone else")
            path.unlink(missing_ok=True)
            self._meta_path(key).unlink(missing_ok=True)

    # -- internals -----------------------------------------------------------------------------

    def _path(self, key: str) -> Path:
        return self.root / check_key(key)

    def _meta_path(self, key: str) -> Path:
        return self.root / _META_DIR / f"{key}.json"

    def _read_meta(self, key: str) -> dict[str, str]:
        try:
            loaded = json.loads(self._meta_path(key).read_bytes())
        except FileNotFoundError:
            return {}
        return {str(k): str(v) for k, v in loaded.items()}

    def _write_meta(self, key: str, metadata: dict[str, str]) -> None:
        meta_path = self._meta_path(key)
        if not metadata:
            meta_path.unlink(missing_ok=True)
            return
        meta_path.parent.mkdir(parents=True, exist_ok=True)
        temp = self._write_temp(meta_path, json.dumps(metadata, sort_keys=True).encode())
        os.replace(temp, meta_path)

    @staticmethod
    def _write_temp(final: Path, data: bytes) -> Path:
        """A hidden, fsynced file beside ``final`` (same directory, so link/rename are atomic)."""
        temp = final.with_name(f".{final.name}.tmp-{secrets.token_hex(6)}")
        fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        try:
            view = memoryview(data)
            while view:
                written = os.write(fd, view)
                view = view[written:]
            os.fsync(fd)
        except BaseException:
            os.close(fd)
            temp.unlink(missing_ok=True)
            raise
        os.close(fd)
        return temp

    @contextlib.contextmanager
    def _locked(self, key: str, *, exclusive: bool) -> Iterator[None]:
        stripe = int.from_bytes(hashlib.sha256(key.encode()).digest()[:4], "big") % _LOCK_STRIPES
        lock_dir = self.root / _LOCK_DIR
        if exclusive:
            lock_dir.mkdir(parents=True, exist_ok=True)
        try:
            fd = os.open(lock_dir / f"{stripe:02d}", os.O_RDWR | os.O_CREAT, 0o644)
        except FileNotFoundError:
            fd = -1  # a reader of a store nobody has written to yet: nothing to lock against
        if fd < 0:
            yield
            return
        try:
            fcntl.flock(fd, fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH)
            yield
        finally:
            os.close(fd)

    @contextlib.contextmanager
    def _os_errors(self, action: str, key: str) -> Iterator[None]:
        """OS failures (permissions, a full disk, a file where a directory should be) as one line."""
        try:
            yield
        except OSError as err:
            where = err.filename or self.root
            raise StoreError(
                f"cannot {action} {key} in the local store {self.root}: {err.strerror} ({where});"
                " check the directory's permissions and free space, or set BOSHPIPE_STORE"
            ) from err

    def _walk(self, base: Path, key_prefix: str, name_prefix: str, start_after: str) -> Iterator[str]:
        try:
            entries = [e for e in os.scandir(base) if e.name.startswith(name_prefix)]
        except (FileNotFoundError, NotADirectoryError):
            return
        except OSError as err:
            raise StoreError(
                f"cannot list {key_prefix or '/'} in the local store {self.root}: {err.strerror};"
                " check the directory's permissions"
            ) from err
        # A directory's keys all start with "name/": sort it by that so the order is the keys' order.
        ordered = sorted(
            (
                (f"{key_prefix}{e.name}/" if e.is_dir() else f"{key_prefix}{e.name}", e)
                for e in entries
                if not e.name.startswith(".")
            ),
            key=lambda pair: pair[0],
        )
        for sort_key, entry in ordered:
            if sort_key.endswith("/"):
                if sort_key <= start_after and not start_after.startswith(sort_key):
                    continue  # every key below is <= start_after
                yield from self._walk(Path(entry.path), sort_key, "", start_after)
            elif sort_key > start_after:
                yield sort_key


def _fsync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
