"""Promotion gates: whether a candidate may enter an env, decided from records, never from the caller.

The rules come from the repository's ``env.yml`` (``accepts:``); the evidence comes from the ledger's
per-(env, candidate) pointers (``Ledger.candidate_state``), which every deploy and test record
updates. A decision reads one such pointer per env the rules name, plus the target env's state
pointer when the rules ask where the run started from: a handful of objects, never a listing, so
its cost does not grow with the history.

A run counts as a success in an env when the candidate's latest deploy there succeeded and every
required test's latest run there passed after that deploy.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from boshpipe.candidate import Candidate
from boshpipe.environments import EnvConfig
from boshpipe.ledger import CandidateState, Ledger


@dataclass(frozen=True)
class Verdict:
    rule: str
    ok: bool
    evidence: str

    def line(self) -> str:
        return f"{'pass' if self.ok else 'FAIL'}  {self.rule}: {self.evidence}"


@dataclass(frozen=True)
class Decision:
    env: str
    candidate: str
    verdicts: tuple[Verdict, ...]

    @property
    def ok(self) -> bool:
        return all(v.ok for v in self.verdicts)

    def refusal(self) -> str:
        """The one line a refused deploy prints: the first rule that failed and what is missing."""
        failed = [v for v in self.verdicts if not v.ok]
        more = f" (and {len(failed) - 1} more rule(s); `invoke gates` lists them)" if len(failed) > 1 else ""
        return f"{self.env} refuses {self.candidate}: {failed[0].rule}: {failed[0].evidence}{more}"

    def as_dict(self) -> dict[str, Any]:
        return {
            "env": self.env,
            "candidate": self.candidate,
            "ok": self.ok,
            "rules": [dataclasses.asdict(v) for v in self.verdicts],
        }


def decide(ledger: Ledger, env: EnvConfig, ref: str, candidate: Candidate) -> Decision:
    rules = env.rules
    verdicts: list[Verdict] = []
    if rules.final_releases_only:
        dev = [f"{r.name}/{r.version}" for r in candidate.releases if not r.final]
        verdicts.append(
            Verdict(
                "final releases only",
                not dev,
                f"dev release(s) {', '.join(dev)}" if dev else "all releases are final",
            )
        )
    if rules.succeeded_in:
        verdicts.extend(_succeeded(ledger, env, ref))
    return Decision(env.name, ref, tuple(verdicts))


def _succeeded(ledger: Ledger, env: EnvConfig, ref: str) -> list[Verdict]:
    rules = env.rules
    tests = rules.tests
    wanted = f"deployed{' + ' + ', '.join(tests) if tests else ''}"
    current = ledger.state(env.name).deployed if rules.started_from_current else None
    good: dict[str, CandidateState] = {}
    notes: dict[str, str] = {}
    for source in rules.succeeded_in:
        state = ledger.candidate_state(source, ref)
        problem = _problem(state, tests, source)
        if problem is None and rules.started_from_current and state.from_candidate != current:
            problem = (
                f"its {source} run started from {state.from_candidate or 'nothing'}, "
                f"not from {env.name}'s current {current or 'nothing'}"
            )
        if problem is None:
            good[source] = state
        else:
            notes[source] = problem
    ok = bool(good) if rules.mode == "any_of" else len(good) == len(rules.succeeded_in)
    joiner = " or " if rules.mode == "any_of" else " and "
    rule = f"succeeded in {joiner.join(rules.succeeded_in)} ({wanted})"
    if rules.started_from_current:
        rule += f", starting from {env.name}'s current candidate"
    if ok:
        evidence = "; ".join(
            f"{source}: deploy {state.last_good_deploy}"
            + "".join(f", {name} {state.tests[name]['id']}" for name in tests)
            for source, state in good.items()
        )
    else:
        evidence = "; ".join(notes[s] for s in rules.succeeded_in if s in notes)
    return [Verdict(rule, ok, evidence)]


def _problem(state: CandidateState, tests: tuple[str, ...], source: str) -> str | None:
    """Why ``state`` is not a success in ``source`` (None when it is)."""
    if state.last_deploy is None:
        return f"never deployed in {source}"
    if state.last_deploy_outcome != "succeeded" or state.last_good_deploy != state.last_deploy:
        return f"its last {source} deploy {state.last_deploy} {state.last_deploy_outcome}"
    deploy = state.last_good_deploy
    missing = [t for t in tests if state.tests.get(t, {}).get("id", "") < deploy]
    failed = [t for t in tests if t not in missing and not state.passed(t)]
    if failed:
        return f"{', '.join(failed)} failed in {source} after deploy {deploy}"
    if missing:
        return f"no {', '.join(missing)} test in {source} after deploy {deploy}"
    return None
