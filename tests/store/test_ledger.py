"""The ledger on both backends: records, pointers, history, locks."""

from __future__ import annotations

from datetime import timedelta

import pytest

from boshpipe.errors import ConfigError, LockHeld
from boshpipe.ledger import (
    GOOD_KEPT,
    EnvState,
    Ledger,
    Record,
    apply_record,
    current_who,
    lock_ttl_from_env,
    utc_now,
)
from boshpipe.store import ArtifactStore


def deploy(env: str, candidate: str, outcome: str = "succeeded", **extra: object) -> Record:
    return Record(kind="deploy", env=env, outcome=outcome, candidate=candidate, **extra)  # type: ignore[arg-type]


def test_append_writes_a_record_and_moves_the_pointer(store: ArtifactStore) -> None:
    ledger = Ledger(store)
    record = ledger.append(
        deploy("dev1", "redis-templates-1", candidate_sha256="c" * 64, manifest_sha256="m" * 64, task_id="7")
    )
    assert record.id and store.exists(f"records/dev1/{record.id}.json")
    assert ledger.record("dev1", record.id) == record
    state = ledger.state("dev1")
    assert (state.deployed, state.deployed_sha256, state.last_deploy, state.good) == (
        "redis-templates-1",
        "c" * 64,
        record.id,
        ["redis-templates-1"],
    )
    assert state.since == record.finished


def test_failed_deploy_and_tests_update_only_their_fields(store: ArtifactStore) -> None:
    ledger = Ledger(store)
    good = ledger.append(deploy("dev1", "redis-templates-1"))
    bad = ledger.append(deploy("dev1", "redis-templates-2", outcome="failed"))
    smoke = ledger.append(
        Record(
            kind="test",
            env="dev1",
            outcome="succeeded",
            candidate="redis-templates-1",
            details={"test": "smoke"},
        )
    )
    state = ledger.state("dev1")
    assert (state.deployed, state.last_deploy, state.last_good_deploy) == (
        "redis-templates-1",
        bad.id,
        good.id,
    )
    assert state.last_tests == {"smoke": smoke.id}
    refusal = ledger.append(
        Record(
            kind="refusal",
            env="staging",
            outcome="refused",
            candidate="redis-templates-2",
            details={"rule": "final releases only", "missing": ["redis 12+dev.3"]},
        )
    )
    assert ledger.state("staging").deployed is None
    assert ledger.state("staging").last_record == refusal.id


def test_destroy_clears_the_deployed_candidate_but_keeps_rollback_history(store: ArtifactStore) -> None:
    ledger = Ledger(store)
    ledger.append(deploy("dev1", "redis-templates-1"))
    destroyed = ledger.append(Record(kind="destroy", env="dev1", outcome="succeeded"))
    state = ledger.state("dev1")
    assert (state.deployed, state.last_deploy, state.good) == (None, destroyed.id, ["redis-templates-1"])


def test_candidate_pointers_answer_gates_for_candidates_of_any_age(store: ArtifactStore) -> None:
    ledger = Ledger(store)
    first = ledger.append(deploy("dev1", "redis-templates-1", from_candidate=None))
    for n in range(2, 4 + GOOD_KEPT):  # redis-templates-1 falls out of the bounded rollback list
        ledger.append(deploy("dev1", f"redis-templates-{n}"))
    smoke = ledger.append(
        Record(
            kind="test",
            env="dev1",
            outcome="succeeded",
            candidate="redis-templates-1",
            details={"test": "smoke"},
        )
    )
    assert "redis-templates-1" not in ledger.state("dev1").good
    old = ledger.candidate_state("dev1", "redis-templates-1")
    assert (old.last_good_deploy, old.tests["smoke"]["id"]) == (first.id, smoke.id)
    assert old.passed("smoke") and not old.passed("integration")
    staged = ledger.append(deploy("staging", "redis-templates-2", outcome="failed", from_candidate="redis-templates-1"))
    never = ledger.candidate_state("staging", "redis-templates-2")
    assert (never.last_deploy, never.last_deploy_outcome, never.last_good_deploy) == (
        staged.id,
        "failed",
        None,
    )
    assert ledger.candidate_state("production", "redis-templates-9").last_deploy is None


