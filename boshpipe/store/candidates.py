"""Candidates in the artifact store: numbered in order, never overwritten, never stored twice.

Layout (the same on every backend)::

    candidates/<name>-<N>.tgz            the candidate, metadata sha256=<hex>; N = 1, 2, 3...
    candidate-index/<name>/<sha256>.json {"number": N}: which N holds this content

Candidate objects are the only ones under ``candidates/``, so Concourse's s3 resource with
``regexp: candidates/redis-templates-(.*).tgz`` sees every version and nothing else, and orders them
numerically. The index lives outside that prefix and is never named ``*.tgz``.

How concurrent uploads stay correct with nothing but create-if-absent and compare-and-swap:

1. The index entry for the content's sha256 is created first (create-if-absent) with the next free
   N. Whoever wins owns that content; an upload of the same content that loses reads the winner's N.
2. The candidate object at N is created (create-if-absent). If it already exists with the same
   sha256, the content is stored (perhaps by a concurrent upload of the same bytes): done, no second
   copy. If N holds *other* content (a concurrent upload of different content took it first), the
   index entry is moved to the next free N by compare-and-swap and step 2 is tried again.

Numbers stay dense: N is only ever taken by creating the candidate object itself. An index entry
left behind by a crashed upload points at no object (or at another content's); the next upload of
that content repairs it.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import re
from dataclasses import dataclass

from boshpipe.errors import AlreadyExists, CandidateError, NotFound, PreconditionFailed, StoreError
from boshpipe.store.protocol import ArtifactStore

CANDIDATES = "candidates/"
INDEX = "candidate-index/"
_NAME = re.compile(r"[a-z0-9][a-z0-9._-]*")
_ATTEMPTS = 200  # each failed attempt means another upload succeeded: bounded by concurrent uploads


@dataclass(frozen=True)
class StoredCandidate:
    """A candidate in the store. ``sha256`` is None when only listed (listing reads no objects)."""

    name: str
    number: int
    key: str
    sha256: str | None
    created: bool = False

    @property
    def ref(self) -> str:
        """How records and people name it: ``redis-templates-3``."""
        return f"{self.name}-{self.number}"


def candidate_key(name: str, number: int) -> str:
    return f"{CANDIDATES}{_check_name(name)}-{number}.tgz"


def index_key(name: str, sha256: str) -> str:
    return f"{INDEX}{_check_name(name)}/{sha256}.json"


def parse_ref(ref: str) -> tuple[str, int]:
    """``redis-templates-3`` → ``("redis-templates", 3)``."""
    name, _, number = ref.rpartition("-")
    if not name or not number.isdigit():
        raise CandidateError(f"invalid candidate {ref!r}: expected <name>-<number>, e.g. redis-templates-3")
    return _check_name(name), int(number)


def store_candidate(store: ArtifactStore, name: str, data: bytes) -> StoredCandidate:
    """Store ``data`` as the next candidate of ``name``, or return the existing one with that content."""
    sha256 = hashlib.sha256(data).hexdigest()
    ikey = index_key(name, sha256)
    for _ in range(_ATTEMPTS):
        try:
            index = store.get(ikey)
        except NotFound:
            # AlreadyExists: a concurrent upload of the same content claimed it; use its entry.
            with contextlib.suppress(AlreadyExists):
                store.create(ikey, _index_body(_next_number(store, name)))
            continue
        number = int(json.loads(index.data)["number"])
        key = candidate_key(name, number)
        try:
            store.create(key, data, metadata={"sha256": sha256})
            return StoredCandidate(name, number, key, sha256, created=True)
        except AlreadyExists:
            pass
        try:
            existing = store.get(key)
        except NotFound:
            continue  # deleted in between (by a person): try again
        if existing.metadata.get("sha256") == sha256:
            return StoredCandidate(name, number, key, sha256, created=False)
        # PreconditionFailed: a concurrent upload of the same content moved it; use its entry.
        with contextlib.suppress(PreconditionFailed):
            store.replace(ikey, _index_body(_next_number(store, name)), index.etag)
    raise StoreError(
        f"could not store candidate {name} in {store.describe()} after {_ATTEMPTS} attempts: too many"
        " concurrent uploads; run the upload again"
    )


def load_candidate(store: ArtifactStore, name: str, number: int) -> bytes:
    """The candidate's bytes, verified against its recorded sha256 (metadata and index agree)."""
    key = candidate_key(name, number)
    ref = f"{name}-{number}"
    try:
        blob = store.get(key)
    except NotFound:
        raise NotFound(
            f"candidate {ref} not found in {store.describe()}: `invoke upload` stores one,"
            " and the store lists what exists"
        ) from None
    actual = hashlib.sha256(blob.data).hexdigest()
    recorded = blob.metadata.get("sha256")
    if recorded != actual:
        raise CandidateError(
            f"candidate {ref} in {store.describe()} is tampered: its content has sha256 {actual[:12]}…"
            f" but it was stored as {(recorded or 'nothing')[:12]}…; do not deploy it: with its original"
            " .tgz, `invoke upload --replace-damaged --file <it>` puts it back, else upload a fresh candidate"
        )
    try:
        index_number = int(json.loads(store.get(index_key(name, actual)).data)["number"])
    except NotFound:
        index_number = None
    if index_number != number:
        raise CandidateError(
            f"candidate {ref} in {store.describe()} is tampered: no upload of content sha256"
            f" {actual[:12]}… was ever numbered {number}; do not deploy it, upload a fresh candidate"
        )
    return blob.data


