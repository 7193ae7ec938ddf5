"""Freeze windows: times when an env takes no deploys, resets or rollbacks.

Three sources, all checked at :func:`boshpipe.clock.now` (``BOSHPIPE_NOW`` in tests):

- ``boshpipe.yml`` ``freeze.windows``: project-wide windows, each for every env or the ``envs:`` it
  lists (the weekend freeze of a whole team);
- ``<env>/env.yml`` ``freeze.windows``: that env's own windows;
- ``invoke freeze --env X --until TIME --reason TEXT``: an ad-hoc freeze, kept as a ``freeze``
  record in the ledger (the env's pointer names the latest one, so checking it costs no listing);
  ``invoke thaw`` lifts it. Windows written in the repository are lifted by changing the
  repository, never by ``thaw``: a window is a decision a team reviewed.

A window is weekly (``from: Fri 16:00``, ``to: Mon 08:00``, wall-clock times in ``time_zone``, an
IANA name read with ``zoneinfo``, so daylight-saving changes are the zone's business) or dated
(``from: 2025-12-20 00:00``, ``to: 2026-01-05 08:00``; a time without a zone is read in
``time_zone``). ``--break-freeze --reason TEXT`` passes a freeze only where the env's
``freeze.break_allowed`` is true, and leaves a ``freeze_break`` record.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from boshpipe import clock
from boshpipe.errors import ConfigError

if TYPE_CHECKING:
    from boshpipe.project import Project

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
WEEK = 7 * 24 * 60
WINDOW_KEYS = {"name", "from", "to", "time_zone"}


@dataclass(frozen=True)
class Window:
    """One configured window; ``where`` says which file it came from, for the refusal line."""

    name: str
    where: str
    zone: str
    start_text: str
    end_text: str
    weekly: tuple[int, int] | None = None  # minute of the week (Mon 00:00 = 0) at start and end
    dated: tuple[datetime, datetime] | None = None

    def ends(self, now: datetime) -> datetime | None:
        """When the occurrence of this window that ``now`` falls in ends; None when outside it."""
        if self.dated is not None:
            begin, finish = self.dated
            return finish if begin <= now < finish else None
        assert self.weekly is not None
        local = now.astimezone(ZoneInfo(self.zone))
        minute = local.weekday() * 24 * 60 + local.hour * 60 + local.minute
        start, end = self.weekly
        inside = start <= minute < end if start < end else (minute >= start or minute < end)
        if not inside:
            return None
        floor = local.replace(second=0, microsecond=0)
        return floor + timedelta(minutes=(end - minute) % WEEK)  # wall-clock arithmetic in the zone

    def describe(self) -> str:
        return f"freeze window '{self.name}' ({self.start_text} to {self.end_text} {self.zone}, {self.where})"


@dataclass(frozen=True)
class FreezeConfig:
    """An env's own ``freeze:`` section in env.yml."""

    windows: tuple[Window, ...] = ()
    break_allowed: bool = False


@dataclass(frozen=True)
class ActiveFreeze:
    """A freeze in force now: what to name in a refusal, and until when."""

    name: str
    description: str
    until: datetime

    def line(self) -> str:
        return f"{self.description} until {clock_text(self.until)}"


@dataclass(frozen=True)
class ProjectFreeze:
    """``boshpipe.yml``'s ``freeze.windows``, with the envs each one applies to (None: all)."""

    windows: tuple[tuple[Window, tuple[str, ...] | None], ...] = field(default_factory=tuple)

    def for_env(self, env: str) -> tuple[Window, ...]:
        return tuple(w for w, envs in self.windows if envs is None or env in envs)


def clock_text(moment: datetime) -> str:
    """A time as a person reads it: in the zone it was given in, plus UTC."""
    utc = moment.astimezone(UTC)
    local = moment.isoformat(timespec="minutes")
    text = utc.isoformat(timespec="minutes").replace("+00:00", "Z")
    return text if moment.utcoffset() == timedelta(0) else f"{local} ({text})"


def parse_env_freeze(data: Any, where: str) -> FreezeConfig:
    """env.yml's ``freeze: {windows: [...], break_allowed: bool}``."""
    if data is None:
        return FreezeConfig()
    if not isinstance(data, dict):
        raise ConfigError(f"{where}: expected a mapping with windows and break_allowed")
    _no_unknown(data, {"windows", "break_allowed"}, where)
    allowed = data.get("break_allowed", False)
    if not isinstance(allowed, bool):
        raise ConfigError(f"{where}.break_allowed: expected true or false")
    source = where.split(":", 1)[0]
    windows = tuple(_window(w, f"{where}.windows[{i}]", source) for i, w in enumerate(_list(data, where)))
    return FreezeConfig(windows=windows, break_allowed=allowed)


