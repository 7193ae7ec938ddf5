"""Fixtures of the ``boshpipe.ops`` tests: the bosh CLI conformance corpus in ``../shared``."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import SHARED, _shared_path

OPS_CORPUS = SHARED / "ops-conformance"


@pytest.fixture(scope="session")
def ops_corpus() -> Path:
    """``../shared/ops-conformance`` (cases and check.py, expected outputs from bosh CLI v7.9.13)."""
    _shared_path("ops-conformance", "check.py")
    return _shared_path("ops-conformance", "cases").parent
