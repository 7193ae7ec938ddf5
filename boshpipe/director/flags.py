"""Deploy flags as the bosh CLI has them: ``--recreate``, ``--fix``, ``--skip-drain``, ``--canaries``,
``--max-in-flight``.

A real director takes them as query parameters of ``POST /deployments`` (``recreate=true``,
``fix=true``, ``skip_drain=*``, ``canaries=N``, ``max_in_flight=N|P%``), which is what the bosh CLI
sends; the local director honours them itself (recreate restarts every instance; canaries and
max_in_flight replace the manifest's ``update`` values for that deploy). Imports nothing from
``boshpipe`` but errors, so both backends and the steps can use it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from boshpipe.errors import ConfigError

_IN_FLIGHT = re.compile(r"[1-9][0-9]*%?")


@dataclass(frozen=True)
class DeployFlags:
    recreate: bool = False
    fix: bool = False
    skip_drain: bool = False
    canaries: int | None = None
    max_in_flight: str | None = None  # "2" or "50%"

    @property
    def any(self) -> bool:
        return self != DeployFlags()

    def query(self) -> dict[str, str]:
        """The query parameters of ``POST /deployments``, as the bosh CLI sends them."""
        params: dict[str, str] = {}
        if self.recreate:
            params["recreate"] = "true"
        if self.fix:
            params["fix"] = "true"
        if self.skip_drain:
            params["skip_drain"] = "*"
        if self.canaries is not None:
            params["canaries"] = str(self.canaries)
        if self.max_in_flight is not None:
            params["max_in_flight"] = self.max_in_flight
        return params

    def as_record(self) -> dict[str, Any]:
        """What the deploy record keeps (only the flags that were given)."""
        return {k: v for k, v in self.__dict__.items() if v not in (False, None)}

    def in_flight(self, instances: int) -> int | None:
        """``max_in_flight`` as a count for a job of ``instances`` (a percentage rounds up, at least 1)."""
        if self.max_in_flight is None:
            return None
        if self.max_in_flight.endswith("%"):
            return max(1, -(-instances * int(self.max_in_flight[:-1]) // 100))
        return int(self.max_in_flight)


def parse_flags(
    *,
    recreate: bool = False,
    fix: bool = False,
    skip_drain: bool = False,
    canaries: object = None,
    max_in_flight: object = None,
) -> DeployFlags:
    """Check the flags' values as typed on the command line; one line on a bad one."""
    count: int | None = None
    if canaries is not None:
        text = str(canaries)
        if not text.isdigit():
            raise ConfigError(f"--canaries {text!r}: expected a whole number (0 or more), e.g. --canaries 1")
        count = int(text)
    flight: str | None = None
    if max_in_flight is not None:
        flight = str(max_in_flight)
        if not _IN_FLIGHT.fullmatch(flight) or (flight.endswith("%") and int(flight[:-1]) > 100):
            raise ConfigError(f"--max-in-flight {flight!r}: expected a number (2) or a percentage (50%)")
    return DeployFlags(recreate=recreate, fix=fix, skip_drain=skip_drain, canaries=count, max_in_flight=flight)
