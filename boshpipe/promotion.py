"""Promotion: admitting a candidate into an env, resetting staging, the integration upgrade, rollback.

``admit`` is where the gates bite: it runs inside the env's lock, reads rules from the repository and
evidence from the ledger, and a refusal writes nothing but an audit record of the refusal.
``roll_out`` is what happens once admitted: for an env with ``reset_to`` (staging) the env is first
redeployed with that env's current candidate, so the upgrade tested is the upgrade production gets;
for an env whose tests include ``integration`` the upgrade runs inside the integration test.
"""

from __future__ import annotations

from typing import Any

from boshpipe import candidate as cand
from boshpipe import freezing, gates
from boshpipe.errors import CandidateError, CheckFailed, GateRefused, NotFound
from boshpipe.ledger import Record, now_iso
from boshpipe.steps import (
    Context,
    append,
    delete_deployment,
    deploy_candidate,
    fetch_candidate,
    post_deploy_tests,
    run_tests,
)
from boshpipe.store.candidates import StoredCandidate, list_candidates, parse_ref

INTEGRATION_KEYS = 5000


def admit(ctx: Context, number: int | None) -> tuple[StoredCandidate, cand.Candidate]:
    """The candidate to deploy, after the env's gates said yes. ``None`` picks the newest eligible."""
    if number is None:
        return _newest_eligible(ctx)
    stored, candidate = fetch_candidate(ctx, number)
    if ctx.env.rules.open:
        return stored, candidate
    decision = gates.decide(ctx.ledger, ctx.env, stored.ref, candidate)
    if not decision.ok:
        _refuse(ctx, decision)
    for verdict in decision.verdicts:
        ctx.out.line(f"gate {verdict.line()}")
    return stored, candidate


def _refuse(ctx: Context, decision: gates.Decision) -> None:
    record = ctx.ledger.append(
        Record(
            kind="refusal",
            env=ctx.env.name,
            outcome="refused",
            candidate=decision.candidate,
            details={"rules": [v.line() for v in decision.verdicts]},
        ),
        update_state=None,
    )
    raise GateRefused(f"{decision.refusal()} [audit record {record.id}]")


def _newest_eligible(ctx: Context) -> tuple[StoredCandidate, cand.Candidate]:
    name = ctx.project.candidate_name
    stored_all = list_candidates(ctx.store, name)
    if not stored_all:
        raise CandidateError(f"no candidate in {ctx.store.describe()}: build one with `invoke deploy --env dev1`")
    reasons: list[str] = []
    for listed in reversed(stored_all):
        stored, candidate = fetch_candidate(ctx, listed.number)
        decision = gates.decide(ctx.ledger, ctx.env, stored.ref, candidate)
        if decision.ok:
            for line in reasons:
                ctx.out.line(line)
            ctx.out.line(f"{ctx.env.name}: newest eligible candidate is {stored.ref}")
            return stored, candidate
        reasons.append(f"  not eligible: {decision.refusal()}")
    for line in reasons:
        ctx.out.line(line)
    record = ctx.ledger.append(
        Record(
            kind="refusal",
            env=ctx.env.name,
            outcome="refused",
            details={"rules": [line.strip() for line in reasons], "checked": len(stored_all)},
        ),
        update_state=None,
    )
    raise GateRefused(
        f"no stored candidate is eligible for {ctx.env.name} ({len(stored_all)} checked; newest: "
        f"{reasons[0].strip().removeprefix('not eligible: ')}) [audit record {record.id}]"
    )


def roll_out(
    ctx: Context, stored: StoredCandidate, candidate: cand.Candidate, *, integration: bool | None = None
) -> None:
    """(Reset,) deploy — inside the integration test when the env runs it — then the post-deploy tests."""
    started_from = reset(ctx) if ctx.env.rules.reset_to else None
    extra = {"reset_to": ctx.env.rules.reset_to, "started_from": started_from} if ctx.env.rules.reset_to else {}
    if integration is None:
        integration = "integration" in ctx.env.tests
    if integration:
        deployed = _integration_upgrade(ctx, stored, candidate, extra)
    else:
        deployed = deploy_candidate(ctx, stored, candidate, details=extra)
    run_tests(ctx, deployed, post_deploy_tests(ctx))


def reset(ctx: Context) -> str | None:
    """Redeploy this env with ``reset_to``'s current candidate, rendered with this env's stubs.

    Returns what the env now runs (None when ``reset_to`` has nothing deployed: the env is emptied,
    so the next deploy starts from nothing, as a first production deploy would).
    """
    source = ctx.env.rules.reset_to
    if source is None:
        raise CandidateError(f"{ctx.env.path}: accepts.reset_to is not set: {ctx.env.name} has no reset")
    current = ctx.ledger.state(source).deployed
    ctx.out.line(f"reset: {ctx.env.name} to {source}'s current candidate ({current or 'nothing deployed'})")
    if current is None:
        # Recorded as a destroy: the env's pointer must say it runs nothing now (a reset record
        # without a candidate would leave the pointer naming the deleted candidate, and the next
        # deploy would record a from_candidate the run did not start from).
        note = f"reset: {source} has no candidate: {ctx.env.name} emptied"
        delete_deployment(ctx, {"reset_to": source, "note": note})
        return None
    _, number = parse_ref(current)
    stored, candidate = fetch_candidate(ctx, number)
    deployed = deploy_candidate(ctx, stored, candidate, kind="reset", details={"reset_to": source})
    run_tests(ctx, deployed, ("smoke",))
    return current


