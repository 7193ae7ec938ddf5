"""Helpers for the bad-input tests: run a real command (optionally under a memory cap) and check
that it failed the way the README promises: one stderr line, non-zero exit, no traceback."""

from __future__ import annotations

import gzip
import io
import resource
import subprocess
import sys
import tarfile
from collections.abc import Callable, Mapping
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
INVOKE = [sys.executable, "-m", "invoke", "--search-root", str(REPO)]
SPIFF = [sys.executable, "-m", "boshpipe.spiff", "merge"]
MEMORY_CAP = 1024 * 1024 * 1024
"""Address space a capped child may use: far more than any of these commands needs, far less than
what an alias bomb, a gzip bomb or /dev/zero would take (and than the machine has)."""


def tgz(members: dict[str, bytes]) -> bytes:
    """A gzipped tar of regular files, made by hand so that any name or size can be tried."""
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w") as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return gzip.compress(raw.getvalue())


def capped(limit: int = MEMORY_CAP) -> Callable[[], None]:
    def apply() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))

    return apply


def run(
    args: list[str],
    *,
    cwd: Path | None = None,
    env: Mapping[str, str] | None = None,
    memory_cap: int | None = MEMORY_CAP,
    timeout: float = 120,
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        args,
        cwd=cwd,
        env=None if env is None else dict(env),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
        preexec_fn=capped(memory_cap) if memory_cap else None,
    )


def one_line(done: subprocess.CompletedProcess[str], *needles: str) -> str:
    """The single stderr line of a clean refusal, after checking it contains every needle."""
    assert done.returncode not in (0, -9), (done.returncode, done.stderr)  # -9: killed (OOM)
    assert "Traceback" not in done.stderr and "MemoryError" not in done.stderr, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    for needle in needles:
        assert needle in lines[0], lines[0]
    return lines[0]
