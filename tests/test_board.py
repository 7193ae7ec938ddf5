"""The board (`invoke report --html`), checked the way a person sees it: in headless Chromium.

Chromium (the Debian package: `apt-get install -y chromium`) renders the page from a file with every
network feature off; the test reads the tables back from the DOM Chromium built and keeps a
screenshot as an artifact (in ``$BOSHPIPE_TEST_ARTIFACTS`` when set, else the test's tmp dir). Without
Chromium the browser part skips with a message saying what to install.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser
from pathlib import Path

import pytest
import yaml

from tests.e2e_project import E2EProject

pytestmark = pytest.mark.e2e


class Tables(HTMLParser):
    """Table id → rows of cell texts, from an HTML document."""

    def __init__(self) -> None:
        super().__init__()
        self.tables: dict[str, list[list[str]]] = {}
        self._table: str | None = None
        self._cell: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "table":
            self._table = dict(attrs).get("id") or ""
            self.tables[self._table] = []
        elif tag == "tr" and self._table is not None:
            self.tables[self._table].append([])
        elif tag in ("td", "th") and self._table is not None:
            self._cell = []

    def handle_endtag(self, tag: str) -> None:
        if tag in ("td", "th") and self._table is not None and self._cell is not None:
            self.tables[self._table][-1].append("".join(self._cell).strip())
            self._cell = None
        elif tag == "table":
            self._table = None

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)


def chromium() -> str:
    for name in ("chromium", "chromium-browser"):
        found = shutil.which(name)
        if found:
            return found
    pytest.skip("needs headless Chromium: `apt-get install -y chromium` (Debian) to check the board in a browser")


def browse(page: Path, tmp: Path, *mode: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            chromium(),
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            f"--user-data-dir={tmp / 'chromium-profile'}",
            *mode,
            page.as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )


def test_the_board_in_a_browser(e2e: E2EProject, tmp_path: Path) -> None:
    env_yml = e2e.root / "production" / "env.yml"
    settings = yaml.safe_load(env_yml.read_text())
    settings["accepts"]["approvals"] = {"count": 1, "distinct_from_builder": True}
    settings["accepts"]["soak"] = {"in": "staging", "for": "2h"}
    env_yml.write_text(yaml.safe_dump(settings))
    e2e.env.update(LOGNAME="bob", USER="bob")
    e2e.invoke("deploy", "--env", "dev1")
    e2e.invoke("deploy", "--env", "staging", "--candidate", "1")
    e2e.invoke("upload", "--env", "dev2", "--source", str(_changed_upstream(e2e, tmp_path)))
    e2e.env.update(LOGNAME="alice", USER="alice")
    e2e.invoke("approve", "--env", "production", "--candidate", "1")
    e2e.invoke("freeze", "--env", "production", "--until", "3h", "--reason", "quarter end")
    e2e.env["BOSHPIPE_NOW"] = (datetime.now(UTC) + timedelta(minutes=30)).isoformat(timespec="seconds")

    page = tmp_path / "board.html"
    assert "board: " in e2e.invoke("report", "--html", str(page)).stdout
    text = page.read_text()
    assert not re.search(r"""\b(src|href)\s*=|@import|url\(""", text), "the page must load nothing"

    dom = browse(page, tmp_path, "--dump-dom").stdout
    tables = Tables()
    tables.feed(dom)
    envs = {row[0]: row[1:] for row in tables.tables["envs"]}
    assert envs[""] == ["dev1", "dev2", "staging", "production"]
    assert envs["runs"] == ["redis-templates-1", "nothing", "redis-templates-1", "nothing"]
    assert envs["drift"] == ["in sync", "not deployed", "in sync", "not deployed"]
    assert envs["freeze"][3].startswith("ad-hoc freeze by alice@") and "quarter end" in envs["freeze"][3]
    assert envs["lock"] == ["free"] * 4

    grid = {row[0]: row[1:] for row in tables.tables["candidates"][1:]}
    assert list(grid) == ["redis-templates-2", "redis-templates-1"]
    built_by, dev1, dev2, staging, production = grid["redis-templates-1"]
    assert built_by.startswith("bob@") and dev1 == "deployed now" and dev2 == "-" and staging == "deployed now"
    assert re.fullmatch(r"soaking: 1h 29m left; approved by alice@\S+", production), production
    assert grid["redis-templates-2"][3:] == [
        "refused: succeeded in dev1 or dev2 (deployed + smoke)",
        "refused: succeeded in staging (deployed + smoke, acceptance, integration), "
        "starting from production's current candidate",
    ]
    rules = [row for row in tables.tables["rules"][1:] if row[:2] == ["production", "redis-templates-1"]]
    assert [(r[2], r[3]) for r in rules] == [
        ("final releases only", "pass"),
        ("succeeded in staging (deployed + smoke, acceptance, integration), "
         "starting from production's current candidate", "pass"),
        ("soaked in staging for 2h", "FAIL"),
        ("approved by 1 person other than the builder", "pass"),
    ]

    artifacts = Path(os.environ.get("BOSHPIPE_TEST_ARTIFACTS") or tmp_path)
    artifacts.mkdir(parents=True, exist_ok=True)
    shot = artifacts / "board.png"
    browse(page, tmp_path, f"--screenshot={shot}", "--window-size=1400,900", "--hide-scrollbars")
    data = shot.read_bytes()
    assert data.startswith(b"\x89PNG\r\n\x1a\n") and len(data) > 20_000


def _changed_upstream(e2e: E2EProject, tmp: Path) -> Path:
    """A copy of the upstream templates with one change, so the next candidate differs."""
    source = Path(e2e.env["BOSHPIPE_UPSTREAM"])
    copy = tmp / "upstream-changed"
    shutil.copytree(source, copy, ignore=shutil.ignore_patterns(".git"))
    jobs = copy / "templates" / "jobs.yml"
    jobs.write_text(jobs.read_text() + "\n# changed for a second candidate\n")
    return copy
