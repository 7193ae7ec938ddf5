"""Numbers read from environment variables, each with a range.

Why: ``float()`` accepts ``nan``, ``inf`` and ``1e400`` (infinity); a lock TTL of ``nan`` or
``1e12`` seconds made every comparison false or the expiry date unrepresentable, which surfaced as
a traceback far from the variable. Every numeric variable goes through :func:`seconds` instead, so
a bad value is refused where it is read, in one line naming the variable and its range.
"""

from __future__ import annotations

import math
import os

from boshpipe.errors import ConfigError


def seconds(name: str, default: float, low: float, high: float) -> float:
    """``$name`` as seconds in ``[low, high]``, ``default`` when unset or empty."""
    text = os.environ.get(name, "").strip()
    if not text:
        return default
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not (math.isfinite(value) and low <= value <= high):
        raise ConfigError(f"{name}={text!r} is not a number of seconds from {low:g} to {high:g}: fix or unset it")
    return value
