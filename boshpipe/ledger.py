"""The ledger: what happened to each environment, what is deployed there now, and who holds it.

Three kinds of objects on any :class:`~boshpipe.store.ArtifactStore`::

    records/<env>/<id>.json   append-only records (deploy, test, reset, refusal, destroy, approval,
                              revocation, freeze, thaw, freeze_break), create-if-absent; <id> sorts
                              by time (``20240501T120000.123456Z-<random>``)
    state/<env>.json          the env's current-state pointer, updated by compare-and-swap
    locks/<env>.json          the env's lock, taken and released by create-if-absent / compare-and-swap

Records are the truth; the pointer is a summary kept so that ``status`` and gate decisions read a
bounded number of objects (the pointer, the lock and the few records it names) however long the
history grows. :meth:`Ledger.append` writes the record and then merges it into the pointer: the
update is a pure function of (current state, record) that is re-run on a fresh read whenever another
writer got there first, so concurrent appends never lose each other's effect. Update functions must
be idempotent and order-tolerant (``apply_record`` is), because a merge may run more than once.
Should a process die between the two writes, :meth:`Ledger.rebuild_state` replays the records.

Damaged files (a truncated pointer, a lock holding ``{}``, a garbage record) are reported as
:class:`~boshpipe.errors.CorruptLedger`, naming the file and what to do, never as a traceback:
``invoke ledger-repair`` recomputes the pointers from the records that are readable (the others are
skipped and listed, and left in place: records are never deleted), ``invoke unlock`` replaces an
unreadable lock.

A deploy appends a ``started`` record before it touches the director and an ``interrupted`` one if
a signal stops it, so a run killed at any point leaves evidence: the env's ``last_deploy`` then
names a record that is not final, and ``status`` shows the env as unknown.

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

from boshpipe import envvars, holder
from boshpipe.errors import (
    AlreadyExists,
    ConfigError,
    CorruptLedger,
    LockHeld,
    NotFound,
    PreconditionFailed,
    StoreError,
)
from boshpipe.store import ArtifactStore

KINDS = ("deploy", "test", "reset", "refusal", "destroy", "approval", "revocation", "freeze", "thaw", "freeze_break")
CANDIDATE_KINDS = ("deploy", "reset", "test", "approval", "revocation")
"""Kinds merged into the (env, candidate) pointer as well as the env's."""
OUTCOMES = ("succeeded", "failed", "refused", "started", "interrupted")
UNFINISHED = ("started", "interrupted")
"""Outcomes of a deploy that did not end: what the env runs is unknown until the next deploy."""
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
_T = TypeVar("_T")


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


def record_time(record_id: str) -> datetime:
    """When a record was written, read from its id (no extra store read)."""
    return datetime.strptime(record_id.split("-", 1)[0], "%Y%m%dT%H%M%S.%fZ").replace(tzinfo=UTC)


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


def _typed_fields(cls: type, loaded: Any) -> dict[str, Any]:
    """The JSON object ``loaded`` as keyword arguments of dataclass ``cls``, each of the right JSON type.

    Unknown keys are dropped (newer writers may add fields); a missing required field, a value of
    the wrong type or something that is not an object raises ``ValueError`` with what is wrong.
    """
    if not isinstance(loaded, dict):
        raise ValueError(f"expected a JSON object, found {type(loaded).__name__}")
    kinds = {"str": str, "dict": dict, "list": list, "int": int, "None": type(None)}
    out: dict[str, Any] = {}
    for spec in dataclasses.fields(cls):
        if spec.name not in loaded:
            if spec.default is dataclasses.MISSING and spec.default_factory is dataclasses.MISSING:
                raise ValueError(f"{spec.name!r} is missing")
            continue
        value = loaded[spec.name]
        allowed = tuple(kinds[part.split("[")[0].strip()] for part in str(spec.type).split(" | "))
        if not isinstance(value, allowed) or isinstance(value, bool):
            raise ValueError(f"{spec.name!r} is {type(value).__name__}, expected {spec.type}")
        out[spec.name] = value
    return out


