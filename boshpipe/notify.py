"""Notifications: tell a webhook (Slack-compatible) when something people care about happened.

Configured in ``boshpipe.yml``::

    notify:
      timeout: 2                         # seconds a webhook may take, in all (default 2)
      webhooks:
        - url_env: BOSHPIPE_SLACK_WEBHOOK  # the variable holding the URL (URLs carry tokens)
          events: [deploy_succeeded, deploy_failed, refusal, approval, freeze_broken]  # default: all

The URL is read from the environment, never from the file, and never printed. Events come from the
ledger's records as they are appended (``Ledger.observer``): a deploy or reset record (succeeded or
failed), a refusal, an approval or revocation, a freeze break. The body is JSON with a ``text`` field
(what Slack shows) plus ``event``, ``env``, ``candidate``, ``record`` and ``who``.

A notification never fails a deploy and never holds it up for longer than ``timeout``: the POST
runs in a daemon thread that is waited for at most ``timeout`` seconds; on a miss (error, non-2xx,
or no answer in time) one line is printed and that webhook is skipped for the rest of the run, so a
dead receiver costs one timeout per run, not one per event.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from boshpipe.errors import ConfigError
from boshpipe.ledger import Record, describe_who

if TYPE_CHECKING:
    from boshpipe.project import Project

EVENTS = ("deploy_succeeded", "deploy_failed", "refusal", "approval", "freeze_broken")
_BY_KIND = {"refusal": "refusal", "approval": "approval", "revocation": "approval", "freeze_break": "freeze_broken"}
DEFAULT_TIMEOUT = 2.0


@dataclass(frozen=True)
class Webhook:
    url_env: str
    events: tuple[str, ...] = EVENTS


@dataclass(frozen=True)
class NotifyConfig:
    webhooks: tuple[Webhook, ...] = ()
    timeout: float = DEFAULT_TIMEOUT


def from_project(project: Project) -> NotifyConfig:
    """``boshpipe.yml``'s ``notify:`` section (as ``Project.load`` read it; empty when absent)."""
    data = project.notify
    if data is None:
        return NotifyConfig()
    where = f"{project.settings_file}: notify"
    if not isinstance(data, dict):
        raise ConfigError(f"{where}: expected a mapping with webhooks and timeout")
    unknown = sorted(str(k) for k in set(data) - {"webhooks", "timeout"})
    if unknown:
        raise ConfigError(f"{where}.{unknown[0]}: unknown key; known: timeout, webhooks")
    timeout = data.get("timeout", DEFAULT_TIMEOUT)
    if isinstance(timeout, bool) or not isinstance(timeout, int | float) or not 0 < timeout <= 30:
        raise ConfigError(f"{where}.timeout: expected seconds between 0 and 30 (a webhook must not hold a deploy)")
    hooks = data.get("webhooks") or []
    if not isinstance(hooks, list):
        raise ConfigError(f"{where}.webhooks: expected a list of {{url_env, events}}")
    return NotifyConfig(tuple(_webhook(h, f"{where}.webhooks[{i}]") for i, h in enumerate(hooks)), float(timeout))


def _webhook(data: Any, where: str) -> Webhook:
    if not isinstance(data, dict):
        raise ConfigError(f"{where}: expected {{url_env: VARIABLE, events: [...]}}")
    unknown = sorted(str(k) for k in set(data) - {"url_env", "events"})
    if unknown:
        hint = " (URLs carry tokens: put the URL in an environment variable and name it in url_env)"
        known = "unknown key; known: url_env, events"
        raise ConfigError(f"{where}.{unknown[0]}: {known}" + (hint if "url" in unknown else ""))
    name = data.get("url_env")
    if not isinstance(name, str) or not name.isidentifier():
        raise ConfigError(f"{where}.url_env: expected the name of an environment variable holding the URL")
    events = data.get("events", list(EVENTS))
    if not isinstance(events, list) or any(e not in EVENTS for e in events):
        raise ConfigError(f"{where}.events: expected a list of {', '.join(EVENTS)}")
    return Webhook(name, tuple(events))


def event_of(record: Record) -> str | None:
    """Which notification a record is, if any. A deploy's ``started`` record is not news: its end is
    (succeeded, failed, or interrupted by a signal, which counts as failed)."""
    if record.kind in ("deploy", "reset"):
        if record.outcome == "started":
            return None
        return "deploy_succeeded" if record.outcome == "succeeded" else "deploy_failed"
    return _BY_KIND.get(record.kind)


def message(record: Record, event: str) -> dict[str, Any]:
    """The JSON body: Slack's ``text`` plus the fields a machine would want."""
    who = describe_who(record.who)
    what = record.candidate or "-"
    reasons = _first(record.details.get("rules") or record.details.get("freezes"))
    texts = {
        "deploy_succeeded": f"{record.env}: {record.kind} of {what} succeeded",
        "deploy_failed": f"{record.env}: {record.kind} of {what} FAILED: {record.details.get('description', '')}",
        "refusal": f"{record.env}: refused {what}: {reasons}",
        "approval": f"{record.env}: {who} {'approved' if record.kind == 'approval' else 'revoked approval of'} {what}",
        "freeze_broken": f"{record.env}: freeze broken by {who}: {record.details.get('reason', '')}",
    }
    return {
        "text": f"{texts[event]} (by {who}, record {record.id})",
        "event": event,
        "env": record.env,
        "candidate": record.candidate,
        "record": record.id,
        "who": who,
    }


def _first(lines: Any) -> str:
    if isinstance(lines, list):
        failed = [str(line) for line in lines if not str(line).startswith("pass")]
        return (failed or [str(x) for x in lines] or [""])[0]
    return ""


@dataclass
class Notifier:
    """The ledger's observer: posts each record's event to the webhooks that want it."""

    config: NotifyConfig
    say: Callable[[str], None]
    missed: set[str] = field(default_factory=set)

    def __call__(self, record: Record) -> None:
        try:
            event = event_of(record)
            if event is None:
                return
            for hook in self.config.webhooks:
                if event in hook.events and hook.url_env not in self.missed:
                    self._post(hook, message(record, event))
        except Exception as err:  # a notification must never fail what it reports on
            self.say(f"notify: {type(err).__name__} while notifying; carrying on")

    def _post(self, hook: Webhook, body: dict[str, Any]) -> None:
        url = os.environ.get(hook.url_env)
        if not url:
            self._miss(hook, f"${hook.url_env} is not set")
            return
        outcome: list[str] = []
        silent = f"no answer within {self.config.timeout:g} s"

        def send() -> None:
            import requests

            try:
                response = requests.post(url, json=body, timeout=self.config.timeout)
                outcome.append("" if response.ok else f"it answered HTTP {response.status_code}")
            except requests.Timeout:  # the same miss as the join below, whichever of the two ends first
                outcome.append(silent)
            except requests.RequestException as err:
                outcome.append(f"{type(err).__name__}")

        worker = threading.Thread(target=send, name=f"notify-{hook.url_env}", daemon=True)
        worker.start()
        worker.join(self.config.timeout)
        if not outcome:
            self._miss(hook, silent)
        elif outcome[0]:
            self._miss(hook, outcome[0])

    def _miss(self, hook: Webhook, why: str) -> None:
        self.missed.add(hook.url_env)
        self.say(f"notify: webhook ${hook.url_env} missed ({why}); skipped for the rest of this run")
