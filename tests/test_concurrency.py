"""Races at the level of the steps: 20 real processes on one env of the local store (issue 4).

- 20 processes run ``chain.deploy`` of dev1 at the same moment: exactly one gets the env's lock and
  deploys (for real, redis-server processes included); the 19 others are refused with the lock's
  holder and since when, and write nothing. Meanwhile `invoke deploy` and `invoke status` show the lock.
- 20 processes append records through ``steps.append`` at the same moment: every record is there,
  and the env's and the candidate's pointers name each racer's newest record (no merge was lost).

Workers are ``tests/race_worker.py``; they start, open the env, and wait for a ``go`` file, so the
race starts after the slow part (Python start-up) on a loaded machine.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from tests.e2e_project import REPO, E2EProject
from tests.race_worker import APPENDS

pytestmark = pytest.mark.e2e

RACERS = 20
DEADLINE_S = 240.0
LOCK_LINE = re.compile(
    r"dev1 is locked by \S+@\S+ \(deploy\) since \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ; it expires at \S+;"
    r" `invoke unlock --env dev1` if that run is dead"
)


def _start(e2e: E2EProject, mode: str, sync: Path) -> list[subprocess.Popen[bytes]]:
    sync.mkdir()
    return [
        subprocess.Popen(
            [sys.executable, "-m", "tests.race_worker", mode, str(sync), str(i)],
            cwd=REPO,
            env=e2e.env,
            stdout=subprocess.DEVNULL,
            stderr=(sync / f"stderr-{i}").open("wb"),
        )
        for i in range(RACERS)
    ]


def _poll(what: str, done: Any, procs: list[subprocess.Popen[bytes]], sync: Path) -> None:
    deadline = time.monotonic() + DEADLINE_S
    while not done():
        crashed = [p for p in procs if p.poll() not in (None, 0)]
        if crashed or time.monotonic() > deadline:
            for p in procs:
                p.kill()
            errors = "\n".join(f.read_text()[-2000:] for f in sorted(sync.glob("stderr-*")) if f.read_text())
            raise AssertionError(f"waiting for {what}: {len(crashed)} worker(s) crashed or timed out\n{errors}")
        time.sleep(0.02)


def _results(sync: Path) -> list[dict[str, Any]]:
    return [json.loads(p.read_text()) for p in sorted(sync.glob("result-*.json"))]


def _finish(procs: list[subprocess.Popen[bytes]]) -> None:
    for p in procs:
        assert p.wait(timeout=DEADLINE_S) == 0


def _records(e2e: E2EProject, env: str) -> list[dict[str, Any]]:
    folder = e2e.workdir / "store" / "records" / env
    return [json.loads(p.read_bytes()) for p in sorted(folder.glob("*.json"))] if folder.exists() else []


def test_twenty_deploys_race_for_the_lock_one_proceeds(e2e: E2EProject, tmp_path: Path) -> None:
    e2e.invoke("upload", "--env", "dev1")
    sync = tmp_path / "race"
    procs = _start(e2e, "deploy", sync)
    _poll("every racer ready", lambda: len(list(sync.glob("ready-*"))) == RACERS, procs, sync)
    (sync / "go").touch()
    _poll(
        "one racer in the director and the others refused",
        lambda: len(list(sync.glob("entered-*"))) == 1 and len(_results(sync)) == RACERS - 1,
        procs,
        sync,
    )
    # The winner holds the lock: a person's deploy is refused with one line, status names the holder.
    done = e2e.invoke("deploy", "--env", "dev1", "--candidate", "1", check=False)
    assert done.returncode != 0
    assert len(done.stderr.strip().splitlines()) == 1 and LOCK_LINE.search(done.stderr), done.stderr
    row = next(r for r in json.loads(e2e.invoke("status", "--json").stdout) if r["env"] == "dev1")
    assert row["locked_by"] and "(deploy) since" in row["locked_by"]
    # only the winner's started record, written before it entered the director; status knows it runs
    assert [(r["kind"], r["outcome"]) for r in _records(e2e, "dev1")] == [("deploy", "started")]
    assert row["unknown"].startswith("unknown, deploy in progress")

    (sync / "release").touch()
    _finish(procs)
    results = _results(sync)
    assert len(results) == RACERS
    assert [r["outcome"] for r in results].count("deployed") == 1
    losers = [r for r in results if r["outcome"] != "deployed"]
    assert len(losers) == RACERS - 1
    assert all(r["type"] == "LockHeld" and LOCK_LINE.fullmatch(r["error"]) for r in losers), losers
    assert len({r["error"] for r in losers}) == 1  # all name the same holder, since the same moment

    kinds = [(r["kind"], r["outcome"], r.get("details", {}).get("test")) for r in _records(e2e, "dev1")]
    assert kinds == [
        ("deploy", "started", None),
        ("deploy", "succeeded", None),
        ("test", "succeeded", "smoke"),
        ("test", "succeeded", "acceptance"),
    ]
    row = next(r for r in json.loads(e2e.invoke("status", "--json").stdout) if r["env"] == "dev1")
    assert row["candidate"] == "redis-templates-1" and row["locked_by"] is None
    assert len(e2e.redis_pids()) == 3


def test_twenty_processes_append_records_none_lost(e2e: E2EProject, tmp_path: Path) -> None:
    sync = tmp_path / "append"
    procs = _start(e2e, "append", sync)
    _poll("every racer ready", lambda: len(list(sync.glob("ready-*"))) == RACERS, procs, sync)
    (sync / "go").touch()
    _finish(procs)
    results = _results(sync)
    assert [r["outcome"] for r in results] == ["appended"] * RACERS, results
    ids = [i for r in results for i in r["ids"]]
    assert len(ids) == len(set(ids)) == RACERS * APPENDS

    stored = _records(e2e, "dev1")
    assert sorted(r["id"] for r in stored) == sorted(ids)
    by_racer: dict[str, list[str]] = {}
    for r in stored:
        by_racer.setdefault(r["details"]["test"], []).append(r["id"])
    assert sorted(by_racer) == sorted(f"racer{i}" for i in range(RACERS))
    assert all(len(v) == APPENDS for v in by_racer.values())

    # The pointers merged every append: each racer's newest record, and the newest of all.
    state = json.loads((e2e.workdir / "store" / "state" / "dev1.json").read_bytes())
    assert state["last_tests"] == {name: max(v) for name, v in by_racer.items()}
    assert state["last_record"] == max(ids)
    pointer = e2e.workdir / "store" / "state" / "dev1" / "candidates" / "redis-templates-1.json"
    tests = json.loads(pointer.read_bytes())["tests"]
    assert {name: t["id"] for name, t in tests.items()} == {name: max(v) for name, v in by_racer.items()}

    history = json.loads(e2e.invoke("history", "--env", "dev1", "--json").stdout)
    assert len(history) == RACERS * APPENDS