def load_json(parse: Callable[[bytes], _T], data: bytes, where: str, todo: str) -> _T:
    """``parse(data)``, or one ``CorruptLedger`` line naming the file (``where``) and ``todo``."""
    try:
        return parse(data)
    except (ValueError, TypeError, RecursionError) as err:  # JSONDecodeError and UnicodeError are ValueErrors
        reason = " ".join(str(err).split())[:160] or type(err).__name__
        raise CorruptLedger(f"{where} is unreadable ({reason}): {todo}") from None


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
        return cls(**_typed_fields(cls, json.loads(data)))


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
    freeze: dict[str, Any] | None = None
    """The ad-hoc freeze (``invoke freeze``): ``{id, until, reason, who}``; None once thawed."""
    freeze_record: str | None = None
    """Record id of the latest freeze or thaw (so merges of the two land in either order)."""

    def previous_good(self) -> str | None:
        """The good candidate before the deployed one: what ``rollback`` goes back to."""
        earlier = [candidate for candidate in self.good if candidate != self.deployed]
        return earlier[-1] if earlier else None

    def to_json(self) -> bytes:
        return json.dumps(dataclasses.asdict(self), sort_keys=True, indent=1).encode()

    @classmethod
    def from_json(cls, data: bytes) -> EnvState:
        return cls(**_typed_fields(cls, json.loads(data)))


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
    if record.kind in ("freeze", "thaw") and _newer(record.id, state.freeze_record):
        changes["freeze_record"] = record.id
        changes["freeze"] = (
            {
                "id": record.id,
                "until": record.details.get("until"),
                "reason": record.details.get("reason"),
                "who": describe_who(record.who),
            }
            if record.kind == "freeze"
            else None
        )
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
    last_failed_test: str | None = None
    """Record id of the latest failed test of this candidate here (soak: "no failed test since")."""
    approvals: dict[str, dict[str, str]] = field(default_factory=dict)
    """Approver (``user@host`` or ``pipeline/job #build``) → their latest approval or revocation:
    ``{"id", "kind", "at", "comment"}``; an approver counts while their latest is an approval."""

    def approvers(self) -> dict[str, dict[str, str]]:
        """The approvals that stand (not revoked since), by approver."""
        return {who: entry for who, entry in self.approvals.items() if entry.get("kind") == "approval"}

    def passed(self, test: str) -> bool:
        return self.tests.get(test, {}).get("outcome") == "succeeded"

    def to_json(self) -> bytes:
        return json.dumps(dataclasses.asdict(self), sort_keys=True, indent=1).encode()

    @classmethod
    def from_json(cls, data: bytes) -> CandidateState:
        return cls(**_typed_fields(cls, json.loads(data)))


def apply_candidate_record(state: CandidateState, record: Record) -> CandidateState:
    """Merge a record about ``state.candidate`` into its pointer: pure, idempotent, order-tolerant."""
    changes: dict[str, Any] = {}
    if record.kind in ("deploy", "reset") and _newer(record.id, state.last_deploy):
        changes.update(last_deploy=record.id, last_deploy_outcome=record.outcome)
        if record.outcome == "succeeded" and _newer(record.id, state.last_good_deploy):
            changes.update(last_good_deploy=record.id, from_candidate=record.from_candidate)
    if record.kind == "test" and _newer(record.id, state.tests.get(record.test_name, {}).get("id")):
        changes["tests"] = {**state.tests, record.test_name: {"id": record.id, "outcome": record.outcome}}
    if record.kind == "test" and record.outcome == "failed" and _newer(record.id, state.last_failed_test):
        changes["last_failed_test"] = record.id
    if record.kind in ("approval", "revocation"):
        approver = describe_who(record.who)
        if _newer(record.id, state.approvals.get(approver, {}).get("id")):
            entry = {"id": record.id, "kind": record.kind, "at": record.finished}
            if record.details.get("comment"):
                entry["comment"] = str(record.details["comment"])
            changes["approvals"] = {**state.approvals, approver: entry}
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
    holder: dict[str, str] | None = None
    """The holding process (host, boot id, pid, start time): see ``boshpipe.holder``."""

    def active(self, now: datetime) -> bool:
        return self.released is None and now < parse_iso(self.expires)

    def holder_dead(self) -> bool:
        """The holding process ran on this host and is gone: the lock protects nothing any more."""
        return holder.is_dead(self.holder)

    def describe(self) -> str:
        return f"{describe_who(self.who)} ({self.purpose}) since {self.acquired}"

    def to_json(self) -> bytes:
        return json.dumps(dataclasses.asdict(self), sort_keys=True, indent=1).encode()

    @classmethod
    def from_json(cls, data: bytes) -> LockInfo:
        info = cls(**_typed_fields(cls, json.loads(data)))
        parse_iso(info.expires)  # a lock whose expiry is not a time can be neither honoured nor expired
        return info


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
class UnreadableRecord:
    """A record file that is not a record (truncated, garbage, wrong types): listed, never fatal."""

    key: str
    id: str
    reason: str


