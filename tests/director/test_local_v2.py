"""The embedded director on the v2 path: the same redis-server processes as v1, and a director's refusals.

dev1's real composition (upstream templates + this project's stubs) is deployed first as the v1
document, then converted and redeployed as v2 + its named cloud config: a director that runs the
two forms the same way restarts nothing and reports the same instances, addresses, roles and
properties. Addresses are moved to 10.253.20-23.x (the director tests' range, apart from envs).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import redis
import yaml

from boshpipe import candidate as cand
from boshpipe.director import Event
from boshpipe.director.local import LocalDirector
from boshpipe.director.local.redisproc import client
from boshpipe.director.v2 import convert
from boshpipe.errors import DirectorError
from boshpipe.project import Project
from boshpipe.steps import Context, build_candidate, compose
from boshpipe.ui import Reporter

REPO = Path(__file__).resolve().parents[2]
PASSWORD = "local-v2-password-7"


class Events(list[Event]):
    def __call__(self, event: Event) -> None:
        self.append(event)


def dump(doc: dict[str, Any]) -> str:
    return yaml.safe_dump(doc, sort_keys=True)


@pytest.fixture
def director(tmp_path: Path) -> Iterator[LocalDirector]:
    made = LocalDirector(tmp_path / "director")
    yield made
    for name in made._state.names():
        made.delete_deployment(name, Events())


@pytest.fixture(scope="module")
def dev1(upstream_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """dev1's composition, with 10.244.12.x moved to 10.253.20.x and a known password."""
    base = Project.load(REPO)
    project = Project(**{**base.__dict__, "workdir": tmp_path_factory.mktemp("work")})
    ctx = Context.open("dev1", Reporter(quiet=True), project)
    text = compose(ctx, cand.read(build_candidate(ctx, str(upstream_dir)), None)).text
    doc: dict[str, Any] = yaml.safe_load(text.replace("10.244.12.", "10.253.20."))
    doc["name"] = "lt-dev1"
    for job in doc["jobs"]:
        job["properties"]["redis"]["password"] = PASSWORD
    return doc


def snapshot(director: LocalDirector, name: str) -> list[tuple[Any, ...]]:
    out = []
    for i in director.instances(name):
        conn = client(i.address, 6379, PASSWORD, timeout=2)
        try:
            role = conn.info("replication")["role"]
        finally:
            conn.close()
        out.append((i.job, i.index, i.ips, i.address, i.state, i.properties, role))
    return out


def test_v2_form_runs_exactly_what_the_v1_form_runs(director: LocalDirector, dev1: dict[str, Any]) -> None:
    first = director.deploy(dump(dev1), Events())
    assert first.ok, first.result
    before = snapshot(director, "lt-dev1")
    pids = {k: r["pid"] for k, r in director._state.load("lt-dev1")["instances"].items()}  # type: ignore[index]

    converted = convert(dev1)
    assert converted.cloud_config is not None
    director.update_cloud_config("lt-dev1", dump(converted.cloud_config))
    second = director.deploy(dump(converted.manifest), Events())

    assert second.ok, second.result
    assert "0 updated" in second.result  # same rendered configs: no process touched
    assert snapshot(director, "lt-dev1") == before
    assert {k: r["pid"] for k, r in director._state.load("lt-dev1")["instances"].items()} == pids  # type: ignore[index]
    assert [(b[0], b[3], b[6]) for b in before] == [
        ("redis_leader_z1", "127.253.20.2", "master"),
        ("redis_z1", "127.253.20.10", "slave"),
        ("redis_test_slave_z1", "127.253.20.6", "slave"),
    ]


def test_v2_errand_runs_against_the_v2_deployment(director: LocalDirector, dev1: dict[str, Any]) -> None:
    converted = convert(dev1)
    director.update_cloud_config("lt-dev1", dump(converted.cloud_config or {}))
    assert director.deploy(dump(converted.manifest), Events()).ok
    assert director.run_errand("lt-dev1", "acceptance-tests", Events()).exit_code == 0


