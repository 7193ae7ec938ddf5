"""Freeze windows and the decision clock: pure functions, checked at chosen instants."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from boshpipe import clock
from boshpipe.errors import ConfigError
from boshpipe.freeze import Window, active, parse_env_freeze, project_freeze
from boshpipe.project import Project

WEEKEND = {"name": "weekend", "from": "Fri 16:00", "to": "Mon 08:00", "time_zone": "Europe/Berlin"}


def _windows(*entries: dict[str, object]) -> tuple[Window, ...]:
    return parse_env_freeze({"windows": list(entries)}, "production/env.yml: freeze").windows


@pytest.mark.parametrize(
    ("moment", "until"),
    [
        ("2025-06-06T13:59:00Z", None),  # Fri 15:59 in Berlin (CEST, +02:00)
        ("2025-06-06T14:00:00Z", "2025-06-09T08:00:00+02:00"),  # Fri 16:00 Berlin: starts
        ("2025-06-08T23:00:00Z", "2025-06-09T08:00:00+02:00"),  # Mon 01:00 Berlin
        ("2025-06-09T06:00:00Z", None),  # Mon 08:00 Berlin: over
        ("2025-01-10T15:30:00Z", "2025-01-13T08:00:00+01:00"),  # winter (CET): Fri 16:30 Berlin
        ("2025-03-28T15:30:00Z", "2025-03-31T08:00:00+02:00"),  # across the switch to summer time
    ],
)
def test_weekly_window_in_its_zone(moment: str, until: str | None) -> None:
    (window,) = _windows(WEEKEND)
    end = window.ends(datetime.fromisoformat(moment))
    assert (end.isoformat() if end else None) == until


def test_dated_window_and_naive_times_in_the_zone() -> None:
    (window,) = _windows({"name": "year-end", "from": "2025-12-20 00:00", "to": "2026-01-05 08:00", "time_zone": "UTC"})
    assert window.ends(datetime(2025, 12, 19, 23, 59, tzinfo=UTC)) is None
    assert window.ends(datetime(2025, 12, 31, tzinfo=UTC)) == datetime(2026, 1, 5, 8, tzinfo=UTC)
    found = active((window,), None, datetime(2025, 12, 31, tzinfo=UTC))
    assert [f.name for f in found] == ["year-end"] and "freeze window 'year-end'" in found[0].line()


def test_adhoc_freeze_ends_at_its_until() -> None:
    adhoc = {"id": "r1", "until": "2025-06-06T18:00:00+00:00", "reason": "incident", "who": "alice@h"}
    assert [f.name for f in active((), adhoc, datetime(2025, 6, 6, 17, tzinfo=UTC))] == ["ad-hoc"]
    assert active((), adhoc, datetime(2025, 6, 6, 18, tzinfo=UTC)) == []


@pytest.mark.parametrize(
    ("entry", "needle"),
    [
        ({**WEEKEND, "time_zone": "Mars/Olympus"}, "is not an IANA time zone"),
        ({**WEEKEND, "to": "Someday"}, "expected a day and time like the start"),
        ({**WEEKEND, "colour": "red"}, "windows[0].colour: unknown key"),
        ({k: v for k, v in WEEKEND.items() if k != "name"}, "windows[0].name: missing"),
        ({**WEEKEND, "from": "2025-12-20", "to": "2025-12-19"}, "is not after from"),
    ],
)
def test_bad_windows_are_one_line_naming_the_key(entry: dict[str, object], needle: str) -> None:
    with pytest.raises(ConfigError) as err:
        _windows(entry)
    assert needle in str(err.value) and str(err.value).startswith("production/env.yml: freeze")


def test_project_windows_apply_to_the_envs_they_list(tmp_path: Path) -> None:
    (tmp_path / "boshpipe.yml").write_text(
        "candidate_name: x\nenvironments: [dev1, production]\n"
        "freeze:\n  windows:\n  - {name: weekend, from: Fri 16:00, to: Mon 08:00, time_zone: UTC, envs: [production]}\n"
    )
    project = project_freeze(Project.load(tmp_path))
    assert [w.name for w in project.for_env("production")] == ["weekend"] and project.for_env("dev1") == ()
    (tmp_path / "boshpipe.yml").write_text(
        "candidate_name: x\nenvironments: [dev1]\nfreeze:\n  windows:\n  - {name: w, from: Fri 16:00, to: Mon 08:00,"
        " time_zone: UTC, envs: [prod]}\n"
    )
    with pytest.raises(ConfigError, match=r"freeze.windows\[0\].envs"):
        project_freeze(Project.load(tmp_path))


def test_decision_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BOSHPIPE_NOW", "2025-06-06T18:00:00+02:00")
    assert clock.now() == datetime(2025, 6, 6, 16, tzinfo=UTC)
    assert clock.until("90m", "--until") == datetime(2025, 6, 6, 17, 30, tzinfo=UTC)
    monkeypatch.setenv("BOSHPIPE_NOW", "2025-06-06 18:00")
    with pytest.raises(ConfigError, match=r"BOSHPIPE_NOW.*no zone"):
        clock.now()
    with pytest.raises(ConfigError, match="not a duration"):
        clock.parse_duration("2 hours", "accepts.soak.for")
    assert clock.describe_duration(clock.parse_duration("1h30m", "x") - clock.parse_duration("1m", "x")) == "1h 29m"
