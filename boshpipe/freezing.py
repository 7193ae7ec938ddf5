"""Enforcing freezes: ``invoke freeze``/``thaw`` and the check every deploy, reset and rollback makes.

The windows and their arithmetic live in ``freeze`` (read by ``environments``, so it stays below the
steps); this module is the part that needs an env's ledger: ad-hoc freezes are ``freeze``/``thaw``
records whose latest one the env's pointer names, a refusal is a ``refusal`` record, and a
``--break-freeze --reason`` that the env allows is a ``freeze_break`` record written before the
deploy starts.
"""

from __future__ import annotations

from boshpipe import clock
from boshpipe.errors import ConfigError, GateRefused
from boshpipe.freeze import ActiveFreeze, active, clock_text, project_freeze
from boshpipe.ledger import Record
from boshpipe.steps import Context


def in_force(ctx: Context) -> list[ActiveFreeze]:
    """The freezes of this env in force now (configured windows first, then the ad-hoc one)."""
    windows = project_freeze(ctx.project).for_env(ctx.env.name)
    return active((*windows, *ctx.env.freeze.windows), ctx.ledger.state(ctx.env.name).freeze, clock.now())


def guard(ctx: Context, action: str) -> None:
    """Refuse ``action`` (deploy, reset, rollback...) during a freeze, unless broken as the env allows.

    Call inside the env's lock, before anything changes.
    """
    found = in_force(ctx)
    if not found:
        return
    first = found[0]
    reason = ctx.break_freeze
    if reason is not None and ctx.env.freeze.break_allowed:
        record = ctx.ledger.append(
            Record(
                kind="freeze_break",
                env=ctx.env.name,
                outcome="succeeded",
                details={"action": action, "freezes": [f.line() for f in found], "reason": reason},
            ),
            update_state=None,
        )
        ctx.out.line(f"warning: breaking {first.line()} for {action}: {reason} [record {record.id}]")
        return
    if reason is not None:
        hint = f"{ctx.env.path}: freeze.break_allowed is not true, so --break-freeze is refused here"
    else:
        hint = "wait until then" + (
            ", or pass --break-freeze --reason TEXT" if ctx.env.freeze.break_allowed else ""
        )
    record = ctx.ledger.append(
        Record(
            kind="refusal",
            env=ctx.env.name,
            outcome="refused",
            details={"action": action, "freezes": [f.line() for f in found], "break_reason": reason or ""},
        ),
        update_state=None,
    )
    raise GateRefused(f"{ctx.env.name} is frozen, {action} refused: {first.line()}; {hint} [audit record {record.id}]")


def freeze(ctx: Context, until_text: str, reason: str) -> Record:
    if not reason.strip():
        raise ConfigError("--reason is empty: say why the env is frozen, e.g. --reason 'incident 1234'")
    until = clock.until(until_text, f"--until {until_text!r}")
    if until <= clock.now():
        raise ConfigError(f"--until {until_text!r} is already past: give a later time or a duration such as 2h")
    record = ctx.ledger.append(
        Record(
            kind="freeze",
            env=ctx.env.name,
            outcome="succeeded",
            details={"until": until.isoformat(timespec="seconds"), "reason": reason},
        )
    )
    ctx.out.line(f"{ctx.env.name} frozen until {clock_text(until)}: {reason} [record {record.id}]")
    return record


def thaw(ctx: Context) -> Record | None:
    current = ctx.ledger.state(ctx.env.name).freeze
    if not current:
        ctx.out.line(f"{ctx.env.name} has no ad-hoc freeze (windows in boshpipe.yml/env.yml are lifted there)")
        return None
    record = ctx.ledger.append(
        Record(kind="thaw", env=ctx.env.name, outcome="succeeded", details={"thawed": current.get("id")})
    )
    ctx.out.line(f"{ctx.env.name} thawed (freeze {current.get('id')} lifted) [record {record.id}]")
    return record
