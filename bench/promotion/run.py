"""Store calls and time of `invoke status` and of gate decisions, at 100 and at 10,000 records.

It fills a local store (the embedded default) with the ledger of the 4 envs — each candidate going
dev1/dev2 → staging (reset + deploy + tests) → production, with refusals sprinkled in — through the
ledger API (no deploys), then measures the real functions the tasks call:

- ``status``: ``reports.status(project, None, json)``, the body of `invoke status --json` (4 envs);
- ``gate production``: ``gates.decide`` of production for the newest candidate and for an old one;
- ``gate staging``: ``gates.decide`` of staging for the newest candidate.

Store calls are counted by a wrapper around the ArtifactStore that ``reports`` and the ledger use.
The counts must be the same at every size: the reads are pointers and the records they name, never
a listing of the history.

Usage: python bench/promotion/run.py [--records 100 10000] [--candidates 500] [--runs 9]
"""

from __future__ import annotations

import argparse
import collections
import dataclasses
import io
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

from bench.counting import CountingStore  # noqa: E402
from boshpipe import gates, reports, steps  # noqa: E402
from boshpipe.candidate import Candidate  # noqa: E402
from boshpipe.environments import ApprovalRule, SoakRule, load_env  # noqa: E402
from boshpipe.ledger import Ledger, Record, apply_candidate_record, apply_record, new_record_id  # noqa: E402
from boshpipe.project import Project  # noqa: E402
from boshpipe.store.local import LocalStore  # noqa: E402

ENVS = ("dev1", "dev2", "staging", "production")
TESTS = {
    "dev1": ("smoke", "acceptance"),
    "dev2": ("smoke", "acceptance"),
    "staging": ("integration", "smoke", "acceptance"),
    "production": ("smoke", "acceptance"),
}
FINAL = Candidate(files={}, metadata={"releases": [{"name": "redis", "version": "12"}]})


def ref(number: int) -> str:
    return f"redis-templates-{number}"


def lifecycle(number: int) -> list[Record]:
    """What one candidate leaves in the ledger on its way to production (ids assigned later)."""
    me, before = ref(number), ref(number - 1) if number > 1 else None
    out: list[Record] = []

    def deploy(env: str, kind: str = "deploy", candidate: str = me, start: str | None = None) -> None:
        out.append(Record(kind=kind, env=env, outcome="succeeded", candidate=candidate, from_candidate=start))

    def tests(env: str, candidate: str = me, names: tuple[str, ...] | None = None) -> None:
        for name in names or TESTS[env]:
            out.append(Record(kind="test", env=env, outcome="succeeded", candidate=candidate, details={"test": name}))

    dev = "dev1" if number % 2 else "dev2"
    deploy(dev, start=before)
    tests(dev)
    out.append(Record(kind="refusal", env="production", outcome="refused", candidate=me, details={"rules": []}))
    if before:
        deploy("staging", kind="reset", candidate=before, start=me if number > 2 else None)
        tests("staging", candidate=before, names=("smoke",))
    deploy("staging", start=before)
    tests("staging")
    out.append(Record(kind="approval", env="production", outcome="succeeded", candidate=me, details={"comment": "ok"}))
    deploy("production", start=before)
    tests("production")
    return out


def fill(ledger: Ledger, target: int, first: int, clock: datetime) -> tuple[int, datetime]:
    """Records of candidates ``first``, ``first+1``... until ``target`` more records; returns the next
    candidate number and the clock. Records are written create-if-absent from 8 threads (the ledger's
    ``append`` without merges); each pointer is then merged once with the ledger's own merge functions,
    folding in every record about it: the content ``append`` would have left."""
    produced: list[Record] = []
    number = first
    while len(produced) < target:
        for record in lifecycle(number):
            clock += timedelta(milliseconds=1)
            produced.append(dataclasses.replace(record, id=new_record_id(clock)))
        number += 1
    produced = produced[:target]
    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(lambda r: ledger.append(r, update_state=None), produced))
    for env in ENVS:
        mine = [r for r in produced if r.env == env]
        ledger.update_state(env, _folding(apply_record, mine))
        for candidate in sorted({r.candidate for r in mine if r.candidate and r.kind != "refusal"}):
            about = [r for r in mine if r.candidate == candidate]
            ledger.update_candidate_state(env, candidate, _folding(apply_candidate_record, about))
    return number, clock


