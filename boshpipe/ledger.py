"""The ledger: what happened to each environment, what is deployed there now, and who holds it.

Three kinds of objects on any :class:`~boshpipe.store.ArtifactStore`::

    records/<env>/<id>.json   append-only records (deploy, test, reset, refusal, destroy),
                              create-if-absent; <id> sorts by time (``20240501T120000.123456Z-<random>``)
    state/<env>.json          the env's current-state pointer, updated by compare-and-swap
    locks/<env>.json          the env's lock, taken and released by create-if-absent / compare-and-swap

Records are the truth; the pointer is a summary kept so that ``status`` and gate decisions read a
bounded number of objects (the pointer, the lock and the few records it names) however long the
history grows. :meth:`Ledger.append` writes the record and then merges it into the pointer: the
update is a pure function of (current state, record) that is re-run on a fresh read whenever another
writer got there first, so concurrent appends never lose each other's effect. Update functions must
be idempotent and order-tolerant (``apply_record`` is), because a merge may run more than once.
Should a process die between the two writes, :meth:`Ledger.rebuild_state` replays the records.

Nothing is ever deleted: a released or expired lock is *replaced* (compare-and-swap), not deleted,
because conditional deletes are not available on every S3-compatible server. Lock expiry compares
wall clocks of different machines: keep them in sync (NTP) and the TTL well above any skew.

Records never hold manifest content or other secrets, only digests: ``details`` refuses keys that
look like they carry secrets (``password``, ``secret``, ``token``, ``manifest``...).
"""

from __future__ import annotations

import contextlib
import dataclasses
import getpass
import json
import os
import random
import re
import secrets
import socket
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

from boshpipe import envvars
from boshpipe.errors import AlreadyExists, ConfigError, LockHeld, NotFound, PreconditionFailed, StoreError
from boshpipe.store import ArtifactStore

KINDS = ("deploy", "test", "reset", "refusal", "destroy")
OUTCOMES = ("succeeded", "failed", "refused")
CI_VARIABLES = ("BUILD_PIPELINE_NAME", "BUILD_JOB_NAME", "BUILD_NAME", "ATC_EXTERNAL_URL")
GOOD_KEPT = 10
"""How many recent good candidates each env's pointer keeps for rollback."""
DEFAULT_LOCK_TTL = 30 * 60.0
MAX_LOCK_TTL = 7 * 24 * 3600.0
_ENV_NAME = re.compile(r"[a-z0-9][a-z0-9_-]*")
_CANDIDATE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._+-]*")
_SECRETISH = re.compile(r"password|secret|token|credential|private|manifest", re.IGNORECASE)
_STATE_ATTEMPTS = 100  # each lost round means another writer's merge landed: bounded by writers
_LOCK_ATTEMPTS = 20

Clock = Callable[[], datetime]
_P = TypeVar("_P", "EnvState", "CandidateState")


def utc_now() -> datetime:
    return datetime.now(UTC)


def iso(moment: datetime) -> str:
    """ISO 8601 UTC with a ``Z``, to the second: what records and messages show."""
    return moment.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def now_iso() -> str:
    """The current time as records store it."""
    return iso(utc_now())


