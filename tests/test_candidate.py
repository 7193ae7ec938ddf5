"""The candidate archive: deterministic bytes, and a reader that refuses anything unsafe or tampered."""

from __future__ import annotations

import gzip
import io
import json
import tarfile

import pytest

from boshpipe import candidate as cand
from boshpipe.environments import Release
from boshpipe.errors import CandidateError
from boshpipe.upstream import UpstreamTree

UP = UpstreamTree(
    source="file:///up", ref="main", commit="a" * 40, files={"templates/jobs.yml": b"jobs: []\n"}
)


def _build(**overrides: object) -> bytes:
    args: dict[str, object] = {
        "upstream": UP,
        "project_files": {"project/templates/infra.yml": b"networks: []\n"},
        "env_files": {"envs/dev1/pipeline/scaling-dev1.yml": b"meta: {slaves: 1}\n"},
        "releases": [Release("redis", "12"), Release("tools", "3+dev.1")],
        "built_for": "dev1",
        "built_by": {"user": "tester"},
    }
    args.update(overrides)
    return cand.build(**args)  # type: ignore[arg-type]


def test_same_inputs_same_bytes() -> None:
    assert _build() == _build()
    assert cand.sha256(_build()) != cand.sha256(_build(built_for="dev2"))


def test_archive_is_normalised() -> None:
    with tarfile.open(fileobj=io.BytesIO(_build()), mode="r:gz") as tar:
        members = tar.getmembers()
    names = [m.name for m in members]
    assert names == sorted(names)
    assert all(m.isreg() and m.mtime == 0 and m.uid == 0 and m.mode == 0o644 for m in members)
    assert gzip.decompress(_build())  # plain gzip
    assert _build()[4:8] == b"\0\0\0\0"  # gzip header mtime is zero


def test_read_round_trip_and_metadata() -> None:
    data = _build()
    read = cand.read(data, cand.sha256(data))
    assert read.files["upstream/templates/jobs.yml"] == b"jobs: []\n"
    assert read.metadata["upstream"]["commit"] == "a" * 40
    assert [(r["version"], r["final"]) for r in read.metadata["releases"]] == [
        ("12", True),
        ("3+dev.1", False),
    ]
    assert read.metadata["built_by"]["user"] == "tester"
    assert not read.final_only


def test_checksum_mismatch_is_tampering() -> None:
    data = _build()
    with pytest.raises(CandidateError, match="corrupted or tampered"):
        cand.read(data, "0" * 64)


def _repack(files: dict[str, bytes], extra: tarfile.TarInfo | None = None) -> bytes:
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w") as tar:
        for name, body in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(body)
            tar.addfile(info, io.BytesIO(body))
        if extra is not None:
            tar.addfile(extra)
    return gzip.compress(raw.getvalue())


def _members(data: bytes) -> dict[str, bytes]:
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as tar:
        return {m.name: tar.extractfile(m).read() for m in tar.getmembers()}  # type: ignore[union-attr]


def test_modified_member_is_tampering() -> None:
    files = _members(_build())
    files["upstream/templates/jobs.yml"] = b"jobs: [evil]\n"
    with pytest.raises(CandidateError, match="does not match its sha256"):
        cand.read(_repack(files), None)


def test_extra_member_is_tampering() -> None:
    files = _members(_build())
    files["envs/dev1/pipeline/extra.yml"] = b"x: 1\n"
    with pytest.raises(CandidateError, match="disagree"):
        cand.read(_repack(files), None)


@pytest.mark.parametrize("name", ["/etc/passwd", "../outside.yml", "envs/../../x.yml"])
def test_escaping_paths_are_refused(name: str) -> None:
    files = _members(_build())
    files[name] = b"x: 1\n"
    with pytest.raises(CandidateError, match="absolute or escaping path"):
        cand.read(_repack(files), None)


@pytest.mark.parametrize("kind", [tarfile.SYMTYPE, tarfile.LNKTYPE, tarfile.CHRTYPE, tarfile.FIFOTYPE])
def test_links_and_devices_are_refused(kind: bytes) -> None:
    info = tarfile.TarInfo("envs/dev1/pipeline/link.yml")
    info.type = kind
    info.linkname = "/etc/passwd"
    with pytest.raises(CandidateError, match="refusing a"):
        cand.read(_repack(_members(_build()), info), None)


def test_not_a_tgz() -> None:
    with pytest.raises(CandidateError, match=r"not a readable \.tgz"):
        cand.read(b"hello", None)


def test_missing_metadata() -> None:
    files = _members(_build())
    del files["candidate.json"]
    with pytest.raises(CandidateError, match=r"no candidate\.json"):
        cand.read(_repack(files), None)


def test_malformed_metadata() -> None:
    files = _members(_build())
    files["candidate.json"] = json.dumps({"files": {}}).encode()
    with pytest.raises(CandidateError, match=r"candidate\.json: releases: missing \(required\)"):
        cand.read(_repack(files), None)


def test_build_refuses_escaping_paths() -> None:
    with pytest.raises(CandidateError):
        _build(env_files={"../x.yml": b""})
