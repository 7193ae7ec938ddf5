"""env.yml loading: the committed envs load, and every broken setting names its file and key."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from boshpipe.environments import load_env, parse_env
from boshpipe.errors import ConfigError
from boshpipe.project import Project

ENVS = ("dev1", "dev2", "staging", "production")


def test_committed_envs_load(repo_root: Path) -> None:
    project = Project.load(repo_root)
    assert project.environments == ENVS
    loaded = {name: load_env(project, name) for name in ENVS}
    assert {env.deployment for env in loaded.values()} == {f"redis-{name}" for name in ENVS}
    assert loaded["dev1"].rules.open and loaded["dev2"].rules.open
    assert loaded["staging"].rules.succeeded_in == ("dev1", "dev2")
    assert loaded["staging"].rules.mode == "any_of"
    assert loaded["staging"].rules.reset_to == "production"
    assert loaded["production"].rules.succeeded_in == ("staging",)
    assert "integration" in loaded["production"].rules.tests
    assert loaded["production"].rules.started_from_current


def test_address_ranges_do_not_overlap(repo_root: Path) -> None:
    import ipaddress

    ranges = {}
    for name in ENVS:
        stub = yaml.safe_load((repo_root / name / "pipeline" / f"networking-{name}.yml").read_text())
        subnets = [ipaddress.ip_network(s["range"]) for s in stub["meta"]["subnets"]]
        assert len(subnets) == 8 and all(s.prefixlen == 30 for s in subnets)
        ranges[name] = subnets
    for a in ENVS:
        for b in ENVS:
            if a < b:
                assert not any(x.overlaps(y) for x in ranges[a] for y in ranges[b]), (a, b)


def test_unknown_env_names_the_known_ones(repo_root: Path) -> None:
    with pytest.raises(
        ConfigError, match=r"unknown env 'dev3': known envs are dev1, dev2, staging, production"
    ):
        load_env(Project.load(repo_root), "dev3")


def _valid() -> dict:
    return {
        "deployment": "redis-x",
        "upstream": {"url": "file:///x", "ref": "main"},
        "templates": ["upstream:templates/deployment.yml", "generated"],
        "releases": [{"name": "redis", "version": 12}],
        "accepts": "open",
    }


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda d: d.pop("deployment"), r"env\.yml: deployment: missing"),
        (lambda d: d.update(upstream="x"), r"env\.yml: upstream: expected a mapping, got a string"),
        (lambda d: d["upstream"].pop("ref"), r"env\.yml: upstream\.ref: missing"),
        (lambda d: d.update(templates=["nowhere:x.yml"]), r"templates\[0\]: unknown source 'nowhere'"),
        (
            lambda d: d.update(templates=["env:../x.yml"]),
            r"templates\[0\]: '\.\./x\.yml' must be a relative path",
        ),
        (lambda d: d.update(templates=["generated"]), r"templates\[0\]: the first entry must be a template file"),
        (lambda d: d["releases"][0].pop("version"), r"releases\[0\]\.version: missing \(required\)"),
        (lambda d: d.update(releases=[]), r"releases: at least 1 entry needed"),
        (
            lambda d: d.update(tests=["smoke", "load"]),
            r"tests\[1\]: 'load' is not allowed; use 'smoke', 'acceptance' or 'integration'",
        ),
        (
            lambda d: d.update(accepts={"succeeded_in": {"one_of": ["dev1"]}}),
            r"accepts\.succeeded_in\.one_of: unknown key; did you mean any_of\?",
        ),
        (lambda d: d.update(accepts={"succeeded_in": {"any_of": ["qa"]}}), r"'qa' is not another env"),
        (
            lambda d: d.update(accepts={"final_releases_only": "yes"}),
            r"final_releases_only: expected true or false",
        ),
        (lambda d: d.update(accepts={"reset_to": "x"}), r"accepts\.reset_to: 'x' is not another env"),
    ],
)
def test_bad_settings_name_file_and_key(change, message: str) -> None:  # type: ignore[no-untyped-def]
    data = _valid()
    change(data)
    with pytest.raises(ConfigError, match=message):
        parse_env("staging", Path("staging/env.yml"), data, ENVS)


def test_release_finality() -> None:
    data = _valid()
    data["releases"] = [{"name": "redis", "version": "12"}, {"name": "x", "version": "3+dev.4"}]
    env = parse_env("dev1", Path("dev1/env.yml"), data, ENVS)
    assert [r.final for r in env.releases] == [True, False]
    assert env.releases[0].version == "12"


def test_invalid_yaml_names_the_line(tmp_path: Path) -> None:
    (tmp_path / "boshpipe.yml").write_text("candidate_name: c\nenvironments: [dev1]\n")
    (tmp_path / "dev1").mkdir()
    (tmp_path / "dev1" / "env.yml").write_text("deployment: x\nupstream: [unclosed\n")
    with pytest.raises(ConfigError, match=r"dev1/env\.yml:\d+: invalid YAML"):
        load_env(Project.load(tmp_path), "dev1")


def test_missing_env_yml(tmp_path: Path) -> None:
    (tmp_path / "boshpipe.yml").write_text("candidate_name: c\nenvironments: [dev1]\n")
    with pytest.raises(ConfigError, match=r"dev1/env\.yml: file not found"):
        load_env(Project.load(tmp_path), "dev1")


def test_manifest_shape_settings_default_to_auto_and_generate() -> None:
    env = parse_env("dev1", Path("dev1/env.yml"), _valid(), ENVS)
    assert (env.shape.manifest, env.shape.cloud_config, env.shape.stemcells) == ("auto", "generate", ())


def test_manifest_shape_settings_are_read() -> None:
    data = _valid()
    data["manifest"] = "v1"
    data["cloud_config"] = {"existing": {"vm_type": "default", "network": "private", "azs": ["z1", "z2"]}}
    data["stemcells"] = [{"name": "bosh-warden-x", "version": "1.5", "url": "https://s/x?v=1.5", "sha1": "f" * 40}]
    shape = parse_env("dev1", Path("dev1/env.yml"), data, ENVS).shape
    assert shape.manifest == "v1" and shape.cloud_config == "existing"
    assert shape.existing is not None and shape.existing.azs == ("z1", "z2") and shape.existing.disk_type is None
    assert [(s.name, s.version, s.url) for s in shape.stemcells] == [("bosh-warden-x", "1.5", "https://s/x?v=1.5")]


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("manifest", "v3", "dev1/env.yml: manifest: 'v3' is not allowed; use 'auto', 'v2' or 'v1'"),
        ("cloud_config", "existing",
         "dev1/env.yml: cloud_config: 'existing' is not allowed; use 'generate' or a mapping"),
        ("cloud_config", {"existing": {"vm_type": "a", "network": "b", "azs": []}},
         "dev1/env.yml: cloud_config.existing.azs: at least 1 entry needed"),
        ("cloud_config", {"existing": {"vm_type": "a", "network": "b", "azs": ["z"], "vmtype": "c"}},
         "dev1/env.yml: cloud_config.existing.vmtype: unknown key"),
        ("stemcells", [{"name": "x", "uri": "https://x"}], "dev1/env.yml: stemcells[0].uri: unknown key"),
    ],
)  # fmt: skip
def test_bad_manifest_shape_settings_are_one_line(key: str, value: object, message: str) -> None:
    data = _valid()
    data[key] = value
    with pytest.raises(ConfigError) as caught:
        parse_env("dev1", Path("dev1/env.yml"), data, ENVS)
    assert str(caught.value).startswith(message)


def test_ops_composition_settings_are_read() -> None:
    data = _valid()
    data.update(
        composition="ops",
        templates=[],
        manifest_base="upstream:manifests/redis.yml",
        ops=["project:ops/placement.yml", "env:pipeline/ops-x.yml"],
        vars={"az": "z1", "instances": 3, "replication": False},
        cloud_config_file="env:pipeline/cloud-config-x.yml",
    )
    env = parse_env("dev1", Path("dev1/env.yml"), data, ENVS)
    assert env.composition == "ops" and env.templates == () and env.ops is not None
    assert [str(r) for r in env.ops.ops] == ["project:ops/placement.yml", "env:pipeline/ops-x.yml"]
    assert env.ops.vars == {"az": "z1", "instances": 3, "replication": False}
    assert str(env.ops.base) == "upstream:manifests/redis.yml"
    assert str(env.ops.cloud_config) == data["cloud_config_file"]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda d: d.update(composition="jsonnet"), r"composition: 'jsonnet' is not allowed"),
        (lambda d: d.update(composition="ops"), r"manifest_base: composition ops needs a base manifest"),
        (lambda d: d.update(templates=[]), r"templates: composition spiff needs the merge order"),
        (lambda d: d.update(ops=["env:pipeline/ops-x.yml"]), r"ops: only means something with manifest_base"),
        (lambda d: d.update(manifest_base="generated"), r"manifest_base: 'generated' is a spiff stub"),
        (lambda d: d.update(manifest_base="upstream:../x.yml"), r"manifest_base: '\.\./x\.yml' must be a relative"),
        (lambda d: d.update(manifest_base="m.yml", vars={"p": {"nested": 1}}), r"vars\.p"),
        (lambda d: d.update(manifest_base="m.yml", ops_files=[]), r"ops_files: unknown key"),
    ],
)
def test_bad_ops_settings_are_one_line(change, message: str) -> None:  # type: ignore[no-untyped-def]
    data = _valid()
    change(data)
    with pytest.raises(ConfigError, match=message) as caught:
        parse_env("dev1", Path("dev1/env.yml"), data, ENVS)
    assert "\n" not in str(caught.value)
