"""The ArtifactStore protocol: a flat key/value object store with conditional writes.

Candidates and the ledger live here. Two implementations: ``local`` (a directory, the embedded
default) and ``s3`` (boto3). Nothing else in the code base asks which one it has.

Writes are never blind: ``create`` is create-if-absent (O_EXCL / ``IfNoneMatch='*'``) and
``replace`` is compare-and-swap on the ETag (``IfMatch``). Losing either race raises
``AlreadyExists`` / ``PreconditionFailed`` and is never retried silently.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol


@dataclass(frozen=True)
class Blob:
    data: bytes
    etag: str
    metadata: dict[str, str] = field(default_factory=dict)


class ArtifactStore(Protocol):
    def describe(self) -> str:
        """Where the store is, for messages: a path or ``s3://bucket/prefix`` (never credentials)."""
        ...

    def get(self, key: str) -> Blob:
        """The object, its ETag and metadata. Raises ``NotFound``."""
        ...

    def exists(self, key: str) -> bool: ...

    def create(self, key: str, data: bytes, metadata: dict[str, str] | None = None) -> str:
        """Create-if-absent; returns the new ETag. Raises ``AlreadyExists``."""
        ...

    def replace(self, key: str, data: bytes, etag: str) -> str:
        """Compare-and-swap against ``etag``; returns the new ETag. Raises ``PreconditionFailed``."""
        ...

    def delete(self, key: str, etag: str | None = None) -> None:
        """Delete (only if still at ``etag`` when given). Missing objects are not an error."""
        ...

    def list(self, prefix: str, start_after: str | None = None) -> Iterator[str]:
        """Keys under ``prefix`` in lexicographic order, lazily (paged on S3)."""
        ...


def open_store(setting: str | None, workdir: Path) -> ArtifactStore:
    """The store for a setting: ``BOSHPIPE_STORE`` wins over ``setting`` (from env.yml).

    ``s3://bucket/prefix`` selects S3; any other value is a directory; nothing at all selects
    ``<workdir>/store``.
    """
    chosen = os.environ.get("BOSHPIPE_STORE") or setting
    if chosen and chosen.startswith("s3://"):
        from boshpipe.store.s3 import S3Store

        return S3Store.from_url(chosen)
    from boshpipe.store.local import LocalStore

    return LocalStore(Path(chosen) if chosen else workdir / "store")
