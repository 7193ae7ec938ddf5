"""The real 2015 redis-boshrelease composition: deployment.yml jobs.yml infrastructure-warden.yml stub."""

from __future__ import annotations

from pathlib import Path

import pytest

from boshpipe.spiff import merge_files


@pytest.mark.shared
def test_upstream_warden_composition(upstream_dir: Path) -> None:
    templates = upstream_dir / "templates"
    manifest = merge_files(
        templates / "deployment.yml",
        templates / "jobs.yml",
        templates / "infrastructure-warden.yml",
        templates / "stub.yml",
    )
    jobs = {job["name"]: job for job in manifest["jobs"]}
    assert list(jobs) == ["redis_leader_z1", "redis_z1", "redis_test_slave_z1", "acceptance-tests"]
    leader_ip = jobs["redis_leader_z1"]["networks"][0]["static_ips"][0]
    assert leader_ip == "10.244.2.2"
    assert jobs["redis_z1"]["properties"]["redis"]["master"] == leader_ip
    assert jobs["redis_z1"]["instances"] == 2  # meta.slaves from the stub
    assert jobs["acceptance-tests"]["properties"]["redis"]["slave"] == "10.244.2.6"
    assert jobs["redis_leader_z1"]["properties"]["redis"]["password"] == "red!s"
    assert manifest["director_uuid"] == "PLACEHOLDER-DIRECTOR-UUID"
    assert manifest["meta"]["stemcell"] == {"name": "STEMCELL", "version": "latest"}
    assert (
        "static_ips" not in jobs["redis_z1"]["networks"][0]
        or jobs["redis_z1"]["networks"][0]["static_ips"] is None
    )
