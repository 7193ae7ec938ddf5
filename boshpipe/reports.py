"""What people ask the ledger: ``status`` across envs, one env's ``history``, who holds a lock.

``status`` reads, per env, the state pointer, the lock and the records the pointer names: a bounded
number of store objects however many candidates and records exist; then it asks the env's director
whether what runs there is what the ledger says (``drift``).
"""

from __future__ import annotations

import json
from typing import Any, TextIO

from boshpipe.ledger import EnvSnapshot, Ledger, Record, describe_who, utc_now
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
                    r["candidate"] or "-",
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
    return {
        "env": env,
        "candidate": snap.state.deployed,
        "since": snap.state.since,
        "last_deploy": {"id": last.id, "outcome": last.outcome, "candidate": last.candidate}
        if last
        else None,
        "tests": [
            {"test": name, "outcome": record.outcome, "candidate": record.candidate, "id": record.id}
            for name, record in snap.last_tests.items()
        ],
        "locked_by": f"{lock.describe()}, expires {lock.expires}" if lock else None,
    }


def history(project: Project, env: str, limit: int | None, as_json: bool, out: TextIO) -> list[Record]:
    project.env_dir(env)
    records = _ledger_for(project, env).history(env, limit)
    if as_json:
        out.write(json.dumps([_record_dict(r) for r in records], indent=2) + "\n")
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
                for r in records
            ],
        )
    return records


def _kind(record: Record) -> str:
    return f"test:{record.test_name}" if record.kind == "test" else record.kind


def _record_dict(record: Record) -> dict[str, Any]:
    return json.loads(record.to_json())  # type: ignore[no-any-return]


def unlock(project: Project, env: str, out: TextIO) -> None:
    project.env_dir(env)
    previous = _ledger_for(project, env).unlock(env)
    if previous is None or previous.released:
        out.write(f"{env} was not locked\n")
    else:
        out.write(f"{env} unlocked (was held by {previous.describe()})\n")


def _table(out: TextIO, header: list[str], rows: list[list[str]]) -> None:
    widths = [max(len(str(cell)) for cell in column) for column in zip(header, *rows, strict=False)]
    for line in [header, *rows]:
        out.write(
            "  ".join(str(cell).ljust(width) for cell, width in zip(line, widths, strict=False)).rstrip()
            + "\n"
        )
