"""An ops-composed candidate on a director with a config server (the fake v270+ director + CredHub).

The v2 manifest is posted with ``((redis-password))`` left in place; the director generates it and
keeps it in its config server; the checks (and this test) read it through CredHub's API with a UAA
client-credentials token and the director's CA. No generated value appears in any output, record,
candidate or file of the repository, and no vars store is written for such an env.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
import requests

from boshpipe.director.local import LocalDirector
from tests.director.e2e_fake import local_backed, point_at
from tests.director.fake_director import WARDEN_STEMCELL, FakeDirector
from tests.e2e_project import E2EProject, use_ops
from tests.test_e2e_ops import V15, everything_written

pytestmark = pytest.mark.e2e
SECRET = "uaa-client-secret-ops"
XENIAL = {"name": "bosh-warden-boshlite-ubuntu-xenial-go_agent", "operating_system": "ubuntu-xenial",
          "version": "621.61", "cid": "stemcell-cid-2"}  # fmt: skip


@pytest.fixture
def director(e2e: E2EProject) -> Iterator[FakeDirector]:
    if not (V15 / "manifests" / "redis.yml").is_file():
        pytest.skip(f"needs the v15 upstream copy at {V15} (../shared/upstream/redis-boshrelease-v15)")
    with local_backed(e2e, SECRET, (WARDEN_STEMCELL, XENIAL), config_server=True) as fake:
        yield fake


def credhub_value(director: FakeDirector, name: str, tmp_path: Path) -> str:
    """What CredHub's API says, with a UAA client-credentials token, verified against the director's CA."""
    ca = tmp_path / "ca.pem"
    ca.write_text(director.ca_pem)
    token = requests.post(
        f"{director.uaa_url}/oauth/token",
        data={"grant_type": "client_credentials"},
        auth=("ci", SECRET),
        verify=str(ca),
        timeout=10,
    ).json()["access_token"]
    answer = requests.get(
        f"{director.credhub_url}/api/v1/data",
        params={"name": name, "current": "true"},
        headers={"Authorization": f"bearer {token}"},
        verify=str(ca),
        timeout=10,
    )
    assert answer.status_code == 200, answer.text
    value = answer.json()["data"][0]["value"]
    assert isinstance(value, str)
    return value


def test_ops_candidate_on_a_director_with_a_config_server(
    e2e: E2EProject, director: FakeDirector, tmp_path: Path
) -> None:
    use_ops(e2e, "dev1")
    point_at(e2e, director, SECRET, CREDHUB_SERVER=director.credhub_url)
    done = e2e.invoke("deploy", "--env", "dev1")
    out = done.stdout + done.stderr
    assert "smoke test of redis-dev1: passed" in out and "sanity-tests errand passed" in out, out

    posted = [r for r in director.requests if r.method == "POST" and r.path.split("?")[0] == "/deployments"]
    assert posted and all(b"password: ((redis-password))" in r.body for r in posted)
    password = credhub_value(director, "/fake/redis-dev1/redis-password", tmp_path)
    assert director.credhub_requests, "the checks read the password through CredHub's API"

    # the redis instances run with the config server's value
    listed = LocalDirector(e2e.workdir / "fake-bosh").instances("redis-dev1")
    boot = next(i for i in listed if i.bootstrap)
    client = redis.Redis(host=boot.address, port=6379, password=password, socket_timeout=5)
    try:
        assert client.info("replication")["role"] == "master"
    finally:
        client.close()

    # no vars store for an env on a real director; the value is nowhere a person or the ledger sees
    assert not (e2e.workdir / "secrets" / "dev1.vars-store.yml").exists()
    records = [json.loads(p.read_text()) for p in sorted((e2e.workdir / "store" / "records" / "dev1").glob("*.json"))]
    assert password not in out and password not in json.dumps(records)
    assert password.encode() not in everything_written(e2e)
    shown = e2e.invoke("ops-interpolate", "--env", "dev1").stdout
    assert "((redis-password))" in shown or "<redacted>" in shown
    assert password not in shown
