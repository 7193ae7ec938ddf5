"""Real processes racing on the same store, on both backends.

Each test forks 20 processes that each open their own client (as 20 Concourse workers would), wait
on a barrier so they start together, and race. Results come back through a queue; nothing waits on
a timer.
"""

from __future__ import annotations

import multiprocessing
import multiprocessing.synchronize
import queue
from collections.abc import Callable
from typing import Any

import pytest

from boshpipe.errors import LockHeld
from boshpipe.ledger import Ledger, Record
from boshpipe.store.candidates import list_candidates, load_candidate, store_candidate
from tests.store.conftest import StoreFactory

RACERS = 20
CONTEXT = multiprocessing.get_context("fork")
Worker = Callable[[StoreFactory, int, Any, Any], None]


def race(factory: StoreFactory, worker: Worker, release: Any = None) -> list[Any]:
    """Run ``worker(factory, index, results, release)`` in RACERS processes; collect one result each."""
    barrier = CONTEXT.Barrier(RACERS)
    results = CONTEXT.Queue()
    processes = [
        CONTEXT.Process(target=_start, args=(worker, factory, index, barrier, results, release))
        for index in range(RACERS)
    ]
    for process in processes:
        process.start()
    try:
        collected = [results.get(timeout=120) for _ in processes]
    except queue.Empty:
        pytest.fail("a racing process did not report within 120 s")
    finally:
        if release is not None:
            release.set()
        for process in processes:
            process.join(timeout=60)
    assert [p.exitcode for p in processes] == [0] * RACERS
    return collected


def _start(worker: Worker, factory: StoreFactory, index: int, barrier: Any, results: Any, release: Any) -> None:
    try:
        barrier.wait(timeout=60)
        worker(factory, index, results, release)  # each process opens its own client after the fork
    except BaseException as err:  # report, so the parent does not wait for a result that never comes
        results.put(("crashed", f"{type(err).__name__}: {err}"))


def _take_lock(factory: StoreFactory, index: int, results: Any, release: Any) -> None:
    ledger = Ledger(factory())
    try:
        with ledger.lock("dev1", f"deploy by racer {index}"):
            results.put(("held", index))
            release.wait(timeout=120)  # hold it until every racer has tried
    except LockHeld as err:
        results.put(("refused", str(err)))


def _append_records(factory: StoreFactory, index: int, results: Any, release: Any) -> None:
    ledger = Ledger(factory())
    ids = []
    for round_ in range(3):
        record = Record(
            kind="test",
            env="staging",
            outcome="succeeded",
            details={"test": f"racer-{index}", "round": round_},
        )
        ids.append(ledger.append(record).id)
    results.put(("appended", (index, ids)))


def _upload(factory: StoreFactory, index: int, results: Any, release: Any) -> None:
    stored = store_candidate(factory(), "redis-templates", f"content {index % 10}".encode())
    results.put(("stored", (index % 10, stored.number, stored.created)))


def test_twenty_racers_one_lock_holder(store_factory: StoreFactory) -> None:
    outcomes = race(store_factory, _take_lock, release=CONTEXT.Event())
    kinds = [kind for kind, _ in outcomes]
    assert kinds.count("held") == 1, outcomes
    assert kinds.count("refused") == RACERS - 1, outcomes
    winner = next(value for kind, value in outcomes if kind == "held")
    assert all(f"(deploy by racer {winner})" in text for kind, text in outcomes if kind == "refused")
    assert Ledger(store_factory()).lock_info("dev1") is None  # released after the race


def test_twenty_appenders_lose_no_record_and_no_pointer_update(store_factory: StoreFactory) -> None:
    outcomes = race(store_factory, _append_records)
    assert {kind for kind, _ in outcomes} == {"appended"}, outcomes
    written = {record_id for _, (_, ids) in outcomes for record_id in ids}
    ledger = Ledger(store_factory())
    assert len(written) == 3 * RACERS
    assert {record.id for record in ledger.history("staging")} == written
    # Every racer's merge survived: the pointer names each racer's last test record.
    assert ledger.state("staging").last_tests == {f"racer-{index}": ids[-1] for _, (index, ids) in outcomes}


def test_twenty_uploads_number_densely_and_store_each_content_once(store_factory: StoreFactory) -> None:
    """10 different contents, each uploaded by 2 racers: 10 candidates numbered 1..10."""
    outcomes = race(store_factory, _upload)
    assert {kind for kind, _ in outcomes} == {"stored"}, outcomes
    number_of: dict[int, int] = {}
    for _, (content, number, _created) in outcomes:
        assert number_of.setdefault(content, number) == number  # both uploaders got the same number
    assert sorted(number_of.values()) == list(range(1, 11))
    assert sum(created for _, (_, _, created) in outcomes) == 10
    store = store_factory()
    assert [c.number for c in list_candidates(store, "redis-templates")] == list(range(1, 11))
    for content, number in number_of.items():
        assert load_candidate(store, "redis-templates", number) == f"content {content}".encode()
