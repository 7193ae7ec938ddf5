"""Promotion through the real `invoke` tasks, step by step as a person runs them (issue 4).

dev1/dev2 take anything; staging takes a candidate with final releases only that succeeded in dev1
or dev2, and is reset to production's current candidate first; production takes one that succeeded
in staging (integration included) from a staging run that started from production's current one.
Every refusal is one line on stderr naming the rule and what is missing, exits non-zero, and writes
nothing to the ledger but one audit record of kind ``refusal``.

Each test works on a copy of the project (tests/e2e_project.py) on 10.251.x, real redis-server
processes on 127.251.x.
"""

from __future__ import annotations

import json
import re
import subprocess
from typing import Any

import pytest
import redis

from tests.e2e_project import E2EProject

pytestmark = pytest.mark.e2e

RECORD_ID = re.compile(r"\d{8}T\d{6}\.\d{6}Z-[0-9a-f]{8}")
A, C, B = "redis-templates-1", "redis-templates-2", "redis-templates-3"


# -- helpers ---------------------------------------------------------------------------------------


def ledger_files(e2e: E2EProject) -> dict[str, bytes]:
    """Every record and pointer in the store (candidates and locks left out)."""
    root = e2e.workdir / "store"
    out: dict[str, bytes] = {}
    for top in ("records", "state"):
        for path in (root / top).rglob("*.json") if (root / top).exists() else []:
            if not any(part.startswith(".") for part in path.relative_to(root).parts):
                out[path.relative_to(root).as_posix()] = path.read_bytes()
    return out


def records(e2e: E2EProject, env: str) -> list[dict[str, Any]]:
    folder = e2e.workdir / "store" / "records" / env
    return [json.loads(p.read_bytes()) for p in sorted(folder.glob("*.json"))] if folder.exists() else []


def lock_is_free(e2e: E2EProject, env: str) -> bool:
    path = e2e.workdir / "store" / "locks" / f"{env}.json"
    return not path.exists() or json.loads(path.read_bytes())["released"] is not None


def refused(e2e: E2EProject, env: str, *args: str, needles: tuple[str, ...]) -> dict[str, Any]:
    """Run a command that must be refused; check the one line and that only an audit record appeared."""
    before = ledger_files(e2e)
    done = e2e.invoke(*args, check=False)
    assert done.returncode != 0, done.stdout
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    line = lines[0]
    assert line.startswith("error: ") and "Traceback" not in done.stderr
    for needle in needles:
        assert needle in line, line
    after = ledger_files(e2e)
    assert [k for k in before if after.get(k) != before[k]] == [], "a refusal changed the ledger"
    new = [k for k in after if k not in before]
    assert len(new) == 1 and new[0].startswith(f"records/{env}/"), new
    audit: dict[str, Any] = json.loads(after[new[0]])
    assert audit["kind"] == "refusal" and audit["outcome"] == "refused"
    assert f"[audit record {audit['id']}]" in line
    assert lock_is_free(e2e, env)
    return audit


def gates(e2e: E2EProject, env: str, number: int) -> tuple[int, dict[str, str]]:
    """`invoke gates`: exit code and rule → its printed line; every cited record id exists."""
    done = e2e.invoke("gates", "--env", env, "--candidate", str(number), check=False)
    lines = done.stdout.strip().splitlines()
    verdict = f"{env} {'accepts' if done.returncode == 0 else 'refuses'} redis-templates-{number}"
    assert lines[-1] == verdict, done.stdout
    rules: dict[str, str] = {}
    for line in lines[:-1]:
        assert line.startswith(("pass  ", "FAIL  ")), line
        rules[line[6:].split(":", 1)[0]] = line
        for record_id in RECORD_ID.findall(line):
            cited = list((e2e.workdir / "store" / "records").glob(f"*/{record_id}.json"))
            assert len(cited) == 1, f"{line}: record {record_id} is not in the store"
    return done.returncode, rules


def rule(rules: dict[str, str], prefix: str) -> str:
    found = [line for name, line in rules.items() if name.startswith(prefix)]
    assert len(found) == 1, rules
    return found[0]