def _integration_upgrade(
    ctx: Context, stored: StoredCandidate, candidate: cand.Candidate, details: dict[str, Any]
) -> Record:
    """Deploy the candidate inside the integration test, and record the test against that deploy."""
    holder: list[Record] = []
    started = now_iso()
    if ctx.director.deployed_manifest(ctx.env.deployment) is None:
        # First deploy (what the env resets to has nothing): there is no upgrade to carry data
        # across, so the data is seeded on the fresh deployment and read back from every instance.
        ctx.out.line("integration: nothing deployed before: no upgrade to test, checking the fresh deployment")
        holder.append(deploy_candidate(ctx, stored, candidate, details=details))

        def upgrade() -> None:
            return None
    else:

        def upgrade() -> None:
            holder.append(deploy_candidate(ctx, stored, candidate, details=details))

    from boshpipe import integration

    figures = integration.around_upgrade(ctx.director, ctx.env.deployment, upgrade, keys=INTEGRATION_KEYS)
    deployed = holder[0]
    lost = {
        name: figures.keys_written - found
        for name, found in figures.keys_found.items()
        if found != figures.keys_written
    }
    ok = not lost
    for name, found in figures.keys_found.items():
        ctx.out.line(f"  integration: {name}: {found}/{figures.keys_written} keys present after the upgrade")
    ctx.out.line(
        f"  integration: {figures.failed_requests} of {figures.requests} requests failed "
        "during the rolling update" + (f" (first: {figures.failures[0]})" if figures.failures else "")
    )
    record = append(
        ctx,
        Record(
            kind="test",
            env=ctx.env.name,
            outcome="succeeded" if ok else "failed",
            candidate=stored.ref,
            candidate_sha256=stored.sha256,
            from_candidate=deployed.from_candidate,
            started=started,
            finished=now_iso(),
            details={"test": "integration", "deploy": deployed.id, "figures": figures.as_dict()},
        ),
    )
    if not ok:
        worst = max(lost, key=lambda name: lost[name])
        raise CheckFailed(
            f"integration test of {ctx.env.deployment} failed: {worst} lost {lost[worst]} of "
            f"{figures.keys_written} keys across the upgrade to {stored.ref} [record {record.id}]"
        )
    ctx.out.line(f"integration test of {ctx.env.deployment}: passed [record {record.id}]")
    return deployed


def integration_test(ctx: Context) -> None:
    """Re-run the upgrade the env's deployed candidate went through, as the integration test."""
    with ctx.ledger.lock(ctx.env.name, "integration-test"):
        freezing.guard(ctx, "integration-test (reset and upgrade)")
        current = ctx.ledger.state(ctx.env.name).deployed
        if current is None:
            raise CandidateError(
                f"{ctx.env.name} has no deployed candidate to test: `invoke deploy --env {ctx.env.name}` first"
            )
        stored, candidate = fetch_candidate(ctx, parse_ref(current)[1])
        roll_out(ctx, stored, candidate, integration=True)


def reset_only(ctx: Context) -> None:
    with ctx.ledger.lock(ctx.env.name, "reset"):
        freezing.guard(ctx, "reset")
        reset(ctx)


def rollback(ctx: Context) -> None:
    """Redeploy the env's previous good candidate: one this env itself ran successfully before."""
    with ctx.ledger.lock(ctx.env.name, "rollback"):
        freezing.guard(ctx, "rollback")
        state = ctx.ledger.state(ctx.env.name)
        previous = state.previous_good()
        if previous is None:
            raise CandidateError(
                f"{ctx.env.name} has no earlier good candidate to roll back to "
                f"(it ran only {state.deployed or 'nothing'}): see `invoke history --env {ctx.env.name}`"
            )
        try:
            stored, candidate = fetch_candidate(ctx, parse_ref(previous)[1])
        except NotFound:
            raise CandidateError(f"{previous} is no longer in {ctx.store.describe()}: cannot roll back to it") from None
        ctx.out.line(f"rollback: {ctx.env.name} from {state.deployed} to {previous}")
        deployed = deploy_candidate(ctx, stored, candidate, details={"rollback_from": state.deployed})
        run_tests(ctx, deployed, post_deploy_tests(ctx))


def gate_report(ctx: Context, number: int) -> gates.Decision:
    stored, candidate = fetch_candidate(ctx, number)
    return gates.decide(ctx.ledger, ctx.env, stored.ref, candidate)
