"""Time the spiff engine on generated manifests at two sizes.

For each size it measures the whole command (``python -m boshpipe.spiff merge ...``, process start
and YAML output included; median of --runs) and the in-process merge alone (loading, evaluation,
no output), so the ratio between sizes shows how evaluation scales.

Usage: python bench/spiff/run.py [--jobs 200 400] [--runs 7]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from generate import write

from boshpipe.spiff import merge_files

GO_SPIFF_SECONDS = 0.94  # the real spiff binary on the 200-job case, same machine class


def median_seconds(action: object, runs: int) -> float:
    timings = []
    for _ in range(runs):
        start = time.perf_counter()
        action()  # type: ignore[operator]
        timings.append(time.perf_counter() - start)
    return statistics.median(timings)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, nargs="+", default=[200, 400])
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        rows = []
        for jobs in args.jobs:
            paths = write(Path(tmp) / f"jobs{jobs}", jobs)
            command = [sys.executable, "-m", "boshpipe.spiff", "merge", *map(str, paths)]

            def whole(command: list[str] = command) -> None:
                subprocess.run(command, check=True, stdout=subprocess.DEVNULL)

            def inproc(paths: list[Path] = paths) -> None:
                merge_files(*paths)

            lines = sum(len(p.read_text().splitlines()) for p in paths)
            whole_s = median_seconds(whole, args.runs)
            rows.append((jobs, lines, whole_s, median_seconds(inproc, args.runs)))
        print(
            f"{'jobs':>5} {'input lines':>11} {'command (s)':>12} {'vs Go 0.94s':>12} {'merge only (s)':>15}"
        )
        for jobs, lines, whole_s, inproc_s in rows:
            print(
                f"{jobs:>5} {lines:>11} {whole_s:>12.3f} "
                f"{GO_SPIFF_SECONDS / whole_s:>11.1f}x {inproc_s:>15.3f}"
            )
        if len(rows) > 1:
            (j0, _, _, t0), (j1, _, _, t1) = rows[0], rows[-1]
            print(f"merge-only scaling: {j1 / j0:.1f}x the jobs took {t1 / t0:.2f}x the time")


if __name__ == "__main__":
    main()
