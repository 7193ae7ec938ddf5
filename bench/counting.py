"""An ArtifactStore wrapper that counts the calls made to it: how the benchmarks show that status
and gate decisions read a bounded number of objects, whatever the backend."""

from __future__ import annotations

import collections
from collections.abc import Iterator

from boshpipe.store import ArtifactStore, Blob


class CountingStore:
    """An ArtifactStore that counts calls by method (what the ledger asks of any backend)."""

    def __init__(self, inner: ArtifactStore) -> None:
        self.inner = inner
        self.calls: collections.Counter[str] = collections.Counter()

    def describe(self) -> str:
        return self.inner.describe()

    def get(self, key: str) -> Blob:
        self.calls["get"] += 1
        return self.inner.get(key)

    def exists(self, key: str) -> bool:
        self.calls["exists"] += 1
        return self.inner.exists(key)

    def create(self, key: str, data: bytes, metadata: dict[str, str] | None = None) -> str:
        self.calls["create"] += 1
        return self.inner.create(key, data, metadata)

    def replace(self, key: str, data: bytes, etag: str) -> str:
        self.calls["replace"] += 1
        return self.inner.replace(key, data, etag)

    def delete(self, key: str, etag: str | None = None) -> None:
        self.calls["delete"] += 1
        self.inner.delete(key, etag)

    def list(self, prefix: str, start_after: str | None = None) -> Iterator[str]:
        self.calls["list"] += 1
        return self.inner.list(prefix, start_after)
