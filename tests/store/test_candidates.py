"""Candidates: numbered in order, never overwritten, never stored twice, verified on load."""

from __future__ import annotations

import hashlib
import json
import re

import pytest

from boshpipe.errors import CandidateError, NotFound
from boshpipe.store import ArtifactStore
from boshpipe.store.candidates import (
    candidate_key,
    index_key,
    latest_candidate,
    list_candidates,
    load_candidate,
    parse_ref,
    store_candidate,
)

NAME = "redis-templates"


def test_first_upload_is_number_one_with_sha256_metadata(store: ArtifactStore) -> None:
    stored = store_candidate(store, NAME, b"tgz-1")
    sha = hashlib.sha256(b"tgz-1").hexdigest()
    assert (stored.number, stored.key, stored.sha256, stored.created) == (
        1,
        "candidates/redis-templates-1.tgz",
        sha,
        True,
    )
    assert stored.ref == "redis-templates-1"
    assert store.get(stored.key).metadata == {"sha256": sha}
    assert load_candidate(store, NAME, 1) == b"tgz-1"


def test_same_content_is_stored_once(store: ArtifactStore) -> None:
    first = store_candidate(store, NAME, b"same")
    store_candidate(store, NAME, b"other")
    again = store_candidate(store, NAME, b"same")
    assert (again.number, again.created) == (first.number, False)
    assert [c.number for c in list_candidates(store, NAME)] == [1, 2]


def test_numbers_order_numerically_and_concourse_regexp_sees_every_version(store: ArtifactStore) -> None:
    for number in range(1, 13):
        assert store_candidate(store, NAME, f"content {number}".encode()).number == number
    assert [c.number for c in list_candidates(store, NAME)] == list(range(1, 13))
    latest = latest_candidate(store, NAME)
    assert latest is not None and latest.number == 12
    # What Concourse's s3 resource does with `regexp: candidates/redis-templates-(.*).tgz`.
    concourse = re.compile(r"candidates/redis-templates-(.*).tgz")
    versions = [m.group(1) for key in store.list("") if (m := concourse.fullmatch(key))]
    assert sorted(versions, key=int) == [str(n) for n in range(1, 13)]
    assert not [key for key in store.list("") if key.endswith(".tgz") and not concourse.fullmatch(key)]


def test_names_that_share_a_prefix_do_not_mix(store: ArtifactStore) -> None:
    store_candidate(store, "redis", b"a")
    store_candidate(store, "redis-templates", b"b")
    store_candidate(store, "redis-templates", b"c")
    assert [c.ref for c in list_candidates(store, "redis")] == ["redis-1"]
    assert [c.ref for c in list_candidates(store, "redis-templates")] == [
        "redis-templates-1",
        "redis-templates-2",
    ]


def test_tampered_content_is_refused(store: ArtifactStore) -> None:
    stored = store_candidate(store, NAME, b"genuine")
    store.delete(stored.key)
    store.create(stored.key, b"evil", metadata={"sha256": stored.sha256 or ""})
    with pytest.raises(CandidateError, match=r"redis-templates-1 .* is tampered"):
        load_candidate(store, NAME, 1)


def test_tampered_content_with_matching_metadata_is_refused_by_the_index(store: ArtifactStore) -> None:
    stored = store_candidate(store, NAME, b"genuine")
    store.delete(stored.key)
    store.create(stored.key, b"evil", metadata={"sha256": hashlib.sha256(b"evil").hexdigest()})
    with pytest.raises(CandidateError, match="is tampered: no upload of content"):
        load_candidate(store, NAME, 1)


def test_missing_candidate_is_one_clear_line(store: ArtifactStore) -> None:
    with pytest.raises(NotFound, match="candidate redis-templates-7 not found") as caught:
        load_candidate(store, NAME, 7)
    assert "\n" not in str(caught.value)


def test_crashed_upload_leaves_a_stale_index_that_the_next_upload_repairs(store: ArtifactStore) -> None:
    """A process died after claiming number 1 for X; Y then took number 1; X is uploaded again."""
    x_sha = hashlib.sha256(b"X").hexdigest()
    store.create(index_key(NAME, x_sha), json.dumps({"number": 1}).encode())
    assert store_candidate(store, NAME, b"Y").number == 1
    stored = store_candidate(store, NAME, b"X")
    assert (stored.number, stored.created) == (2, True)
    assert load_candidate(store, NAME, 2) == b"X"
    assert load_candidate(store, NAME, 1) == b"Y"


def test_refs_and_names() -> None:
    assert parse_ref("redis-templates-12") == ("redis-templates", 12)
    assert candidate_key("redis-templates", 3) == "candidates/redis-templates-3.tgz"
    for bad in ("redis-templates", "-3", "Redis-3"):
        with pytest.raises(CandidateError):
            parse_ref(bad)
