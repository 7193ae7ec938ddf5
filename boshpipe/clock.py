"""The time rules are judged at: soak time, freeze windows, ``freeze --until 2h``.

One function, :func:`now`, so that tests and operators can ask "what would the gates say at 18:00
on Friday?" without waiting for Friday: ``BOSHPIPE_NOW`` (ISO 8601 with a zone, e.g.
``2025-06-06T18:00:00+02:00`` or ``...Z``) replaces the wall clock *for decisions only*. Records,
their ids and lock expiry keep the real time (``ledger.utc_now``), so the ledger's order stays the
order things really happened in even when two processes are told different "nows".

Durations (``2h``, ``90m``, ``1h30m``, ``2d``, ``45s``) are parsed here too, for ``soak.for`` and
``freeze --until``.
"""

from __future__ import annotations

import os
import re
from datetime import UTC, datetime, timedelta

from boshpipe.errors import ConfigError

NOW_VARIABLE = "BOSHPIPE_NOW"
_DURATION = re.compile(r"(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?")


def now() -> datetime:
    """``BOSHPIPE_NOW`` when set (a test and operations aid), else the wall clock; always aware."""
    text = os.environ.get(NOW_VARIABLE)
    if not text:
        return datetime.now(UTC)
    return parse_moment(text, f"{NOW_VARIABLE}={text!r}", "fix or unset it")


def parse_moment(text: str, where: str, todo: str = "use ISO 8601 with a zone, e.g. 2025-06-06T18:00:00Z") -> datetime:
    """An ISO 8601 time that names its zone (a time without one is ambiguous across machines)."""
    try:
        moment = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise ConfigError(f"{where}: not an ISO 8601 time: {todo}") from None
    if moment.tzinfo is None:
        raise ConfigError(f"{where}: the time has no zone (add Z or +02:00): {todo}")
    return moment


def parse_duration(text: str, where: str) -> timedelta:
    """``2h``, ``90m``, ``1h30m``, ``2d``, ``45s``: a positive duration, else a one-line error."""
    match = _DURATION.fullmatch(text.strip()) if isinstance(text, str) else None
    if not match or not any(match.groups()):
        raise ConfigError(f"{where}: {text!r} is not a duration: use e.g. 2h, 90m, 1h30m or 2d")
    days, hours, minutes, seconds = (int(g or 0) for g in match.groups())
    delta = timedelta(days=days, hours=hours, minutes=minutes, seconds=seconds)
    if delta <= timedelta(0):
        raise ConfigError(f"{where}: {text!r} must be longer than zero")
    return delta


def until(text: str, where: str) -> datetime:
    """A deadline: an ISO time with a zone, or a duration from :func:`now` (``--until 2h``)."""
    match = _DURATION.fullmatch(text.strip())
    if match and any(match.groups()):
        return now() + parse_duration(text, where)
    return parse_moment(text, where, "use an ISO 8601 time with a zone (2025-06-06T18:00:00Z) or a duration (2h)")


def describe_duration(delta: timedelta) -> str:
    """``1h 59m`` / ``3m 20s`` / ``2d 4h``: what a refusal says is left."""
    seconds = max(0, int(delta.total_seconds()))
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    if days:
        return f"{days}d {hours}h"
    if hours:
        return f"{hours}h {minutes}m"
    if minutes:
        return f"{minutes}m {secs}s"
    return f"{secs}s"