def _folding(merge: Callable[[Any, Record], Any], records: list[Record]) -> Callable[[Any], Any]:
    def fold(state: Any) -> Any:
        for record in records:
            state = merge(state, record)
        return state

    return fold


def measure(counting: CountingStore, action: Callable[[], Any], runs: int) -> tuple[float, dict[str, int]]:
    """Median wall time (ms) of ``action`` and the store calls of one run (the same every run)."""
    timings, counts = [], []
    for _ in range(runs):
        counting.calls.clear()
        start = time.perf_counter()
        action()
        timings.append((time.perf_counter() - start) * 1000)
        counts.append(dict(counting.calls))
    assert all(c == counts[0] for c in counts), counts
    return statistics.median(timings), counts[0]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--records", type=int, nargs="+", default=[100, 10_000])
    parser.add_argument("--runs", type=int, default=9)
    args = parser.parse_args()

    project = Project.load(REPO)
    production, staging = load_env(project, "production"), load_env(project, "staging")
    controls = dataclasses.replace(  # production with issue 14's rules on: soak in staging, one approval
        production,
        rules=dataclasses.replace(
            production.rules,
            approvals=ApprovalRule(count=1, distinct_from_builder=True),
            soak=SoakRule(env="staging", duration=timedelta(hours=2), text="2h"),
        ),
    )
    rows: list[tuple[int, int, str, float, dict[str, int]]] = []
    with tempfile.TemporaryDirectory(prefix="bench-promotion-") as tmp:
        counting = CountingStore(LocalStore(Path(tmp) / "store"))
        patched: Any = steps  # status opens each env's store through steps: hand it the counting one
        patched.open_store = lambda setting, workdir: counting
        ledger = Ledger(counting)
        number, clock, written = 1, datetime(2024, 1, 1, tzinfo=UTC), 0
        for size in sorted(args.records):
            started = time.perf_counter()
            number, clock = fill(ledger, size - written, number, clock)
            written = size
            took = time.perf_counter() - started
            newest = ref(number - 2)  # the newest with a complete lifecycle (its production deploy)
            on_disk = sum(1 for _ in (Path(tmp) / "store" / "records").rglob("*.json"))
            print(f"filled to {on_disk} records, {number - 1} candidates, in {took:.1f} s", flush=True)

            def decide(env: Any, candidate: str) -> Callable[[], gates.Decision]:
                return lambda: gates.decide(ledger, env, candidate, FINAL)

            cases: list[tuple[str, Callable[[], Any]]] = [
                ("status (4 envs, --json)", lambda: reports.status(project, None, True, io.StringIO())),
                ("gate production, newest candidate", decide(production, newest)),
                ("gate production, redis-templates-3", decide(production, ref(3))),
                ("gate staging, newest candidate", decide(staging, ref(number - 1))),
                ("gate production + soak + approvals, newest", decide(controls, newest)),
            ]
            for name, action in cases:
                ms, calls = measure(counting, action, args.runs)
                result = action()
                if isinstance(result, gates.Decision):
                    name += f" ({'accepts' if result.ok else 'refuses'} {result.candidate})"
                rows.append((on_disk, number - 1, name, ms, calls))
            verdict = gates.decide(ledger, production, ref(3), FINAL)
            assert not verdict.ok, "an old candidate's staging run did not start from production's current"
    print()
    print("| records | candidates | read | median time | store calls |")
    print("|---:|---:|---|---:|---|")
    for on_disk, candidates, name, ms, calls in rows:
        text = ", ".join(f"{n} {method}" for method, n in sorted(calls.items()))
        print(f"| {on_disk:,} | {candidates:,} | {name} | {ms:.2f} ms | {text} |")
    by_read: dict[str, set[str]] = collections.defaultdict(set)
    for _, _, name, _, calls in rows:
        by_read[name.split(" (")[0]].add(repr(sorted(calls.items())))
    grew = [name for name, seen in by_read.items() if len(seen) > 1]
    print("\nstore calls the same at every size:", "yes" if not grew else f"NO: {grew}")
    return 1 if grew else 0


if __name__ == "__main__":
    sys.exit(main())
