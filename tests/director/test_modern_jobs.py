"""Release v15's jobs as the local director reads and plans them (pure: no process is started)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from boshpipe.director.groups import read_jobs
from boshpipe.director.local.net import Network, read_networks
from boshpipe.director.local.plan import plan
from boshpipe.errors import DirectorError

CLOUD = {"networks": [{"name": "n", "type": "manual", "subnets": [{"range": "10.253.90.0/27", "azs": ["z"]}]}]}


def manifest(redis_props: dict[str, Any], *, sentinel: bool = False, version: str = "15.3.5") -> dict[str, Any]:
    jobs: list[dict[str, Any]] = [{"name": "redis", "release": "redis", "properties": redis_props}]
    if sentinel:
        jobs.append({"name": "redis-sentinel", "release": "redis", "properties": {"sentinel": {"quorum": 2}}})
    return {
        "name": "mj",
        "releases": [{"name": "redis", "version": version}],
        "instance_groups": [
            {"name": "redis", "instances": 3, "azs": ["z"], "networks": [{"name": "n"}], "jobs": jobs,
             "persistent_disk": 1024},
            {"name": "sanity-tests", "instances": 1, "lifecycle": "errand", "azs": ["z"], "networks": [{"name": "n"}],
             "jobs": [{"name": "sanity-tests", "release": "redis"}]},
        ],
        "update": {"canaries": 0, "max_in_flight": 1, "canary_watch_time": 1000, "update_watch_time": 1000},
    }  # fmt: skip


def networks() -> dict[str, Network]:
    return read_networks(CLOUD)


def test_bootstrap_instance_is_the_master(tmp_path: Path) -> None:
    placed = plan(manifest({"password": "p" * 20, "port": 6380}), tmp_path, {}, {}, networks())
    by_key = {p.key: p for p in placed.instances}
    assert by_key["redis/0"].master is None and by_key["redis/0"].port == 6380
    assert by_key["redis/1"].master == (by_key["redis/0"].address, 6380)
    assert by_key["redis/2"].master == (by_key["redis/0"].address, 6380)
    errand = next(j for j in read_jobs(manifest({"password": "p" * 20})) if j.errand)
    assert errand.redis().master is not None and errand.redis().password == "p" * 20


def test_replication_false_makes_every_instance_standalone(tmp_path: Path) -> None:
    props = {"password": "p" * 20, "redis": {"replication": False}}
    placed = plan(manifest(props), tmp_path, {}, {}, networks())
    assert [p.master for p in placed.instances] == [None, None, None]


def test_sentinels_watch_the_bootstrap_master(tmp_path: Path) -> None:
    placed = plan(manifest({"password": "p" * 20}, sentinel=True), tmp_path, {}, {}, networks())
    sentinels = [p for p in placed.instances if p.sentinel is not None]
    master = next(p for p in placed.instances if p.key == "redis/0")
    assert [p.key for p in sentinels] == [f"redis:redis-sentinel/{i}" for i in range(3)]
    assert {p.sentinel for p in sentinels} == {(master.address, 6379, 2)} and {p.port for p in sentinels} == {26379}
    assert all("requirepass" in p.rendered() and "sentinel monitor mymaster" in p.rendered() for p in sentinels)


@pytest.mark.parametrize(
    ("props", "needle"),
    [
        ({"password": "p" * 20, "redis": {"raw_config": "x"}}, "'redis.raw_config' is not modelled"),
        ({"password": "p" * 20, "consul": {"service": {"name": "x"}}}, "'consul' is not modelled"),
    ],
)
def test_a_property_it_does_not_model_is_refused(props: dict[str, Any], needle: str) -> None:
    with pytest.raises(DirectorError, match=needle) as caught:
        read_jobs(manifest(props))
    assert "\n" not in str(caught.value)


def test_release_12_jobs_are_the_2015_model() -> None:
    job = read_jobs(manifest({"redis": {"password": "p" * 20, "port": 6379}}, version="12"))[0]
    assert not job.modern and job.redis().password == "p" * 20
