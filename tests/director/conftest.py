from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from boshpipe.director.local import LocalDirector
from tests.director.localcluster import cleanup


@pytest.fixture
def director(tmp_path: Path) -> Iterator[LocalDirector]:
    """A local director on a fresh state dir; every deployment is deleted afterwards, no process left."""
    root = tmp_path / "director"
    yield LocalDirector(root)
    cleanup(root)
