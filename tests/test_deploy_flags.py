"""Deploy flags (issue 14): honoured by the local director, sent to a director over HTTP as the bosh
CLI sends them, recorded in the deploy record; and drift seen through the director's HTTP API.

The HTTP director is the loopback stand-in of tests/director/fake_director.py running the local
director behind its API, so the instances are real redis-server processes either way.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
import yaml

from boshpipe.director.local import LocalDirector
from tests.director.e2e_fake import local_backed, point_at
from tests.director.fake_director import FakeDirector
from tests.e2e_project import E2EProject

pytestmark = pytest.mark.e2e
SECRET = "uaa-client-secret-flags"


def most_at_once(stdout: str, job: str) -> int:
    """The most instances of ``job`` that were updating at the same time, from the task's events."""
    updating: set[str] = set()
    most = 0
    for line in stdout.splitlines():
        if f"Updating instance: {job}/" not in line:
            continue
        instance = line.split("Updating instance: ", 1)[1].split()[0]
        if line.rstrip().endswith(("FAILED", "s)")) or ": done" in line:
            updating.discard(instance)
        else:
            updating.add(instance)
            most = max(most, len(updating))
    return most


def deploys(e2e: E2EProject, env: str) -> list[dict[str, object]]:
    folder = e2e.workdir / "store" / "records" / env
    found = [json.loads(p.read_text()) for p in sorted(folder.glob("*.json"))]
    return [r for r in found if r["kind"] == "deploy"]


def test_recreate_and_max_in_flight_on_the_local_director(e2e: E2EProject) -> None:
    infra = e2e.root / "templates" / "infrastructure-local.yml"
    infra.write_text(infra.read_text().replace("max_in_flight: 2", "max_in_flight: 1"))
    (e2e.root / "dev1" / "pipeline" / "scaling-dev1.yml").write_text("meta:\n  slaves: 3\n  test_slaves: 1\n")
    first = e2e.invoke("deploy", "--env", "dev1").stdout
    assert most_at_once(first, "redis_z1") == 1  # the manifest's max_in_flight: 1
    before = set(e2e.redis_pids())
    assert len(before) == 5

    out = e2e.invoke("bosh-deploy", "--env", "dev1", "--candidate", "1", "--recreate", "--max-in-flight", "2").stdout
    after = set(e2e.redis_pids())
    assert len(after) == 5 and not before & after, "--recreate restarts every instance"
    assert most_at_once(out, "redis_z1") == 2
    assert "5 updated" in out
    assert deploys(e2e, "dev1")[-1]["details"]["flags"] == {"recreate": True, "max_in_flight": "2"}

    unchanged = e2e.invoke("bosh-deploy", "--env", "dev1", "--candidate", "1").stdout
    assert "0 updated" in unchanged and set(e2e.redis_pids()) == after
    assert "flags" not in deploys(e2e, "dev1")[-1]["details"]


@pytest.mark.parametrize(
    ("flag", "needle"),
    [(("--max-in-flight", "150%"), "--max-in-flight '150%'"), (("--canaries", "x"), "--canaries 'x'")],
)
def test_bad_flag_values_are_one_line(e2e: E2EProject, flag: tuple[str, str], needle: str) -> None:
    done = e2e.invoke("deploy", "--env", "dev1", *flag, check=False)
    assert done.returncode != 0 and done.stderr.strip().splitlines() == [done.stderr.strip()]
    assert needle in done.stderr and "Traceback" not in done.stderr
    assert not (e2e.workdir / "store" / "candidates").exists()


@pytest.fixture
def director(e2e: E2EProject) -> Iterator[FakeDirector]:
    with local_backed(e2e, SECRET) as fake:
        yield fake


def test_flags_and_drift_over_the_director_api(e2e: E2EProject, director: FakeDirector, tmp_path: Path) -> None:
    point_at(e2e, director, SECRET)
    e2e.invoke("deploy", "--env", "dev1")
    plain = [r for r in director.requests if r.method == "POST" and urlsplit(r.path).path == "/deployments"]
    assert [urlsplit(r.path).query for r in plain] == [""]

    args = ["--recreate", "--fix", "--skip-drain", "--canaries", "0", "--max-in-flight", "50%"]
    e2e.invoke("bosh-deploy", "--env", "dev1", "--candidate", "1", *args)
    posts = [r for r in director.requests if r.method == "POST" and urlsplit(r.path).path == "/deployments"]
    assert len(posts) == 2
    assert parse_qs(urlsplit(posts[-1].path).query) == {
        "canaries": ["0"],
        "fix": ["true"],
        "max_in_flight": ["50%"],
        "recreate": ["true"],
        "skip_drain": ["*"],
    }
    assert urlsplit(posts[-1].path).query.startswith("canaries=0&fix=true&max_in_flight=50%25&recreate=true")

    assert e2e.invoke("drift", "--env", "dev1").stdout.strip() == "dev1: in sync"
    behind = LocalDirector(e2e.workdir / "fake-bosh")  # what the director runs, changed behind our back
    text = behind.deployed_manifest("redis-dev1")
    assert text is not None
    manifest = yaml.safe_load(text)
    manifest["update"]["canaries"] = 2
    assert behind.deploy(yaml.safe_dump(manifest), lambda event: None).ok
    done = e2e.invoke("drift", "--env", "dev1", "--json", check=False)
    assert done.returncode == 1
    assert json.loads(done.stdout)["summary"] == "drifted: manifest changed outside the pipeline"
