"""Change control through the real `invoke` tasks: soak time, approvals, freeze windows (issue 14).

A candidate reaches staging; production refuses it (not soaked, not approved); the builder's own
approval does not count, a second person's does; a freeze window refuses it and names the window;
an ad-hoc freeze does too until it is thawed; after that it deploys. Every refusal is one line and
one audit record, and ``gates --json`` explains each verdict.

Time is moved with ``BOSHPIPE_NOW`` (the decision clock, see boshpipe/clock.py), never by sleeping.
People are told apart the way the ledger does it: ``user@host``, the user from ``LOGNAME``.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import yaml

from tests.e2e_project import E2EProject
from tests.test_promotion import records, refused

pytestmark = pytest.mark.e2e

A = "redis-templates-1"


def as_person(e2e: E2EProject, user: str) -> None:
    e2e.env.update(LOGNAME=user, USER=user)


def at(e2e: E2EProject, moment: datetime | None) -> None:
    if moment is None:
        e2e.env.pop("BOSHPIPE_NOW", None)
    else:
        e2e.env["BOSHPIPE_NOW"] = moment.isoformat(timespec="seconds")


def gates_json(e2e: E2EProject) -> dict[str, Any]:
    done = e2e.invoke("gates", "--env", "production", "--candidate", "1", "--json", check=False)
    decision: dict[str, Any] = json.loads(done.stdout)
    assert (done.returncode == 0) == decision["ok"]
    return decision


def verdict(decision: dict[str, Any], prefix: str) -> dict[str, Any]:
    found = [r for r in decision["rules"] if r["rule"].startswith(prefix)]
    assert len(found) == 1, decision
    return found[0]


def test_soak_approvals_and_freeze_hold_production(e2e: E2EProject) -> None:
    start = datetime.now(UTC)
    window_from, window_to = start + timedelta(hours=4), start + timedelta(hours=6)
    env_yml = e2e.root / "production" / "env.yml"
    settings = yaml.safe_load(env_yml.read_text())
    settings["accepts"]["approvals"] = {"count": 1, "distinct_from_builder": True}
    settings["accepts"]["soak"] = {"in": "staging", "for": "2h"}
    settings["freeze"] = {"break_allowed": False}
    env_yml.write_text(yaml.safe_dump(settings))
    project_yml = e2e.root / "boshpipe.yml"
    project = yaml.safe_load(project_yml.read_text())
    project["freeze"] = {
        "windows": [
            {
                "name": "release-freeze",
                "from": window_from.strftime("%Y-%m-%d %H:%M"),
                "to": window_to.strftime("%Y-%m-%d %H:%M"),
                "time_zone": "UTC",
                "envs": ["production"],
            }
        ]
    }
    project_yml.write_text(yaml.safe_dump(project))

    as_person(e2e, "bob")
    e2e.invoke("deploy", "--env", "dev1")
    e2e.invoke("deploy", "--env", "staging", "--candidate", "1")

    # not soaked, not approved: the line names the first rule and how long is left, the rest counted
    audit = refused(
        e2e,
        "production",
        "deploy",
        "--env",
        "production",
        "--candidate",
        "1",
        needles=("production refuses redis-templates-1: soaked in staging for 2h", "left", "and 1 more rule"),
    )
    assert any("approved by 1 person other than the builder" in line for line in audit["details"]["rules"])
    decision = gates_json(e2e)
    soak = verdict(decision, "soaked in staging")
    assert not soak["ok"] and 7000 < soak["details"]["left_seconds"] <= 7200
    approval = verdict(decision, "approved by 1 person")
    assert not approval["ok"] and approval["details"]["approvals"] == []
    assert approval["details"]["builder"].startswith("bob@")

    # the builder's own approval is recorded but does not count
    out = e2e.invoke("approve", "--env", "production", "--candidate", "1", "--comment", "CHG-1").stdout
    assert "does not count" in out
    approval = verdict(gates_json(e2e), "approved by 1 person")
    assert not approval["ok"] and "own approval does not count" in approval["evidence"]
    assert [(a["who"].split("@")[0], a["counted"], a.get("comment")) for a in approval["details"]["approvals"]] == [
        ("bob", False, "CHG-1")
    ]

    # three hours on: soaked; still waiting for a second person
    at(e2e, start + timedelta(hours=3))
    decision = gates_json(e2e)
    assert verdict(decision, "soaked in staging")["ok"] and not decision["ok"]
    refused(e2e, "production", "deploy", "--env", "production", "--candidate", "1", needles=("approved by 1 person",))

    # alice approves, revokes, approves again: the gate counts what stands
    as_person(e2e, "alice")
    e2e.invoke("approve", "--env", "production", "--candidate", "1")
    assert verdict(gates_json(e2e), "approved by 1 person")["ok"]
    e2e.invoke("revoke", "--env", "production", "--candidate", "1", "--comment", "wrong ticket")
    assert not verdict(gates_json(e2e), "approved by 1 person")["ok"]
    e2e.invoke("approve", "--env", "production", "--candidate", "1", "--comment", "CHG-2")
    decision = gates_json(e2e)
    assert decision["ok"], decision
    approval = verdict(decision, "approved by 1 person")
    assert "alice@" in approval["evidence"] and approval["details"]["approvals"][0]["who"].startswith("alice@")

    # inside the window: refused, the window named; breaking it is not allowed for production
    at(e2e, start + timedelta(hours=5))
    refused(
        e2e,
        "production",
        "deploy",
        "--env",
        "production",
        "--candidate",
        "1",
        needles=("production is frozen, deploy refused", "freeze window 'release-freeze'", "boshpipe.yml"),
    )
    refused(
        e2e,
        "production",
        "deploy",
        "--env",
        "production",
        "--candidate",
        "1",
        "--break-freeze",
        "--reason",
        "hotfix",
        needles=("freeze.break_allowed is not true",),
    )
    refused(e2e, "production", "rollback", "--env", "production", needles=("rollback refused", "release-freeze"))

    # after the window, an ad-hoc freeze holds it until thawed
    at(e2e, start + timedelta(hours=7))
    e2e.invoke("freeze", "--env", "production", "--until", "1h", "--reason", "incident 42")
    refused(
        e2e,
        "production",
        "deploy",
        "--env",
        "production",
        "--candidate",
        "1",
        needles=("ad-hoc freeze by alice@", "incident 42"),
    )
    e2e.invoke("thaw", "--env", "production")
    out = e2e.invoke("deploy", "--env", "production", "--candidate", "1").stdout
    assert f"production: {A} deployed and tested" in out
    assert "gate pass  approved by 1 person other than the builder" in out

    kinds = [(r["kind"], r["outcome"]) for r in records(e2e, "production")]
    assert kinds.count(("refusal", "refused")) == 6
    assert kinds.count(("approval", "succeeded")) == 3 and kinds.count(("revocation", "succeeded")) == 1
    assert ("freeze", "succeeded") in kinds and ("thaw", "succeeded") in kinds
    assert ("deploy", "succeeded") in kinds
