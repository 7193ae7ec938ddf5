"""boshpipe tasks: one per pipeline step. Each parses its flags and calls one library function.

Run `invoke --list` for the catalogue and `invoke --help <task>` for a task's flags.
Every failure a person can act on prints one line and exits non-zero; pass --debug for a traceback.
"""

from __future__ import annotations

import sys
from json import dumps
from pathlib import Path
from typing import TYPE_CHECKING

from invoke.collection import Collection
from invoke.context import Context
from invoke.exceptions import Exit
from invoke.tasks import task

import pipeline_tasks
from boshpipe.errors import ConfigError
from boshpipe.taskrunner import DEBUG, one_line_errors

if TYPE_CHECKING:
    from boshpipe import steps


ENV = "deployment to act on: dev1, dev2, staging or production"
SOURCE = (
    "upstream source overriding env.yml (URL incl. file://, or a directory); default $BOSHPIPE_UPSTREAM"
    " ($BOSHPIPE_OPS_UPSTREAM for an env with composition: ops)"
)
CANDIDATE = "candidate number N (candidates/<name>-N.tgz in the store)"
BREAK_FREEZE = "deploy during a freeze window (only where env.yml has freeze.break_allowed: true); needs --reason"
REASON = "why the freeze is broken (recorded, and sent to notify: webhooks)"
FLAGS = {
    "recreate": "recreate every instance, changed or not (bosh deploy --recreate)",
    "fix": "also recreate instances with unresponsive agents (bosh deploy --fix)",
    "skip_drain": "skip running drain scripts (bosh deploy --skip-drain)",
    "canaries": "number of canary instances, overriding the manifest's update block",
    "max_in_flight": "instances updated at once: a number (2) or a percentage (50%), overriding the manifest",
}


# The library is imported inside each task, so `invoke --list` and every task load only what they use.


def _ctx(env: str, break_freeze: bool = False, reason: str | None = None, **flags: object) -> steps.Context:
    """The env's context; ``flags`` are the deploy flags as typed (checked by ``parse_flags``)."""
    from boshpipe import steps
    from boshpipe.director.flags import parse_flags

    ctx = steps.Context.open(env)
    if flags:
        ctx.flags = parse_flags(**flags)  # type: ignore[arg-type]
    if break_freeze:
        if not reason or not reason.strip():
            raise ConfigError("--break-freeze needs --reason TEXT: say why the freeze is broken (it is recorded)")
        ctx.break_freeze = reason
    elif reason:
        raise ConfigError("--reason is given without --break-freeze: add --break-freeze or drop --reason")
    return ctx


def _number(value: object, flag: str = "--candidate") -> int | None:
    """invoke passes untyped flags as strings: check and convert them here, with a clear line."""
    if value is None:
        return None
    text = str(value)
    if not text.isdigit() or int(text) < 1:
        raise ConfigError(f"{flag} {text!r}: expected a positive number, e.g. {flag} 3")
    return int(text)


@task(help={"env": ENV, "source": SOURCE, "debug": DEBUG})
@one_line_errors
def fetch_upstream(c: Context, env: str, source: str | None = None, debug: bool = False) -> None:
    """Fetch the upstream templates at the env's pinned ref and record the resolved commit."""
    from boshpipe import steps

    steps.fetch(_ctx(env), source, keep=True)


@task(
    help={
        "env": ENV,
        "source": SOURCE,
        "candidate": CANDIDATE + "; default: the working tree",
        "output": "write the full manifest (mode 0600) here instead of printing it redacted",
        "shape": "v1: the spiff composition as it is; v2: the v2 manifest, then the env's cloud config",
        "debug": DEBUG,
    }
)
@one_line_errors
def spiff_merge(
    c: Context,
    env: str,
    source: str | None = None,
    candidate: str | None = None,
    output: str | None = None,
    shape: str = "v1",
    debug: bool = False,
) -> None:
    """Compose the env's manifest with spiff and print it (secrets redacted) or write it."""
    from boshpipe import steps

    steps.spiff_merge(_ctx(env), source, _number(candidate), Path(output) if output else None, shape)


