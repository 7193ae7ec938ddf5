"""The v1 → v2 + cloud-config conversion: one test row per rule of ``RULES``, then the four real envs."""

from __future__ import annotations

import copy
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from boshpipe import candidate as cand
from boshpipe.director.groups import read_jobs
from boshpipe.director.local.cloud import merge
from boshpipe.director.v2 import RULES, ExistingNames, convert, defined_names
from boshpipe.errors import DirectorError
from boshpipe.project import Project
from boshpipe.steps import Context, build_candidate, compose
from boshpipe.ui import Reporter

REPO = Path(__file__).resolve().parents[2]

V1: dict[str, Any] = {
    "name": "d",
    "director_uuid": "uuid-1",
    "meta": {"scratch": 1},
    "releases": [{"name": "redis", "version": "12"}],
    "update": {"canaries": 1, "max_in_flight": 2},
    "tags": {"team": "data"},
    "properties": {"redis": {"port": 6380, "password": "pw"}},
    "compilation": {"workers": 2, "network": "n1", "reuse_compilation_vms": True, "cloud_properties": {"c": 1}},
    "networks": [
        {"name": "n1", "type": "manual",
         "subnets": [{"range": "10.0.0.0/29", "gateway": "10.0.0.1", "reserved": ["10.0.0.2"],
                      "static": ["10.0.0.3"], "dns": ["10.0.0.9"], "cloud_properties": {"k": "v"}}]},
    ],
    "resource_pools": [
        {"name": "small", "network": "n1", "size": 2, "stemcell": {"name": "st", "version": "latest"},
         "cloud_properties": {"instance_type": "t"}},
    ],
    "disk_pools": [{"name": "fast", "disk_size": 1024, "cloud_properties": {"type": "ssd"}}],
    "jobs": [
        {"name": "a", "instances": 1, "templates": [{"name": "redis", "release": "redis"}], "resource_pool": "small",
         "persistent_disk": 100, "networks": [{"name": "n1", "static_ips": ["10.0.0.3"], "default": ["dns"]}],
         "properties": {"redis": {"master": "10.0.0.3", "port": 6381}}, "update": {"canaries": 2}, "env": {"e": 1}},
        {"name": "b", "instances": 1, "lifecycle": "errand", "template": "redis", "resource_pool": "small",
         "persistent_disk_pool": "fast", "networks": [{"name": "n1", "static_ips": None}]},
    ],
}  # fmt: skip


def groups(out: Any) -> list[dict[str, Any]]:
    return list(out.manifest["instance_groups"])


Extract = Callable[[Any], Any]
# (RULES row's v1 column, what to look at in the conversion, what it must be)
CASES: list[tuple[str, Extract, Any]] = [
    ("jobs[]", lambda o: [g["name"] for g in groups(o)], ["a", "b"]),
    ("jobs[].templates / template", lambda o: [[(j["name"], j["release"]) for j in g["jobs"]] for g in groups(o)],
     [[("redis", "redis")], [("redis", "redis")]]),
    ("properties (global) + jobs[].properties", lambda o: [g["jobs"][0]["properties"] for g in groups(o)],
     [{"redis": {"port": 6381, "password": "pw", "master": "10.0.0.3"}}, {"redis": {"port": 6380, "password": "pw"}}]),
    ("jobs[].resource_pool", lambda o: [(g["vm_type"], g["stemcell"]) for g in groups(o)],
     [("d-small", "default"), ("d-small", "default")]),
    ("resource_pools[].stemcell", lambda o: o.manifest["stemcells"],
     [{"alias": "default", "name": "st", "version": "latest"}]),
    ("jobs[].persistent_disk: N", lambda o: groups(o)[0].get("persistent_disk"), 100),
    ("jobs[].persistent_disk_pool: P", lambda o: groups(o)[1].get("persistent_disk_type"), "d-fast"),
    ("(none)", lambda o: [g["azs"] for g in groups(o)], [["d-z1"], ["d-z1"]]),
    ("jobs[].networks (static_ips, default)", lambda o: [g["networks"] for g in groups(o)],
     [[{"name": "d-n1", "static_ips": ["10.0.0.3"], "default": ["dns"]}], [{"name": "d-n1"}]]),
    ("jobs[].instances, lifecycle, update, env",
     lambda o: [(g["instances"], g.get("lifecycle"), g.get("update"), g.get("env")) for g in groups(o)],
     [(1, None, {"canaries": 2}, {"e": 1}), (1, "errand", None, None)]),
    ("name, releases, update, tags, variables, features, addons",
     lambda o: {k: o.manifest[k] for k in ("name", "releases", "update", "tags")},
     {k: V1[k] for k in ("name", "releases", "update", "tags")}),
    ("director_uuid, meta", lambda o: sorted(o.manifest), ["instance_groups", "name", "releases", "stemcells", "tags",
                                                          "update"]),
    ("resource_pools[] (name, cloud_properties)", lambda o: o.cloud_config["vm_types"],
     [{"name": "d-small", "cloud_properties": {"instance_type": "t"}}]),
    ("disk_pools[] (name, disk_size, cloud_properties)", lambda o: o.cloud_config["disk_types"],
     [{"name": "d-fast", "disk_size": 1024, "cloud_properties": {"type": "ssd"}}]),
    ("networks[] (type, subnets: range, gateway, reserved, static, dns, cloud_properties)",
     lambda o: o.cloud_config["networks"],
     [{"name": "d-n1", "type": "manual",
       "subnets": [{"range": "10.0.0.0/29", "gateway": "10.0.0.1", "reserved": ["10.0.0.2"], "static": ["10.0.0.3"],
                    "dns": ["10.0.0.9"], "cloud_properties": {"k": "v"}, "azs": ["d-z1"]}]}]),
    ("compilation (workers, network, reuse_compilation_vms, cloud_properties)", lambda o: o.cloud_config["compilation"],
     {"workers": 2, "network": "d-n1", "reuse_compilation_vms": True, "cloud_properties": {"c": 1}, "az": "d-z1"}),
    ("(none)", lambda o: o.cloud_config["azs"], [{"name": "d-z1", "cloud_properties": {}}]),
]  # fmt: skip


