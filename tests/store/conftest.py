"""One store suite, two backends: every test taking ``store`` runs on a local directory and on S3.

The S3 half talks HTTP to the moto server of ``tests/s3_fixtures.py`` (a fresh bucket per test) and
carries the ``s3`` marker, so ``pytest -m "not s3"`` runs the local half alone.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from boshpipe.store import ArtifactStore
from boshpipe.store.local import LocalStore
from boshpipe.store.s3 import S3Store
from tests.s3_fixtures import SMALL_PART

StoreFactory = Callable[[], ArtifactStore]
MULTIPART_THRESHOLD = 2 * SMALL_PART
"""S3 objects from this size up go through multipart in the tests (16 MiB by default)."""


def s3_store(url: str) -> S3Store:
    return S3Store.from_url(url, multipart_threshold=MULTIPART_THRESHOLD, part_size=SMALL_PART)


@pytest.fixture(params=["local", pytest.param("s3", marks=pytest.mark.s3)])
def store_factory(request: pytest.FixtureRequest, tmp_path: Path) -> StoreFactory:
    """Makes a new client of the same store: what another process (or another worker) would open."""
    if request.param == "local":
        root = tmp_path / "store"
        return lambda: LocalStore(root)
    url: str = request.getfixturevalue("s3_url")
    return lambda: s3_store(url)


@pytest.fixture
def store(store_factory: StoreFactory) -> ArtifactStore:
    return store_factory()