@dataclass(frozen=True)
class RepairReport:
    """What ``rebuild_state`` did: the recomputed pointer, and what it had to skip or replace."""

    state: EnvState
    records: int
    candidates: int
    skipped: list[UnreadableRecord]
    replaced: list[str]
    """Pointer keys that were unreadable and have been rewritten."""


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

    def __init__(
        self,
        store: ArtifactStore,
        *,
        lock_ttl: float | None = None,
        clock: Clock = utc_now,
        observer: Callable[[Record], None] | None = None,
    ) -> None:
        self.store = store
        self.lock_ttl = lock_ttl
        self.clock = clock
        self.observer = observer
        """Told of every appended record once it is stored (notifications); it must never raise."""

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

    def where(self, key: str) -> str:
        """The file or object a person would open: ``<store>/<key>``."""
        return f"{self.store.describe().rstrip('/')}/{key}"

    def _repair_hint(self, env: str) -> str:
        return f"run `invoke ledger-repair --env {env}` (it recomputes the pointers from the records)"

    def _load_pointer(self, parse: Callable[[bytes], _P], key: str, data: bytes, env: str) -> _P:
        return load_json(parse, data, self.where(key), self._repair_hint(env))

    def _load_record(self, key: str, data: bytes, env: str) -> Record:
        def parse(blob: bytes) -> Record:
            record = Record.from_json(blob)
            if f"{record.id}.json" != key.rsplit("/", 1)[-1] or record.env != env:
                raise ValueError(f"it says it is record {record.id!r} of {record.env!r}")
            return record

        todo = (
            f"it is kept as evidence; `invoke ledger-repair --env {env}` recomputes the pointers without it"
        )
        return load_json(parse, data, self.where(key), todo)

    def _load_lock(self, key: str, data: bytes, env: str) -> LockInfo:
        todo = f"`invoke unlock --env {env}` replaces it (make sure no run of {env} is going on)"
        return load_json(LockInfo.from_json, data, self.where(key), todo)

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
            if stored.candidate and stored.kind in CANDIDATE_KINDS:
                self.update_candidate_state(
                    stored.env, stored.candidate, lambda state: apply_candidate_record(state, stored)
                )
        if self.observer is not None:
            self.observer(stored)
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
        key = self.candidate_state_key(env, candidate)
        try:
            return self._load_pointer(CandidateState.from_json, key, self.store.get(key).data, env)
        except NotFound:
            return CandidateState(env=env, candidate=candidate)

    def _update_pointer(self, key: str, update: Callable[[_P], _P], parse: Callable[[bytes], _P], empty: _P) -> _P:
        env = key.split("/")[1].removesuffix(".json")
        for attempt in range(_STATE_ATTEMPTS):
            try:
                blob = self.store.get(key)
                current, etag = self._load_pointer(parse, key, blob.data, env), blob.etag
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
            " too many concurrent writers; the record is written, run `invoke ledger-repair` or the command again"
        )

    def state(self, env: str) -> EnvState:
        return self._read_state(env)[0]

    def record(self, env: str, record_id: str) -> Record:
        key = self.record_key(env, record_id)
        return self._load_record(key, self.store.get(key).data, env)

    def entries(self, env: str, limit: int | None = None) -> list[Record | UnreadableRecord]:
        """Records of ``env``, newest first, with unreadable ones listed in place instead of raising."""
        keys = list(self.store.list(f"records/{check_env(env)}/"))
        keys.reverse()
        if limit is not None:
            keys = keys[:limit]
        out: list[Record | UnreadableRecord] = []
        for key in keys:
            try:
                out.append(self._load_record(key, self.store.get(key).data, env))
            except CorruptLedger as err:
                record_id = key.rsplit("/", 1)[-1].removesuffix(".json")
                out.append(UnreadableRecord(key, record_id, str(err)))
            except NotFound:
                continue
        return out

    def history(self, env: str, limit: int | None = None) -> list[Record]:
        """Records of ``env``, newest first: one listing of the ids, then ``limit`` reads.

        An unreadable record raises ``CorruptLedger`` naming it (``entries`` lists it instead).
        """
        found = self.entries(env, limit)
        for entry in found:
            if isinstance(entry, UnreadableRecord):
                raise CorruptLedger(entry.reason)
        return [entry for entry in found if isinstance(entry, Record)]

    def rebuild_state(self, env: str) -> RepairReport:
        """Recompute ``env``'s pointers from its readable records; the caller holds the env's lock.

        After a crash between a record and its merge, or when a pointer is damaged. Pointers are
        computed from nothing (not merged into what is there, which may be garbage) and written over
        whatever is there; unreadable records are skipped and reported, and left where they are.
        """
        found = list(reversed(self.entries(env)))
        records = [entry for entry in found if isinstance(entry, Record)]
        skipped = [entry for entry in found if isinstance(entry, UnreadableRecord)]
        replaced: list[str] = []
        state = EnvState(env=env)
        for record in records:
            state = apply_record(state, record)
        names = sorted({r.candidate for r in records if r.candidate and _CANDIDATE.fullmatch(r.candidate)})
        for candidate in names:
            pointer = CandidateState(env=env, candidate=candidate)
            for record in records:
                if record.candidate == candidate:
                    pointer = apply_candidate_record(pointer, record)
            self._overwrite(self.candidate_state_key(env, candidate), pointer.to_json(), replaced, CandidateState)
        prefix = f"state/{check_env(env)}/candidates/"
        for key in self.store.list(prefix):
            if key.removeprefix(prefix).removesuffix(".json") not in names:
                # A pointer no readable record backs: keep it if it parses, else empty it.
                try:
                    self._load_pointer(CandidateState.from_json, key, self.store.get(key).data, env)
                except CorruptLedger:
                    name = key.removeprefix(prefix).removesuffix(".json")
                    self._overwrite(key, CandidateState(env=env, candidate=name).to_json(), replaced, CandidateState)
                except NotFound:
                    pass
        self._overwrite(self.state_key(env), state.to_json(), replaced, EnvState)
        return RepairReport(state, len(records), len(names), skipped, replaced)

    def _overwrite(
        self, key: str, data: bytes, replaced: list[str], kind: type[EnvState] | type[CandidateState]
    ) -> None:
        """Write ``data`` at ``key`` whatever is there (compare-and-swap on what was just read);
        ``replaced`` gets ``key`` when what was there was not a readable ``kind``."""
        for _ in range(_STATE_ATTEMPTS):
            try:
                blob = self.store.get(key)
            except NotFound:
                try:
                    self.store.create(key, data)
                    return
                except AlreadyExists:
                    continue
            if blob.data == data:
                return
            try:
                kind.from_json(blob.data)
            except (ValueError, TypeError, RecursionError):
                if key not in replaced:
                    replaced.append(key)
            try:
                self.store.replace(key, data, blob.etag)
                return
            except PreconditionFailed:
                continue
        raise StoreError(f"could not rewrite {self.where(key)}: it keeps changing; stop other runs and repeat")

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
        key = self.state_key(env)
        try:
            blob = self.store.get(key)
        except NotFound:
            return EnvState(env=env), None
        return self._load_pointer(EnvState.from_json, key, blob.data, env), blob.etag

    # locks

    @contextlib.contextmanager
    def lock(self, env: str, purpose: str, ttl: float | None = None) -> Iterator[HeldLock]:
        """Hold ``env``'s lock for the block; raises ``LockHeld`` (who, since, until) if taken."""
        held = self.acquire(env, purpose, ttl)
        try:
            yield held
        except BaseException as err:
            # The block's error is the one to show: a release that fails too (a full disk, the
            # store gone) is added to it as a note, never raised in its place.
            try:
                self.release(held)
            except (Exception, KeyboardInterrupt) as release_err:
                err.add_note(self._not_released(env, release_err))
            raise
        try:
            self.release(held)
        except StoreError as release_err:
            raise StoreError(f"{purpose} of {env} finished, but {self._not_released(env, release_err)}") from None

    def _not_released(self, env: str, err: BaseException) -> str:
        reason = " ".join(str(err).split()) or type(err).__name__
        return (
            f"the lock of {env} was not released ({reason}); once the store is writable again the next run on"
            f" this host takes it over, or run `invoke unlock --env {env}`"
        )

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
                holder=holder.this_process(),
            )
            try:
                blob = self.store.get(key)
            except NotFound:
                try:
                    return HeldLock(self, mine, self.store.create(key, mine.to_json()))
                except AlreadyExists:
                    continue
            current = self._load_lock(key, blob.data, env)
            if current.active(now) and not current.holder_dead():
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
            try:
                current = LockInfo.from_json(blob.data)
            except (ValueError, TypeError):
                return  # not ours any more: someone replaced it
            if current.token != held.info.token or current.released is not None:
                return
            held.info, etag = current, blob.etag

    def unlock(self, env: str) -> LockInfo | None:
        """For people: release whatever holds ``env``. Returns the lock that was broken, if any.

        An unreadable lock file is replaced by a released lock; the returned ``LockInfo`` then has
        an empty ``token`` and says why in ``purpose``.
        """
        key = self.lock_key(env)
        for _ in range(_LOCK_ATTEMPTS):
            try:
                blob = self.store.get(key)
            except NotFound:
                return None
            try:
                current = self._load_lock(key, blob.data, env)
            except CorruptLedger as err:
                now = iso(self.clock())
                current = LockInfo(
                    env=env, token="", purpose=str(err), who={}, acquired=now, expires=now
                )
                released = dataclasses.replace(current, released=now, released_by=current_who())
                try:
                    self.store.replace(key, released.to_json(), blob.etag)
                    return current
                except PreconditionFailed:
                    continue
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
        key = self.lock_key(env)
        try:
            current = self._load_lock(key, self.store.get(key).data, env)
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