def status(e2e: E2EProject) -> dict[str, dict[str, Any]]:
    rows: list[dict[str, Any]] = json.loads(e2e.invoke("status", "--json").stdout)
    return {row["env"]: row for row in rows}


def password(e2e: E2EProject, env: str) -> str:
    return (e2e.workdir / "secrets" / f"{env}.redis-password").read_text().strip()


def run_ids(e2e: E2EProject, env: str, hosts: list[str]) -> dict[str, str]:
    out = {}
    for host in hosts:
        with redis.Redis(host=host, port=6379, password=password(e2e, env), socket_timeout=5) as client:
            out[host] = str(client.info("server")["run_id"])
    return out


def integration_figures(e2e: E2EProject, candidate: str) -> dict[str, Any]:
    """The figures of the latest integration test of ``candidate`` in staging."""
    tests = [
        r
        for r in records(e2e, "staging")
        if r["kind"] == "test" and r["details"].get("test") == "integration" and r["candidate"] == candidate
    ]
    assert tests and tests[-1]["outcome"] == "succeeded"
    figures: dict[str, Any] = tests[-1]["details"]["figures"]
    return figures


def ok(done: subprocess.CompletedProcess[str], *needles: str) -> str:
    for needle in needles:
        assert needle in done.stdout, done.stdout
    return done.stdout


# -- scenarios -------------------------------------------------------------------------------------


def test_dev_release_is_refused_by_staging_even_after_dev1_success(e2e: E2EProject) -> None:
    env_yml = e2e.root / "dev1" / "env.yml"
    env_yml.write_text(env_yml.read_text().replace('version: "12"', 'version: "12+dev.3"'))
    ok(e2e.invoke("deploy", "--env", "dev1"), f"dev1: {A} deployed and tested")

    refused(
        e2e,
        "staging",
        "deploy",
        "--env",
        "staging",
        "--candidate",
        "1",
        needles=(f"staging refuses {A}", "final releases only", "redis/12+dev.3"),
    )
    assert not (e2e.workdir / "director" / "deployments" / "redis-staging").exists()

    # The dry run shows the dev1 success (with its records) and the rule that still refuses it.
    code, rules = gates(e2e, "staging", 1)
    assert code != 0
    assert rule(rules, "final releases only").startswith("FAIL") and "redis/12+dev.3" in rules["final releases only"]
    dev1 = rule(rules, "succeeded in dev1 or dev2")
    assert dev1.startswith("pass") and "dev1: deploy " in dev1 and ", smoke " in dev1

    # Without --candidate staging looks for the newest eligible one and explains why there is none.
    audit = refused(
        e2e, "staging", "deploy", "--env", "staging", needles=("no stored candidate is eligible", "redis/12+dev.3")
    )
    assert audit["candidate"] is None
    assert [r["kind"] for r in records(e2e, "staging")] == ["refusal", "refusal"]
    assert e2e.invoke("status", "--json").stdout and status(e2e)["staging"]["candidate"] is None


