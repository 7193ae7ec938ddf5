"""The chain end to end through the real `invoke` tasks: real redis-server processes, real files.

Each test works on a copy of the project (see tests/e2e_project.py) whose envs sit on 10.<net>.x
(251 unless taken), served by the local director on 127.<net>.x (``e2e.host``).
"""

from __future__ import annotations

import json
import socket
from pathlib import Path

import pytest
import redis

from tests.e2e_project import E2EProject

pytestmark = pytest.mark.e2e


def _password(e2e: E2EProject, env: str) -> str:
    return (e2e.workdir / "secrets" / f"{env}.redis-password").read_text().strip()


def _records(e2e: E2EProject, env: str) -> list[dict[str, object]]:
    folder = e2e.workdir / "store" / "records" / env
    return [json.loads(p.read_text()) for p in sorted(folder.glob("*.json"))] if folder.exists() else []


def test_deploy_dev1_runs_real_redis(e2e: E2EProject) -> None:
    out = e2e.invoke("deploy", "--env", "dev1").stdout
    assert "redis-templates-1" in out and "deployed and tested" in out
    assert len(e2e.redis_pids()) >= 3
    password = _password(e2e, "dev1")
    leader = redis.Redis(host=e2e.host(12, 2), port=6379, password=password)
    assert leader.ping()
    info = leader.info("replication")
    assert info["role"] == "master" and info["connected_slaves"] >= 2
    with pytest.raises(redis.AuthenticationError):
        redis.Redis(host=e2e.host(12, 2), port=6379, password="wrong").ping()
    replica = redis.Redis(host=e2e.host(12, 6), port=6379, password=password)
    assert replica.info("replication")["master_link_status"] == "up"
    leader.close()
    replica.close()

    assert "smoke test of redis-dev1: passed" in e2e.invoke("smoke-test", "--env", "dev1").stdout
    kinds = [(r["kind"], r["outcome"]) for r in _records(e2e, "dev1")]
    assert ("deploy", "succeeded") in kinds and kinds.count(("test", "succeeded")) >= 4
    assert password not in json.dumps(_records(e2e, "dev1"))

    status = json.loads(e2e.invoke("status", "--json").stdout)
    dev1 = next(row for row in status if row["env"] == "dev1")
    assert dev1["candidate"] == "redis-templates-1"
    assert {t["test"]: t["outcome"] for t in dev1["tests"]} == {
        "smoke": "succeeded",
        "acceptance": "succeeded",
    }

    e2e.invoke("destroy", "--env", "dev1")
    assert e2e.redis_pids() == []
    assert not (e2e.workdir / "director" / "deployments" / "redis-dev1").exists() or not any(
        (e2e.workdir / "director" / "deployments" / "redis-dev1").rglob("dump.rdb")
    )


def test_unchanged_redeploy_restarts_nothing(e2e: E2EProject) -> None:
    e2e.invoke("deploy", "--env", "dev1")
    before = sorted(e2e.redis_pids())
    out = e2e.invoke("deploy", "--env", "dev1").stdout
    assert "already stored" in out
    assert "0 updated" in out
    assert sorted(e2e.redis_pids()) == before


def test_dev1_and_dev2_side_by_side(e2e: E2EProject) -> None:
    e2e.invoke("deploy", "--env", "dev1")
    e2e.invoke("deploy", "--env", "dev2")
    one = redis.Redis(host=e2e.host(12, 2), port=6379, password=_password(e2e, "dev1"))
    two = redis.Redis(host=e2e.host(13, 2), port=6379, password=_password(e2e, "dev2"))
    one.set("which", "dev1")
    two.set("which", "dev2")
    assert one.get("which") == b"dev1" and two.get("which") == b"dev2"
    one.close()
    two.close()
    e2e.invoke("destroy", "--env", "dev1")
    assert "smoke test of redis-dev2: passed" in e2e.invoke("smoke-test", "--env", "dev2").stdout


def test_wrong_master_stops_at_the_canary(e2e: E2EProject) -> None:
    infra = e2e.root / "templates" / "infrastructure-local.yml"
    infra.write_text(
        infra.read_text().replace(
            "  - name: redis_z1\n    persistent_disk: (( meta.persistent_disk ))\n    networks:\n      - name: redis1\n"
            "    properties:\n      redis:\n        master: (( jobs.redis_leader_z1.networks.redis1.static_ips.[0] ))",
            "  - name: redis_z1\n    persistent_disk: (( meta.persistent_disk ))\n    networks:\n      - name: redis1\n"
            f"    properties:\n      redis:\n        master: 10.{e2e.net}.12.30",
        )
    )
    infra.write_text(
        infra.read_text().replace("canary_watch_time: 1000-30000", "canary_watch_time: 1000-1500")
    )
    assert f"10.{e2e.net}.12.30" in infra.read_text() and "1000-1500" in infra.read_text()
    done = e2e.invoke("deploy", "--env", "dev1", check=False)
    assert done.returncode != 0
    error = done.stderr.strip().splitlines()
    assert len(error) == 1 and error[0].startswith("error: deploy of dev1 with redis-templates-1 failed")
    assert "redis_z1/0" in error[0] and "Traceback" not in done.stderr
    deploys = [r for r in _records(e2e, "dev1") if r["kind"] == "deploy"]
    assert [r["outcome"] for r in deploys] == ["started", "failed"]
    # the rollout stopped at the canary: the test slave (the next job) was never started
    assert not redis_answers(e2e.host(12, 6))


def redis_answers(host: str) -> bool:
    try:
        with socket.create_connection((host, 6379), timeout=0.2):
            return True
    except OSError:
        return False


