"""The chain against directors that behave like BOSH v270+ (and older): v2 + named cloud config, or v1.

The director is the loopback HTTPS stand-in of tests/director/fake_director.py (documented API
only): a v270+ one refuses v1 manifests inside the deploy task with the director's texts, keeps
named cloud configs (``/configs``), validates v2 manifests against their merge and lists stemcells.
Behind it, ``DirectorBackend`` runs the deployments with the local director (real redis-server
processes on loopback); ``MemoryBackend`` scripts failures a real director gives.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from boshpipe.director.local import LocalDirector
from tests.director.e2e_fake import point_at as point_env_at
from tests.director.fake_director import WARDEN_STEMCELL, DirectorBackend, FakeDirector, MemoryBackend
from tests.e2e_project import E2EProject

pytestmark = pytest.mark.e2e
SECRET = "uaa-client-secret-v2"
ENVS = ("dev1", "dev2", "staging", "production")
STEMCELL_URL = "https://bosh.io/d/stemcells/bosh-warden-boshlite-ubuntu-trusty-go_agent?v=3586.100"


def point_at(e2e: E2EProject, fake: FakeDirector, envs: tuple[str, ...] = ENVS, **settings: Any) -> None:
    """Every named env deploys to ``fake``; ``settings`` are added to their env.yml."""
    for env in envs:
        point_env_at(e2e, fake, SECRET, env)
        path = e2e.root / env / "env.yml"
        text = path.read_text()
        for key, value in settings.items():
            text, found = re.subn(rf"(?m)^{key}:.*$", f"{key}: {json.dumps(value)}", text)
            text += "" if found else f"\n{key}: {json.dumps(value)}\n"
        path.write_text(text)


def records(e2e: E2EProject, env: str) -> list[dict[str, Any]]:
    return [json.loads(p.read_text()) for p in sorted((e2e.workdir / "store" / "records" / env).glob("*.json"))]


def config_posts(fake: FakeDirector) -> list[str]:
    return [json.loads(r.body)["name"] for r in fake.requests if r.method == "POST" and r.path == "/configs"]


def progress(stdout: str) -> list[str]:
    lines = [re.sub(r"^\s*\d\d:\d\d:\d\d \| ", "", line) for line in stdout.splitlines() if " | " in line]
    return [re.sub(r" \(\d+\.\d\ds\)$", "", line) for line in lines if "Updating instance" in line]


def error_line(done: Any) -> str:
    lines = done.stderr.strip().splitlines()
    assert done.returncode != 0 and len(lines) == 1 and lines[0].startswith("error: "), done.stderr
    return str(lines[0])


@pytest.fixture
def delegating(e2e: E2EProject) -> Iterator[FakeDirector]:
    """A v270+ director running deployments with a local director of its own."""
    backend = DirectorBackend(LocalDirector(e2e.workdir / "fake-bosh"), stemcell_rows=[dict(WARDEN_STEMCELL)])
    with FakeDirector(backend, auth="uaa", client_secret=SECRET) as fake:
        yield fake
        for env in ENVS:
            e2e.invoke("destroy", "--env", env, check=False)


def test_every_env_goes_v2_through_a_v270_director_with_its_named_cloud_config_uploaded_once(
    e2e: E2EProject, delegating: FakeDirector
) -> None:
    point_at(e2e, delegating)
    outputs = {env: e2e.invoke("deploy", "--env", env, timeout=300).stdout for env in ENVS}

    for env in ENVS:
        assert f"on BOSH director at {delegating.url} (manifest v2)" in outputs[env]
        assert f"acceptance test of redis-{env}: passed" in outputs[env]
        deploys = [r for r in records(e2e, env) if r["kind"] in ("deploy", "reset") and r["outcome"] == "succeeded"]
        assert deploys and deploys[-1]["details"]["shape"] == "v2"
        assert deploys[-1]["details"]["cloud_config"]["name"] == f"redis-{env}"
    assert sorted(config_posts(delegating)) == sorted(f"redis-{env}" for env in ENVS)
    compilations = [n for n, c in delegating.latest_configs().items() if "compilation" in (yaml.safe_load(c) or {})]
    assert compilations == ["redis-dev1"]
    assert "compilation left to cloud config 'redis-dev1'" in outputs["dev2"]

    again = e2e.invoke("deploy", "--env", "dev1").stdout
    assert "cloud config redis-dev1: unchanged" in again
    assert sorted(config_posts(delegating)) == sorted(f"redis-{env}" for env in ENVS)  # nothing uploaded again


def test_a_director_before_v270_gets_the_v1_manifest_with_the_same_progress(e2e: E2EProject) -> None:
    local = e2e.invoke("deploy", "--env", "dev2").stdout
    backend = DirectorBackend(LocalDirector(e2e.workdir / "fake-bosh"), stemcell_rows=[dict(WARDEN_STEMCELL)])
    with FakeDirector(backend, auth="uaa", client_secret=SECRET, version="262.3.0 (00000000)") as old:
        point_at(e2e, old, ("dev1",))
        try:
            out = e2e.invoke("deploy", "--env", "dev1").stdout
        finally:
            e2e.invoke("destroy", "--env", "dev1", check=False)
        assert config_posts(old) == []
        posted = [yaml.safe_load(r.body) for r in old.requests if r.method == "POST" and r.path == "/deployments"]
    assert "(manifest v1)" in out and "local director" in local and "(manifest v2)" in local
    assert "jobs" in posted[0] and "instance_groups" not in posted[0]
    assert progress(out) == progress(local)
    seen = lambda env: [  # noqa: E731
        (r["kind"], r["outcome"], r["details"].get("test")) for r in records(e2e, env) if r["kind"] != "destroy"
    ]
    assert seen("dev1") == seen("dev2")
    assert records(e2e, "dev1")[0]["details"]["shape"] == "v1"


# -- the Why list: each one failed before ------------------------------------------------------------


def memory_director(**options: Any) -> FakeDirector:
    backend = MemoryBackend(stemcell_rows=[dict(WARDEN_STEMCELL)], **options)
    backend.release_versions["redis"] = {"12"}
    return FakeDirector(backend, auth="uaa", client_secret=SECRET)


def test_a_v1_manifest_refused_for_compilation_says_so_in_one_line(e2e: E2EProject) -> None:
    with memory_director() as fake:
        point_at(e2e, fake, ("dev1",), manifest="v1")
        line = error_line(e2e.invoke("deploy", "--env", "dev1", check=False))
    assert "refuses v1 manifests; set manifest: v2 (or auto)" in line
    assert "Deployment manifest contains 'compilation' section, but this can only be set in a cloud-config." in line
    [deploy] = [r for r in records(e2e, "dev1") if r["kind"] == "deploy" and r["outcome"] != "started"]
    assert deploy["outcome"] == "failed" and "refuses v1 manifests" in deploy["details"]["reason"]


def test_the_directors_reason_is_in_the_line_and_the_record_and_a_canary_failure_is_not_a_v1_refusal(
    e2e: E2EProject,
) -> None:
    reason = "'redis_z1/0 (5d1c)' is not running after update. Review logs for failed jobs: redis"
    with memory_director(deploy_error=(400007, reason)) as fake:
        point_at(e2e, fake, ("dev1",))
        line = error_line(e2e.invoke("deploy", "--env", "dev1", check=False))
    assert reason in line and "refuses v1" not in line and "manifest: v2" not in line
    [deploy] = [r for r in records(e2e, "dev1") if r["kind"] == "deploy" and r["outcome"] != "started"]
    assert deploy["outcome"] == "failed" and deploy["details"]["reason"] == reason
    password = (e2e.workdir / "secrets" / "dev1.redis-password").read_text().strip()
    assert password not in json.dumps(records(e2e, "dev1"))


def test_an_errand_task_that_errors_writes_a_failed_test_record(e2e: E2EProject) -> None:
    with memory_director() as fake:  # it knows no errand: "Errand 'acceptance-tests' doesn't exist"
        point_at(e2e, fake, ("dev1",), tests=["acceptance"])
        line = error_line(e2e.invoke("deploy", "--env", "dev1", check=False))
        status = json.loads(e2e.invoke("status", "--env", "dev1", "--json").stdout)
    assert "Errand 'acceptance-tests' doesn't exist" in line
    tests = [r for r in records(e2e, "dev1") if r["kind"] == "test"]
    assert [(t["outcome"], t["details"]["test"]) for t in tests] == [("failed", "acceptance")]
    assert "acceptance" in json.dumps(status) and "failed" in json.dumps(status)


# -- bad input: one line, nothing recorded as deployed ----------------------------------------------


def nothing_deployed(e2e: E2EProject, env: str = "dev1") -> bool:
    return not [r for r in records(e2e, env) if r["kind"] == "deploy"]


def test_a_cloud_config_name_clash_with_another_env_is_one_line(e2e: E2EProject) -> None:
    other = yaml.safe_dump({"networks": [{"name": "redis-dev1-redis1", "subnets": []}]})
    backend = MemoryBackend(stemcell_rows=[dict(WARDEN_STEMCELL)])
    with FakeDirector(backend, auth="uaa", client_secret=SECRET, cloud_configs={"redis-dev2": other}) as fake:
        point_at(e2e, fake, ("dev1",))
        line = error_line(e2e.invoke("deploy", "--env", "dev1", check=False))
        assert config_posts(fake) == []
    assert "cloud config 'redis-dev1' defines network 'redis-dev1-redis1', which cloud config 'redis-dev2'" in line
    assert nothing_deployed(e2e)


def test_a_stemcell_the_director_lacks_and_cannot_get_is_one_line(e2e: E2EProject) -> None:
    with FakeDirector(MemoryBackend(), auth="uaa", client_secret=SECRET) as fake:
        point_at(e2e, fake, ("dev1",))
        line = error_line(e2e.invoke("deploy", "--env", "dev1", check=False))
    assert "stemcell bosh-warden-boshlite-ubuntu-trusty-go_agent/latest is not on the director" in line
    assert "add it to stemcells:" in line
    assert nothing_deployed(e2e)


def test_a_missing_stemcell_with_a_url_is_uploaded_first(e2e: E2EProject) -> None:
    backend = MemoryBackend()
    backend.release_versions["redis"] = {"12"}
    stemcells = [{"name": WARDEN_STEMCELL["name"], "version": "latest", "url": STEMCELL_URL, "sha1": "a" * 40}]
    with FakeDirector(backend, auth="uaa", client_secret=SECRET) as fake:
        point_at(e2e, fake, ("dev1",), stemcells=stemcells, tests=[])
        e2e.invoke("deploy", "--env", "dev1")
    assert backend.stemcell_uploads == [(STEMCELL_URL, "a" * 40)]


def test_existing_cloud_config_naming_a_vm_type_the_director_lacks_is_one_line(e2e: E2EProject) -> None:
    ops = yaml.safe_dump({"azs": [{"name": "z1"}], "vm_types": [{"name": "default"}],
                          "networks": [{"name": "private", "subnets": []}]})  # fmt: skip
    backend = MemoryBackend(stemcell_rows=[dict(WARDEN_STEMCELL)])
    with FakeDirector(backend, auth="uaa", client_secret=SECRET, cloud_configs={"default": ops}) as fake:
        existing = {"existing": {"vm_type": "large", "network": "private", "azs": ["z1"]}}
        point_at(e2e, fake, ("dev1",), cloud_config=existing)
        line = error_line(e2e.invoke("deploy", "--env", "dev1", check=False))
        assert config_posts(fake) == []
    assert "cloud_config.existing.vm_type:" in line and "has no vm_type 'large'" in line and "(it has: default)" in line
    assert nothing_deployed(e2e)


def test_static_ips_outside_the_range_on_the_embedded_director_are_one_line(e2e: E2EProject) -> None:
    stub = e2e.root / "dev1" / "pipeline" / "networking-dev1.yml"
    doc = yaml.safe_load(stub.read_text())
    doc["meta"]["subnets"][0]["range"] = f"10.{e2e.net}.99.0/30"  # its static 10.<net>.12.2 now lies outside it
    stub.write_text(yaml.safe_dump(doc))
    done = e2e.invoke("deploy", "--env", "dev1", check=False)
    line = error_line(done)
    assert f"declares static ip '10.{e2e.net}.12.2', which belongs to no subnet" in line
    assert not [r for r in records(e2e, "dev1") if r["kind"] == "deploy" and r["outcome"] == "succeeded"]
    assert not Path(e2e.workdir / "director" / "deployments" / "redis-dev1" / "instances").exists()


# -- the tasks that show the v2 shape -----------------------------------------------------------------


def test_cloud_config_task_shows_then_uploads_only_a_change(e2e: E2EProject) -> None:
    shown = e2e.invoke("cloud-config", "--env", "dev1", "--diff").stdout
    assert f"+     range: 10.{e2e.net}.12.0/30" in shown and "(not uploaded: --diff)" in shown
    assert not (e2e.workdir / "director" / "configs" / "cloud" / "redis-dev1.json").exists()
    uploaded = e2e.invoke("cloud-config", "--env", "dev1").stdout
    assert "cloud config redis-dev1: uploaded to local director" in uploaded
    assert "cloud config redis-dev1: unchanged" in e2e.invoke("cloud-config", "--env", "dev1").stdout


def test_spiff_merge_shape_v2_prints_the_manifest_then_the_cloud_config_redacted(e2e: E2EProject) -> None:
    out = e2e.invoke("spiff-merge", "--env", "dev1", "--shape", "v2").stdout
    manifest, cloud = list(yaml.safe_load_all(out[out.index("\n") + 1 :]))  # after the "upstream:" line
    assert [g["name"] for g in manifest["instance_groups"]] == [
        "redis_leader_z1", "redis_z1", "redis_test_slave_z1", "acceptance-tests"
    ]  # fmt: skip
    assert manifest["instance_groups"][0]["jobs"][0]["properties"]["redis"]["password"] == "<redacted>"
    assert [n["name"] for n in cloud["networks"]] == ["redis-dev1-redis1"]
    password = (e2e.workdir / "secrets" / "dev1.redis-password").read_text().strip()
    assert password not in out
    line = error_line(e2e.invoke("spiff-merge", "--env", "dev1", "--shape", "v3", check=False))
    assert "--shape 'v3': use v1" in line


def test_dry_run_shows_the_cloud_config_change_before_the_manifest_diff(e2e: E2EProject) -> None:
    e2e.invoke("upload", "--env", "dev1")
    first = e2e.invoke("bosh-deploy", "--env", "dev1", "--candidate", "1", "--dry-run").stdout
    assert "cloud config redis-dev1: 84 line(s) added, 0 removed (not uploaded: --diff)" in first
    assert "the manifest diff needs the new cloud config first: `invoke cloud-config --env dev1`" in first
    e2e.invoke("deploy", "--env", "dev1", "--candidate", "1")
    again = e2e.invoke("bosh-deploy", "--env", "dev1", "--candidate", "1", "--dry-run").stdout
    assert "cloud config redis-dev1: unchanged" in again and "would update 0, delete 0, keep 3" in again
