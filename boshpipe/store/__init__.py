"""The ArtifactStore protocol: a flat key/value object store with conditional writes.

Candidates and the ledger live here. Two implementations: ``local`` (a directory, the embedded
default) and ``s3`` (boto3). Nothing else in the code base asks which one it has. The protocol itself
is in ``protocol.py`` (re-exported here); ``candidates.py`` numbers candidates on any store.

Writes are never blind: ``create`` is create-if-absent (O_EXCL / ``IfNoneMatch='*'``) and
``replace`` is compare-and-swap on the ETag (``IfMatch``). Losing either race raises
``AlreadyExists`` / ``PreconditionFailed`` and is never retried silently.
"""

from __future__ import annotations

import os
from pathlib import Path

from boshpipe.store.protocol import ArtifactStore, Blob

__all__ = ["ArtifactStore", "Blob", "open_store"]


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