@task(
    help={
        "env": ENV,
        "source": SOURCE,
        "candidate": CANDIDATE + "; default: the working tree",
        "output": "write the full manifest and cloud config (mode 0600) here instead of printing them redacted",
        "debug": DEBUG,
    }
)
@one_line_errors
def ops_interpolate(
    c: Context,
    env: str,
    source: str | None = None,
    candidate: str | None = None,
    output: str | None = None,
    debug: bool = False,
) -> None:
    """Compose an ops env's v2 manifest (base + ops files + vars) and print it (secrets redacted) or write it."""
    from boshpipe import steps

    steps.ops_interpolate(_ctx(env), source, _number(candidate), Path(output) if output else None)


@task(
    help={
        "env": ENV,
        "source": SOURCE,
        "diff": "show what would change in the env's named cloud config, upload nothing",
        "debug": DEBUG,
    }
)
@one_line_errors
def cloud_config(c: Context, env: str, source: str | None = None, diff: bool = False, debug: bool = False) -> None:
    """Upload the env's named cloud config to its director when it changed (the diff shown first)."""
    from boshpipe import steps

    steps.cloud_config(_ctx(env), source, diff_only=diff)


@task(help={"env": ENV, "source": SOURCE, "output": "where to write the .tgz", "debug": DEBUG})
@one_line_errors
def tarball(c: Context, env: str, source: str | None = None, output: str | None = None, debug: bool = False) -> None:
    """Build the deterministic candidate .tgz from the working tree (same inputs, same sha256)."""
    from boshpipe import steps

    steps.tarball(_ctx(env), source, Path(output) if output else None)


@task(
    help={
        "env": ENV,
        "source": SOURCE,
        "file": "a .tgz made by `invoke tarball`; default: build one",
        "replace_damaged": "put these bytes back where the store holds a damaged copy of them"
        " (checked first: a healthy candidate is never replaced)",
        "debug": DEBUG,
    }
)
@one_line_errors
def upload(
    c: Context,
    env: str,
    source: str | None = None,
    file: str | None = None,
    replace_damaged: bool = False,
    debug: bool = False,
) -> None:
    """Store a candidate as candidates/<name>-<N>.tgz (never overwritten, never stored twice)."""
    from boshpipe import steps

    steps.upload(_ctx(env), Path(file) if file else None, source, replace_damaged=replace_damaged)


@task(
    help={
        "env": ENV,
        "candidate": CANDIDATE + "; default: the newest",
        "dry_run": "show what the director would change (secrets redacted); change nothing",
        **FLAGS,
        "break_freeze": BREAK_FREEZE,
        "reason": REASON,
        "debug": DEBUG,
    }
)
@one_line_errors
def bosh_deploy(
    c: Context,
    env: str,
    candidate: str | None = None,
    dry_run: bool = False,
    recreate: bool = False,
    fix: bool = False,
    skip_drain: bool = False,
    canaries: str | None = None,
    max_in_flight: str | None = None,
    break_freeze: bool = False,
    reason: str | None = None,
    debug: bool = False,
) -> None:
    """Deploy a stored candidate to the env's director (no tests) and record the outcome."""
    from boshpipe import chain

    ctx = _ctx(
        env,
        break_freeze,
        reason,
        recreate=recreate,
        fix=fix,
        skip_drain=skip_drain,
        canaries=canaries,
        max_in_flight=max_in_flight,
    )
    chain.bosh_deploy(ctx, _number(candidate), dry_run)


@task(help={"env": ENV, "debug": DEBUG})
@one_line_errors
def smoke_test(c: Context, env: str, debug: bool = False) -> None:
    """Smoke-test the deployed env (passwords, replication, roles) and run the acceptance errand."""
    from boshpipe import steps

    steps.smoke(_ctx(env))


