"""Damaged ledger files: each is one ``CorruptLedger`` line naming the file and what to do.

Pointers and locks are rewritten by the ledger itself; records are append-only evidence. A
truncated write, a hand edit, bit rot or a different program can leave any of them unreadable;
none of that may become a traceback, and ``rebuild_state`` (``invoke ledger-repair``) must get the
env going again from the records that are readable.
"""

from __future__ import annotations

import dataclasses
import subprocess
import sys
from pathlib import Path

import pytest

from boshpipe.errors import CorruptLedger, LockHeld
from boshpipe.ledger import Ledger, Record
from boshpipe.store import ArtifactStore
from boshpipe.store.local import LocalStore

REPO = Path(__file__).resolve().parent.parent.parent

DAMAGE = {
    "truncated": lambda good: good[: len(good) // 2],
    "empty": lambda good: b"",
    "empty object": lambda good: b"{}",
    "a list": lambda good: b"[1, 2, 3]",
    "null": lambda good: b"null",
    "binary": lambda good: b"\x00\xff\xfe garbage",
    "wrong types": lambda good: good.replace(b'"dev1"', b"17", 1),
    "deep nesting": lambda good: b"[" * 100_000 + b"]" * 100_000,
}


def _overwrite(store: ArtifactStore, key: str, data: bytes) -> None:
    store.replace(key, data, store.get(key).etag)


def _deploys(ledger: Ledger) -> list[Record]:
    return [
        ledger.append(Record(kind="deploy", env="dev1", outcome="succeeded", candidate=f"redis-templates-{n}"))
        for n in (1, 2)
    ]


def _one_line(err: CorruptLedger, key: str, ledger: Ledger, todo: str) -> None:
    text = str(err)
    assert "\n" not in text and text.startswith(f"{ledger.where(key)} is unreadable (") and todo in text, text


@pytest.mark.parametrize("damage", sorted(DAMAGE))
def test_a_damaged_state_pointer(store: ArtifactStore, damage: str) -> None:
    ledger = Ledger(store)
    written = _deploys(ledger)
    key = ledger.state_key("dev1")
    _overwrite(store, key, DAMAGE[damage](store.get(key).data))
    third = Record(kind="deploy", env="dev1", outcome="succeeded", candidate="redis-templates-3")
    for read in (lambda: ledger.state("dev1"), lambda: ledger.snapshot("dev1"), lambda: ledger.append(third)):
        with pytest.raises(CorruptLedger) as caught:
            read()
        _one_line(caught.value, key, ledger, "invoke ledger-repair --env dev1")
    # the third record landed before its merge failed: repair folds it in with the others
    report = ledger.rebuild_state("dev1")
    assert report.records == 3 and report.state.deployed == "redis-templates-3"
    assert report.state.good == ["redis-templates-1", "redis-templates-2", "redis-templates-3"]
    assert written[1].id < report.state.last_deploy  # type: ignore[operator]
    assert ledger.state("dev1") == report.state
    assert report.replaced == [key]


@pytest.mark.parametrize("damage", sorted(DAMAGE))
def test_a_damaged_candidate_pointer(store: ArtifactStore, damage: str) -> None:
    ledger = Ledger(store)
    written = _deploys(ledger)
    key = ledger.candidate_state_key("dev1", "redis-templates-1")
    _overwrite(store, key, DAMAGE[damage](store.get(key).data))
    with pytest.raises(CorruptLedger) as caught:
        ledger.candidate_state("dev1", "redis-templates-1")
    _one_line(caught.value, key, ledger, "invoke ledger-repair --env dev1")
    ledger.rebuild_state("dev1")
    assert ledger.candidate_state("dev1", "redis-templates-1").last_good_deploy == written[0].id


@pytest.mark.parametrize("damage", sorted(DAMAGE))
def test_a_damaged_lock(store: ArtifactStore, damage: str) -> None:
    ledger = Ledger(store)
    ledger.release(ledger.acquire("dev1", "deploy"))
    key = ledger.lock_key("dev1")
    _overwrite(store, key, DAMAGE[damage](store.get(key).data))
    for use in (lambda: ledger.lock_info("dev1"), lambda: ledger.acquire("dev1", "deploy")):
        with pytest.raises(CorruptLedger) as caught:
            use()
        _one_line(caught.value, key, ledger, "`invoke unlock --env dev1` replaces it")
    broken = ledger.unlock("dev1")
    assert broken is not None and broken.token == "" and "is unreadable" in broken.purpose
    with ledger.lock("dev1", "deploy"):
        assert ledger.lock_info("dev1") is not None


def test_a_lock_whose_expiry_is_not_a_time(store: ArtifactStore) -> None:
    ledger = Ledger(store)
    ledger.release(ledger.acquire("dev1", "deploy"))
    key = ledger.lock_key("dev1")
    _overwrite(store, key, store.get(key).data.replace(b'"expires": "', b'"expires": "soon '))
    with pytest.raises(CorruptLedger, match=r"locks/dev1\.json is unreadable"):
        ledger.acquire("dev1", "deploy")


@pytest.mark.parametrize("damage", [*sorted(DAMAGE), "another record's id"])
def test_a_damaged_record_is_listed_and_skipped(store: ArtifactStore, damage: str) -> None:
    ledger = Ledger(store)
    written = _deploys(ledger)
    key = ledger.record_key("dev1", written[1].id)
    good = store.get(key).data
    bad = good.replace(written[1].id.encode(), written[0].id.encode()) if damage not in DAMAGE else DAMAGE[damage](good)
    _overwrite(store, key, bad)
    with pytest.raises(CorruptLedger) as caught:
        ledger.snapshot("dev1")  # the pointer names it
    _one_line(caught.value, key, ledger, "invoke ledger-repair --env dev1")
    entries = ledger.entries("dev1")
    assert [type(e).__name__ for e in entries] == ["UnreadableRecord", "Record"]
    report = ledger.rebuild_state("dev1")
    assert [entry.key for entry in report.skipped] == [key] and report.records == 1
    assert ledger.snapshot("dev1").state.deployed == "redis-templates-1"
    assert store.get(key).data == bad  # evidence is kept


_HOLD = """
import sys
from pathlib import Path
from boshpipe.ledger import Ledger
from boshpipe.store.local import LocalStore
Ledger(LocalStore(Path(sys.argv[1]))).acquire("dev1", "deploy")
print("held", flush=True)
sys.stdin.readline()
"""


def test_a_lock_left_by_a_dead_process_on_this_host_is_taken_over(tmp_path: Path) -> None:
    """SIGKILL, the OOM killer or a failed release leave a lock no process holds: the next run takes it."""
    ledger = Ledger(LocalStore(tmp_path))
    holder = subprocess.Popen(
        [sys.executable, "-c", _HOLD, str(tmp_path)],
        cwd=REPO,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert holder.stdout is not None and holder.stdout.readline() == "held\n"
    with pytest.raises(LockHeld, match="dev1 is locked by"):
        ledger.acquire("dev1", "deploy")  # alive: honoured
    assert ledger.lock_info("dev1") is not None and not ledger.lock_info("dev1").holder_dead()  # type: ignore[union-attr]
    holder.kill()  # no finally, no release
    holder.wait()
    info = ledger.lock_info("dev1")
    assert info is not None and info.holder_dead()
    taken = ledger.acquire("dev1", "deploy")
    assert taken.info.holder is not None and taken.info.holder["pid"] != str(holder.pid)
    ledger.release(taken)


def test_a_lock_from_another_host_is_never_judged(store: ArtifactStore) -> None:
    """A pid means nothing on another machine: that lock lasts until it expires or is unlocked."""
    ledger = Ledger(store)
    held = ledger.acquire("dev1", "deploy")
    assert held.info.holder is not None
    key = ledger.lock_key("dev1")
    elsewhere = dataclasses.replace(held.info, holder={**held.info.holder, "host": "another-host", "pid": "1"})
    _overwrite(store, key, elsewhere.to_json())
    info = ledger.lock_info("dev1")
    assert info is not None and info.holder is not None and info.holder["host"] == "another-host"
    assert not info.holder_dead()
    with pytest.raises(LockHeld):
        ledger.acquire("dev1", "deploy")
