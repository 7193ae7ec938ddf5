"""The ArtifactStore contract, identical on both backends."""

from __future__ import annotations

import os

import pytest

from boshpipe.errors import AlreadyExists, NotFound, PreconditionFailed, StoreError
from boshpipe.store import ArtifactStore
from tests.store.conftest import MULTIPART_THRESHOLD


def test_create_then_get_returns_data_etag_and_metadata(store: ArtifactStore) -> None:
    etag = store.create("a/b.json", b"hello", metadata={"sha256": "abc"})
    blob = store.get("a/b.json")
    assert (blob.data, blob.etag, blob.metadata) == (b"hello", etag, {"sha256": "abc"})
    assert store.exists("a/b.json")


def test_create_is_create_if_absent(store: ArtifactStore) -> None:
    store.create("k", b"first")
    with pytest.raises(AlreadyExists, match="k already exists"):
        store.create("k", b"second")
    assert store.get("k").data == b"first"


def test_missing_object_is_not_found(store: ArtifactStore) -> None:
    with pytest.raises(NotFound):
        store.get("nothing/here.json")
    assert not store.exists("nothing/here.json")


def test_replace_is_compare_and_swap(store: ArtifactStore) -> None:
    first = store.create("state.json", b"1")
    second = store.replace("state.json", b"2", first)
    assert store.get("state.json").data == b"2"
    with pytest.raises(PreconditionFailed, match="changed by someone else"):
        store.replace("state.json", b"3", first)  # stale etag: someone else won
    store.replace("state.json", b"3", second)
    assert store.get("state.json").data == b"3"


def test_replace_of_a_missing_object_fails(store: ArtifactStore) -> None:
    with pytest.raises(PreconditionFailed):
        store.replace("gone.json", b"x", "0" * 32)


def test_replace_drops_metadata(store: ArtifactStore) -> None:
    etag = store.create("m", b"1", metadata={"sha256": "x"})
    store.replace("m", b"2", etag)
    assert store.get("m").metadata == {}


def test_delete_conditional_and_unconditional(store: ArtifactStore) -> None:
    etag = store.create("d", b"1")
    new = store.replace("d", b"2", etag)
    with pytest.raises(PreconditionFailed):
        store.delete("d", etag)
    store.delete("d", new)
    assert not store.exists("d")
    store.delete("d")  # missing: not an error
    store.create("d", b"again")  # the name is free again
    store.delete("d")
    assert not store.exists("d")


def test_list_is_sorted_prefixed_and_resumable(store: ArtifactStore) -> None:
    keys = ["records/dev1/2.json", "records/dev1/10.json", "records/dev10/1.json", "records/dev1-x/1.json"]
    for key in [*keys, "state/dev1.json", "records-other/a"]:
        store.create(key, b"x")
    assert list(store.list("records/dev1/")) == ["records/dev1/10.json", "records/dev1/2.json"]
    assert list(store.list("records/")) == sorted(keys)
    assert list(store.list("records/dev1")) == sorted(keys)
    # "-" sorts before "/": byte order of the whole key, as S3 lists.
    assert list(store.list("records/", start_after="records/dev1-x/1.json")) == [
        "records/dev1/10.json",
        "records/dev1/2.json",
        "records/dev10/1.json",
    ]
    assert list(store.list("records/", start_after="records/dev1/2.json")) == ["records/dev10/1.json"]
    assert list(store.list("nothing/")) == []
    assert list(store.list("")) == sorted([*keys, "records-other/a", "state/dev1.json"])


def test_list_pages_past_one_thousand_keys(store: ArtifactStore) -> None:
    for number in range(1005):
        store.create(f"many/{number:05d}", b"")
    listed = list(store.list("many/"))
    assert listed == [f"many/{number:05d}" for number in range(1005)]
    assert list(store.list("many/", start_after="many/01000")) == [f"many/{n:05d}" for n in range(1001, 1005)]


def test_large_objects_round_trip_and_stay_create_if_absent(store: ArtifactStore) -> None:
    """On S3 this goes through multipart upload with If-None-Match on completion."""
    data = os.urandom(MULTIPART_THRESHOLD + 100_000)
    etag = store.create("big/object.bin", data, metadata={"sha256": "s"})
    blob = store.get("big/object.bin")
    assert (blob.data == data, blob.etag, blob.metadata) == (True, etag, {"sha256": "s"})
    with pytest.raises(AlreadyExists):
        store.create("big/object.bin", os.urandom(MULTIPART_THRESHOLD + 1))
    assert store.get("big/object.bin").data == data


@pytest.mark.parametrize("key", ["", "/abs", "a//b", "a/../b", ".hidden", "a/.tmp", "a/"])
def test_invalid_keys_are_refused(store: ArtifactStore, key: str) -> None:
    with pytest.raises(StoreError, match="invalid store key"):
        store.create(key, b"x")


def test_describe_names_the_place_without_secrets(store: ArtifactStore) -> None:
    where = store.describe()
    assert where.startswith(("s3://", "/"))
    assert "testing-secret" not in where