@task(
    help={
        "env": ENV,
        "candidate": CANDIDATE + "; default: build one from the working tree",
        "source": SOURCE,
        **FLAGS,
        "break_freeze": BREAK_FREEZE,
        "reason": REASON,
        "debug": DEBUG,
    }
)
@one_line_errors
def deploy(
    c: Context,
    env: str,
    candidate: str | None = None,
    source: str | None = None,
    recreate: bool = False,
    fix: bool = False,
    skip_drain: bool = False,
    canaries: str | None = None,
    max_in_flight: str | None = None,
    break_freeze: bool = False,
    reason: str | None = None,
    debug: bool = False,
) -> None:
    """The whole chain: fetch upstream, build + store the candidate, deploy it, test it."""
    from boshpipe import chain

    ctx = _ctx(
        env,
        break_freeze,
        reason,
        recreate=recreate,
        fix=fix,
        skip_drain=skip_drain,
        canaries=canaries,
        max_in_flight=max_in_flight,
    )
    chain.deploy(ctx, _number(candidate), source)


@task(help={"env": ENV, "debug": DEBUG})
@one_line_errors
def destroy(c: Context, env: str, debug: bool = False) -> None:
    """Delete the env's deployment: stop its instances and remove their disks."""
    from boshpipe import steps

    steps.destroy(_ctx(env))


@task(help={"env": "show only this env (default: all)", "json": "print JSON instead of a table", "debug": DEBUG})
@one_line_errors
def status(c: Context, env: str | None = None, json: bool = False, debug: bool = False) -> None:
    """Per env: deployed candidate, since when, last test outcomes, who holds the lock."""
    from boshpipe import reports
    from boshpipe.project import Project

    reports.status(Project.discover(), env, json, sys.stdout)


@task(
    help={
        "env": ENV,
        "limit": "show at most this many records (newest first)",
        "json": "print JSON",
        "debug": DEBUG,
    }
)
@one_line_errors
def history(c: Context, env: str, limit: str | None = None, json: bool = False, debug: bool = False) -> None:
    """The env's records, newest first: deploys, tests, resets, refusals, with who ran them."""
    from boshpipe import reports
    from boshpipe.project import Project

    reports.history(Project.discover(), env, _number(limit, "--limit"), json, sys.stdout)


@task(help={"env": ENV, "candidate": CANDIDATE, "json": "print JSON", "debug": DEBUG})
@one_line_errors
def gates(c: Context, env: str, candidate: str, json: bool = False, debug: bool = False) -> None:
    """Dry run of the env's promotion rules for a candidate: each rule, pass/fail, and its evidence."""
    from boshpipe import promotion

    decision = promotion.gate_report(_ctx(env), _number(candidate) or 0)
    if json:
        print(dumps(decision.as_dict(), indent=2))
    else:
        for verdict in decision.verdicts:
            print(verdict.line())
        print(f"{env} {'accepts' if decision.ok else 'refuses'} {decision.candidate}")
    if not decision.ok:
        raise Exit(code=1)


@task(
    help={
        "env": "the env to reset (staging): redeployed with its reset_to env's current candidate",
        "break_freeze": BREAK_FREEZE,
        "reason": REASON,
        "debug": DEBUG,
    }
)
@one_line_errors
def reset_staging(
    c: Context, env: str = "staging", break_freeze: bool = False, reason: str | None = None, debug: bool = False
) -> None:
    """Reset staging to look like production: redeploy it with production's current candidate."""
    from boshpipe import promotion

    promotion.reset_only(_ctx(env, break_freeze, reason))


@task(help={"env": ENV, "break_freeze": BREAK_FREEZE, "reason": REASON, "debug": DEBUG})
@one_line_errors
def integration_test(
    c: Context, env: str, break_freeze: bool = False, reason: str | None = None, debug: bool = False
) -> None:
    """Reset, seed data, upgrade to the env's candidate under traffic, check every key survived."""
    from boshpipe import promotion

    promotion.integration_test(_ctx(env, break_freeze, reason))


@task(help={"env": ENV, **FLAGS, "break_freeze": BREAK_FREEZE, "reason": REASON, "debug": DEBUG})
@one_line_errors
def rollback(
    c: Context,
    env: str,
    recreate: bool = False,
    fix: bool = False,
    skip_drain: bool = False,
    canaries: str | None = None,
    max_in_flight: str | None = None,
    break_freeze: bool = False,
    reason: str | None = None,
    debug: bool = False,
) -> None:
    """Redeploy the env's previous good candidate (one this env itself ran successfully)."""
    from boshpipe import promotion

    ctx = _ctx(
        env,
        break_freeze,
        reason,
        recreate=recreate,
        fix=fix,
        skip_drain=skip_drain,
        canaries=canaries,
        max_in_flight=max_in_flight,
    )
    promotion.rollback(ctx)


