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
import tarfile
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import Any

from boshpipe import __version__
from boshpipe.environments import Release
from boshpipe.errors import CandidateError
from boshpipe.upstream import UpstreamTree

METADATA = "candidate.json"
FORMAT = 1
MAX_MEMBER_BYTES = 16 * 1024 * 1024


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
    def final_only(self) -> bool:
        return all(r.final for r in self.releases)


def build(
    upstream: UpstreamTree,
    project_files: dict[str, bytes],
    env_files: dict[str, bytes],
    releases: list[Release],
    built_for: str,
    built_by: dict[str, str],
) -> bytes:
    """The candidate archive. ``project_files``/``env_files`` are keyed by their path in the archive."""
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
    try:
        with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as tar:
            for member in tar:
                _check_member(member, label)
                handle = tar.extractfile(member)
                if handle is None:  # pragma: no cover - _check_member admits regular files only
                    raise CandidateError(f"{label}: {member.name}: unreadable member")
                files[member.name] = handle.read()
    except (tarfile.TarError, EOFError, OSError, gzip.BadGzipFile) as err:
        raise CandidateError(f"{label}: not a readable .tgz ({err}): the file is corrupted") from None
    if METADATA not in files:
        raise CandidateError(f"{label}: no {METADATA} inside: not a boshpipe candidate")
    try:
        metadata = json.loads(files.pop(METADATA))
        listed: dict[str, str] = metadata["files"]
        metadata["releases"]
    except (ValueError, KeyError, TypeError) as err:
        raise CandidateError(f"{label}: {METADATA} is malformed ({err})") from None
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
