"""The ops composition over an in-memory candidate: v15 files + the project's and an env's ops files."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
import yaml

from boshpipe import candidate as cand
from boshpipe.environments import Release, Upstream, parse_env
from boshpipe.errors import ManifestError
from boshpipe.opscompose import compose
from boshpipe.upstream import fetch_upstream
from tests.conftest import _shared_path

ENVS = ("dev1", "dev2", "staging", "production")


def _candidate(repo_root: Path, tmp_path: Path, env_ops: str) -> cand.Candidate:
    v15 = _shared_path("upstream", "redis-boshrelease-v15")
    tree = fetch_upstream(Upstream(str(v15), "main"), tmp_path / "cache", str(v15))
    project = {f"project/ops/{p.name}": p.read_bytes() for p in sorted((repo_root / "ops").glob("*.yml"))}
    cloud = (repo_root / "dev1" / "pipeline" / "cloud-config-dev1.yml").read_bytes()
    envs = {"envs/dev1/pipeline/ops-dev1.yml": env_ops.encode(), "envs/dev1/pipeline/cloud-config-dev1.yml": cloud}
    data = cand.build(tree, project, envs, [Release("redis", "15.3.5")], "dev1", {"user": "t"}, composition="ops")
    return cand.read(data, None)


def _env(repo_root: Path):  # type: ignore[no-untyped-def]
    data = yaml.safe_load((repo_root / "dev1" / "env.yml").read_text())
    data["composition"] = "ops"
    return parse_env("dev1", repo_root / "dev1" / "env.yml", data, ENVS)


def test_composition_generates_the_password_once_into_a_0600_store(repo_root: Path, tmp_path: Path) -> None:
    ops = "- {type: replace, path: /instance_groups/name=redis/instances, value: 2}\n"
    candidate = _candidate(repo_root, tmp_path, ops)
    assert candidate.composition == "ops"
    store = tmp_path / "secrets" / "dev1.vars-store.yml"
    first = compose(_env(repo_root), candidate, store)
    assert first.generated == ("redis-password",)
    assert stat.S_IMODE(store.stat().st_mode) == 0o600
    doc = first.manifest.doc
    assert doc["name"] == "redis-dev1"
    assert [g["instances"] for g in doc["instance_groups"]] == [2, 1]
    assert {"name": "redis", "version": "15.3.5"} in doc["releases"]
    password = doc["instance_groups"][0]["jobs"][0]["properties"]["password"]
    assert isinstance(password, str) and len(password) >= 20
    second = compose(_env(repo_root), candidate, store)
    assert second.generated == () and second.manifest.text == first.manifest.text
    # on a real director (no store) the placeholder stays for the config server
    left = compose(_env(repo_root), candidate, None)
    assert left.manifest.doc["instance_groups"][0]["jobs"][0]["properties"]["password"] == "((redis-password))"


def test_a_variable_without_value_writes_no_store(repo_root: Path, tmp_path: Path) -> None:
    ops = "- {type: replace, path: /instance_groups/name=redis/jobs/name=redis/properties/port?, value: ((nope))}\n"
    store = tmp_path / "secrets" / "dev1.vars-store.yml"
    with pytest.raises(ManifestError, match="nope") as caught:
        compose(_env(repo_root), _candidate(repo_root, tmp_path, ops), store)
    assert "\n" not in str(caught.value)
    assert not store.exists()
