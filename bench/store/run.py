"""Store calls and time of ``status`` and a gate decision, with 1,000 and then 10,000 records.

For each backend (a local directory; S3 = a moto server on loopback, over real HTTP) it fills the
ledger of 4 envs with records and 100 candidates, then measures:

- ``status``: ``Ledger.snapshot`` of the 4 envs (pointer + lock + the records the pointer names);
- ``gate``: a production-gate-like read for one candidate (production's pointer, the candidate's
  staging pointer, the two records it names as evidence);
- ``append``: one full ``Ledger.append`` (record + env pointer + candidate pointer merges);
- ``history --limit 10``: for contrast, the one read that grows with the history (listing pages).

Store calls are counted by a wrapper around the store (both backends); on S3 the HTTP requests
are also counted with botocore's ``before-call`` event hook. Counts must be equal at both sizes.

Usage: python bench/store/run.py [--records 1000 10000] [--backends local s3] [--runs 5]
"""

from __future__ import annotations

import argparse
import collections
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

from bench.counting import CountingStore  # noqa: E402
from boshpipe.ledger import Ledger, Record, apply_candidate_record, apply_record  # noqa: E402
from boshpipe.store import ArtifactStore  # noqa: E402
from boshpipe.store.candidates import store_candidate  # noqa: E402
from boshpipe.store.local import LocalStore  # noqa: E402
from boshpipe.store.s3 import S3Store  # noqa: E402

ENVS = ("dev1", "dev2", "staging", "production")
CANDIDATES = 100
TESTS = {"dev1": ["smoke"], "dev2": ["smoke"], "staging": ["smoke", "integration"], "production": ["smoke"]}


class RequestCounter:
    """botocore ``before-call`` hook: one count per S3 API call, by operation name."""

    def __init__(self, store: S3Store) -> None:
        self.calls: collections.Counter[str] = collections.Counter()
        for client in store.clients:
            client.meta.events.register("before-call.s3", self._count)

    def _count(self, model: Any, **_: Any) -> None:
        self.calls[model.name] += 1


def record_for(env: str, number: int, index: int) -> list[Record]:
    """A deploy and its tests for candidate ``number`` (every 7th deploy fails)."""
    candidate = f"redis-templates-{number}"
    ok = index % 7 != 3
    records = [
        Record(
            kind="deploy",
            env=env,
            outcome="succeeded" if ok else "failed",
            candidate=candidate,
            from_candidate=f"redis-templates-{max(number - 1, 1)}",
            manifest_sha256=f"{index:064x}",
            task_id=str(index),
        )
    ]
    if ok:
        records += [
            Record(kind="test", env=env, outcome="succeeded", candidate=candidate, details={"test": name})
            for name in TESTS[env]
        ]
    return records


def fill(ledger: Ledger, target: int, already: int) -> None:
    """Bulk records up to ``target`` (create-if-absent, 8 threads), then the pointers they imply.

    The pointers are folded in memory with the ledger's own merge functions and written once each:
    the same content ``append`` would have left, without 2 merges per record during the fill.
    """
    per_env = (target - already) // len(ENVS)
    batches = []
    for env in ENVS:
        produced: list[Record] = []
        index = already // len(ENVS)
        while len(produced) < per_env:
            produced += record_for(env, 1 + index % CANDIDATES, index)
            index += 1
        batches += produced[:per_env]
    with ThreadPoolExecutor(max_workers=8) as pool:
        stored = sorted(pool.map(lambda r: ledger.append(r, update_state=None), batches), key=lambda r: r.id)
    for env in ENVS:
        mine = [record for record in stored if record.env == env]
        ledger.update_state(env, _folding(apply_record, mine))
        for candidate in sorted({record.candidate for record in mine if record.candidate}):
            about = [record for record in mine if record.candidate == candidate]
            ledger.update_candidate_state(env, candidate, _folding(apply_candidate_record, about))


def _folding(merge: Callable[[Any, Record], Any], records: list[Record]) -> Callable[[Any], Any]:
    def fold(state: Any) -> Any:
        for record in records:
            state = merge(state, record)
        return state

    return fold


