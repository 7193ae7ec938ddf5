"""Settings validated once per content (boshpipe.validated): a hit is the miss's twin, and skips pydantic."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from boshpipe import validated
from boshpipe.environments import load_env
from boshpipe.errors import ConfigError
from boshpipe.project import Project

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture
def project(tmp_path: Path, repo_root: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A copy of the checkout's settings (boshpipe.yml and the env folders) with its own work dir."""
    root = tmp_path / "project"
    root.mkdir()
    monkeypatch.setenv("BOSHPIPE_WORKDIR", str(root / ".boshpipe"))  # CI sets one for the whole run
    shutil.copy(repo_root / "boshpipe.yml", root)
    for env in ("dev1", "dev2", "staging", "production"):
        shutil.copytree(repo_root / env, root / env)
    before = validated._cache_dir
    yield root
    validated.use_cache(before)


def _records(root: Path) -> list[Path]:
    return sorted((root / ".boshpipe" / "cache" / "settings").glob("*.json"))


def _load_all(root: Path) -> dict[str, object]:
    loaded = Project.load(root)
    return {env: load_env(loaded, env) for env in loaded.environments}


def test_a_hit_gives_what_the_validation_gave(project: Path) -> None:
    first = _load_all(project)
    records = _records(project)
    assert len(records) == 5  # boshpipe.yml and four env.yml
    second = _load_all(project)
    assert second == first
    assert _records(project) == records


def test_the_second_run_does_not_import_pydantic(project: Path) -> None:
    script = (
        "import sys; from pathlib import Path\n"
        "from boshpipe.project import Project\nfrom boshpipe.environments import load_env\n"
        f"p = Project.load(Path({str(project)!r}))\n"
        "[load_env(p, e) for e in p.environments]\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('pydantic', 'pydantic_core'))[:1])\n"
    )
    env = {k: v for k, v in os.environ.items() if k not in ("BOSHPIPE_WORKDIR", "BOSHPIPE_PROJECT")}
    command = [sys.executable, "-c", script]
    runs = [subprocess.run(command, capture_output=True, text=True, env=env, cwd=REPO) for _ in "12"]
    assert [run.returncode for run in runs] == [0, 0], runs[0].stderr + runs[1].stderr
    assert runs[0].stdout.strip() == "['pydantic']"  # validated: the first run needed the schema
    assert runs[1].stdout.strip() == "[]"


def test_a_changed_file_is_validated_again(project: Path) -> None:
    _load_all(project)
    env_file = project / "production" / "env.yml"
    env_file.write_text(env_file.read_text().replace("accepts:", "acepts:", 1))
    with pytest.raises(ConfigError, match=r"production/env\.yml:\d+: acepts: unknown key; did you mean accepts\?"):
        load_env(Project.load(project), "production")


def test_a_changed_schema_is_a_different_key(project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _load_all(project)
    count = len(_records(project))
    schema = tmp_path / "schema.py"
    schema.write_bytes(validated.SCHEMA_SOURCE.read_bytes() + b"\n# one more rule\n")
    monkeypatch.setattr(validated, "SCHEMA_SOURCE", schema)
    monkeypatch.setattr(validated, "_schema_digest", None)
    _load_all(project)
    assert len(_records(project)) == 2 * count


DAMAGE = ["", "{", "[1, 2]", "null", '{"sha256": "0", "values": {"m": {}}}', '{"values": {"m": 5}}']


@pytest.mark.parametrize("damage", DAMAGE)
def test_a_damaged_record_means_validating_again(project: Path, damage: str) -> None:
    good = _load_all(project)
    for record in _records(project):
        record.write_text(damage)
    assert _load_all(project) == good


def test_an_unwritable_cache_is_no_cache(project: Path) -> None:
    (project / ".boshpipe").mkdir()
    (project / ".boshpipe" / "cache").write_text("a file where the cache folder would go")
    first = _load_all(project)
    assert _load_all(project) == first
    assert not (project / ".boshpipe" / "cache").is_dir()


def test_dict_fields_come_from_the_loaded_data(project: Path) -> None:
    """freeze: may hold YAML timestamps, which JSON cannot; the record points into the data instead."""
    env_file = project / "staging" / "env.yml"
    window = "{name: holidays, from: 2026-12-24 00:00:00, to: 2026-12-27 00:00:00, time_zone: UTC}"
    env_file.write_text(env_file.read_text() + f"freeze:\n  windows:\n    - {window}\n")
    first = load_env(Project.load(project), "staging")
    assert first.freeze is not None
    record = next(r for r in _records(project) if '"freeze":{"d":["freeze"]}' in r.read_text())
    assert "2026-12-24" not in record.read_text()
    assert load_env(Project.load(project), "staging") == first


def test_records_hold_only_what_the_models_say(project: Path) -> None:
    _load_all(project)
    for record in _records(project):
        stored = json.loads(record.read_text())
        assert set(stored) == {"sha256", "values"} and set(stored["values"]) == {"m"}


def test_records_are_bounded(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(validated, "MAX_RECORDS", 4)
    _load_all(project)
    assert 2 <= len(_records(project)) <= 4
    for env in ("dev1", "dev2"):
        env_file = project / env / "env.yml"
        env_file.write_text(env_file.read_text() + "\n# changed\n")
        load_env(Project.load(project), env)
    assert 2 <= len(_records(project)) <= 4


def test_settings_are_read_only() -> None:
    settings = validated.Settings({"a": 1})
    with pytest.raises(AttributeError):
        settings.a = 2
    assert settings == validated.Settings({"a": 1}) and settings != validated.Settings({"a": 2})
