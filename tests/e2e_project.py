"""A throwaway copy of this project for end-to-end runs of the real `invoke` tasks.

The copy keeps every file that matters (boshpipe.yml, the env folders, the project's templates)
but moves the envs' address ranges from 10.244.x to 10.251.x, so a test never collides with a
dev1 that a person has deployed from the checkout on the same machine. Its work dir (store, local
director, secrets) is a tmp dir, and at the end every deployment it made is deleted and no
redis-server of it may be left running.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
ENVS = ("dev1", "dev2", "staging", "production")
INVOKE = [sys.executable, "-m", "invoke", "--search-root", str(REPO)]


@dataclass
class E2EProject:
    root: Path
    workdir: Path
    env: dict[str, str]

    def invoke(
        self, *args: str, check: bool = True, timeout: float = 180
    ) -> subprocess.CompletedProcess[str]:
        """Run `invoke <args>` from the copy, as a person would; output captured as text."""
        done = subprocess.run(
            [*INVOKE, *args],
            cwd=self.root,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        if check and done.returncode != 0:
            raise AssertionError(
                f"invoke {' '.join(args)} exited {done.returncode}:\n{done.stdout}\n{done.stderr}"
            )
        return done

    def redis_pids(self) -> list[int]:
        """redis-server processes started for this copy (their config lives under its work dir)."""
        pids = []
        for proc in Path("/proc").iterdir():
            if not proc.name.isdigit():
                continue
            try:
                cmdline = (proc / "cmdline").read_bytes().decode(errors="replace")
            except OSError:
                continue
            if "redis-server" in cmdline and str(self.workdir) in cmdline:
                try:
                    if (proc / "stat").read_text().split()[2] != "Z":
                        pids.append(int(proc.name))
                except OSError:
                    continue
        return pids


def make_project(tmp: Path, upstream: Path) -> E2EProject:
    root = tmp / "project"
    root.mkdir()
    shutil.copy2(REPO / "boshpipe.yml", root / "boshpipe.yml")
    shutil.copytree(REPO / "templates", root / "templates")
    for env in ENVS:
        shutil.copytree(REPO / env, root / env)
        networking = root / env / "pipeline" / f"networking-{env}.yml"
        networking.write_text(networking.read_text().replace("10.244.", "10.251."))
    workdir = tmp / "work"
    env = {
        **os.environ,
        "BOSHPIPE_PROJECT": str(root),
        "BOSHPIPE_WORKDIR": str(workdir),
        "BOSHPIPE_UPSTREAM": str(upstream),
        "BOSHPIPE_STORE": str(workdir / "store"),
    }
    env.pop("BOSHPIPE_REDIS_PASSWORD", None)
    return E2EProject(root=root, workdir=workdir, env=env)


@pytest.fixture
def e2e(tmp_path: Path, upstream_dir: Path) -> Iterator[E2EProject]:
    project = make_project(tmp_path, upstream_dir)
    try:
        yield project
    finally:
        deployments = project.workdir / "director" / "deployments"
        for env in ENVS:
            if (deployments / f"redis-{env}").exists():
                project.invoke("destroy", "--env", env, check=False)
        leftover = project.redis_pids()
        assert not leftover, f"redis-server processes left behind: {leftover}"