def project_freeze(project: Project) -> ProjectFreeze:
    """boshpipe.yml's ``freeze: {windows: [{..., envs: [...]}]}`` (as ``Project.load`` read it)."""
    data = project.freeze
    if data is None:
        return ProjectFreeze()
    path = project.settings_file
    environments = project.environments
    where = f"{path}: freeze"
    if not isinstance(data, dict):
        raise ConfigError(f"{where}: expected a mapping with windows")
    _no_unknown(data, {"windows"}, where)
    out = []
    for i, entry in enumerate(_list(data, where)):
        at = f"{where}.windows[{i}]"
        envs = entry.get("envs") if isinstance(entry, dict) else None
        if envs is not None and (not isinstance(envs, list) or any(e not in environments for e in envs)):
            raise ConfigError(f"{at}.envs: expected a list of envs of this project ({', '.join(environments)})")
        rest = {k: v for k, v in entry.items() if k != "envs"} if isinstance(entry, dict) else entry
        out.append((_window(rest, at, path.name), tuple(envs) if envs is not None else None))
    return ProjectFreeze(tuple(out))


def active(windows: tuple[Window, ...], adhoc: dict[str, Any] | None, now: datetime) -> list[ActiveFreeze]:
    """Every freeze in force at ``now``: configured windows, then the ad-hoc freeze."""
    found = []
    for window in windows:
        end = window.ends(now)
        if end is not None:
            found.append(ActiveFreeze(window.name, window.describe(), end))
    if adhoc and adhoc.get("until"):
        until = clock.parse_moment(str(adhoc["until"]), "freeze record")
        if now < until:
            found.append(
                ActiveFreeze(
                    "ad-hoc",
                    f"ad-hoc freeze by {adhoc.get('who')} ({adhoc.get('reason')}; record {adhoc.get('id')})",
                    until,
                )
            )
    return found


def _list(data: dict[str, Any], where: str) -> list[Any]:
    windows = data.get("windows") or []
    if not isinstance(windows, list):
        raise ConfigError(f"{where}.windows: expected a list of windows")
    return windows


def _no_unknown(data: dict[str, Any], known: set[str], where: str) -> None:
    unknown = sorted(str(k) for k in set(data) - known)
    if unknown:
        raise ConfigError(f"{where}.{unknown[0]}: unknown key; known: {', '.join(sorted(known))}")


def _window(data: Any, where: str, source: str) -> Window:
    if not isinstance(data, dict):
        raise ConfigError(f"{where}: expected {{name, from, to, time_zone}}")
    _no_unknown(data, WINDOW_KEYS, where)
    name = data.get("name")
    if not isinstance(name, str) or not name:
        raise ConfigError(f"{where}.name: missing (required): name the window so refusals can say which")
    zone_name = data.get("time_zone")
    if not isinstance(zone_name, str):
        raise ConfigError(f"{where}.time_zone: missing: an IANA zone such as Europe/Berlin or UTC")
    try:
        zone = ZoneInfo(zone_name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(f"{where}.time_zone: {zone_name!r} is not an IANA time zone (e.g. Europe/Berlin)") from None
    start, end = data.get("from"), data.get("to")
    if start is None or end is None:
        raise ConfigError(f"{where}: from and to are both required (e.g. from: Fri 16:00, to: Mon 08:00)")
    if isinstance(start, str) and _weekly(start) is not None:
        first, last = _weekly(start), _weekly(end) if isinstance(end, str) else None
        if first is None or last is None:
            raise ConfigError(f"{where}.to: expected a day and time like the start, e.g. Mon 08:00")
        if first == last:
            raise ConfigError(f"{where}: from and to are the same time: the window would be empty or the whole week")
        return Window(name, source, zone_name, str(start), str(end), weekly=(first, last))
    begin, finish = _moment(start, zone, f"{where}.from"), _moment(end, zone, f"{where}.to")
    if finish <= begin:
        raise ConfigError(f"{where}: to ({end}) is not after from ({start})")
    return Window(name, source, zone_name, str(start), str(end), dated=(begin, finish))


def _weekly(text: str) -> int | None:
    """``Fri 16:00`` → minute of the week; None when the text does not start with a day."""
    parts = text.strip().split()
    if len(parts) != 2 or parts[0][:3].lower() not in DAYS:
        return None
    hour, _, minute = parts[1].partition(":")
    if not (hour.isdigit() and minute.isdigit() and int(hour) < 24 and int(minute) < 60):
        return None
    return DAYS.index(parts[0][:3].lower()) * 24 * 60 + int(hour) * 60 + int(minute)


def _moment(value: Any, zone: ZoneInfo, where: str) -> datetime:
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, date):
        moment = datetime(value.year, value.month, value.day)
    elif isinstance(value, str):
        try:
            moment = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
        except ValueError:
            raise ConfigError(
                f"{where}: {value!r} is neither a day and time (Fri 16:00) nor a date (2025-12-20 00:00)"
            ) from None
    else:
        raise ConfigError(f"{where}: expected a day and time (Fri 16:00) or a date (2025-12-20 00:00)")
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=zone)