def test_history_is_newest_first_and_limited(store: ArtifactStore) -> None:
    ledger = Ledger(store)
    ids = [ledger.append(deploy("dev2", f"redis-templates-{n}")).id for n in range(1, 6)]
    ledger.append(deploy("dev1", "redis-templates-9"))
    assert [r.id for r in ledger.history("dev2")] == list(reversed(ids))
    assert [r.candidate for r in ledger.history("dev2", limit=2)] == [
        "redis-templates-5",
        "redis-templates-4",
    ]
    assert ledger.history("production") == []


def test_record_ids_sort_by_time() -> None:
    ledger_ids = []
    base = utc_now()
    for seconds in (0, 1, 61, 3600):
        from boshpipe.ledger import new_record_id

        ledger_ids.append(new_record_id(base + timedelta(seconds=seconds)))
    assert ledger_ids == sorted(ledger_ids)


def test_rollback_candidates_are_bounded_and_deduplicated(store: ArtifactStore) -> None:
    ledger = Ledger(store)
    for n in [1, 2, 3, 2, *range(4, 4 + GOOD_KEPT)]:
        ledger.append(deploy("production", f"redis-templates-{n}"))
    state = ledger.state("production")
    assert len(state.good) == GOOD_KEPT
    assert state.good[-1] == state.deployed == f"redis-templates-{3 + GOOD_KEPT}"
    assert len(set(state.good)) == GOOD_KEPT
    assert state.previous_good() == f"redis-templates-{2 + GOOD_KEPT}"


def test_apply_record_is_idempotent_and_order_tolerant() -> None:
    first = Record(
        id="20240101T000000.000000Z-aaaa",
        kind="deploy",
        env="dev1",
        outcome="succeeded",
        candidate="redis-templates-1",
    )
    second = Record(
        id="20240102T000000.000000Z-bbbb",
        kind="deploy",
        env="dev1",
        outcome="succeeded",
        candidate="redis-templates-2",
    )
    empty = EnvState(env="dev1")
    forward = apply_record(apply_record(empty, first), second)
    backward = apply_record(apply_record(empty, second), first)
    assert forward.deployed == backward.deployed == "redis-templates-2"
    assert apply_record(forward, second) == forward


def test_snapshot_reads_the_pointer_lock_and_named_records(store: ArtifactStore) -> None:
    ledger = Ledger(store)
    deployed = ledger.append(deploy("dev1", "redis-templates-1"))
    smoke = ledger.append(Record(kind="test", env="dev1", outcome="failed", details={"test": "smoke"}))
    with ledger.lock("dev1", "deploy redis-templates-2"):
        snap = ledger.snapshot("dev1")
    assert snap.last_deploy == deployed and snap.last_tests == {"smoke": smoke}
    assert snap.lock is not None and snap.lock.purpose == "deploy redis-templates-2"
    assert ledger.snapshot("dev1").lock is None
    assert ledger.snapshot("dev2").state == EnvState(env="dev2")


def test_rebuild_state_replays_records(store: ArtifactStore) -> None:
    ledger = Ledger(store)
    ledger.append(deploy("dev1", "redis-templates-1"))
    lost = ledger.append(deploy("dev1", "redis-templates-2"), update_state=None)  # crash before the merge
    assert ledger.state("dev1").deployed == "redis-templates-1"
    assert ledger.rebuild_state("dev1").state.deployed == "redis-templates-2"
    assert ledger.state("dev1").last_deploy == lost.id
    assert ledger.candidate_state("dev1", "redis-templates-2").last_good_deploy == lost.id