@pytest.mark.parametrize(("rule", "extract", "expected"), CASES, ids=[f"{i}-{c[0][:40]}" for i, c in enumerate(CASES)])
def test_each_conversion_rule(rule: str, extract: Extract, expected: Any) -> None:
    assert extract(convert(copy.deepcopy(V1))) == expected


def test_every_rule_has_a_case_and_is_in_the_architecture_page() -> None:
    assert {row[0] for row in RULES} == {case[0] for case in CASES}
    page = (REPO / "docs" / "architecture.md").read_text()
    for v1, v2, where in RULES:
        assert f"| {v1} | {v2} | {where} |" in page, f"docs/architecture.md lacks the rule row for {v1}"


def test_conversion_is_deterministic_and_leaves_its_input_alone() -> None:
    before = copy.deepcopy(V1)
    assert convert(V1) == convert(V1)
    assert before == V1


def test_existing_names_are_used_and_no_cloud_config_is_made() -> None:
    out = convert(V1, ExistingNames("default", "private", ("z1", "z2"), "ssd"))
    assert out.cloud_config is None
    a, b = groups(out)
    assert (a["vm_type"], a["networks"][0]["name"], a["azs"], b["persistent_disk_type"]) == (
        "default",
        "private",
        ["z1", "z2"],
        "ssd",
    )


def test_existing_without_a_disk_type_refuses_a_disk_pool() -> None:
    with pytest.raises(DirectorError, match=r"job 'b' uses persistent_disk_pool 'fast'.*add disk_type"):
        convert(V1, ExistingNames("default", "private", ("z1",)))


def test_existing_names_one_network_for_all() -> None:
    two = copy.deepcopy(V1)
    two["networks"].append({"name": "n2", "subnets": []})
    with pytest.raises(DirectorError, match=r"maps every network to 'private', and the manifest has 2 \(n1, n2\)"):
        convert(two, ExistingNames("default", "private", ("z1",), "ssd"))


# -- the four envs ------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def composed(upstream_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, Any]]:
    project = Project.load(REPO)
    project = Project(**{**project.__dict__, "workdir": tmp_path_factory.mktemp("work")})
    out = {}
    for env in project.environments:
        ctx = Context.open(env, Reporter(quiet=True), project)
        candidate = cand.read(build_candidate(ctx, str(upstream_dir)), None)
        out[env] = compose(ctx, candidate).doc
    return out


@pytest.mark.parametrize("env", ["dev1", "dev2", "staging", "production"])
def test_an_envs_v2_form_is_its_v1_form(env: str, composed: dict[str, dict[str, Any]]) -> None:
    v1 = composed[env]
    out = convert(v1)
    prefix = v1["name"]
    old, new = read_jobs(v1), read_jobs(out.manifest)
    same = lambda j: (j.name, j.templates, j.instances, j.properties, j.persistent_disk, j.update, j.errand)  # noqa: E731
    assert [same(j) for j in new] == [same(j) for j in old]
    assert [[r.static_ips for r in j.networks] for j in new] == [[r.static_ips for r in j.networks] for j in old]
    assert [[r.name for r in j.networks] for j in new] == [[f"{prefix}-{r.name}" for r in j.networks] for j in old]
    [network] = out.cloud_config["networks"] if out.cloud_config else []
    assert [{k: v for k, v in s.items() if k != "azs"} for s in network["subnets"]] == v1["networks"][0]["subnets"]
    assert all(s["azs"] == [f"{prefix}-z1"] for s in network["subnets"])
    assert out.manifest["stemcells"] == [
        {"alias": "default", "name": "bosh-warden-boshlite-ubuntu-trusty-go_agent", "version": "latest"}
    ]
    for names in defined_names(out.cloud_config or {}).values():
        assert all(name.startswith(f"{prefix}-") for name in names)
    assert not {"jobs", "networks", "resource_pools", "compilation", "properties"} & set(out.manifest)


def test_the_four_cloud_configs_merge_without_a_clash(composed: dict[str, dict[str, Any]]) -> None:
    import yaml

    configs = {}
    for i, (env, doc) in enumerate(sorted(composed.items())):
        cloud = dict(convert(doc).cloud_config or {})
        if i:
            cloud.pop("compilation")  # one config only may carry it (the chain leaves it out of later ones)
        configs[env] = yaml.safe_dump(cloud)
    merged = merge(configs)
    assert len(merged.names("networks")) == 4 and len(merged.names("vm_types")) == 4