def test_port_taken_fails_the_canary(e2e: E2EProject) -> None:
    with socket.socket() as squatter:
        squatter.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # a previous test's TIME_WAIT
        squatter.bind((e2e.host(12, 2), 6379))
        squatter.listen()
        done = e2e.invoke("deploy", "--env", "dev1", check=False)
    assert done.returncode != 0
    assert "redis_leader_z1/0" in done.stderr and "Address already in use" in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1
    assert [r["outcome"] for r in _records(e2e, "dev1") if r["kind"] == "deploy"] == ["started", "failed"]


def test_tarball_is_deterministic(e2e: E2EProject, tmp_path: Path) -> None:
    e2e.invoke("tarball", "--env", "dev1", "--output", str(tmp_path / "a.tgz"))
    e2e.invoke("tarball", "--env", "dev1", "--output", str(tmp_path / "b.tgz"))
    assert (tmp_path / "a.tgz").read_bytes() == (tmp_path / "b.tgz").read_bytes()


def _one_line_failure(done: object, *needles: str) -> None:
    import subprocess

    assert isinstance(done, subprocess.CompletedProcess)
    assert done.returncode != 0
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert "Traceback" not in done.stderr
    for needle in needles:
        assert needle in lines[0], lines[0]


def test_unknown_env(e2e: E2EProject) -> None:
    _one_line_failure(e2e.invoke("deploy", "--env", "dev3", check=False), "unknown env 'dev3'")


def test_invalid_env_yml_names_the_key(e2e: E2EProject) -> None:
    env_yml = e2e.root / "dev1" / "env.yml"
    env_yml.write_text(env_yml.read_text().replace("deployment: redis-dev1\n", ""))
    _one_line_failure(e2e.invoke("deploy", "--env", "dev1", check=False), "dev1/env.yml: deployment: missing")
    assert not (e2e.workdir / "store" / "candidates").exists()


def test_templates_that_fail_to_merge_name_the_place(e2e: E2EProject) -> None:
    scaling = e2e.root / "dev1" / "pipeline" / "scaling-dev1.yml"
    scaling.write_text("meta:\n  slaves: (( meta.nonexistent ))\n  test_slaves: 1\n")
    done = e2e.invoke("deploy", "--env", "dev1", check=False)
    _one_line_failure(done, "meta.slaves")
    assert e2e.redis_pids() == []
    # a composition that fails is a failed deploy record (stage compose); nothing is deployed
    deploys = [r for r in _records(e2e, "dev1") if r["kind"] == "deploy"]
    assert [(r["outcome"], r["details"]["stage"]) for r in deploys] == [("failed", "compose")]


def test_tampered_candidate_is_refused(e2e: E2EProject) -> None:
    e2e.invoke("upload", "--env", "dev1")
    stored = e2e.workdir / "store" / "candidates" / "redis-templates-1.tgz"
    data = bytearray(stored.read_bytes())
    data[-20] ^= 0xFF
    stored.write_bytes(bytes(data))
    _one_line_failure(e2e.invoke("deploy", "--env", "dev1", "--candidate", "1", check=False), "tampered")
    assert e2e.redis_pids() == []


def test_missing_redis_server_binary(e2e: E2EProject) -> None:
    e2e.env["BOSHPIPE_REDIS_SERVER"] = str(e2e.root / "no-such-redis-server")
    _one_line_failure(e2e.invoke("deploy", "--env", "dev1", check=False), "redis-server")


def test_debug_shows_the_traceback(e2e: E2EProject) -> None:
    done = e2e.invoke("deploy", "--env", "dev3", "--debug", check=False)
    assert done.returncode != 0 and "Traceback" in done.stderr


@pytest.mark.s3
def test_deploy_dev1_with_the_s3_store(s3_url: str, e2e: E2EProject) -> None:
    """The same chain with candidates and the ledger in S3 (moto in server mode on loopback)."""
    import boto3

    e2e.env["BOSHPIPE_STORE"] = s3_url
    out = e2e.invoke("deploy", "--env", "dev1").stdout
    assert f"stored in {s3_url}" in out and "deployed and tested" in out
    status = json.loads(e2e.invoke("status", "--env", "dev1", "--json").stdout)
    assert status[0]["candidate"] == "redis-templates-1"
    bucket, prefix = s3_url.removeprefix("s3://").split("/", 1)
    keys = [o["Key"] for o in boto3.client("s3").list_objects_v2(Bucket=bucket)["Contents"]]
    assert f"{prefix}/candidates/redis-templates-1.tgz" in keys
    assert any(k.startswith(f"{prefix}/records/dev1/") for k in keys)
    assert not (e2e.workdir / "store").exists()


@pytest.mark.s3
def test_unreachable_s3_store_is_one_line_and_leaves_nothing(e2e: E2EProject) -> None:
    """An S3 endpoint nobody listens on (a port just closed on loopback): one line, exit != 0."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    e2e.env.update(
        BOSHPIPE_STORE="s3://boshpipe-missing/x",
        AWS_ENDPOINT_URL_S3=f"http://127.0.0.1:{port}",
        AWS_ACCESS_KEY_ID="testing",
        AWS_SECRET_ACCESS_KEY="testing-secret-value",
        AWS_DEFAULT_REGION="us-east-1",
    )
    done = e2e.invoke("upload", "--env", "dev1", check=False, timeout=60)
    _one_line_failure(done, "S3")
    assert "testing-secret-value" not in done.stdout + done.stderr
    assert not (e2e.workdir / "store").exists()
