"""fetch-upstream from a local directory and from a real git repository over file://."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from boshpipe.environments import Upstream
from boshpipe.errors import UpstreamError
from boshpipe.upstream import fetch_upstream


@pytest.fixture(autouse=True)
def _no_override(monkeypatch: pytest.MonkeyPatch) -> None:
    """CI and people export BOSHPIPE_UPSTREAM; these tests choose their source themselves."""
    monkeypatch.delenv("BOSHPIPE_UPSTREAM", raising=False)


PIN = Upstream(url="https://github.com/cloudfoundry-community/redis-boshrelease.git", ref="0" * 40)


def test_local_directory_override(upstream_dir: Path, tmp_path: Path) -> None:
    tree = fetch_upstream(PIN, tmp_path, str(upstream_dir))
    assert tree.commit is None
    assert tree.files["templates/jobs.yml"] == (upstream_dir / "templates" / "jobs.yml").read_bytes()
    assert "jobs/redis/spec" in tree.files
    assert "SOURCE.md" not in tree.files


def test_env_variable_override(upstream_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BOSHPIPE_UPSTREAM", str(upstream_dir))
    assert fetch_upstream(PIN, tmp_path).source == str(upstream_dir.resolve())


def _git_repo(upstream_dir: Path, where: Path) -> tuple[str, str]:
    shutil.copytree(upstream_dir, where)
    for path in where.rglob("*"):
        path.chmod(0o755 if path.is_dir() else 0o644)
    env = ["-c", "user.name=t", "-c", "user.email=t@example.invalid"]
    subprocess.run(["git", "init", "-q", "-b", "master", str(where)], check=True)
    subprocess.run(["git", "-C", str(where), "add", "-A"], check=True)
    subprocess.run(["git", "-C", str(where), *env, "commit", "-qm", "first"], check=True)
    first = subprocess.run(
        ["git", "-C", str(where), "rev-parse", "HEAD"], capture_output=True, text=True
    ).stdout
    (where / "templates" / "jobs.yml").write_text("changed: true\n")
    subprocess.run(["git", "-C", str(where), *env, "commit", "-qam", "second"], check=True)
    return first.strip(), f"file://{where}"


def test_git_url_at_pinned_commit(upstream_dir: Path, tmp_path: Path) -> None:
    first, url = _git_repo(upstream_dir, tmp_path / "repo")
    tree = fetch_upstream(Upstream(url=url, ref=first), tmp_path / "cache")
    assert tree.commit == first
    # the pin wins over the newer commit on the branch
    assert tree.files["templates/jobs.yml"] == (upstream_dir / "templates" / "jobs.yml").read_bytes()
    # a second fetch of a pinned commit needs no source at all: the cache has it
    shutil.rmtree(tmp_path / "repo")
    assert fetch_upstream(Upstream(url=url, ref=first), tmp_path / "cache").commit == first


def test_git_branch_ref_resolves_to_its_commit(upstream_dir: Path, tmp_path: Path) -> None:
    _, url = _git_repo(upstream_dir, tmp_path / "repo")
    tree = fetch_upstream(Upstream(url=url, ref="master"), tmp_path / "cache")
    assert tree.files["templates/jobs.yml"] == b"changed: true\n"
    assert tree.commit and len(tree.commit) == 40


def test_unreachable_source_says_how_to_work_offline(tmp_path: Path) -> None:
    pin = Upstream(url=f"file://{tmp_path}/missing.git", ref="master")
    with pytest.raises(UpstreamError) as err:
        fetch_upstream(pin, tmp_path / "cache")
    text = str(err.value)
    assert "\n" not in text
    assert "BOSHPIPE_UPSTREAM" in text and "--source" in text


def test_directory_without_templates_is_refused(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    with pytest.raises(UpstreamError, match=r"no templates/\*\.yml or manifests/\*\.yml here"):
        fetch_upstream(PIN, tmp_path / "cache", str(tmp_path / "empty"))
