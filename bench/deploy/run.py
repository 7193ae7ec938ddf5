"""Benchmark: cold `invoke deploy --env dev1` and an unchanged redeploy, as a person runs them.

Each round makes a fresh copy of the project (envs moved to 10.252.x so a deployed dev1 of the
checkout is never touched) with an empty work dir, then times, as whole processes:

- cold:      `invoke deploy --env dev1`  (upstream, candidate built + stored, 3 redis-server
             started, smoke test + acceptance errand)
- redeploy:  `invoke deploy --env dev1`  again (same candidate, nothing restarted, tests re-run)
- bosh-only: `invoke bosh-deploy --env dev1 --candidate 1` (the director step alone, nothing restarted)

and checks that the redeploys restarted nothing (same redis-server pids). Prints medians.

    python bench/deploy/run.py [--rounds 5]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
UPSTREAM = Path(os.environ.get("BOSHPIPE_UPSTREAM", REPO.parent / "shared" / "upstream" / "redis-boshrelease"))
ENVS = ("dev1", "dev2", "staging", "production")


def copy_project(tmp: Path) -> dict[str, str]:
    root = tmp / "project"
    root.mkdir()
    shutil.copy2(REPO / "boshpipe.yml", root / "boshpipe.yml")
    shutil.copytree(REPO / "templates", root / "templates")
    for env in ENVS:
        shutil.copytree(REPO / env, root / env)
        stub = root / env / "pipeline" / f"networking-{env}.yml"
        stub.write_text(stub.read_text().replace("10.244.", "10.252."))
    return {
        **os.environ,
        "BOSHPIPE_PROJECT": str(root),
        "BOSHPIPE_WORKDIR": str(tmp / "work"),
        "BOSHPIPE_UPSTREAM": str(UPSTREAM),
    }


def timed(env: dict[str, str], *args: str) -> float:
    began = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "invoke", "--search-root", str(REPO), *args],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    took = time.perf_counter() - began
    if done.returncode != 0:
        raise SystemExit(f"invoke {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}")
    return took


def redis_pids(workdir: str) -> set[int]:
    pids = set()
    for proc in Path("/proc").iterdir():
        if proc.name.isdigit():
            try:
                cmd = (proc / "cmdline").read_bytes().decode(errors="replace")
            except OSError:
                continue
            if "redis-server" in cmd and workdir in cmd:
                pids.add(int(proc.name))
    return pids


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=5)
    rounds = parser.parse_args().rounds
    if not (UPSTREAM / "templates").is_dir():
        raise SystemExit(f"needs the upstream templates at {UPSTREAM} (set BOSHPIPE_UPSTREAM)")
    cold, redeploy, bosh_only = [], [], []
    for _ in range(rounds):
        with tempfile.TemporaryDirectory(prefix="boshpipe-bench-") as tmp:
            env = copy_project(Path(tmp))
            try:
                cold.append(timed(env, "deploy", "--env", "dev1"))
                before = redis_pids(env["BOSHPIPE_WORKDIR"])
                redeploy.append(timed(env, "deploy", "--env", "dev1"))
                bosh_only.append(timed(env, "bosh-deploy", "--env", "dev1", "--candidate", "1"))
                after = redis_pids(env["BOSHPIPE_WORKDIR"])
                if before != after or len(before) < 3:
                    raise SystemExit(f"redeploy restarted instances: {sorted(before)} -> {sorted(after)}")
            finally:
                timed(env, "destroy", "--env", "dev1")
    load = os.getloadavg()[0]
    print(f"deploy benchmark, {rounds} rounds, load average {load:.2f}, {os.cpu_count()} cores")
    for label, values in (("cold deploy", cold), ("unchanged redeploy", redeploy), ("bosh-deploy only", bosh_only)):
        print(
            f"  {label:<20} median {statistics.median(values):.3f} s  "
            f"(min {min(values):.3f}, max {max(values):.3f})"
        )
    print("  restarted by the redeploys: 0 instances")


if __name__ == "__main__":
    main()