def test_records_refuse_secret_looking_details_and_bad_values() -> None:
    with pytest.raises(ValueError, match="looks like a secret"):
        Record(kind="deploy", env="dev1", outcome="failed", details={"redis": {"password": "x"}})
    with pytest.raises(ValueError, match="kind"):
        Record(kind="explode", env="dev1", outcome="failed")
    with pytest.raises(ConfigError, match="invalid env name"):
        Record(kind="deploy", env="../prod", outcome="failed")
    Record(kind="deploy", env="dev1", outcome="failed", details={"manifest_sha256": "m"})


def test_who_is_the_concourse_build_or_the_user(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("BUILD_PIPELINE_NAME", "BUILD_JOB_NAME", "BUILD_NAME", "ATC_EXTERNAL_URL"):
        monkeypatch.delenv(name, raising=False)
    assert set(current_who()) == {"user", "host"}
    monkeypatch.setenv("BUILD_PIPELINE_NAME", "redis")
    monkeypatch.setenv("BUILD_JOB_NAME", "deploy-dev1")
    monkeypatch.setenv("BUILD_NAME", "42")
    assert current_who() == {
        "BUILD_PIPELINE_NAME": "redis",
        "BUILD_JOB_NAME": "deploy-dev1",
        "BUILD_NAME": "42",
    }


# -- locks -----------------------------------------------------------------------------------------


def test_a_held_lock_refuses_with_who_since_and_how_to_unlock(store: ArtifactStore) -> None:
    ledger = Ledger(store)
    with ledger.lock("dev1", "deploy redis-templates-3"), pytest.raises(LockHeld) as caught:
        ledger.acquire("dev1", "smoke-test")
    message = str(caught.value)
    assert message.startswith("dev1 is locked by ")
    assert "(deploy redis-templates-3) since " in message and "; it expires at " in message
    assert message.endswith("`invoke unlock --env dev1` if that run is dead")
    assert "\n" not in message
    with ledger.lock("dev1", "smoke-test"):  # released: free again
        pass
    with ledger.lock("dev2", "deploy"), ledger.lock("staging", "reset"):  # per env
        pass


def test_an_expired_lock_is_taken_over_and_the_old_holder_does_not_release_it(store: ArtifactStore) -> None:
    ledger = Ledger(store, lock_ttl=60)
    later = Ledger(store, clock=lambda: utc_now() + timedelta(minutes=5))
    crashed = ledger.acquire("dev1", "deploy (crashed)")
    taken = later.acquire("dev1", "deploy")
    ledger.release(crashed)  # the old run wakes up: must not free the new holder's lock
    info = later.lock_info("dev1")
    assert info is not None and info.token == taken.info.token
    later.release(taken)
    assert later.lock_info("dev1") is None


def test_unlock_breaks_a_lock_for_people(store: ArtifactStore) -> None:
    ledger = Ledger(store)
    held = ledger.acquire("staging", "reset")
    broken = ledger.unlock("staging")
    assert broken is not None and broken.token == held.info.token
    assert ledger.unlock("staging") is None
    with ledger.lock("staging", "deploy"):
        pass
    ledger.release(held)  # the broken holder finishing later changes nothing


def test_refresh_extends_and_detects_a_lost_lock(store: ArtifactStore) -> None:
    ledger = Ledger(store, lock_ttl=60)
    held = ledger.acquire("dev1", "long deploy")
    before = held.info.expires
    held.refresh(ttl=3600)
    assert held.info.expires > before
    ledger.unlock("dev1")
    with pytest.raises(LockHeld, match="lost the lock of dev1"):
        held.refresh()


def test_lock_ttl_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("BOSHPIPE_LOCK_TTL", raising=False)
    assert lock_ttl_from_env() == 1800
    monkeypatch.setenv("BOSHPIPE_LOCK_TTL", "90")
    assert lock_ttl_from_env() == 90
    monkeypatch.setenv("BOSHPIPE_LOCK_TTL", "soon")
    with pytest.raises(ConfigError, match="BOSHPIPE_LOCK_TTL='soon'"):
        lock_ttl_from_env()