def parse_iso(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def new_record_id(moment: datetime | None = None) -> str:
    """Sortable by time (lexicographic = chronological), unique by a random suffix."""
    return f"{(moment or utc_now()).astimezone(UTC):%Y%m%dT%H%M%S.%fZ}-{secrets.token_hex(4)}"


def current_who() -> dict[str, str]:
    """The Concourse build's identifiers when running in Concourse, else the user and host."""
    ci = {name: os.environ[name] for name in CI_VARIABLES if os.environ.get(name)}
    if ci:
        return ci
    try:
        user = getpass.getuser()
    except (OSError, KeyError):
        user = "unknown"
    return {"user": user, "host": socket.gethostname()}


who = current_who
"""The name the steps use."""


def describe_who(who: dict[str, str]) -> str:
    """``pipeline/job #build`` for Concourse, ``user@host`` for people."""
    if "BUILD_JOB_NAME" in who or "BUILD_PIPELINE_NAME" in who:
        text = f"{who.get('BUILD_PIPELINE_NAME', '?')}/{who.get('BUILD_JOB_NAME', '?')}"
        return f"{text} #{who['BUILD_NAME']}" if "BUILD_NAME" in who else text
    return f"{who.get('user', 'unknown')}@{who.get('host', 'unknown')}"


def check_env(env: str) -> str:
    if not _ENV_NAME.fullmatch(env):
        raise ConfigError(f"invalid env name {env!r}: use lower-case letters, digits, '-' and '_'")
    return env


# -- records ---------------------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class Record:
    """One thing that happened to an env. ``id`` is assigned by :meth:`Ledger.append`."""

    id: str = ""
    kind: str
    env: str
    outcome: str
    candidate: str | None = None
    candidate_sha256: str | None = None
    from_candidate: str | None = None
    manifest_sha256: str | None = None
    task_id: str | None = None
    started: str = field(default_factory=now_iso)
    finished: str = field(default_factory=now_iso)
    who: dict[str, str] = field(default_factory=current_who)
    details: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        check_env(self.env)
        if self.kind not in KINDS:
            raise ValueError(f"record kind {self.kind!r} is not one of {KINDS}")
        if self.outcome not in OUTCOMES:
            raise ValueError(f"record outcome {self.outcome!r} is not one of {OUTCOMES}")
        for key in _walk_keys(self.details):
            if _SECRETISH.search(key) and not key.endswith("sha256"):
                raise ValueError(f"record details key {key!r} looks like a secret: records keep digests only")

    @property
    def test_name(self) -> str:
        """For test records: which test (``details["test"]``), e.g. ``smoke`` or ``integration``."""
        return str(self.details.get("test", "test"))

    def to_json(self) -> bytes:
        return json.dumps(dataclasses.asdict(self), sort_keys=True, indent=1).encode()

    @classmethod
    def from_json(cls, data: bytes) -> Record:
        loaded = json.loads(data)
        names = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in loaded.items() if k in names})


def _walk_keys(value: Any) -> Iterator[str]:
    if isinstance(value, dict):
        for key, inner in value.items():
            yield str(key)
            yield from _walk_keys(inner)
    elif isinstance(value, list):
        for inner in value:
            yield from _walk_keys(inner)


# -- current state ---------------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class EnvState:
    """The pointer ``state/<env>.json``: enough to answer ``status`` and gates without history."""

    env: str
    deployed: str | None = None
    deployed_sha256: str | None = None
    since: str | None = None
    last_deploy: str | None = None
    """Record id of the latest deploy or reset, whatever its outcome."""
    last_good_deploy: str | None = None
    last_tests: dict[str, str] = field(default_factory=dict)
    """Test name → record id of its latest run."""
    good: list[str] = field(default_factory=list)
    """Recent candidates that deployed successfully here, oldest first, at most ``GOOD_KEPT``."""
    last_record: str | None = None

    def previous_good(self) -> str | None:
        """The good candidate before the deployed one: what ``rollback`` goes back to."""
        earlier = [candidate for candidate in self.good if candidate != self.deployed]
        return earlier[-1] if earlier else None

    def to_json(self) -> bytes:
        return json.dumps(dataclasses.asdict(self), sort_keys=True, indent=1).encode()

    @classmethod
    def from_json(cls, data: bytes) -> EnvState:
        loaded = json.loads(data)
        names = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in loaded.items() if k in names})


StateUpdate = Callable[[EnvState, Record], EnvState]


def _newer(candidate_id: str, current_id: str | None) -> bool:
    return current_id is None or candidate_id > current_id


def apply_record(state: EnvState, record: Record) -> EnvState:
    """The standard merge of a record into its env's pointer: pure, idempotent, order-tolerant.

    A record only moves a field forward if it is newer than the one the field names, so two merges
    that land in either order give the same state.
    """
    changes: dict[str, Any] = {}
    if _newer(record.id, state.last_record):
        changes["last_record"] = record.id
    if record.kind in ("deploy", "reset") and _newer(record.id, state.last_deploy):
        changes["last_deploy"] = record.id
        if record.outcome == "succeeded" and record.candidate:
            changes.update(
                deployed=record.candidate,
                deployed_sha256=record.candidate_sha256,
                since=record.finished,
                last_good_deploy=record.id,
                good=[
                    *[c for c in state.good if c != record.candidate][-(GOOD_KEPT - 1) :],
                    record.candidate,
                ],
            )
    if record.kind == "destroy" and record.outcome == "succeeded" and _newer(record.id, state.last_deploy):
        changes.update(last_deploy=record.id, deployed=None, deployed_sha256=None, since=record.finished)
    if record.kind == "test" and _newer(record.id, state.last_tests.get(record.test_name)):
        changes["last_tests"] = {**state.last_tests, record.test_name: record.id}
    return dataclasses.replace(state, **changes) if changes else state