def status(ledger: Ledger) -> None:
    for env in ENVS:
        ledger.snapshot(env)


def gate(ledger: Ledger, candidate: str) -> None:
    """Production gate for ``candidate``: its staging run succeeded, from production's candidate."""
    production = ledger.state("production")
    staged = ledger.candidate_state("staging", candidate)
    assert staged.last_good_deploy and staged.passed("integration"), staged
    evidence = ledger.record("staging", staged.last_good_deploy)
    ledger.record("staging", staged.tests["integration"]["id"])
    _ = evidence.from_candidate == production.deployed


def append(ledger: Ledger) -> None:
    ledger.append(
        Record(
            kind="test",
            env="dev1",
            outcome="succeeded",
            candidate="redis-templates-5",
            details={"test": "smoke"},
        )
    )


def history(ledger: Ledger) -> None:
    ledger.history("staging", limit=10)


def measure(
    name: str, action: Callable[[], None], counters: list[collections.Counter[str]], runs: int
) -> dict[str, Any]:
    timings, counts = [], []
    for _ in range(runs):
        for counter in counters:
            counter.clear()
        start = time.perf_counter()
        action()
        timings.append(time.perf_counter() - start)
        counts.append([dict(counter) for counter in counters])
    return {"name": name, "ms": 1000 * statistics.median(timings), "counts": counts[-1]}


def run_backend(backend: str, sizes: list[int], runs: int) -> None:
    server = None
    with tempfile.TemporaryDirectory() as tmp:
        if backend == "local":
            inner: ArtifactStore = LocalStore(Path(tmp) / "store")
            requests = None
        else:
            from tests.s3_fixtures import MotoServer, create_bucket

            server = MotoServer().start()
            os.environ.update(
                AWS_ACCESS_KEY_ID="bench",
                AWS_SECRET_ACCESS_KEY="bench-secret",
                AWS_DEFAULT_REGION="us-east-1",
                AWS_ENDPOINT_URL_S3=server.endpoint,
                AWS_CONFIG_FILE="/nonexistent",
                AWS_SHARED_CREDENTIALS_FILE="/nonexistent",
            )
            s3 = S3Store.from_url(f"s3://{create_bucket(server.endpoint, 'bench')}/boshpipe")
            requests = RequestCounter(s3)
            inner = s3
        try:
            counting = CountingStore(inner)
            ledger = Ledger(counting)
            for number in range(1, CANDIDATES + 1):
                store_candidate(inner, "redis-templates", f"candidate {number}".encode())
            counters = [counting.calls] + ([requests.calls] if requests else [])
            filled = 0
            for size in sizes:
                start = time.perf_counter()
                fill(ledger, size, filled)
                filled = size
                fill_s = time.perf_counter() - start
                total = sum(1 for env in ENVS for _ in inner.list(f"records/{env}/"))
                print(f"\n{backend}: {total} records, {CANDIDATES} candidates (filled in {fill_s:.1f} s)")
                for result in (
                    measure("status (4 envs)", lambda: status(ledger), counters, runs),
                    measure("gate (production)", lambda: gate(ledger, "redis-templates-2"), counters, runs),
                    measure("append (+2 merges)", lambda: append(ledger), counters, runs),
                    measure("history --limit 10", lambda: history(ledger), counters, runs),
                ):
                    store_calls = result["counts"][0]
                    line = f"  {result['name']:<20} {result['ms']:8.1f} ms"
                    line += f"  store calls {sum(store_calls.values()):3d} {store_calls}"
                    if requests:
                        http = result["counts"][1]
                        line += f"  S3 requests {sum(http.values())} {http}"
                    print(line, flush=True)
        finally:
            if server is not None:
                server.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, nargs="+", default=[1000, 10000])
    parser.add_argument("--backends", nargs="+", default=["local", "s3"], choices=["local", "s3"])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} CPUs; median of {args.runs} runs")
    for backend in args.backends:
        run_backend(backend, sorted(args.records), args.runs)


if __name__ == "__main__":
    main()
