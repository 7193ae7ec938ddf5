"""The ops composition end to end, through real `invoke` processes on the embedded director.

An ops-composed candidate (redis-boshrelease v15's manifests/redis.yml + the project's and the
env's ops files + vars) goes dev1 → staging (reset to production, integration test under traffic)
→ production; the bootstrap instance is the master; killing it makes the smoke test fail naming
it; no generated value is printed, packed or recorded. A mixed history upgrades staging from
production's spiff candidate to an ops one. Bad input is one line, nothing deployed, a failed record.
"""

from __future__ import annotations

import io
import json
import os
import signal
import tarfile
from pathlib import Path
from typing import Any

import pytest
import redis
import yaml

from tests.e2e_project import E2EProject, use_ops

pytestmark = pytest.mark.e2e
V15 = Path(__file__).resolve().parent.parent.parent / "shared" / "upstream" / "redis-boshrelease-v15"


@pytest.fixture(autouse=True)
def _needs_v15() -> None:
    if not (V15 / "manifests" / "redis.yml").is_file():
        pytest.skip(f"needs the v15 upstream copy at {V15} (../shared/upstream/redis-boshrelease-v15)")


def records(e2e: E2EProject, env: str) -> list[dict[str, Any]]:
    folder = e2e.workdir / "store" / "records" / env
    return [json.loads(p.read_bytes()) for p in sorted(folder.glob("*.json"))] if folder.exists() else []


def generated_password(e2e: E2EProject, env: str) -> str:
    path = e2e.workdir / "secrets" / f"{env}.vars-store.yml"
    assert oct(path.stat().st_mode & 0o777) == "0o600"
    value = yaml.safe_load(path.read_text())["redis-password"]
    assert isinstance(value, str) and len(value) >= 20
    return value


def candidate_files(e2e: E2EProject, number: int) -> dict[str, bytes]:
    data = (e2e.workdir / "store" / "candidates" / f"redis-templates-{number}.tgz").read_bytes()
    with tarfile.open(fileobj=io.BytesIO(data)) as tar:
        return {m.name: tar.extractfile(m).read() for m in tar.getmembers() if m.isfile()}  # type: ignore[union-attr]


def everything_written(e2e: E2EProject) -> bytes:
    """Every file of the store (records, pointers, candidates unpacked) and of the repository copy."""
    out = []
    for path in sorted((e2e.workdir / "store").rglob("*")):
        if path.is_file() and not path.name.endswith(".tgz"):
            out.append(path.read_bytes())
    for number in range(1, 10):
        if (e2e.workdir / "store" / "candidates" / f"redis-templates-{number}.tgz").exists():
            out.extend(candidate_files(e2e, number).values())
    out.extend(p.read_bytes() for p in sorted(e2e.root.rglob("*")) if p.is_file())
    return b"\n".join(out)


def instance_pid(e2e: E2EProject, deployment: str, slot: str) -> int:
    conf = str(e2e.workdir / "director" / "deployments" / deployment / "instances" / slot / "redis.conf")
    for pid in e2e.redis_pids():
        if conf in Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace"):
            return pid
    raise AssertionError(f"no redis-server for {deployment} {slot}")


def test_ops_candidate_through_every_env(e2e: E2EProject) -> None:
    use_ops(e2e, "dev1")
    outputs: list[str] = []

    def run(*args: str) -> str:
        done = e2e.invoke(*args)
        outputs.append(done.stdout + done.stderr)
        return done.stdout

    out = run("deploy", "--env", "dev1")
    assert "(manifest v2)" in out and "sanity-tests errand passed" in out, out
    assert "smoke test of redis-dev1: passed" in out
    meta = json.loads(candidate_files(e2e, 1)["candidate.json"])
    assert meta["composition"] == "ops"
    assert {"upstream/manifests/redis.yml", "project/ops/placement.yml", "envs/dev1/pipeline/ops-dev1.yml"} <= set(
        meta["files"]
    )

    out = run("deploy", "--env", "staging", "--candidate", "1")
    assert "integration test" in out and "deployed and tested" in out, out
    integration = [
        r for r in records(e2e, "staging") if r["kind"] == "test" and r["details"].get("test") == "integration"
    ]
    assert integration and integration[-1]["outcome"] == "succeeded"
    out = run("deploy", "--env", "production", "--candidate", "1")
    assert "production: redis-templates-1 deployed and tested" in out, out

    # The master is the group's bootstrap instance, as the director reports it.
    from boshpipe.director.local import LocalDirector

    listed = LocalDirector(e2e.workdir / "director").instances("redis-production")
    boot = [i for i in listed if i.bootstrap]
    assert [(i.job, i.index) for i in boot] == [("redis", 0)]
    password = generated_password(e2e, "production")
    client = redis.Redis(host=boot[0].address, port=6379, password=password, socket_timeout=5)
    try:
        assert client.info("replication")["role"] == "master"
        assert client.info("replication")["connected_slaves"] == 2
    finally:
        client.close()

    # The generated password is reused (created once) and never shown, packed or recorded.
    first = generated_password(e2e, "dev1")
    run("deploy", "--env", "dev1", "--candidate", "1")
    assert generated_password(e2e, "dev1") == first
    written = everything_written(e2e)
    for env in ("dev1", "staging", "production"):
        secret = generated_password(e2e, env)
        assert secret.encode() not in written, f"{env}'s generated password leaked into a file"
        assert all(secret not in text for text in outputs), f"{env}'s generated password was printed"
    shown = e2e.invoke("ops-interpolate", "--env", "production", "--candidate", "1").stdout
    assert "<redacted>" in shown and password not in shown

    # Killing the master makes the smoke test fail with a line naming it.
    os.kill(instance_pid(e2e, "redis-production", "redis-0"), signal.SIGKILL)
    done = e2e.invoke("smoke-test", "--env", "production", check=False)
    assert done.returncode != 0
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and "redis/0" in lines[0], done.stderr


