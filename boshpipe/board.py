"""The board: one static HTML page showing where every recent candidate stands (``invoke report``).

Envs are columns in promotion order, the newest stored candidates are rows, and each cell says what
the candidate is in that env: deployed now, succeeded, failed, approved, soaking (with the time
left), eligible or refused (by the env's first failing rule). Above the grid, per env: what runs,
since when, the lock, the freezes in force and drift; below it, for each gated env, the verdict of
every rule for the newest candidates, with its evidence.

The page is self-contained (inline CSS, no script, font or image from anywhere), so it can be
published as a Concourse artifact or opened from a file without network. Everything on it comes
from the same functions the tasks use (``gates.decide``, ``drift.check``, ``freezing.in_force``);
nothing on it is computed differently for display.
"""

from __future__ import annotations

import html
import os
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from boshpipe import clock, drift, freezing, gates
from boshpipe.errors import BoshpipeError
from boshpipe.ledger import CandidateState, describe_who, iso
from boshpipe.project import Project
from boshpipe.steps import Context, fetch_candidate
from boshpipe.store.candidates import list_candidates

ROWS = 8
DETAILED = 3  # gated envs: every rule's verdict for this many newest candidates


@dataclass(frozen=True)
class Cell:
    kind: str  # deployed | succeeded | failed | refused | eligible | approved | soaking | none
    text: str
    title: str = ""


def write(project: Project, target: Path, rows: int = ROWS) -> Path:
    """Render the board and write it to ``target`` (temp file + rename: never half a page)."""
    page = render(project, rows)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    tmp.write_text(page, encoding="utf-8")
    os.replace(tmp, target)
    return target


def render(project: Project, rows: int = ROWS) -> str:
    contexts = {env: Context.open(env, project=project) for env in project.environments}
    first = contexts[project.environments[0]]
    stored = list(reversed(list_candidates(first.store, project.candidate_name)))[:rows]
    fetched = [fetch_candidate(first, s.number) for s in stored]
    now = clock.now()
    heads = [_env_head(ctx) for ctx in contexts.values()]
    grid = []
    details = []
    for stored_one, candidate in fetched:
        row = []
        for env, ctx in contexts.items():
            state = ctx.ledger.candidate_state(env, stored_one.ref)
            decision = None if ctx.env.rules.open else gates.decide(ctx.ledger, ctx.env, stored_one.ref, candidate)
            row.append(_cell(ctx, stored_one.ref, state, decision))
        grid.append((stored_one.ref, describe_who(dict(candidate.metadata.get("built_by") or {})), row))
    for ctx in contexts.values():
        if ctx.env.rules.open:
            continue
        for stored_one, candidate in fetched[:DETAILED]:
            details.append(gates.decide(ctx.ledger, ctx.env, stored_one.ref, candidate))
    return _page(project, list(contexts), heads, grid, details, iso(now))


def _env_head(ctx: Context) -> dict[str, str]:
    state = ctx.ledger.state(ctx.env.name)
    lock = ctx.ledger.lock_info(ctx.env.name)
    try:
        frozen = "; ".join(f.line() for f in freezing.in_force(ctx)) or "none"
    except BoshpipeError as err:
        frozen = f"unknown: {err}"
    found = drift.check(ctx)
    return {
        "env": ctx.env.name,
        "deployed": state.deployed or "nothing",
        "since": state.since or "-",
        "lock": lock.describe() if lock else "free",
        "freeze": frozen,
        "drift": found.summary,
        "drift_kind": "bad" if found.drifted else ("ok" if found.status == drift.IN_SYNC else "none"),
    }


def _cell(ctx: Context, ref: str, state: CandidateState, decision: gates.Decision | None) -> Cell:
    env = ctx.env.name
    current = ctx.ledger.state(env).deployed
    approvers = sorted(state.approvers())
    approved = f"approved by {', '.join(approvers)}" if approvers else ""
    if current == ref:
        return Cell("deployed", "deployed now", f"since {ctx.ledger.state(env).since}")
    if state.last_deploy is not None:
        failed_tests = [t for t, v in state.tests.items() if v.get("outcome") == "failed"]
        if state.last_deploy_outcome != "succeeded":
            return Cell("failed", f"deploy {state.last_deploy_outcome}", state.last_deploy)
        if failed_tests:
            return Cell("failed", f"{', '.join(failed_tests)} failed", state.last_deploy)
        return Cell("succeeded", "succeeded", state.last_good_deploy or "")
    if decision is None:
        return Cell("none", "-")
    soak = next((v for v in decision.verdicts if v.rule.startswith("soaked in")), None)
    if decision.ok:
        return Cell("eligible", "eligible" + (f"; {approved}" if approved else ""), "every rule passes")
    failed = [v for v in decision.verdicts if not v.ok]
    if soak is not None and not soak.ok and "left_seconds" in soak.details and len(failed) <= 2:
        left = clock.describe_duration(timedelta(seconds=int(soak.details["left_seconds"])))
        return Cell("soaking", f"soaking: {left} left" + (f"; {approved}" if approved else ""), soak.evidence)
    if approved:
        return Cell("approved", approved, failed[0].rule + ": " + failed[0].evidence)
    return Cell("refused", f"refused: {failed[0].rule}", failed[0].evidence)