@task(
    help={
        "html": "the page to write (one self-contained file, viewable without network)",
        "candidates": "how many of the newest candidates get a row (default 8)",
        "debug": DEBUG,
    }
)
@one_line_errors
def report(c: Context, html: str, candidates: str | None = None, debug: bool = False) -> None:
    """Write the board: envs x recent candidates, locks, freezes, drift, every gated rule's verdict."""
    from boshpipe import board
    from boshpipe.project import Project

    written = board.write(Project.discover(), Path(html), _number(candidates, "--candidates") or board.ROWS)
    print(f"board: {written}")


@task(help={"env": ENV, "json": "print JSON", "debug": DEBUG})
@one_line_errors
def drift(c: Context, env: str, json: bool = False, debug: bool = False) -> None:
    """Does the director run what the pipeline deployed? in sync / drifted / instances not running (exit 1)."""
    from boshpipe import reports
    from boshpipe.project import Project

    if not reports.drift_report(Project.discover(), env, json, sys.stdout):
        raise Exit(code=1)


@task(
    help={
        "env": "the env the candidate is approved for (whose accepts.approvals counts it)",
        "candidate": CANDIDATE,
        "comment": "a note kept with the approval (e.g. the change ticket)",
        "debug": DEBUG,
    }
)
@one_line_errors
def approve(c: Context, env: str, candidate: str, comment: str | None = None, debug: bool = False) -> None:
    """Approve a candidate for an env as yourself (Concourse: the build); recorded in the ledger."""
    from boshpipe import approvals

    approvals.approve(_ctx(env), _number(candidate) or 0, comment)


@task(
    help={
        "env": "the env the approval was given for",
        "candidate": CANDIDATE,
        "comment": "why the approval is taken back",
        "debug": DEBUG,
    }
)
@one_line_errors
def revoke(c: Context, env: str, candidate: str, comment: str | None = None, debug: bool = False) -> None:
    """Take back your approval of a candidate for an env (recorded; the gate stops counting it)."""
    from boshpipe import approvals

    approvals.revoke(_ctx(env), _number(candidate) or 0, comment)


@task(
    help={
        "env": ENV,
        "until": "end of the freeze: an ISO time with a zone (2025-06-09T08:00:00+02:00) or a duration (2h)",
        "reason": "why the env is frozen (shown in every refusal)",
        "debug": DEBUG,
    }
)
@one_line_errors
def freeze(c: Context, env: str, until: str, reason: str, debug: bool = False) -> None:
    """Freeze an env until a time: deploys, resets and rollbacks are refused until then (or thaw)."""
    from boshpipe import freezing

    freezing.freeze(_ctx(env), until, reason)


@task(help={"env": ENV, "debug": DEBUG})
@one_line_errors
def thaw(c: Context, env: str, debug: bool = False) -> None:
    """Lift the env's ad-hoc freeze (windows in boshpipe.yml/env.yml are changed there)."""
    from boshpipe import freezing

    freezing.thaw(_ctx(env))


@task(help={"env": ENV, "debug": DEBUG})
@one_line_errors
def unlock(c: Context, env: str, debug: bool = False) -> None:
    """Release the env's lock by hand (when the run holding it died)."""
    from boshpipe import reports
    from boshpipe.project import Project

    reports.unlock(Project.discover(), env, sys.stdout)


@task(help={"env": ENV, "debug": DEBUG})
@one_line_errors
def ledger_repair(c: Context, env: str, debug: bool = False) -> None:
    """Recompute the env's state pointers from its records (skipping and listing unreadable ones)."""
    from boshpipe import reports
    from boshpipe.project import Project

    reports.ledger_repair(Project.discover(), env, sys.stdout)


# -- the catalogue -----------------------------------------------------------------------------
# `pipeline.*` tasks (Concourse pipeline checks and fly wrappers) live in their own module.
ns = Collection.from_module(sys.modules[__name__])
ns.add_collection(Collection.from_module(pipeline_tasks), name="pipeline")
