"""Manifests and helpers for tests that run real redis-server processes through the local director.

Addresses live in 10.253/16 and 10.254/16: no env folder uses them and the e2e tests sit on 10.251/16,
so these tests can run beside a deployed dev1 or an e2e run. Each test gets its own state directory;
``cleanup`` deletes whatever a test left deployed and proves no process survived.
"""

from __future__ import annotations

import copy
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import redis
import yaml
from redis.backoff import NoBackoff
from redis.retry import Retry

from boshpipe.director import Event
from boshpipe.director.local import LocalDirector
from boshpipe.director.local.redisproc import processes_under
from boshpipe.director.local.state import StateDir

PASSWORD = "s3cr3t-Pa55!"  # distinctive, so a leak is easy to spot
REDIS = [{"name": "redis", "release": "redis"}]


def v1_manifest(
    name: str,
    net: str,
    *,
    replicas: int = 2,
    test_slaves: int = 0,
    password: str | None = PASSWORD,
    disk: int = 0,
    port: int | None = None,
    watch: str = "100-5000",
) -> dict[str, Any]:
    """What upstream deployment.yml + jobs.yml + an infrastructure template merge into (v1).

    ``net`` is a /24 prefix like ``10.253.1``: leader on .2, test slave on .3, replicas dynamic.
    """
    redis_props: dict[str, Any] = {} if password is None else {"password": password}
    leader = f"{net}.2"
    jobs: list[dict[str, Any]] = [
        {
            "name": "redis_leader_z1",
            "templates": REDIS,
            "instances": 1,
            "resource_pool": "small_z1",
            "persistent_disk": disk,
            "networks": [{"name": "redis1", "static_ips": [leader]}],
            "properties": {"redis": dict(redis_props), "network": "redis1"},
        },
        {
            "name": "redis_z1",
            "templates": REDIS,
            "instances": replicas,
            "resource_pool": "small_z1",
            "persistent_disk": disk,
            "update": {"canaries": 1},
            "networks": [{"name": "redis1", "static_ips": None}],
            "properties": {"redis": {**redis_props, "master": leader}, "network": "redis1"},
        },
        {
            "name": "redis_test_slave_z1",
            "templates": REDIS,
            "instances": test_slaves,
            "resource_pool": "small_z1",
            "persistent_disk": disk,
            "networks": [{"name": "redis1", "static_ips": [f"{net}.3"] if test_slaves else None}],
            "properties": {"redis": {**redis_props, "master": leader}, "network": "redis1"},
        },
        {
            "name": "acceptance-tests",
            "templates": [{"name": "acceptance-tests", "release": "redis"}],
            "instances": 1,
            "lifecycle": "errand",
            "resource_pool": "small_z1",
            "networks": [{"name": "redis1"}],
            "properties": {"redis": {**redis_props, "master": leader, "slave": f"{net}.3"}},
        },
    ]
    manifest: dict[str, Any] = {
        "name": name,
        "director_uuid": "PLACEHOLDER-DIRECTOR-UUID",
        "releases": [{"name": "redis", "version": "latest"}],
        "compilation": {"workers": 1, "network": "redis1", "cloud_properties": {}},
        "update": {
            "canaries": 1,
            "max_in_flight": 1,
            "canary_watch_time": watch,
            "update_watch_time": watch,
        },
        "resource_pools": [{"name": "small_z1", "network": "redis1", "stemcell": {"name": "s", "version": 1}}],
        "networks": [
            {
                "name": "redis1",
                "subnets": [
                    {
                        "range": f"{net}.0/28",
                        "gateway": f"{net}.1",
                        "reserved": [f"{net}.4 - {net}.5"],
                        "static": [f"{net}.2 - {net}.3"],
                        "cloud_properties": {},
                    }
                ],
            }
        ],
        "properties": {"redis": {} if port is None else {"port": port}},
        "jobs": jobs,
    }
    return manifest


def dump(manifest: dict[str, Any]) -> str:
    return yaml.safe_dump(manifest, sort_keys=True, default_flow_style=False)


def job(manifest: dict[str, Any], name: str) -> dict[str, Any]:
    found: dict[str, Any] = next(j for j in manifest["jobs"] if j["name"] == name)
    return found


def changed(manifest: dict[str, Any], edit: Callable[[dict[str, Any]], None]) -> dict[str, Any]:
    out = copy.deepcopy(manifest)
    edit(out)
    return out


class Events(list[Event]):
    """An on_event sink that keeps what it is given."""

    def __call__(self, event: Event) -> None:
        self.append(event)


def connect(address: str, port: int = 6379, password: str | None = PASSWORD) -> redis.Redis:
    """No retries: redis-py's default backs off for seconds before reporting a refused connection."""
    return redis.Redis(
        host=address,
        port=port,
        password=password,
        decode_responses=True,
        socket_timeout=2,
        retry=Retry(NoBackoff(), 0),
    )


def run_ids(director: LocalDirector, deployment: str) -> dict[str, str]:
    """Each instance's redis run_id: it changes exactly when the process was restarted."""
    out = {}
    for inst in director.instances(deployment):
        with connect(inst.address, int(inst.properties["redis"]["port"])) as conn:
            out[f"{inst.job}/{inst.index}"] = str(conn.info("server")["run_id"])
    return out


def wait_for(condition: Callable[[], bool], timeout: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.005)
    return condition()


def cleanup(root: Path) -> None:
    """Delete every deployment the test left behind, then prove no redis-server of ours survives."""
    director = LocalDirector(root)
    for name in StateDir(root).names():
        assert director.delete_deployment(name, lambda e: None).ok
    assert processes_under(root) == [], "redis-server processes survived the test"
