"""Fixtures shared by every test module.

``../shared`` (the spiff conformance corpus and the upstream 2015 templates) is test data that lives
beside the checkout and is never copied into it. Tests that need it skip with a message naming what
is missing, so a checkout without it still runs everything else.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
SHARED = Path(os.environ.get("BOSHPIPE_SHARED", REPO.parent / "shared"))

pytest_plugins = ["tests.s3_fixtures", "tests.e2e_project"]

# Loopback only: with no credentials in sight (a test that removes them on purpose), botocore would
# ask the EC2 instance metadata service at 169.254.169.254 and a container credentials endpoint.
# Switched off for this process and every process a test starts (they inherit the environment).
os.environ["AWS_EC2_METADATA_DISABLED"] = "true"
for _name in ("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "AWS_CONTAINER_CREDENTIALS_FULL_URI"):
    os.environ.pop(_name, None)


def _shared_path(*parts: str) -> Path:
    path = SHARED.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"needs {path} (../shared beside the checkout, or BOSHPIPE_SHARED): not found")
    return path


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return REPO


@pytest.fixture(scope="session")
def spiff_corpus() -> Path:
    """The spiff conformance cases (expected outputs from the real spiff binary)."""
    return _shared_path("spiff-conformance", "cases")


@pytest.fixture(scope="session")
def upstream_dir() -> Path:
    """The real 2015 redis-boshrelease checkout (templates/ and jobs/)."""
    return _shared_path("upstream", "redis-boshrelease")
