"""Generate a large BOSH v1 manifest template and three stubs for benchmarking the spiff engine.

The shape follows real cf/redis templates: jobs merged by name across three stubs, ``(( merge ||
default ))`` everywhere, references between jobs (static IPs of one job in another's properties),
arithmetic on ports, ``static_ips(...)`` per network and ``(( auto ))`` resource pool sizes.
``--jobs 200`` gives about 2000 job properties (10 per job) plus global properties.

Usage: python bench/spiff/generate.py OUTDIR [--jobs 200]
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

import yaml

NETWORKS = 4
POOLS = 8
PROPERTIES_PER_JOB = 10


def template(jobs: int) -> dict[str, Any]:
    networks = []
    for net in range(NETWORKS):
        networks.append(
            {
                "name": f"net{net}",
                "type": "manual",
                "subnets": [
                    {
                        "range": f"10.{net}.0.0/16",
                        "gateway": f"10.{net}.0.1",
                        "reserved": [f"10.{net}.0.2 - 10.{net}.0.9"],
                        "static": [f"10.{net}.1.0 - 10.{net}.4.255"],
                        "cloud_properties": {"subnet": f"(( meta.subnets.net{net} ))"},
                    }
                ],
            }
        )
    pools = [
        {
            "name": f"pool{pool}",
            "network": f"net{pool % NETWORKS}",
            "size": "(( auto ))",
            "stemcell": "(( meta.stemcell ))",
            "cloud_properties": {"instance_type": '(( merge || "m1.small" ))', "zone": "(( meta.zone ))"},
        }
        for pool in range(POOLS)
    ]
    job_list = []
    for index in range(jobs):
        net = index % NETWORKS
        slot = index // NETWORKS
        properties: dict[str, Any] = {
            "port": f"(( meta.base_port + {index} ))",
            "password": "(( meta.password ))",
            "url": (
                f'(( "http://" jobs.job{index}.networks.net{net}.static_ips.[0] ":" '
                f"meta.base_port + {index} ))"
            ),
            "label": f'(( merge || "job-{index}" ))',
            "timeout": "(( merge || 30 ))",
            "workers": f"(( {index % 7 + 1} * 2 ))",
            "zone": "(( meta.zone ))",
            "enabled": True,
            "tags": [f"t{index % 5}", f"g{index % 3}"],
        }
        if index > 0:
            prev = index - 1
            properties["peer"] = f"(( jobs.job{prev}.networks.net{prev % NETWORKS}.static_ips.[0] ))"
        else:
            properties["peer"] = "(( merge || nil ))"
        job_list.append(
            {
                "name": f"job{index}",
                "templates": [{"name": f"tmpl{index % 11}", "release": "(( meta.release ))"}],
                "instances": "(( merge || 1 ))",
                "resource_pool": f"pool{index % POOLS}",
                "persistent_disk": "(( merge || 1024 ))",
                "networks": [
                    {"name": f"net{net}", "static_ips": f"(( static_ips({2 * slot}, {2 * slot + 1}) ))"}
                ],
                "properties": properties,
                "update": {"max_in_flight": "(( merge || 1 ))"},
            }
        )
    return {
        "name": "(( merge ))",
        "director_uuid": "(( merge ))",
        "releases": "(( merge ))",
        "meta": {
            "zone": '(( merge || "z1" ))',
            "password": "(( merge ))",
            "base_port": "(( merge || 7000 ))",
            "release": '(( merge || "app" ))',
            "stemcell": {"name": '(( merge || "bosh-stemcell" ))', "version": '(( merge || "latest" ))'},
            "subnets": "(( merge ))",
        },
        "compilation": {"workers": 4, "network": "net0", "cloud_properties": {"zone": "(( meta.zone ))"}},
        "update": {"canaries": 1, "max_in_flight": "(( merge || 4 ))", "canary_watch_time": "1000-30000"},
        "networks": networks,
        "resource_pools": pools,
        "jobs": job_list,
        "properties": {
            "global": {f"key{k}": f'(( merge || "value{k}" ))' for k in range(jobs)},
            "endpoints": {f"job{k}": f"(( jobs.job{k}.properties.url ))" for k in range(0, jobs, 4)},
            "domain": '(( merge || "example.com" ))',
            "api": '(( "api." properties.domain ))',
        },
    }


def stubs(jobs: int) -> list[dict[str, Any]]:
    stub1 = {
        "meta": {
            "zone": "z2",
            "base_port": 8000,
            "subnets": {f"net{n}": f"subnet-{n}" for n in range(NETWORKS)},
        },
        "jobs": [
            {"name": f"job{i}", "instances": 2, "properties": {"label": f"stub1-{i}"}}
            for i in range(0, jobs, 3)
        ],
        "properties": {"global": {f"key{k}": f"stub1-{k}" for k in range(0, jobs, 2)}},
    }
    stub2 = {
        "meta": {"password": '(( merge || "pw" ))', "release": "redis"},
        "jobs": [
            {"name": f"job{i}", "persistent_disk": 4096, "update": {"max_in_flight": 3}}
            for i in range(1, jobs, 3)
        ],
        "resource_pools": [
            {"name": f"pool{p}", "cloud_properties": {"instance_type": "m3.large"}} for p in range(POOLS)
        ],
        "properties": {"domain": "bench.example.org"},
    }
    stub3 = {
        "name": "bench",
        "director_uuid": "00000000-0000-0000-0000-000000000000",
        "releases": [{"name": "redis", "version": "latest"}],
        "meta": {"password": "s3cret"},
        "jobs": [
            {"name": f"job{i}", "instances": 1, "properties": {"timeout": 60}} for i in range(2, jobs, 3)
        ],
        "update": {"max_in_flight": 10},
    }
    return [stub1, stub2, stub3]


def write(outdir: Path, jobs: int) -> list[Path]:
    """Write template.yml and stub1..3.yml into ``outdir``; returns the paths in merge order."""
    outdir.mkdir(parents=True, exist_ok=True)
    documents = [("template.yml", template(jobs))] + [
        (f"stub{n}.yml", stub) for n, stub in enumerate(stubs(jobs), start=1)
    ]
    paths = []
    for name, document in documents:
        path = outdir / name
        path.write_text(yaml.safe_dump(document, default_flow_style=False, sort_keys=False))
        paths.append(path)
    return paths


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("outdir", type=Path)
    parser.add_argument("--jobs", type=int, default=200)
    args = parser.parse_args()
    for path in write(args.outdir, args.jobs):
        print(path)


if __name__ == "__main__":
    main()
