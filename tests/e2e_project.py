"""A throwaway copy of this project for end-to-end runs of the real `invoke` tasks.

The copy keeps every file that matters (boshpipe.yml, the env folders, the project's templates)
but moves the envs' address ranges from 10.244.x to 10.251.x, so a test never collides with a
dev1 that a person has deployed from the checkout on the same machine. Its work dir (store, local
director, secrets) is a tmp dir, and at the end every deployment it made is deleted and no
redis-server of it may be left running.

The machine is shared: another test run (or a copy someone left deployed) may already serve
127.251.x. The fixture then takes the next free second octet of ``NETS`` (one no process listens
on, claimed with a lock file for the test's duration) and says which in ``E2EProject.net``.
"""

from __future__ import annotations

import contextlib
import fcntl
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
NETS = (251, 252, 250, 249, 248)  # 10.<net>.x; 10.244 is the project's own, 10.253/254 the director tests'


@dataclass
class E2EProject:
    root: Path
    workdir: Path
    env: dict[str, str]
    net: int = 251

    def host(self, third: int, fourth: int) -> str:
        """The loopback address serving the copy's 10.<net>.<third>.<fourth> (e.g. dev1's leader: 12, 2)."""
        return f"127.{self.net}.{third}.{fourth}"

    def invoke(self, *args: str, check: bool = True, timeout: float = 180) -> subprocess.CompletedProcess[str]:
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
            raise AssertionError(f"invoke {' '.join(args)} exited {done.returncode}:\n{done.stdout}\n{done.stderr}")
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


def make_project(tmp: Path, upstream: Path, net: int = 251) -> E2EProject:
    root = tmp / "project"
    root.mkdir()
    shutil.copy2(REPO / "boshpipe.yml", root / "boshpipe.yml")
    shutil.copytree(REPO / "templates", root / "templates")
    shutil.copytree(REPO / "ops", root / "ops")
    for name in ENVS:
        shutil.copytree(REPO / name, root / name)
        for stub in sorted((root / name / "pipeline").glob("*.yml")):  # networking + ops cloud configs
            stub.write_text(stub.read_text().replace("10.244.", f"10.{net}."))
    workdir = tmp / "work"
    env = {
        **os.environ,
        "BOSHPIPE_PROJECT": str(root),
        "BOSHPIPE_WORKDIR": str(workdir),
        "BOSHPIPE_UPSTREAM": str(upstream),
        "BOSHPIPE_OPS_UPSTREAM": str(upstream.parent / "redis-boshrelease-v15"),
        "BOSHPIPE_STORE": str(workdir / "store"),
    }
    env.pop("BOSHPIPE_REDIS_PASSWORD", None)
    return E2EProject(root=root, workdir=workdir, env=env, net=net)


def use_ops(project: E2EProject, *envs: str) -> None:
    """Switch ``envs`` of the copy to ``composition: ops`` (what README says to do for a pipeline)."""
    for name in envs:
        path = project.root / name / "env.yml"
        text = path.read_text()
        assert "\ncomposition: spiff\n" in text, path
        text = text.replace("\ncomposition: spiff\n", "\ncomposition: ops\n")
        # the release of the v2 manifests: 15.3.5 (the jobs as v13+ define them)
        path.write_text(text.replace('version: "12"', 'version: "15.3.5"').replace("?v=12", "?v=15.3.5"))


def _listening_nets() -> set[int]:
    """Second octets of 127.x.y.z addresses some process listens on (TCP)."""
    nets = set()
    with contextlib.suppress(OSError):
        for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
            fields = line.split()
            if len(fields) > 3 and fields[3] == "0A":  # LISTEN
                ip = bytes.fromhex(fields[1].split(":")[0])[::-1]
                if ip[0] == 127:
                    nets.add(ip[1])
    return nets


@contextlib.contextmanager
def claim_net() -> Iterator[int]:
    """A free 10.<net> range for one test: lock-file claimed against other test runs, unused by others."""
    for net in NETS:
        handle = open(Path(os.environ.get("TMPDIR", "/tmp")) / f"boshpipe-e2e-net-{net}.lock", "w")  # noqa: SIM115
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            handle.close()
            continue
        if net in _listening_nets():  # a copy deployed outside the tests
            handle.close()
            continue
        try:
            yield net
        finally:
            handle.close()
        return
    pytest.skip(f"every e2e address range 10.{{{','.join(map(str, NETS))}}}.x is in use on this machine")


@pytest.fixture
def e2e(tmp_path: Path, upstream_dir: Path) -> Iterator[E2EProject]:
    with claim_net() as net:
        project = make_project(tmp_path, upstream_dir, net)
        try:
            yield project
        finally:
            _teardown(project)


def _teardown(project: E2EProject) -> None:
    deployments = project.workdir / "director" / "deployments"
    for env in ENVS:
        if (deployments / f"redis-{env}").exists():
            project.invoke("destroy", "--env", env, check=False)
    leftover = project.redis_pids()
    assert not leftover, f"redis-server processes left behind: {leftover}"
