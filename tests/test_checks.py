"""Smoke and acceptance checks against real redis-server processes run by the local director."""

from __future__ import annotations

import copy
import os
import signal
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from boshpipe.checks import CheckReport, acceptance, smoke_test
from boshpipe.director.local import LocalDirector
from boshpipe.errors import CheckFailed
from tests.director.localcluster import PASSWORD, Events, cleanup, connect, dump, job, v1_manifest, wait_for

pytestmark = pytest.mark.e2e

NAME = "ct-smoke"


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[LocalDirector, dict[str, Any]]]:
    """One deployment (leader, 2 replicas, test slave) shared by the read-only checks below."""
    root = tmp_path_factory.mktemp("checks") / "director"
    director = LocalDirector(root)
    manifest = v1_manifest(NAME, "10.254.1", replicas=2, test_slaves=1)
    task = director.deploy(dump(manifest), Events())
    assert task.ok, task.result
    yield director, manifest
    cleanup(root)


@pytest.fixture
def director(tmp_path: Path) -> Iterator[LocalDirector]:
    root = tmp_path / "director"
    yield LocalDirector(root)
    cleanup(root)


def test_smoke_passes_on_a_healthy_cluster(cluster: tuple[LocalDirector, dict[str, Any]]) -> None:
    director, manifest = cluster

    report = smoke_test(director, NAME, manifest, timeout=5)

    assert report.ok, report.lines
    assert report.figures["instances"] == 4
    assert (report.figures["masters"], report.figures["replicas"]) == (1, 3)
    assert report.lines[-1].startswith("smoke test passed: 4 instance(s), 3 replica(s) in sync")
    assert "ok   redis_z1/1 (127.254.1.7:6379): replica of redis_leader_z1/0 (127.254.1.2:6379), link up" in (
        report.lines
    )
    report.raise_for_failure()  # no-op when it passed
    assert PASSWORD not in repr(report)


def test_smoke_fails_with_the_wrong_password(cluster: tuple[LocalDirector, dict[str, Any]]) -> None:
    director, manifest = cluster
    wrong = copy.deepcopy(manifest)
    job(wrong, "redis_z1")["properties"]["redis"]["password"] = "not-the-password"

    report = smoke_test(director, NAME, wrong, timeout=1)

    assert not report.ok
    assert report.failures == [
        "FAIL redis_z1/0 (127.254.1.6:6379): refused the manifest's redis.password",
        "FAIL redis_z1/1 (127.254.1.7:6379): refused the manifest's redis.password",
    ]
    assert report.lines[-1] == (
        "smoke test failed: redis_z1/0 (127.254.1.6:6379): refused the manifest's redis.password (2 problem(s))"
    )
    with pytest.raises(CheckFailed) as err:
        report.raise_for_failure()
    message = str(err.value)
    assert message.startswith(f"smoke test of deployment '{NAME}' failed: redis_z1/0 (127.254.1.6:6379)")
    assert "(and 1 more)" in message and "\n" not in message
    assert "not-the-password" not in message + repr(report)


def test_smoke_fails_when_roles_differ_from_the_manifest(
    cluster: tuple[LocalDirector, dict[str, Any]],
) -> None:
    director, manifest = cluster
    claims = copy.deepcopy(manifest)
    job(claims, "redis_test_slave_z1")["properties"]["redis"]["master"] = "10.254.1.6"  # redis_z1/0

    report = smoke_test(director, NAME, claims, timeout=1)

    assert not report.ok
    assert report.failures == [
        "FAIL redis_test_slave_z1/0 (127.254.1.3:6379): replicates 127.254.1.2:6379, "
        "but the manifest says redis_z1/0 (127.254.1.6:6379)"
    ]


def test_acceptance_check_runs_the_errand(cluster: tuple[LocalDirector, dict[str, Any]]) -> None:
    director, _ = cluster
    events = Events()

    report = acceptance(director, NAME, events)

    assert report.ok, report.lines
    assert report.figures["exit_code"] == 0
    assert report.lines[-1].startswith("acceptance-tests errand passed (task ")
    assert [e.stage for e in events] == ["Running errand", "Running errand"]


def test_acceptance_check_fails_with_the_errand(director: LocalDirector) -> None:
    manifest = v1_manifest("ct-errand", "10.254.2", replicas=1, test_slaves=0)  # errand's slave: nobody
    assert director.deploy(dump(manifest), Events()).ok

    report = acceptance(director, "ct-errand", Events())

    assert not report.ok
    assert report.figures["exit_code"] == 1
    assert any(line.startswith("FAIL: slave 127.254.2.3:6379") for line in report.lines)
    with pytest.raises(CheckFailed, match="acceptance tests of deployment 'ct-errand' failed"):
        report.raise_for_failure()


def test_smoke_reports_a_dead_instance(director: LocalDirector) -> None:
    manifest = v1_manifest("ct-dead", "10.254.3", replicas=1)
    assert director.deploy(dump(manifest), Events()).ok
    with connect("127.254.3.6") as conn:
        pid = int(conn.info("server")["process_id"])
    os.kill(pid, signal.SIGKILL)
    assert wait_for(lambda: [i.state for i in director.instances("ct-dead")] == ["running", "stopped"])

    report = smoke_test(director, "ct-dead", manifest, timeout=1)

    assert not report.ok
    assert report.failures[0].startswith("FAIL redis_z1/0 (127.254.3.6:6379): does not answer PING")
    assert report.failures[0].endswith("director says stopped")
    # a redeploy of the same manifest brings the dead instance back, and the smoke test passes again
    assert director.deploy(dump(manifest), Events()).ok
    assert smoke_test(director, "ct-dead", manifest, timeout=5).ok


def test_check_report_is_plain_data() -> None:
    report = CheckReport("smoke test", False, ["ok   a", "FAIL b", "FAIL c", "summary"], {"x": 1}, "dep")
    assert report.failures == ["FAIL b", "FAIL c"]
    with pytest.raises(CheckFailed, match=r"^smoke test of deployment 'dep' failed: b \(and 1 more\); fix"):
        report.raise_for_failure()


def test_smoke_fails_when_an_instance_answers_without_a_password(director: LocalDirector) -> None:
    """As with an empty password file before issue 13: `requirepass ""` and a green smoke test."""
    manifest = v1_manifest("ct-open", "10.254.40", replicas=1)
    assert director.deploy(dump(manifest), Events()).ok
    with connect("127.254.40.2") as leader:
        leader.config_set("requirepass", "")

    report = smoke_test(director, "ct-open", manifest, timeout=5)

    assert not report.ok
    leader = "redis_leader_z1/0 (127.254.40.2:6379)"
    assert f"FAIL {leader}: answers PING without a password: anyone can read and write it" in report.lines
    assert "ok   redis_z1/0 (127.254.40.6:6379): refuses clients without the password" in report.lines
