"""The whole-chain operations: a candidate through the gates, then deployed (and tested).

These sit above ``promotion`` (gates, reset, integration upgrade) and ``steps`` (the links), so
neither of those needs to call back up: the import graph of ``boshpipe`` stays a tree of layers
(tests/test_layout.py). ``tasks.py`` calls ``deploy`` and ``bosh_deploy`` here.
"""

from __future__ import annotations

from boshpipe import drift, freezing, promotion, steps
from boshpipe.errors import CandidateError
from boshpipe.steps import Context
from boshpipe.store.candidates import latest_candidate


def deploy(ctx: Context, number: int | None = None, source: str | None = None) -> None:
    """The whole chain: candidate → gates → (reset) → deploy → tests.

    Open envs (dev1, dev2) build and store a candidate from the working tree unless one is given;
    gated envs take the given candidate or the newest eligible one, and never trust the caller.
    """
    if number is None and ctx.env.rules.open:
        number = steps.upload(ctx, source=source).number
    with ctx.ledger.lock(ctx.env.name, "deploy"):
        freezing.guard(ctx, "deploy")
        stored, candidate = promotion.admit(ctx, number)
        if not ctx.env.rules.open:
            drift.warn_before_deploy(ctx)
        promotion.roll_out(ctx, stored, candidate)
    ctx.out.line(f"{ctx.env.name}: {stored.ref} deployed and tested")


def bosh_deploy(ctx: Context, number: int | None = None, dry_run: bool = False) -> None:
    """Deploy a stored candidate (default: the newest admitted) without running tests.

    ``dry_run`` shows what the director would change (secrets redacted) and changes nothing.
    """
    if dry_run:
        stored, candidate = steps.fetch_candidate(ctx, number if number is not None else _newest(ctx))
        task = steps.dry_run(ctx, candidate)
        ctx.out.line(f"dry run of {stored.ref} on {ctx.env.deployment}: {task.result or task.description}")
        return
    with ctx.ledger.lock(ctx.env.name, "deploy"):
        freezing.guard(ctx, "deploy")
        if number is None and ctx.env.rules.open:
            number = _newest(ctx)
        stored, candidate = promotion.admit(ctx, number)
        if not ctx.env.rules.open:
            drift.warn_before_deploy(ctx)
        steps.deploy_candidate(ctx, stored, candidate)


def _newest(ctx: Context) -> int:
    latest = latest_candidate(ctx.store, ctx.project.candidate_name)
    if latest is None:
        raise CandidateError(f"no candidate in {ctx.store.describe()}: run `invoke upload --env {ctx.env.name}`")
    return latest.number