@dataclass(frozen=True, kw_only=True)
class CandidateState:
    """The pointer ``state/<env>/candidates/<candidate>.json``: how one candidate fared in one env.

    Gates ask "did redis-templates-7 succeed in dev1 (deploy + smoke)?", "did its staging run start
    from production's candidate?" about candidates of any age: one read answers each, however
    many records and candidates exist.
    """

    env: str
    candidate: str
    last_deploy: str | None = None
    last_deploy_outcome: str | None = None
    last_good_deploy: str | None = None
    from_candidate: str | None = None
    """What the env ran before the last good deploy of this candidate (the upgrade it tested)."""
    tests: dict[str, dict[str, str]] = field(default_factory=dict)
    """Test name → ``{"id": record id, "outcome": ...}`` of its latest run on this candidate."""

    def passed(self, test: str) -> bool:
        return self.tests.get(test, {}).get("outcome") == "succeeded"

    def to_json(self) -> bytes:
        return json.dumps(dataclasses.asdict(self), sort_keys=True, indent=1).encode()

    @classmethod
    def from_json(cls, data: bytes) -> CandidateState:
        loaded = json.loads(data)
        names = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in loaded.items() if k in names})


def apply_candidate_record(state: CandidateState, record: Record) -> CandidateState:
    """Merge a record about ``state.candidate`` into its pointer: pure, idempotent, order-tolerant."""
    changes: dict[str, Any] = {}
    if record.kind in ("deploy", "reset") and _newer(record.id, state.last_deploy):
        changes.update(last_deploy=record.id, last_deploy_outcome=record.outcome)
        if record.outcome == "succeeded" and _newer(record.id, state.last_good_deploy):
            changes.update(last_good_deploy=record.id, from_candidate=record.from_candidate)
    if record.kind == "test" and _newer(record.id, state.tests.get(record.test_name, {}).get("id")):
        changes["tests"] = {**state.tests, record.test_name: {"id": record.id, "outcome": record.outcome}}
    return dataclasses.replace(state, **changes) if changes else state


# -- locks -----------------------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class LockInfo:
    """The content of ``locks/<env>.json``. ``token`` tells holders apart; a lock is never deleted."""

    env: str
    token: str
    purpose: str
    who: dict[str, str]
    acquired: str
    expires: str
    released: str | None = None
    released_by: dict[str, str] | None = None

    def active(self, now: datetime) -> bool:
        return self.released is None and now < parse_iso(self.expires)

    def describe(self) -> str:
        return f"{describe_who(self.who)} ({self.purpose}) since {self.acquired}"

    def to_json(self) -> bytes:
        return json.dumps(dataclasses.asdict(self), sort_keys=True, indent=1).encode()

    @classmethod
    def from_json(cls, data: bytes) -> LockInfo:
        loaded = json.loads(data)
        names = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in loaded.items() if k in names})


def lock_ttl_from_env() -> float:
    """``BOSHPIPE_LOCK_TTL`` in seconds (1 s to 7 days), else 30 minutes."""
    return envvars.seconds("BOSHPIPE_LOCK_TTL", DEFAULT_LOCK_TTL, 1, MAX_LOCK_TTL)


class HeldLock:
    """A lock this process holds; :meth:`refresh` extends it for runs longer than the TTL."""

    def __init__(self, ledger: Ledger, info: LockInfo, etag: str) -> None:
        self._ledger = ledger
        self.info = info
        self.etag = etag

    def refresh(self, ttl: float | None = None) -> None:
        self.info, self.etag = self._ledger._refresh(self, ttl)


@dataclass(frozen=True)
class EnvSnapshot:
    """What ``status`` shows for one env, read in 2 + (records named by the pointer) store reads."""

    state: EnvState
    lock: LockInfo | None
    last_deploy: Record | None
    last_tests: dict[str, Record]


# -- the ledger ------------------------------------------------------------------------------------


