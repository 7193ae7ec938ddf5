"""Benchmark: cold `invoke deploy --env dev1` and an unchanged redeploy, as a person runs them.

Each round makes a fresh copy of the project (tests/e2e_project.py; envs moved to 10.247.x so a
deployed dev1 of the checkout is never touched) with an empty work dir, then times, as whole processes:

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
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

from tests.e2e_project import E2EProject, make_project  # noqa: E402

UPSTREAM = Path(os.environ.get("BOSHPIPE_UPSTREAM", REPO.parent / "shared" / "upstream" / "redis-boshrelease"))
NET = 247  # 10.247.x: apart from the checkout's envs (10.244) and the tests' ranges


def timed(project: E2EProject, *args: str) -> float:
    began = time.perf_counter()
    project.invoke(*args)
    return time.perf_counter() - began


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=5)
    rounds = parser.parse_args().rounds
    if not (UPSTREAM / "templates").is_dir():
        raise SystemExit(f"needs the upstream templates at {UPSTREAM} (set BOSHPIPE_UPSTREAM)")
    cold, redeploy, bosh_only = [], [], []
    for _ in range(rounds):
        with tempfile.TemporaryDirectory(prefix="boshpipe-bench-") as tmp:
            project = make_project(Path(tmp), UPSTREAM, net=NET)
            try:
                cold.append(timed(project, "deploy", "--env", "dev1"))
                before = set(project.redis_pids())
                redeploy.append(timed(project, "deploy", "--env", "dev1"))
                bosh_only.append(timed(project, "bosh-deploy", "--env", "dev1", "--candidate", "1"))
                after = set(project.redis_pids())
                if before != after or len(before) < 3:
                    raise SystemExit(f"redeploy restarted instances: {sorted(before)} -> {sorted(after)}")
            finally:
                project.invoke("destroy", "--env", "dev1")
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
