"""Builds, reads and verifies candidates: the deterministic ``.tgz`` of templates that gets promoted.

Layout inside the archive::

    candidate.json                      metadata: files + sha256, upstream, releases, builder
    upstream/templates/*.yml            upstream's spiff templates
    upstream/jobs/*/spec                upstream's job specs
    project/<templates_dir>/*.yml       the project's own templates (infrastructure-local.yml)
    envs/<env>/pipeline/*.yml           every env's networking and scaling stubs

Determinism: entries sorted, no directories, mtime 0, uid/gid 0, mode 0644, USTAR headers, gzip
without name or timestamp. Same inputs give the same bytes, hence the same sha256 id.

Reading is defensive: the archive's sha256 must match what the store recorded, every member must be a
plain file at a safe relative path, and every file must match its sha256 in candidate.json.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import os
import stat
import tarfile
import zlib
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import IO, Any

from boshpipe import __version__
from boshpipe.environments import Release
from boshpipe.errors import CandidateError
from boshpipe.upstream import UpstreamTree
from boshpipe.validated import validated

METADATA = "candidate.json"
FORMAT = 1
MAX_MEMBER_BYTES = 16 * 1024 * 1024
MAX_TOTAL_BYTES = 64 * 1024 * 1024
"""Unpacked size of a candidate: templates and stubs are kilobytes; this bounds a gzip bomb."""
MAX_MEMBERS = 10_000
MAX_ARCHIVE_BYTES = 64 * 1024 * 1024
"""A candidate file given to ``upload --file``: checked on the open file before it is read."""


def read_file(path: Path) -> bytes:
    """The bytes of a candidate file: a regular file of at most :data:`MAX_ARCHIVE_BYTES`.

    The open file is checked before reading, so ``/dev/zero``, a FIFO or a huge file is refused
    without reading it.
    """
    try:
        with open(path, "rb") as handle:
            info = os.fstat(handle.fileno())
            if not stat.S_ISREG(info.st_mode):
                raise CandidateError(f"{path}: not a regular file: give the .tgz made by `invoke tarball`")
            if info.st_size > MAX_ARCHIVE_BYTES:
                raise CandidateError(
                    f"{path}: {info.st_size:,} bytes is larger than a candidate can be ({MAX_ARCHIVE_BYTES:,}): "
                    "is it the .tgz made by `invoke tarball`?"
                )
            data = handle.read(MAX_ARCHIVE_BYTES + 1)
    except IsADirectoryError:
        raise CandidateError(f"{path}: is a directory: give the .tgz made by `invoke tarball`") from None
    except OSError as err:
        raise CandidateError(f"{path}: cannot read ({err.strerror}): run `invoke tarball` first") from None
    if len(data) > MAX_ARCHIVE_BYTES:  # it grew while we looked
        raise CandidateError(f"{path}: larger than a candidate can be ({MAX_ARCHIVE_BYTES:,} bytes)")
    return data


class _Bounded(io.RawIOBase):
    """A read-only stream that fails once more than ``limit`` bytes were read from it.

    The decompressed tar stream goes through it, so no member, PAX header or padding can make the
    reader hold more than the limit, whatever the archive's headers claim.
    """

    def __init__(self, inner: IO[bytes] | gzip.GzipFile, limit: int, label: str) -> None:
        self.inner, self.left, self.label = inner, limit, label

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        view = memoryview(buffer)
        chunk = self.inner.read(min(len(view), self.left + 1))
        self.left -= len(chunk)
        if self.left < 0:
            raise CandidateError(
                f"{self.label}: unpacks to more than {MAX_TOTAL_BYTES:,} bytes: not a candidate (a gzip bomb?)"
            )
        view[: len(chunk)] = chunk
        return len(chunk)


@dataclass(frozen=True)
class Candidate:
    files: dict[str, bytes]  # every member except candidate.json
    metadata: dict[str, Any]

    @property
    def releases(self) -> list[Release]:
        return [
            Release(name=r["name"], version=r["version"], url=r.get("url"), sha1=r.get("sha1"))
            for r in self.metadata["releases"]
        ]

    @property
    def composition(self) -> str:
        """``spiff`` or ``ops`` (candidates from before compositions existed hold spiff templates)."""
        value = self.metadata.get("composition", "spiff")
        return value if value in ("spiff", "ops") else "spiff"

    @property
    def final_only(self) -> bool:
        return all(r.final for r in self.releases)


def build(
    upstream: UpstreamTree,
    project_files: dict[str, bytes],
    env_files: dict[str, bytes],
    releases: list[Release],
    built_for: str,
    built_by: dict[str, str],
    composition: str = "spiff",
) -> bytes:
    """The candidate archive. ``project_files``/``env_files`` are keyed by their path in the archive.

    ``composition`` (spiff | ops) is written to candidate.json: it says how the files compose.
    """
    files = {f"upstream/{path}": data for path, data in upstream.files.items()}
    files.update(project_files)
    files.update(env_files)
    for path in files:
        _check_path(path)
    metadata = {
        "format": FORMAT,
        "files": {path: hashlib.sha256(data).hexdigest() for path, data in sorted(files.items())},
        "upstream": {
            "source": upstream.source,
            "ref": upstream.ref,
            "commit": upstream.commit,
            "tree_sha256": upstream.tree_sha256,
        },
        "releases": [
            {"name": r.name, "version": r.version, "final": r.final, "url": r.url, "sha1": r.sha1}
            for r in releases
        ],
        "built_for": built_for,
        "composition": composition,
        "built_by": {"tool": f"boshpipe {__version__}", **built_by},
    }
    files[METADATA] = (json.dumps(metadata, indent=2, sort_keys=True) + "\n").encode()
    return _pack(files)


def _pack(files: dict[str, bytes]) -> bytes:
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.USTAR_FORMAT) as tar:
        for path in sorted(files):
            info = tarfile.TarInfo(path)
            info.size = len(files[path])
            info.mtime = 0
            info.mode = 0o644
            info.uid = info.gid = 0
            info.uname = info.gname = ""
            tar.addfile(info, io.BytesIO(files[path]))
    out = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", fileobj=out, mtime=0, compresslevel=9) as gz:
        gz.write(raw.getvalue())
    return out.getvalue()


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def read(data: bytes, expected_sha256: str | None, label: str = "candidate") -> Candidate:
    """Verify and unpack a candidate archive held in memory (it is small: templates only)."""
    if expected_sha256 is not None and sha256(data) != expected_sha256:
        raise CandidateError(
            f"{label}: sha256 {sha256(data)[:12]}… does not match the recorded {expected_sha256[:12]}…: "
            "the candidate was corrupted or tampered with; rebuild and upload it again"
        )
    files: dict[str, bytes] = {}
    total = 0
    try:
        stream = io.BufferedReader(
            _Bounded(gzip.GzipFile(fileobj=io.BytesIO(data), mode="rb"), MAX_TOTAL_BYTES + MAX_MEMBERS * 1024, label)
        )
        with tarfile.open(fileobj=stream, mode="r|") as tar:
            for member in tar:
                _check_member(member, label)
                total += member.size
                if len(files) >= MAX_MEMBERS or total > MAX_TOTAL_BYTES:
                    raise CandidateError(
                        f"{label}: more than {MAX_MEMBERS:,} members or {MAX_TOTAL_BYTES:,} bytes: not a candidate"
                    )
                if member.name in files:
                    raise CandidateError(f"{label}: {member.name}: listed twice in the archive: tampered")
                handle = tar.extractfile(member)
                if handle is None:  # pragma: no cover - _check_member admits regular files only
                    raise CandidateError(f"{label}: {member.name}: unreadable member")
                files[member.name] = handle.read()
    except (tarfile.TarError, EOFError, OSError, gzip.BadGzipFile, zlib.error) as err:
        reason = " ".join(str(err).split())
        raise CandidateError(f"{label}: not a readable .tgz ({reason}): the file is corrupted") from None
    if METADATA not in files:
        raise CandidateError(f"{label}: no {METADATA} inside: not a boshpipe candidate")
    text = files.pop(METADATA)
    try:
        loaded = json.loads(text)
    except (ValueError, RecursionError) as err:
        raise CandidateError(f"{label}: {METADATA} is not JSON ({' '.join(str(err).split())}): tampered") from None
    validated("CandidateMetadata", loaded, text, f"{label}: {METADATA}", error=CandidateError)
    metadata: dict[str, Any] = loaded
    listed: dict[str, str] = metadata["files"]
    if set(listed) != set(files):
        extra = sorted(set(files) ^ set(listed))
        raise CandidateError(f"{label}: members and {METADATA} disagree on {', '.join(extra[:3])}: tampered")
    for path, digest in listed.items():
        if sha256(files[path]) != digest:
            raise CandidateError(f"{label}: {path} does not match its sha256 in {METADATA}: tampered")
    return Candidate(files=files, metadata=metadata)


def _check_member(member: tarfile.TarInfo, label: str) -> None:
    if not member.isreg():
        kind = "link" if member.issym() or member.islnk() else "device or special file"
        if member.isdir():
            kind = "directory"
        raise CandidateError(f"{label}: {member.name}: refusing a {kind} inside a candidate")
    if member.size > MAX_MEMBER_BYTES:
        raise CandidateError(f"{label}: {member.name}: {member.size} bytes is too large for a template")
    _check_path(member.name, label)


def _check_path(path: str, label: str = "candidate") -> None:
    pure = PurePosixPath(path)
    if pure.is_absolute() or ".." in pure.parts or path.startswith("/") or "\\" in path or not pure.parts:
        raise CandidateError(f"{label}: {path!r}: refusing an absolute or escaping path")