class Ledger:
    """Records, pointers and locks of every env on one store."""

    def __init__(self, store: ArtifactStore, *, lock_ttl: float | None = None, clock: Clock = utc_now) -> None:
        self.store = store
        self.lock_ttl = lock_ttl
        self.clock = clock

    # keys

    @staticmethod
    def record_key(env: str, record_id: str) -> str:
        return f"records/{check_env(env)}/{record_id}.json"

    @staticmethod
    def state_key(env: str) -> str:
        return f"state/{check_env(env)}.json"

    @staticmethod
    def candidate_state_key(env: str, candidate: str) -> str:
        if not _CANDIDATE.fullmatch(candidate):
            raise ValueError(f"invalid candidate name {candidate!r} for a ledger key")
        return f"state/{check_env(env)}/candidates/{candidate}.json"

    @staticmethod
    def lock_key(env: str) -> str:
        return f"locks/{check_env(env)}.json"

    # records and state

    def append(self, record: Record, update_state: StateUpdate | None = apply_record) -> Record:
        """Write ``record`` (create-if-absent, new id on a clash), then merge it into the pointer.

        Returns the record as stored (with its id). ``update_state=None`` writes the record only.
        """
        stored = record if record.id else dataclasses.replace(record, id=new_record_id(self.clock()))
        for _ in range(_STATE_ATTEMPTS):
            try:
                self.store.create(self.record_key(stored.env, stored.id), stored.to_json())
                break
            except AlreadyExists:
                stored = dataclasses.replace(stored, id=new_record_id(self.clock()))
        else:
            raise StoreError(f"could not find a free record id in {self.store.describe()}: run again")
        if update_state is not None:
            self.update_state(stored.env, lambda state: update_state(state, stored))
            if stored.candidate and stored.kind in ("deploy", "reset", "test"):
                self.update_candidate_state(
                    stored.env, stored.candidate, lambda state: apply_candidate_record(state, stored)
                )
        return stored

    def update_state(self, env: str, update: Callable[[EnvState], EnvState]) -> EnvState:
        """Compare-and-swap ``update`` into ``state/<env>.json``, re-reading and re-merging on a lost race."""
        return self._update_pointer(self.state_key(env), update, EnvState.from_json, EnvState(env=env))

    def update_candidate_state(
        self, env: str, candidate: str, update: Callable[[CandidateState], CandidateState]
    ) -> CandidateState:
        """Compare-and-swap ``update`` into ``state/<env>/candidates/<candidate>.json``."""
        return self._update_pointer(
            self.candidate_state_key(env, candidate),
            update,
            CandidateState.from_json,
            CandidateState(env=env, candidate=candidate),
        )

    def candidate_state(self, env: str, candidate: str) -> CandidateState:
        """How ``candidate`` fared in ``env`` (empty if it never ran there): one read."""
        try:
            return CandidateState.from_json(self.store.get(self.candidate_state_key(env, candidate)).data)
        except NotFound:
            return CandidateState(env=env, candidate=candidate)

    def _update_pointer(self, key: str, update: Callable[[_P], _P], parse: Callable[[bytes], _P], empty: _P) -> _P:
        for attempt in range(_STATE_ATTEMPTS):
            try:
                blob = self.store.get(key)
                current, etag = parse(blob.data), blob.etag
            except NotFound:
                current, etag = empty, None
            updated = update(current)
            if updated == current:
                return current
            try:
                if etag is None:
                    self.store.create(key, updated.to_json())
                else:
                    self.store.replace(key, updated.to_json(), etag)
                return updated
            except (AlreadyExists, PreconditionFailed):
                # Another writer merged first: spread the retries so 20 writers do not collide forever.
                time.sleep(random.uniform(0, 0.002 * min(attempt + 1, 20)))
        raise StoreError(
            f"could not update {key} in {self.store.describe()} after {_STATE_ATTEMPTS} attempts:"
            " too many concurrent writers; the record is written, run `rebuild_state` or the command again"
        )

    def state(self, env: str) -> EnvState:
        return self._read_state(env)[0]

    def record(self, env: str, record_id: str) -> Record:
        return Record.from_json(self.store.get(self.record_key(env, record_id)).data)

    def history(self, env: str, limit: int | None = None) -> list[Record]:
        """Records of ``env``, newest first: one listing of the ids, then ``limit`` reads."""
        keys = list(self.store.list(f"records/{check_env(env)}/"))
        keys.reverse()
        if limit is not None:
            keys = keys[:limit]
        return [Record.from_json(self.store.get(key).data) for key in keys]

    def rebuild_state(self, env: str) -> EnvState:
        """Replay every record into the pointer (after a crash between a record and its merge)."""
        records = list(reversed(self.history(env)))

        def replay(state: EnvState) -> EnvState:
            for record in records:
                state = apply_record(state, record)
            return state

        for candidate in sorted({r.candidate for r in records if r.candidate}):
            mine = [r for r in records if r.candidate == candidate]

            def replay_candidate(state: CandidateState, mine: list[Record] = mine) -> CandidateState:
                for record in mine:
                    state = apply_candidate_record(state, record)
                return state

            self.update_candidate_state(env, candidate, replay_candidate)
        return self.update_state(env, replay)

    def snapshot(self, env: str) -> EnvSnapshot:
        """The pointer, the lock, and the records the pointer names: bounded by design."""
        state = self.state(env)
        return EnvSnapshot(
            state=state,
            lock=self.lock_info(env),
            last_deploy=self.record(env, state.last_deploy) if state.last_deploy else None,
            last_tests={name: self.record(env, rid) for name, rid in sorted(state.last_tests.items())},
        )

    def _read_state(self, env: str) -> tuple[EnvState, str | None]:
        try:
            blob = self.store.get(self.state_key(env))
        except NotFound:
            return EnvState(env=env), None
        return EnvState.from_json(blob.data), blob.etag

    # locks

    @contextlib.contextmanager
    def lock(self, env: str, purpose: str, ttl: float | None = None) -> Iterator[HeldLock]:
        """Hold ``env``'s lock for the block; raises ``LockHeld`` (who, since, until) if taken."""
        held = self.acquire(env, purpose, ttl)
        try:
            yield held
        finally:
            self.release(held)

    def acquire(self, env: str, purpose: str, ttl: float | None = None) -> HeldLock:
        key = self.lock_key(env)
        for _ in range(_LOCK_ATTEMPTS):
            now = self.clock()
            mine = LockInfo(
                env=env,
                token=secrets.token_hex(8),
                purpose=purpose,
                who=current_who(),
                acquired=iso(now),
                expires=iso(now + timedelta(seconds=self._ttl(ttl))),
            )
            try:
                blob = self.store.get(key)
            except NotFound:
                try:
                    return HeldLock(self, mine, self.store.create(key, mine.to_json()))
                except AlreadyExists:
                    continue
            current = LockInfo.from_json(blob.data)
            if current.active(now):
                raise LockHeld(
                    f"{env} is locked by {current.describe()}; it expires at {current.expires};"
                    f" `invoke unlock --env {env}` if that run is dead"
                )
            try:
                return HeldLock(self, mine, self.store.replace(key, mine.to_json(), blob.etag))
            except PreconditionFailed:
                continue
        raise StoreError(f"could not take the lock of {env} in {self.store.describe()}: too much contention; run again")

    def release(self, held: HeldLock) -> None:
        """Mark our lock released (compare-and-swap); a lock someone took over after expiry is left alone."""
        key = self.lock_key(held.info.env)
        etag = held.etag
        for _ in range(_LOCK_ATTEMPTS):
            released = dataclasses.replace(held.info, released=iso(self.clock()), released_by=current_who())
            try:
                self.store.replace(key, released.to_json(), etag)
                return
            except PreconditionFailed:
                pass
            try:
                blob = self.store.get(key)
            except NotFound:
                return
            current = LockInfo.from_json(blob.data)
            if current.token != held.info.token or current.released is not None:
                return
            held.info, etag = current, blob.etag

    def unlock(self, env: str) -> LockInfo | None:
        """For people: release whatever holds ``env``. Returns the lock that was broken, if any."""
        key = self.lock_key(env)
        for _ in range(_LOCK_ATTEMPTS):
            try:
                blob = self.store.get(key)
            except NotFound:
                return None
            current = LockInfo.from_json(blob.data)
            if not current.active(self.clock()):
                return None
            released = dataclasses.replace(current, released=iso(self.clock()), released_by=current_who())
            try:
                self.store.replace(key, released.to_json(), blob.etag)
                return current
            except PreconditionFailed:
                continue
        raise StoreError(f"could not unlock {env} in {self.store.describe()}: too much contention; run again")

    def lock_info(self, env: str) -> LockInfo | None:
        """The active lock of ``env``, or None (released and expired locks are not shown)."""
        try:
            current = LockInfo.from_json(self.store.get(self.lock_key(env)).data)
        except NotFound:
            return None
        return current if current.active(self.clock()) else None

    def _refresh(self, held: HeldLock, ttl: float | None) -> tuple[LockInfo, str]:
        key = self.lock_key(held.info.env)
        extended = dataclasses.replace(held.info, expires=iso(self.clock() + timedelta(seconds=self._ttl(ttl))))
        try:
            return extended, self.store.replace(key, extended.to_json(), held.etag)
        except PreconditionFailed:
            raise LockHeld(
                f"lost the lock of {held.info.env}: it expired and was taken over or unlocked; stop and run again"
            ) from None

    def _ttl(self, ttl: float | None) -> float:
        if ttl is not None:
            return ttl
        return self.lock_ttl if self.lock_ttl is not None else lock_ttl_from_env()
