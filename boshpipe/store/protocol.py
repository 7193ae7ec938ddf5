"""The ArtifactStore protocol and the ``Blob`` it returns.

Apart from ``boshpipe.store`` (which re-exports it and adds ``open_store``) so the backends
``local`` and ``s3`` depend on the protocol alone, never on the package that picks between them.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
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

    def replace(self, key: str, data: bytes, etag: str, metadata: dict[str, str] | None = None) -> str:
        """Compare-and-swap against ``etag``; returns the new ETag. Raises ``PreconditionFailed``.

        The object's metadata becomes ``metadata`` (none when not given, as an S3 PUT does).
        """
        ...

    def delete(self, key: str, etag: str | None = None) -> None:
        """Delete (only if still at ``etag`` when given). Missing objects are not an error."""
        ...

    def list(self, prefix: str, start_after: str | None = None) -> Iterator[str]:
        """Keys under ``prefix`` in lexicographic order, lazily (paged on S3)."""
        ...
