"""Drift: does the director run what this pipeline last deployed there?

Compares what the director reports now (the deployed manifest, the instances' states) with what
the ledger says: the manifest sha256 of the env's latest deploy or reset record (and of its latest
successful one: a real director may keep the previous manifest after a failed deploy). The answer
is one of

- ``in sync``;
- ``drifted: manifest changed outside the pipeline`` (or deployed outside it, or deleted outside it);
- ``instances not running: redis_z1/0 (stopped), ...``;
- ``not deployed`` (neither the ledger nor the director has it), or ``unknown: <why>`` when the
  director cannot be asked.

It asks through the ``Director`` protocol only, so the local director and a real one over HTTP are
the same here. The manifest is compared by sha256 of the text the director returns: the text this
tool sent, which both directors hand back unchanged.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any

from boshpipe.errors import BoshpipeError
from boshpipe.steps import Context

IN_SYNC = "in sync"
DRIFTED = "drifted"
NOT_RUNNING = "instances not running"
NOT_DEPLOYED = "not deployed"
UNKNOWN = "unknown"


@dataclass(frozen=True)
class Drift:
    env: str
    status: str  # one of the constants above
    summary: str  # the line people read
    problems: tuple[str, ...] = ()
    details: dict[str, Any] = field(default_factory=dict)

    @property
    def drifted(self) -> bool:
        return self.status in (DRIFTED, NOT_RUNNING)

    def as_dict(self) -> dict[str, Any]:
        return {"status": self.status, "summary": self.summary, "problems": list(self.problems), **self.details}


def check(ctx: Context) -> Drift:
    """The env's drift; never raises for a director that cannot be asked (``unknown: why``)."""
    try:
        return _check(ctx)
    except BoshpipeError as err:
        return Drift(ctx.env.name, UNKNOWN, f"{UNKNOWN}: {err}")


def _check(ctx: Context) -> Drift:
    env, deployment = ctx.env.name, ctx.env.deployment
    state = ctx.ledger.state(env)
    expected: set[str] = set()
    for record_id in {state.last_deploy, state.last_good_deploy} - {None}:
        record = ctx.ledger.record(env, str(record_id))
        if record.manifest_sha256:
            expected.add(record.manifest_sha256)
    text = ctx.director.deployed_manifest(deployment)
    details: dict[str, Any] = {"expected_manifest_sha256": sorted(expected)}
    if text is None:
        if state.deployed is None:
            return Drift(env, NOT_DEPLOYED, NOT_DEPLOYED, details=details)
        problem = f"{deployment} is gone from {ctx.director.describe()}: deleted outside the pipeline"
        return Drift(env, DRIFTED, f"{DRIFTED}: {problem}", (problem,), details)
    actual = hashlib.sha256(text.encode()).hexdigest()
    details["director_manifest_sha256"] = actual
    if state.deployed is None and not expected:
        problem = f"{deployment} was deployed outside the pipeline (the ledger has no deploy of it)"
        return Drift(env, DRIFTED, f"{DRIFTED}: {problem}", (problem,), details)
    if actual not in expected:
        problem = "manifest changed outside the pipeline"
        return Drift(env, DRIFTED, f"{DRIFTED}: {problem}", (problem,), details)
    down = [f"{i.job}/{i.index} ({i.state})" for i in ctx.director.instances(deployment) if i.state != "running"]
    if down:
        return Drift(env, NOT_RUNNING, f"{NOT_RUNNING}: {', '.join(down)}", tuple(down), details)
    return Drift(env, IN_SYNC, IN_SYNC, details=details)


def warn_before_deploy(ctx: Context) -> None:
    """A gated deploy says so before it acts on an env that drifted (it will replace what is there)."""
    found = check(ctx)
    if found.drifted:
        ctx.out.line(f"warning: {ctx.env.name} has {found.summary}; this deploy replaces what runs there")
