"""Timing whole commands the way the command benchmarks (spiff, ops) do: warmed up, interleaved.

Each variant (the command, the command with bytecode cached, a baseline checkout) runs once to warm
the file and bytecode caches, then all variants take turns ``runs`` times, so a load that comes and
goes on the shared machine falls on all of them alike; the medians are reported.
"""

from __future__ import annotations

import statistics
import subprocess
import time
from collections.abc import Callable, Mapping
from pathlib import Path


def seconds(action: Callable[[], object]) -> float:
    start = time.perf_counter()
    action()
    return time.perf_counter() - start


def command_runner(command: list[str], cwd: Path, env: Mapping[str, str]) -> Callable[[], object]:
    """Run ``command`` from ``cwd`` (``python -m`` imports ``boshpipe`` from there first), output dropped."""

    def run() -> object:
        return subprocess.run(command, cwd=cwd, env=dict(env), check=True, stdout=subprocess.DEVNULL)

    return run


def interleaved_medians(variants: Mapping[str, Callable[[], object]], runs: int) -> dict[str, float]:
    """Median seconds of each variant: one warm-up each, then ``runs`` rounds taking turns."""
    for run in variants.values():
        run()
    timings: dict[str, list[float]] = {name: [] for name in variants}
    for _ in range(runs):
        for name, run in variants.items():
            timings[name].append(seconds(run))
    return {name: statistics.median(values) for name, values in timings.items()}