def damage(store: ArtifactStore, stored: StoredCandidate) -> str | None:
    """How the stored copy of ``stored`` (whose true sha256 is ``stored.sha256``) is damaged, or None."""
    try:
        blob = store.get(stored.key)
    except NotFound:
        return "its object is missing"
    actual = hashlib.sha256(blob.data).hexdigest()
    if actual == stored.sha256 and blob.metadata.get("sha256") == stored.sha256:
        return None
    if actual != stored.sha256:
        return f"its bytes have sha256 {actual[:12]}…, not {(stored.sha256 or '?')[:12]}…"
    return "its recorded sha256 is missing or wrong"


def replace_damaged(store: ArtifactStore, name: str, data: bytes) -> tuple[StoredCandidate, str]:
    """Put ``data`` back as the candidate it was stored as, after checking that copy really is damaged.

    Only the number the index gave this content is touched, and only when the object there was
    stored as this content (its recorded sha256) or is gone: a healthy candidate, or one holding
    other content, is refused. Returns the candidate and what was wrong with it.
    """
    sha256 = hashlib.sha256(data).hexdigest()
    try:
        index = store.get(index_key(name, sha256))
    except NotFound:
        raise CandidateError(
            f"no candidate with content sha256 {sha256[:12]}… was ever stored in {store.describe()}:"
            " nothing to replace; `invoke upload` without --replace-damaged stores it"
        ) from None
    number = _index_number(index.data, name, sha256)
    stored = StoredCandidate(name, number, candidate_key(name, number), sha256)
    for _ in range(_ATTEMPTS):
        why = damage(store, stored)
        if why is None:
            raise CandidateError(f"candidate {stored.ref} in {store.describe()} is not damaged: nothing replaced")
        try:
            blob = store.get(stored.key)
        except NotFound:
            try:
                store.create(stored.key, data, metadata={"sha256": sha256})
                return stored, why
            except AlreadyExists:
                continue
        if blob.metadata.get("sha256") not in (None, sha256):
            raise CandidateError(
                f"candidate {stored.ref} in {store.describe()} was stored with other content"
                f" (sha256 {blob.metadata['sha256'][:12]}…), not this one: nothing replaced"
            )
        try:
            store.replace(stored.key, data, blob.etag, metadata={"sha256": sha256})
            return stored, why
        except PreconditionFailed:
            continue
    raise StoreError(f"could not replace {stored.ref} in {store.describe()}: it keeps changing; run again")


def _index_number(data: bytes, name: str, sha256: str) -> int:
    try:
        number = json.loads(data)["number"]
        if isinstance(number, int) and not isinstance(number, bool) and number > 0:
            return number
    except (ValueError, TypeError, KeyError):
        pass
    raise CandidateError(f"the index entry {index_key(name, sha256)} is unreadable: remove it and upload again")


def list_candidates(store: ArtifactStore, name: str) -> list[StoredCandidate]:
    """Every candidate of ``name``, by number (2 before 10). One listing, no object reads."""
    pattern = re.compile(re.escape(f"{CANDIDATES}{_check_name(name)}-") + r"([1-9][0-9]*)\.tgz")
    found = []
    for key in store.list(f"{CANDIDATES}{name}-"):
        match = pattern.fullmatch(key)
        if match:
            found.append(StoredCandidate(name, int(match.group(1)), key, None))
    return sorted(found, key=lambda candidate: candidate.number)


def latest_candidate(store: ArtifactStore, name: str) -> StoredCandidate | None:
    candidates = list_candidates(store, name)
    return candidates[-1] if candidates else None


def _next_number(store: ArtifactStore, name: str) -> int:
    latest = latest_candidate(store, name)
    return latest.number + 1 if latest else 1


def _index_body(number: int) -> bytes:
    return json.dumps({"number": number}).encode()


def _check_name(name: str) -> str:
    if not _NAME.fullmatch(name):
        raise CandidateError(f"invalid candidate name {name!r}: use lower-case letters, digits, '.', '_' and '-'")
    return name
