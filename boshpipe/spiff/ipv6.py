"""IPv6 text as Go's ``net`` package reads and writes it, for :mod:`boshpipe.spiff.ipaddr`.

A module of its own so that a merge without IPv6 addresses (nearly all of them) does not compile
it at start-up.
"""

from __future__ import annotations

# typing only for the type checker (see boshpipe.spiff.tree)
TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable

_HEX = frozenset("0123456789abcdefABCDEF")


def parse6(text: str, parse_v4: Callable[[str], int | None]) -> int | None:
    """An IPv6 address (``::``, an IPv4 address read by ``parse_v4`` at the end) as a 128-bit
    integer, as Go reads it; None when it is not one."""
    groups: list[int] = []
    ellipsis = -1
    rest = text
    if rest.startswith("::"):
        ellipsis = 0
        rest = rest[2:]
        if not rest:
            return 0
    while len(groups) < 8:
        end = 0
        while end < len(rest) and rest[end] in _HEX:
            end += 1
        if end == 0:
            return None
        if end < len(rest) and rest[end] == ".":
            if (ellipsis < 0 and len(groups) != 6) or len(groups) > 6:
                return None
            v4 = parse_v4(rest)
            if v4 is None:
                return None
            groups += [v4 >> 16, v4 & 0xFFFF]
            rest = ""
            break
        digits = rest[:end].lstrip("0") or "0"  # Go takes any number of leading zeros
        if len(digits) > 4:
            return None
        group = int(digits, 16)
        groups.append(group)
        rest = rest[end:]
        if not rest:
            break
        if rest[0] != ":" or len(rest) == 1:
            return None
        rest = rest[1:]
        if rest[0] == ":":
            if ellipsis >= 0:
                return None
            ellipsis = len(groups)
            rest = rest[1:]
            if not rest:
                break
    if rest:
        return None
    if len(groups) < 8:
        if ellipsis < 0:
            return None
        groups[ellipsis:ellipsis] = [0] * (8 - len(groups))
    elif ellipsis >= 0:
        return None  # '::' must stand for at least one group
    value = 0
    for group in groups:
        value = (value << 16) | group
    return value


def format6(value: int) -> str:
    """RFC 5952 form as Go writes it: the longest run of zero groups (the first of equal ones)
    becomes ``::``, but never a single group; hex digits in lower case without leading zeros."""
    groups = [(value >> shift) & 0xFFFF for shift in range(112, -1, -16)]
    best_start, best_len = -1, 0
    index = 0
    while index < 8:
        if groups[index] == 0:
            end = index
            while end < 8 and groups[end] == 0:
                end += 1
            if end - index > best_len:
                best_start, best_len = index, end - index
            index = end
        else:
            index += 1
    if best_len < 2:
        return ":".join(f"{group:x}" for group in groups)
    head = ":".join(f"{group:x}" for group in groups[:best_start])
    tail = ":".join(f"{group:x}" for group in groups[best_start + best_len :])
    return f"{head}::{tail}"
