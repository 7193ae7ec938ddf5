"""Promotion gates: whether a candidate may enter an env, decided from records, never from the caller.

The rules come from the repository's ``env.yml`` (``accepts:``); the evidence comes from the ledger's
per-(env, candidate) pointers (``Ledger.candidate_state``), which every deploy and test record
updates. A decision reads one such pointer per env the rules name, plus the target env's state
pointer when the rules ask where the run started from: a handful of objects, never a listing, so
its cost does not grow with the history.

A run counts as a success in an env when the candidate's latest deploy there succeeded and every
required test's latest run there passed after that deploy.

``approvals`` reads the (target env, candidate) pointer, where ``approve``/``revoke`` records are
merged; ``soak`` reads the soak env's state pointer and its (env, candidate) pointer. Time-based
rules are judged at ``clock.now()`` (``BOSHPIPE_NOW`` in tests), so a decision is reproducible.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from boshpipe import clock
from boshpipe.candidate import Candidate
from boshpipe.environments import ApprovalRule, EnvConfig, SoakRule
from boshpipe.ledger import CandidateState, EnvState, Ledger, describe_who, record_time


@dataclass(frozen=True)
class Verdict:
    rule: str
    ok: bool
    evidence: str
    details: dict[str, Any] = dataclasses.field(default_factory=dict)
    """Machine-readable evidence for ``gates --json`` and the board (approvers, time left...)."""

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


class _Reads:
    """The ledger as one decision sees it: each pointer read at most once, whichever rules ask."""

    def __init__(self, ledger: Ledger) -> None:
        self._ledger = ledger
        self._states: dict[str, EnvState] = {}
        self._candidates: dict[tuple[str, str], CandidateState] = {}

    def state(self, env: str) -> EnvState:
        if env not in self._states:
            self._states[env] = self._ledger.state(env)
        return self._states[env]

    def candidate_state(self, env: str, ref: str) -> CandidateState:
        if (env, ref) not in self._candidates:
            self._candidates[env, ref] = self._ledger.candidate_state(env, ref)
        return self._candidates[env, ref]


def decide(ledger: Ledger, env: EnvConfig, ref: str, candidate: Candidate) -> Decision:
    return _decide(_Reads(ledger), env, ref, candidate)


def _decide(ledger: _Reads, env: EnvConfig, ref: str, candidate: Candidate) -> Decision:
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
    now = clock.now()
    if rules.soak is not None:
        verdicts.append(_soaked(ledger, rules.soak, ref, now))
    if rules.approvals is not None:
        verdicts.append(_approved(ledger, env.name, rules.approvals, ref, candidate))
    return Decision(env.name, ref, tuple(verdicts))


def builder(candidate: Candidate) -> str:
    """Who built the candidate, as approvals name people (``user@host`` or ``pipeline/job #build``)."""
    return describe_who(dict(candidate.metadata.get("built_by") or {}))


def _approved(ledger: _Reads, env: str, rule: ApprovalRule, ref: str, candidate: Candidate) -> Verdict:
    state = ledger.candidate_state(env, ref)
    made_by = builder(candidate)
    standing = state.approvers()
    counted = {who: e for who, e in standing.items() if not (rule.distinct_from_builder and who == made_by)}
    ok = len(counted) >= rule.count
    text = f"approved by {rule.count} {'person' if rule.count == 1 else 'people'}"
    if rule.distinct_from_builder:
        text += " other than the builder"
    listed = "; ".join(f"{who} at {e['at']} ({e['id']})" for who, e in sorted(counted.items()))
    evidence = f"{len(counted)} of {rule.count}" + (f": {listed}" if listed else "")
    if len(standing) > len(counted):
        evidence += f"; the builder {made_by}'s own approval does not count"
    if not ok:
        evidence += f"; `invoke approve --env {env} --candidate {ref.rsplit('-', 1)[-1]}` by another person"
    details = {
        "required": rule.count,
        "builder": made_by,
        "approvals": [{"who": who, **e, "counted": who in counted} for who, e in sorted(standing.items())],
    }
    return Verdict(text, ok, evidence, details)


def _soaked(ledger: _Reads, rule: SoakRule, ref: str, now: datetime) -> Verdict:
    text = f"soaked in {rule.env} for {rule.text}"
    current = ledger.state(rule.env).deployed
    state = ledger.candidate_state(rule.env, ref)
    details: dict[str, Any] = {"env": rule.env, "required_seconds": int(rule.duration.total_seconds())}
    if state.last_good_deploy is None:
        return Verdict(text, False, f"never deployed successfully in {rule.env}", details)
    if current != ref:
        return Verdict(
            text, False, f"no longer deployed in {rule.env} (it runs {current or 'nothing'} now)", details
        )
    if state.last_failed_test and state.last_failed_test > state.last_good_deploy:
        return Verdict(text, False, f"a test failed in {rule.env} since its deploy: {state.last_failed_test}", details)
    since = record_time(state.last_good_deploy)
    left = since + rule.duration - now
    details.update(since=since.isoformat(timespec="seconds"), left_seconds=max(0, int(left.total_seconds())))
    if left.total_seconds() > 0:
        return Verdict(
            text,
            False,
            f"deployed in {rule.env} since {details['since']} (deploy {state.last_good_deploy}): "
            f"{clock.describe_duration(left)} left",
            details,
        )
    evidence = f"deployed in {rule.env} since {details['since']} ({state.last_good_deploy}), no failed test"
    return Verdict(text, True, evidence, details)


def _succeeded(ledger: _Reads, env: EnvConfig, ref: str) -> list[Verdict]:
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