_CSS = """
body{font:14px/1.4 system-ui,-apple-system,"Segoe UI",sans-serif;margin:24px;color:#1d2330;background:#f6f7f9}
h1{font-size:20px;margin:0 0 4px} h2{font-size:16px;margin:28px 0 8px} .muted{color:#667}
table{border-collapse:collapse;background:#fff;box-shadow:0 1px 2px #0002;margin-bottom:8px}
th,td{border:1px solid #dde1e7;padding:6px 10px;text-align:left;vertical-align:top}
th{background:#eef1f5} td.deployed{background:#d6e8ff;font-weight:600} td.succeeded{background:#dff3e3}
td.failed{background:#fbdada} td.refused{background:#f0f0f0;color:#555} td.eligible{background:#eaf7ea}
td.approved{background:#e9e1fb} td.soaking{background:#fff3c4} .ok{color:#17702e} .bad{color:#b3261e;font-weight:600}
td.pass{color:#17702e;font-weight:600} td.fail{color:#b3261e;font-weight:600}
"""


def _page(
    project: Project,
    envs: list[str],
    heads: list[dict[str, str]],
    grid: list[tuple[str, str, list[Cell]]],
    details: list[gates.Decision],
    at: str,
) -> str:
    e = html.escape
    out = [
        "<!doctype html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>boshpipe board: {e(project.candidate_name)}</title>",
        f"<style>{_CSS}</style></head><body>",
        f"<h1>boshpipe board: {e(project.candidate_name)}</h1>",
        f'<p class="muted">as of {e(at)}; envs in promotion order: {e(" → ".join(envs))}</p>',
        '<h2>Environments</h2><table id="envs"><tr><th></th>',
        *(f"<th>{e(h['env'])}</th>" for h in heads),
        "</tr>",
    ]
    for key, label in (("deployed", "runs"), ("since", "since"), ("lock", "lock"), ("freeze", "freeze")):
        out.append(f"<tr><th>{label}</th>" + "".join(f"<td>{e(h[key])}</td>" for h in heads) + "</tr>")
    out.append(
        "<tr><th>drift</th>" + "".join(f'<td class="{h["drift_kind"]}">{e(h["drift"])}</td>' for h in heads) + "</tr>"
    )
    out.append("</table>")
    out.append('<h2>Candidates</h2><table id="candidates"><tr><th>candidate</th><th>built by</th>')
    out.extend(f"<th>{e(env)}</th>" for env in envs)
    out.append("</tr>")
    for ref, builder, cells in grid:
        out.append(f"<tr><th>{e(ref)}</th><td>{e(builder)}</td>")
        out.extend(f'<td class="{c.kind}" title="{e(c.title)}">{e(c.text)}</td>' for c in cells)
        out.append("</tr>")
    if not grid:
        out.append(f'<tr><td colspan="{len(envs) + 2}">no candidate stored yet</td></tr>')
    out.append("</table>")
    out.append('<h2>Rules of the gated envs</h2><table id="rules"><tr><th>env</th><th>candidate</th>')
    out.append("<th>rule</th><th>verdict</th><th>evidence</th></tr>")
    for decision in details:
        for verdict in decision.verdicts:
            out.append(
                f"<tr><td>{e(decision.env)}</td><td>{e(decision.candidate)}</td><td>{e(verdict.rule)}</td>"
                f'<td class="{"pass" if verdict.ok else "fail"}">{"pass" if verdict.ok else "FAIL"}</td>'
                f"<td>{e(verdict.evidence)}</td></tr>"
            )
    out.append("</table></body></html>")
    return "\n".join(out) + "\n"
