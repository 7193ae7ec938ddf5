"""Approvals: a named person says "this candidate may go to this env" (``invoke approve``/``revoke``).

An approval is a record in the target env (``kind: approval``; ``revocation`` takes it back), merged
into that env's pointer for the candidate, so the gate reads one object however many approvals and
records exist. Who approved is the Concourse build's identifiers or ``user@host`` (``ledger.who``):
the same identity that the candidate's ``built_by`` carries, which is how the builder's own
approval is told apart when ``accepts.approvals.distinct_from_builder`` is set. The approval is
recorded either way (it is what the person did); the gate decides whether it counts.
"""

from __future__ import annotations

from boshpipe.gates import builder
from boshpipe.ledger import Record, current_who, describe_who
from boshpipe.steps import Context, fetch_candidate


def approve(ctx: Context, number: int, comment: str | None = None) -> Record:
    return _write(ctx, "approval", number, comment)


def revoke(ctx: Context, number: int, comment: str | None = None) -> Record:
    return _write(ctx, "revocation", number, comment)


def _write(ctx: Context, kind: str, number: int, comment: str | None) -> Record:
    stored, candidate = fetch_candidate(ctx, number)  # approve only what exists and is intact
    details = {"comment": comment} if comment else {}
    record = ctx.ledger.append(
        Record(
            kind=kind,
            env=ctx.env.name,
            outcome="succeeded",
            candidate=stored.ref,
            candidate_sha256=stored.sha256,
            details=details,
        )
    )
    me = describe_who(current_who())
    verb = "approved" if kind == "approval" else "revoked the approval of"
    ctx.out.line(f"{me} {verb} {stored.ref} for {ctx.env.name} [record {record.id}]")
    rule = ctx.env.rules.approvals
    if rule is None:
        ctx.out.line(f"note: {ctx.env.name}'s env.yml asks for no approvals (accepts.approvals): recorded only")
    elif kind == "approval" and rule.distinct_from_builder and me == builder(candidate):
        ctx.out.line(f"note: {me} built {stored.ref}: this approval is recorded but does not count")
    state = ctx.ledger.candidate_state(ctx.env.name, stored.ref)
    standing = ", ".join(sorted(state.approvers())) or "none"
    ctx.out.line(f"standing approvals of {stored.ref} for {ctx.env.name}: {standing}")
    return record
