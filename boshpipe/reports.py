"""What people ask the ledger: ``status`` across envs, one env's ``history``, who holds a lock, and
``ledger-repair`` when its files are damaged.

``status`` reads, per env, the state pointer, the lock and the records the pointer names: a bounded
number of store objects however many candidates and records exist; then it asks the env's director
whether what runs there is what the ledger says (``drift``). When the env's last deploy record is not
final (``started``: the run died; ``interrupted``: a signal stopped it), what runs there is unknown
and ``status`` says so instead of naming the last good candidate.
"""

from __future__ import annotations

import json
from typing import Any, TextIO

from boshpipe.ledger import UNFINISHED, EnvSnapshot, Ledger, Record, UnreadableRecord, describe_who, utc_now
from boshpipe.project import Project


def _ledger_for(project: Project, env: str) -> Ledger:
    """The env's ledger, on the store the env's steps use (one place decides which)."""
    from boshpipe.steps import Context

    return Context.open(env, project=project).ledger


def status(project: Project, env: str | None, as_json: bool, out: TextIO) -> list[dict[str, Any]]:
    from boshpipe import drift
    from boshpipe.steps import Context

    envs = [env] if env else list(project.environments)
    if env:
        project.env_dir(env)  # unknown env: one clear line
    rows = []
    for name in envs:
        ctx = Context.open(name, project=project)
        rows.append({**_row(name, ctx.ledger.snapshot(name)), "drift": drift.check(ctx).as_dict()})
    if as_json:
        out.write(json.dumps(rows, indent=2) + "\n")
    else:
        _table(
            out,
            ["env", "candidate", "since", "last tests", "locked by", "drift"],
            [
                [
                    r["env"],
                    r["unknown"] or r["candidate"] or "-",
                    r["since"] or "-",
                    ", ".join(f"{t['test']} {t['outcome']}" for t in r["tests"]) or "-",
                    r["locked_by"] or "-",
                    r["drift"]["summary"],
                ]
                for r in rows
            ],
        )
    return rows


def drift_report(project: Project, env: str, as_json: bool, out: TextIO) -> bool:
    """``invoke drift``: the env's drift; True when it runs what the ledger says (or nothing)."""
    from boshpipe import drift
    from boshpipe.steps import Context

    found = drift.check(Context.open(env, project=project))
    if as_json:
        out.write(json.dumps({"env": env, **found.as_dict()}, indent=2) + "\n")
    else:
        out.write(f"{env}: {found.summary}\n")
    return not found.drifted


def _row(env: str, snap: EnvSnapshot) -> dict[str, Any]:
    now = utc_now()
    lock = snap.lock if snap.lock and snap.lock.active(now) else None
    last = snap.last_deploy
    unknown = None
    if last is not None and last.outcome in UNFINISHED:
        running = last.outcome == "started" and lock is not None and not lock.holder_dead()
        what = "deploy in progress" if running else "last deploy interrupted"
        unknown = f"unknown, {what} ({last.kind} of {last.candidate}, record {last.id})"
    locked_by = None
    if lock is not None:
        gone = "; its process is gone, the next run takes it over" if lock.holder_dead() else ""
        locked_by = f"{lock.describe()}, expires {lock.expires}{gone}"
    return {
        "env": env,
        "candidate": snap.state.deployed,
        "unknown": unknown,
        "since": snap.state.since,
        "last_deploy": {"id": last.id, "outcome": last.outcome, "candidate": last.candidate}
        if last
        else None,
        "tests": [
            {"test": name, "outcome": record.outcome, "candidate": record.candidate, "id": record.id}
            for name, record in snap.last_tests.items()
        ],
        "locked_by": locked_by,
    }


def history(
    project: Project, env: str, limit: int | None, as_json: bool, out: TextIO
) -> list[Record | UnreadableRecord]:
    """The env's records, newest first; an unreadable record is a row saying so, never a traceback."""
    project.env_dir(env)
    records = _ledger_for(project, env).entries(env, limit)
    if as_json:
        out.write(json.dumps([_entry_dict(r) for r in records], indent=2) + "\n")
    else:
        _table(
            out,
            ["record", "kind", "outcome", "candidate", "from", "task", "who"],
            [
                [
                    r.id,
                    _kind(r),
                    r.outcome,
                    r.candidate or "-",
                    r.from_candidate or "-",
                    r.task_id or "-",
                    describe_who(r.who),
                ]
                if isinstance(r, Record)
                else [r.id, "unreadable", "-", "-", "-", "-", r.reason]
                for r in records
            ],
        )
    return records


def _entry_dict(entry: Record | UnreadableRecord) -> dict[str, Any]:
    if isinstance(entry, Record):
        return _record_dict(entry)
    return {"id": entry.id, "unreadable": entry.reason}


def _kind(record: Record) -> str:
    return f"test:{record.test_name}" if record.kind == "test" else record.kind


def _record_dict(record: Record) -> dict[str, Any]:
    return json.loads(record.to_json())  # type: ignore[no-any-return]


def unlock(project: Project, env: str, out: TextIO) -> None:
    project.env_dir(env)
    previous = _ledger_for(project, env).unlock(env)
    if previous is None or previous.released:
        out.write(f"{env} was not locked\n")
    elif not previous.token:
        out.write(f"{env} unlocked (replaced a lock file that was unreadable: {previous.purpose})\n")
    else:
        out.write(f"{env} unlocked (was held by {previous.describe()})\n")


def ledger_repair(project: Project, env: str, out: TextIO) -> None:
    """Recompute ``env``'s pointers from its records, under the env's lock; list what was skipped."""
    project.env_dir(env)
    ledger = _ledger_for(project, env)
    with ledger.lock(env, "ledger-repair"):
        report = ledger.rebuild_state(env)
    for entry in report.skipped:
        out.write(f"skipped {entry.reason}\n")
    for key in report.replaced:
        out.write(f"replaced unreadable {ledger.where(key)}\n")
    state = report.state
    out.write(
        f"{env}: pointers recomputed from {report.records} record(s) ({len(report.skipped)} unreadable skipped),"
        f" {report.candidates} candidate pointer(s); deployed: {state.deployed or 'nothing'},"
        f" last deploy: {state.last_deploy or '-'}\n"
    )


def _table(out: TextIO, header: list[str], rows: list[list[str]]) -> None:
    widths = [max(len(str(cell)) for cell in column) for column in zip(header, *rows, strict=False)]
    for line in [header, *rows]:
        out.write(
            "  ".join(str(cell).ljust(width) for cell, width in zip(line, widths, strict=False)).rstrip()
            + "\n"
        )