def _refused(director: LocalDirector, manifest: dict[str, Any], cloud: dict[str, Any]) -> str:
    director.update_cloud_config(str(manifest["name"]), dump(cloud))
    events = Events()
    task = director.deploy(dump(manifest), events)
    assert task.state == "error" and task.description == "create deployment"
    assert events[-1].error == task.result and "\n" not in task.result
    assert director.deployed_manifest(str(manifest["name"])) is None  # nothing deployed, nothing started
    return task.result


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda m, c: m["instance_groups"][0].update(vm_type="huge"),
         "Instance group 'redis_leader_z1' references an unknown vm type 'huge'"),
        (lambda m, c: m["instance_groups"][1]["networks"][0].update(name="nope"),
         "Instance group 'redis_z1' references an unknown network 'nope'"),
        (lambda m, c: m["instance_groups"][0].update(azs=["z9"]),
         "Instance group 'redis_leader_z1' references unknown availability zone 'z9'"),
        (lambda m, c: m["instance_groups"][0].update(persistent_disk_type="ssd"),
         "Instance group 'redis_leader_z1' references an unknown disk type 'ssd'"),
        (lambda m, c: m["instance_groups"][0]["networks"][0].update(static_ips=["10.253.20.10"]),
         "Instance group 'redis_leader_z1' with network 'lt-dev1-redis1' declares static ip '10.253.20.10',"
         " which belongs to no subnet"),
        (lambda m, c: m["instance_groups"][2]["networks"][0].update(static_ips=["10.253.20.2"]),
         "Failed to reserve IP '10.253.20.2' for instance 'redis_test_slave_z1/0': already reserved by instance"
         " 'redis_leader_z1/0' of this deployment"),
        (lambda m, c: m["instance_groups"][0]["networks"][0].update(static_ips=["10.253.20.2", "10.253.20.6"]),
         "Instance group 'redis_leader_z1' has 1 instances but was allocated 2 static IPs in network 'lt-dev1-redis1'"),
        (lambda m, c: m.pop("update"),
         "Required property 'update' was not specified in object (deployment manifest)"),
        (lambda m, c: m.update(compilation={"workers": 1}),
         "Deployment manifest contains 'compilation' section, but this can only be set in a cloud-config."),
        (lambda m, c: m["instance_groups"][0].update(resource_pool="small_z1"),
         "Instance groups no longer support resource_pool, please use 'vm_type' or 'vm_resources' keys"),
    ],
    ids=["vm_type", "network", "az", "disk_type", "static-outside", "static-twice", "static-count", "update",
         "v1-compilation", "v1-resource_pool"],
)  # fmt: skip
def test_v2_manifest_refused_in_the_directors_words(
    director: LocalDirector, dev1: dict[str, Any], change: Any, message: str
) -> None:
    converted = convert(dev1)
    change(converted.manifest, converted.cloud_config)
    assert _refused(director, converted.manifest, converted.cloud_config or {}) == message


def test_a_cloud_config_clashing_with_another_is_refused(director: LocalDirector, dev1: dict[str, Any]) -> None:
    cloud = convert(dev1).cloud_config or {}
    director.update_cloud_config("lt-dev1", dump(cloud))
    other = {"vm_types": [{"name": "lt-dev1-small_z1"}]}
    clash = r"Duplicate vm type name 'lt-dev1-small_z1' in cloud configs 'lt-dev1' and 'ops'"
    with pytest.raises(DirectorError, match=clash):
        director.update_cloud_config("ops", dump(other))
    assert set(director.cloud_configs()) == {"lt-dev1"}
    assert director.diff_cloud_config("lt-dev1", dump(cloud)) == []


def test_v1_manifests_still_deploy_on_the_local_director(director: LocalDirector, dev1: dict[str, Any]) -> None:
    assert director.info().major >= 270
    assert director.deploy(dump(dev1), Events()).ok
    with pytest.raises(redis.AuthenticationError):
        client("127.253.20.2", 6379, None, timeout=2).ping()