def test_promotion_gates_staging_reset_and_rollback(e2e: E2EProject) -> None:
    # -- A: stored, not yet deployed anywhere --------------------------------------------------
    ok(e2e.invoke("upload", "--env", "dev1"), f"candidates/{A}.tgz stored")
    refused(
        e2e,
        "staging",
        "deploy",
        "--env",
        "staging",
        "--candidate",
        "1",
        needles=("succeeded in dev1 or dev2", "never deployed in dev1", "never deployed in dev2"),
    )

    # -- dev2 success: staging's any_of rule is met -----------------------------------------------
    ok(e2e.invoke("deploy", "--env", "dev2", "--candidate", "1"), f"dev2: {A} deployed and tested")
    code, rules = gates(e2e, "staging", 1)
    assert code == 0 and "dev2: deploy " in rule(rules, "succeeded in dev1 or dev2")

    # -- production refuses A until staging has deployed it and every test passed after that ----
    refused(
        e2e, "production", "deploy", "--env", "production", "--candidate", "1", needles=("never deployed in staging",)
    )
    ok(e2e.invoke("bosh-deploy", "--env", "staging", "--candidate", "1"))
    refused(
        e2e,
        "production",
        "deploy",
        "--env",
        "production",
        "--candidate",
        "1",
        needles=("succeeded in staging", "no smoke, acceptance, integration test in staging after deploy"),
    )
    ok(e2e.invoke("smoke-test", "--env", "staging"), "acceptance test of redis-staging: passed")
    refused(
        e2e,
        "production",
        "deploy",
        "--env",
        "production",
        "--candidate",
        "1",
        needles=("no integration test in staging after deploy",),
    )
    # The integration test resets staging to production's current (nothing: staging is emptied),
    # so the run it records starts from nothing, as production's first deploy does.
    ok(e2e.invoke("integration-test", "--env", "staging"), "integration test of redis-staging: passed")
    code, rules = gates(e2e, "production", 1)
    staged = rule(rules, "succeeded in staging")
    assert code == 0, rules
    assert all(f", {name} " in staged for name in ("smoke", "acceptance", "integration"))
    ok(e2e.invoke("deploy", "--env", "production", "--candidate", "1"), f"production: {A} deployed and tested")

    # -- C: a content change that restarts nothing; all the way to production ------------------
    scaling = e2e.root / "dev2" / "pipeline" / "scaling-dev2.yml"
    scaling.write_text(scaling.read_text() + "# candidate C\n")
    ok(e2e.invoke("deploy", "--env", "dev2"), f"dev2: {C} deployed and tested")
    ok(
        e2e.invoke("deploy", "--env", "staging", "--candidate", "2"),
        f"reset: staging to production's current candidate ({A})",
    )
    ok(e2e.invoke("deploy", "--env", "production", "--candidate", "2"), f"production: {C} deployed and tested")

    # -- B: replicas lose their persistent disk -> a rolling restart of every replica ----------
    infra = e2e.root / "templates" / "infrastructure-local.yml"
    text = infra.read_text()
    for job in ("redis_z1", "redis_test_slave_z1"):
        old = f"  - name: {job}\n    persistent_disk: (( meta.persistent_disk ))"
        assert old in text
        text = text.replace(old, f"  - name: {job}\n    persistent_disk: 0")
    infra.write_text(text)
    ok(e2e.invoke("deploy", "--env", "dev2"), f"dev2: {B} deployed and tested")

    master, replicas = e2e.host(15, 2), [e2e.host(15, 6), e2e.host(15, 10), e2e.host(15, 14)]
    before = run_ids(e2e, "staging", [master, *replicas])
    out = ok(
        e2e.invoke("deploy", "--env", "staging", "--candidate", "3"),
        f"reset: staging to production's current candidate ({C})",
        "redis-staging: 4 instance(s), 3 updated",
        f"staging: {B} deployed and tested",
    )
    after = run_ids(e2e, "staging", [master, *replicas])
    assert after[master] == before[master], "the master was restarted"
    assert all(after[r] != before[r] for r in replicas), "a replica was not restarted"
    figures = integration_figures(e2e, B)
    assert figures["keys_written"] == 5000
    assert figures["keys_found"] == {
        "redis_leader_z1/0": 5000,
        "redis_z1/0": 5000,
        "redis_z1/1": 5000,
        "redis_test_slave_z1/0": 5000,
    }
    assert figures["requests_during_update"] > 0
    assert figures["failed_requests_during_update"] < figures["requests_during_update"]
    assert "requests failed during the rolling update" in out
    print(f"\nintegration C->B (replicas restarted): {json.dumps(figures)}")

    code, rules = gates(e2e, "production", 3)
    assert code == 0 and "starting from production's current candidate" in rule(rules, "succeeded in staging")

    # -- production rolls back to A: B's staging run (from C) no longer started from its current --
    ok(e2e.invoke("rollback", "--env", "production"), f"rollback: production from {C} to {A}")
    assert status(e2e)["production"]["candidate"] == A
    code, rules = gates(e2e, "production", 3)
    assert code != 0
    assert f"its staging run started from {C}, not from production's current {A}" in rule(rules, "succeeded in staging")
    refused(
        e2e,
        "production",
        "deploy",
        "--env",
        "production",
        "--candidate",
        "3",
        needles=(f"production refuses {B}", f"started from {C}, not from production's current {A}"),
    )

    # -- staging re-run: reset to A, upgrade to B; now production accepts B ----------------------
    ok(
        e2e.invoke("deploy", "--env", "staging", "--candidate", "3"),
        f"reset: staging to production's current candidate ({A})",
    )
    figures = integration_figures(e2e, B)
    assert set(figures["keys_found"].values()) == {figures["keys_written"]}
    print(f"integration A->B (replicas restarted): {json.dumps(figures)}")
    ok(e2e.invoke("deploy", "--env", "production", "--candidate", "3"), f"production: {B} deployed and tested")

    # -- rollback: production goes back to what production itself ran before B (A, not C) ------
    ok(e2e.invoke("rollback", "--env", "production"), f"rollback: production from {B} to {A}")
    ok(e2e.invoke("rollback", "--env", "dev2"), f"rollback: dev2 from {B} to {C}")
    done = e2e.invoke("rollback", "--env", "dev1", check=False)
    assert done.returncode != 0 and len(done.stderr.strip().splitlines()) == 1
    assert "dev1 has no earlier good candidate" in done.stderr

    # -- status and history say the same --------------------------------------------------------
    rows = status(e2e)
    assert {env: rows[env]["candidate"] for env in rows} == {"dev1": None, "dev2": C, "staging": B, "production": A}
    assert {t["test"]: (t["outcome"], t["candidate"]) for t in rows["production"]["tests"]} == {
        "smoke": ("succeeded", A),
        "acceptance": ("succeeded", A),
    }
    assert {t["test"] for t in rows["staging"]["tests"]} == {"smoke", "acceptance", "integration"}
    assert all(row["locked_by"] is None for row in rows.values())
    assert rows["production"]["last_deploy"]["candidate"] == A
    table = e2e.invoke("status").stdout.splitlines()
    assert table[0].split() == ["env", "candidate", "since", "last", "tests", "locked", "by", "drift"]
    assert any(line.startswith("production") and A in line and line.endswith("in sync") for line in table)
    assert {env: row["drift"]["status"] for env, row in rows.items()} == {
        "dev1": "not deployed",
        "dev2": "in sync",
        "staging": "in sync",
        "production": "in sync",
    }

    history = json.loads(e2e.invoke("history", "--env", "production", "--json").stdout)
    assert [r["id"] for r in history] == sorted((r["id"] for r in history), reverse=True)
    deploys = [
        (r["candidate"], r["from_candidate"])
        for r in reversed(history)
        if r["kind"] == "deploy" and r["outcome"] != "started"
    ]
    assert deploys == [(A, None), (C, A), (A, C), (B, A), (A, B)]
    assert [r["outcome"] for r in history if r["kind"] == "refusal"] == ["refused"] * 4
    assert all(r["who"].get("user") for r in history)
    limited = json.loads(e2e.invoke("history", "--env", "production", "--limit", "2", "--json").stdout)
    assert [r["id"] for r in limited] == [r["id"] for r in history[:2]]

    staging = [
        r for r in records(e2e, "staging") if r["kind"] in ("deploy", "reset", "destroy") and r["outcome"] != "started"
    ]
    assert [(r["kind"], r["candidate"]) for r in staging] == [
        ("deploy", A),  # bosh-deploy
        ("destroy", None),  # integration-test's reset: production ran nothing
        ("deploy", A),
        ("reset", A),
        ("deploy", C),
        ("reset", C),
        ("deploy", B),
        ("reset", A),
        ("deploy", B),
    ]
    assert [r["details"].get("started_from") for r in staging if r["kind"] == "deploy"][1:] == [None, A, C, A]
