"""The chain end to end against a BOSH director over HTTPS, as it runs against the local director.

No BOSH director can run here, so the director is the loopback HTTPS stand-in of
tests/director/fake_director.py, which follows the director's documented API (UAA tokens, 302 to
the task, JSON-lines events read with Range, instances and errand tasks). Behind its API it runs
the deployment with the local director, so the smoke test and the acceptance errand talk to real
redis-server processes at the addresses the director reports (loopback, never the 10.x ranges).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.director.e2e_fake import local_backed, point_at
from tests.director.fake_director import FakeDirector
from tests.e2e_project import E2EProject

pytestmark = pytest.mark.e2e
SECRET = "uaa-client-secret-e2e"


@pytest.fixture
def director(e2e: E2EProject) -> Iterator[FakeDirector]:
    with local_backed(e2e, SECRET) as fake:
        yield fake


def _progress(stdout: str) -> list[str]:
    """The director's progress lines without clocks and durations, to compare two runs."""
    lines = [re.sub(r"^\s*\d\d:\d\d:\d\d \| ", "", line) for line in stdout.splitlines() if " | " in line]
    return [re.sub(r" \(\d+\.\d\ds\)$", "", line) for line in lines]


def test_deploy_through_the_director_api_matches_the_local_director(
    e2e: E2EProject, director: FakeDirector, tmp_path: Path
) -> None:
    local = e2e.invoke("deploy", "--env", "dev2").stdout
    point_at(e2e, director, SECRET)
    done = e2e.invoke("deploy", "--env", "dev1")
    out = done.stdout
    assert f"on BOSH director at {director.url}" in out
    assert "smoke test of redis-dev1: passed" in out and "acceptance test of redis-dev1: passed" in out
    # the same steps reported the same way as the local director's deploy of dev2
    assert [line for line in _progress(out) if "Updating instance" in line] == [
        line for line in _progress(local) if "Updating instance" in line
    ]
    records = [json.loads(p.read_text()) for p in sorted((e2e.workdir / "store" / "records" / "dev1").glob("*.json"))]
    local_records = [
        json.loads(p.read_text()) for p in sorted((e2e.workdir / "store" / "records" / "dev2").glob("*.json"))
    ]
    assert [(r["kind"], r["outcome"], r.get("details", {}).get("test")) for r in records] == [
        (r["kind"], r["outcome"], r.get("details", {}).get("test")) for r in local_records
    ]
    assert all(r["task_id"] for r in records if r["kind"] == "deploy" and r["outcome"] != "started")
    assert all(r["task_id"] is None for r in records if r["outcome"] == "started")  # written before the task
    # no secret anywhere a person or the ledger can see
    password = (e2e.workdir / "secrets" / "dev1.redis-password").read_text().strip()
    seen = out + done.stderr + json.dumps(records)
    for secret in (SECRET, password, *director.uaa_state.access_tokens, *director.uaa_state.refresh_tokens):
        assert secret not in seen