def test_spiff_in_production_ops_in_staging(e2e: E2EProject) -> None:
    """Production runs a spiff candidate; staging resets to it, then upgrades to an ops one; keys survive."""
    e2e.invoke("deploy", "--env", "dev1")  # candidate 1: spiff
    e2e.invoke("deploy", "--env", "staging", "--candidate", "1")
    e2e.invoke("deploy", "--env", "production", "--candidate", "1")
    use_ops(e2e, "dev1")
    out = e2e.invoke("deploy", "--env", "dev1").stdout  # candidate 2: ops
    assert "redis-templates-2" in out
    out = e2e.invoke("deploy", "--env", "staging", "--candidate", "2").stdout
    assert "resetting redis-staging with redis-templates-1" in out, out
    assert "staging: redis-templates-2 deployed and tested" in out, out
    test = [r for r in records(e2e, "staging") if r["details"].get("test") == "integration"][-1]
    assert test["outcome"] == "succeeded" and test["candidate"] == "redis-templates-2"
    figures = test["details"]["figures"]
    assert figures["keys_written"] == 5000 and figures["keys_found"] == {f"redis/{i}": 5000 for i in range(3)}, figures
    out = e2e.invoke("deploy", "--env", "production", "--candidate", "2").stdout
    assert "production: redis-templates-2 deployed and tested" in out, out


def _one_line_failure(done: Any, *needles: str) -> str:
    assert done.returncode != 0
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), done.stderr
    assert "Traceback" not in done.stderr + done.stdout
    for needle in needles:
        assert needle in lines[0], lines[0]
    return str(lines[0])


@pytest.mark.parametrize(
    ("ops", "needles"),
    [
        (
            "- {type: replace, path: /instance_groups/name=nope/instances, value: 3}\n",
            ("env:pipeline/ops-dev1.yml", "name=nope", "nothing deployed"),
        ),
        (
            "- type: replace\n  path: /instance_groups/name=redis/jobs/name=redis/properties/port?\n"
            "  value: ((redis-port))\n",
            ("redis-port", "nothing deployed"),
        ),
        (
            "- type: replace\n  path: /instance_groups/name=redis/jobs/-\n"
            "  value: {name: cf-redis-broker, release: redis}\n",
            ("cf-redis-broker", "local director cannot run"),
        ),
    ],
    ids=["ops-file-does-not-apply", "variable-without-value", "unsupported-job"],
)
def test_bad_ops_input_is_one_line_and_a_failed_record(e2e: E2EProject, ops: str, needles: tuple[str, ...]) -> None:
    use_ops(e2e, "dev1")
    (e2e.root / "dev1" / "pipeline" / "ops-dev1.yml").write_text(ops)
    _one_line_failure(e2e.invoke("deploy", "--env", "dev1", check=False), *needles)
    assert e2e.redis_pids() == []
    deploys = [r for r in records(e2e, "dev1") if r["kind"] == "deploy"]
    assert deploys and deploys[-1]["outcome"] == "failed", deploys
    state = json.loads((e2e.workdir / "store" / "state" / "dev1.json").read_bytes())
    assert state.get("deployed") is None


def test_sentinel_from_the_upstream_ops_file(e2e: E2EProject) -> None:
    """upstream's use-sentinel-addresses.yml adds redis-sentinel: one real sentinel per instance, watching redis/0."""
    use_ops(e2e, "dev1")
    env_yml = e2e.root / "dev1" / "env.yml"
    text = env_yml.read_text().replace(
        "  - env:pipeline/ops-dev1.yml\n",
        "  - env:pipeline/ops-dev1.yml\n  - upstream:manifests/operators/use-sentinel-addresses.yml\n",
    )
    env_yml.write_text(text)
    out = e2e.invoke("deploy", "--env", "dev1").stdout
    assert "redis:redis-sentinel/2" in out and "smoke test of redis-dev1: passed" in out, out
    from boshpipe.director.local import LocalDirector

    listed = LocalDirector(e2e.workdir / "director").instances("redis-dev1")
    master = next(i for i in listed if i.job == "redis" and i.bootstrap)
    sentinels = [i for i in listed if i.job == "redis:redis-sentinel"]
    assert len(sentinels) == 3 and all(i.state == "running" for i in sentinels)
    password = generated_password(e2e, "dev1")
    for sentinel in sentinels:
        client = redis.Redis(host=sentinel.address, port=26379, password=password, socket_timeout=5)
        try:
            assert client.execute_command("SENTINEL", "get-master-addr-by-name", "mymaster") == [
                master.address.encode(),
                b"6379",
            ]
            with pytest.raises(redis.AuthenticationError):
                redis.Redis(host=sentinel.address, port=26379, socket_timeout=5).ping()
        finally:
            client.close()


def test_each_composition_task_points_to_the_other(e2e: E2EProject) -> None:
    _one_line_failure(e2e.invoke("ops-interpolate", "--env", "dev1", check=False), "invoke spiff-merge --env dev1")
    use_ops(e2e, "dev1")
    _one_line_failure(e2e.invoke("spiff-merge", "--env", "dev1", check=False), "invoke ops-interpolate --env dev1")
    shown = e2e.invoke("ops-interpolate", "--env", "dev1").stdout
    assert "password: <redacted>" in shown and "name: redis-dev1" in shown and "redis-dev1-net" in shown
    written = e2e.root / "full.yml"
    e2e.invoke("ops-interpolate", "--env", "dev1", "--output", str(written))
    assert oct(written.stat().st_mode & 0o777) == "0o600"
    assert generated_password(e2e, "dev1") in written.read_text()
