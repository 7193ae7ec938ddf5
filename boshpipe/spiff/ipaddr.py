"""IPv4 helpers for dynaml's address arithmetic, CIDR functions and static IP ranges.

Addresses are handled as plain integers so ``"10.10.10.10" + 65526`` carries across octets.
"""

from __future__ import annotations

MASK = 0xFFFFFFFF
MAX_RANGE = 65_536
"""Addresses a static range may expand to (a /16): past that, a list of ints is a memory hazard."""


def parse(text: str) -> int | None:
    """The address as an integer, or None when ``text`` is not a dotted IPv4 address."""
    parts = text.strip().split(".")
    if len(parts) != 4:
        return None
    value = 0
    for part in parts:
        if not part.isdigit() or len(part) > 3:
            return None
        octet = int(part)
        if octet > 255:
            return None
        value = value * 256 + octet
    return value


def format(value: int) -> str:
    value &= MASK
    return ".".join(str((value >> shift) & 255) for shift in (24, 16, 8, 0))


def parse_cidr(text: str) -> tuple[int, int] | None:
    """(network, broadcast) of ``a.b.c.d/n``, or None when it is not a CIDR."""
    address, slash, bits = text.partition("/")
    if not slash or not bits.isdigit() or int(bits) > 32:
        return None
    base = parse(address)
    if base is None:
        return None
    host = (1 << (32 - int(bits))) - 1
    return base & ~host & MASK, (base | host) & MASK


def expand_range(text: str) -> list[int] | None:
    """The addresses of a BOSH range ``a - b`` (or a single address), or None if malformed."""
    if "-" in text:
        first, _, last = text.partition("-")
        start, end = parse(first), parse(last)
        if start is None or end is None or end < start:
            return None
        return list(range(start, end + 1))
    single = parse(text)
    return None if single is None else [single]


def range_size(text: str) -> int:
    """How many addresses ``a - b`` names (0 when malformed), without expanding it."""
    first, dash, last = text.partition("-")
    if not dash:
        return 1
    start, end = parse(first), parse(last)
    return 0 if start is None or end is None or end < start else end - start + 1
