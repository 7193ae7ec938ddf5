"""Time the spiff engine on generated manifests at two sizes.

For each size it measures the whole command (``python -m boshpipe.spiff merge ...``, process start
and YAML output included; median of --runs) and the in-process merge alone (loading, evaluation,
no output), so the ratio between sizes shows how evaluation scales.

The command is timed twice: as the environment runs it, and with Python's bytecode cache enabled
(in a temporary ``PYTHONPYCACHEPREFIX``). The difference is the time spent compiling this
package's source, which every run pays when ``PYTHONDONTWRITEBYTECODE`` is set (as in the dev
container) and an installed package never pays.

``--baseline DIR`` also times the command of another checkout (for example
``git worktree add /tmp/before HEAD``), with and without cached bytecode, alternating runs with
the current one so that both see the same machine load: on a shared machine only such
interleaved figures are comparable.

Usage: python bench/spiff/run.py [--jobs 200 400] [--runs 11] [--baseline DIR]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from generate import write

from bench.timing import command_runner, interleaved_medians

GO_SPIFF_SECONDS = 0.94  # the real spiff binary on the 200-job case, same machine class
REPO = Path(__file__).resolve().parents[2]


MERGE_ONLY = """
import sys, time
from boshpipe.spiff import merge_files
start = time.perf_counter()
merge_files(*sys.argv[1:])
print(time.perf_counter() - start)
"""


def merge_only(paths: list[Path]) -> float:
    """``merge_files`` (load + merge, no output) timed inside a fresh process.

    A fresh process, because the engine keeps per-process caches (parsed expressions, scalar
    tags) that would make repeated in-process runs look faster than any real merge.
    """
    done = subprocess.run(
        [sys.executable, "-c", MERGE_ONLY, *map(str, paths)],
        cwd=REPO,
        check=True,
        capture_output=True,
        text=True,
    )
    return float(done.stdout)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, nargs="+", default=[200, 400])
    parser.add_argument("--runs", type=int, default=11)
    parser.add_argument("--baseline", type=Path, help="another checkout to time alternately")
    args = parser.parse_args()
    print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    with tempfile.TemporaryDirectory() as tmp:
        cached_env = {**os.environ, "PYTHONPYCACHEPREFIX": str(Path(tmp) / "pycache")}
        cached_env.pop("PYTHONDONTWRITEBYTECODE", None)
        rows = []
        for jobs in args.jobs:
            paths = write(Path(tmp) / f"jobs{jobs}", jobs)
            command = [sys.executable, "-m", "boshpipe.spiff", "merge", *map(str, paths)]
            variants = {
                "command": command_runner(command, REPO, dict(os.environ)),
                "cached": command_runner(command, REPO, cached_env),
            }
            if args.baseline:
                variants["baseline"] = command_runner(command, args.baseline, dict(os.environ))
                variants["baseline cached"] = command_runner(command, args.baseline, cached_env)
            medians = interleaved_medians(variants, args.runs)

            inproc_s = statistics.median(merge_only(paths) for _ in range(args.runs))
            lines = sum(len(p.read_text().splitlines()) for p in paths)
            rows.append((jobs, lines, medians, inproc_s))
        header = f"{'jobs':>5} {'input lines':>11} {'command (s)':>12} {'vs Go 0.94s':>12}"
        header += f" {'with .pyc (s)':>14} {'merge only (s)':>15}"
        if args.baseline:
            header += f" {'baseline (s)':>13} {'baseline .pyc (s)':>18}"
        print(header)
        for jobs, lines, medians, inproc_s in rows:
            line = f"{jobs:>5} {lines:>11} {medians['command']:>12.3f} "
            line += f"{GO_SPIFF_SECONDS / medians['command']:>11.1f}x {medians['cached']:>14.3f} {inproc_s:>15.3f}"
            if args.baseline:
                line += f" {medians['baseline']:>13.3f} {medians['baseline cached']:>18.3f}"
            print(line)
        if len(rows) > 1:
            (j0, _, _, t0), (j1, _, _, t1) = rows[0], rows[-1]
            print(f"merge-only scaling: {j1 / j0:.1f}x the jobs took {t1 / t0:.2f}x the time")
    print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
