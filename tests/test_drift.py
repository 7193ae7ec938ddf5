"""Drift on the local director, through the real `invoke` tasks (issue 14).

A manifest deployed to the env outside the pipeline (straight through the Director protocol, as a
person with the bosh CLI would) shows as drifted in `status`, `status --json` and `drift`; a gated
deploy onto it says so before it acts and puts it back in sync; a redis-server killed by the test
shows as not running.
"""

from __future__ import annotations

import json
import os
import signal
from pathlib import Path
from typing import Any

import pytest
import yaml

from boshpipe.director.local import LocalDirector
from tests.e2e_project import E2EProject

pytestmark = pytest.mark.e2e


def staging_row(e2e: E2EProject) -> dict[str, Any]:
    rows = json.loads(e2e.invoke("status", "--json").stdout)
    row: dict[str, Any] = next(r for r in rows if r["env"] == "staging")
    return row


def test_drift_outside_the_pipeline_and_dead_instances(e2e: E2EProject) -> None:
    e2e.invoke("deploy", "--env", "dev1")
    e2e.invoke("bosh-deploy", "--env", "staging", "--candidate", "1")
    assert staging_row(e2e)["drift"]["status"] == "in sync"
    assert e2e.invoke("drift", "--env", "staging").stdout.strip() == "staging: in sync"

    director = LocalDirector(e2e.workdir / "director")
    text = director.deployed_manifest("redis-staging")
    assert text is not None
    manifest = yaml.safe_load(text)
    manifest["update"]["max_in_flight"] = 7  # a change made by hand, behind the pipeline's back
    assert director.deploy(yaml.safe_dump(manifest), lambda event: None).ok

    row = staging_row(e2e)
    assert row["drift"]["status"] == "drifted"
    assert row["drift"]["summary"] == "drifted: manifest changed outside the pipeline"
    assert row["drift"]["director_manifest_sha256"] not in row["drift"]["expected_manifest_sha256"]
    table = e2e.invoke("status").stdout.splitlines()
    drifted = "drifted: manifest changed outside the pipeline"
    assert any(line.startswith("staging") and line.endswith(drifted) for line in table)
    done = e2e.invoke("drift", "--env", "staging", "--json", check=False)
    assert done.returncode == 1 and json.loads(done.stdout)["status"] == "drifted"

    out = e2e.invoke("bosh-deploy", "--env", "staging", "--candidate", "1").stdout
    warning = out.index("warning: staging has drifted: manifest changed outside the pipeline")
    assert warning < out.index("deploying redis-staging")
    assert staging_row(e2e)["drift"]["status"] == "in sync"

    victim = next(i for i in director.instances("redis-staging") if i.job == "redis_z1")
    pids = [pid for pid in e2e.redis_pids() if _serves(pid, victim.address)]
    assert len(pids) == 1, pids
    os.kill(pids[0], signal.SIGKILL)
    row = staging_row(e2e)
    assert row["drift"]["status"] == "instances not running"
    assert row["drift"]["summary"] == f"instances not running: {victim.job}/{victim.index} (stopped)"


def _serves(pid: int, address: str) -> bool:
    """Whether the redis-server ``pid`` listens on ``address`` (its config file names the bind)."""
    cmdline = Path(f"/proc/{pid}/cmdline").read_text().split("\0")
    conf = next((part for part in cmdline if part.endswith(".conf")), None)
    if conf is None:
        return False
    binds = [line.split()[1:] for line in Path(conf).read_text().splitlines() if line.startswith("bind ")]
    return any(address in bind for bind in binds)
