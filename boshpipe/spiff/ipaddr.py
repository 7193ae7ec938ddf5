"""IP helpers for dynaml's address arithmetic, CIDR functions and static IP ranges.

Addresses are handled as plain integers so ``"10.10.10.10" + 65526`` carries across octets. The
text rules are those of Go's ``net.ParseIP``/``net.ParseCIDR``, which spiff uses: no surrounding
whitespace, IPv6 as well as IPv4, and an IPv4 address is the IPv6 address ``::ffff:a.b.c.d``
(which is why such an address prints in dotted form again, as Go's ``IP.String`` does).
"""

from __future__ import annotations

MASK = 0xFFFFFFFF
MASK6 = (1 << 128) - 1
#: ``::ffff:0.0.0.0``: where Go keeps an IPv4 address inside its 16-byte form
V4_MAPPED = 0xFFFF << 32
MAX_RANGE = 65_536
"""Addresses a static range may expand to (a /16): past that, a list of ints is a memory hazard."""

_DIGITS = frozenset("0123456789")


def parse(text: str) -> int | None:
    """The IPv4 address as a 32-bit integer, or None when ``text`` is not exactly a dotted IPv4."""
    parts = text.split(".")
    if len(parts) != 4:
        return None
    value = 0
    for part in parts:
        # ASCII digits only: str.isdigit() would take '²' or Arabic-Indic digits, Go does not
        if not part or len(part) > 3 or not _DIGITS.issuperset(part):
            return None
        octet = int(part)
        if octet > 255:
            return None
        value = value * 256 + octet
    return value


def parse_ip(text: str) -> int | None:
    """Go's ``net.ParseIP``: the 128-bit value (IPv4 as ``::ffff:a.b.c.d``), or None."""
    v4 = parse(text)
    if v4 is not None:
        return V4_MAPPED | v4
    if ":" not in text:
        return None
    from boshpipe.spiff.ipv6 import parse6  # rare: kept out of every merge's start-up

    return parse6(text, parse)


def is_v4(value: int) -> bool:
    """Whether a 128-bit value is an IPv4 address in Go's sense (prints in dotted form)."""
    return value >> 32 == 0xFFFF


def format(value: int) -> str:
    """A 32-bit IPv4 address in dotted form."""
    value &= MASK
    return ".".join(str((value >> shift) & 255) for shift in (24, 16, 8, 0))


def format_ip(value: int) -> str:
    """A 128-bit address as Go's ``IP.String`` writes it: dotted for IPv4, else RFC 5952 form."""
    if is_v4(value):
        return format(value)
    from boshpipe.spiff.ipv6 import format6  # rare: kept out of every merge's start-up

    return format6(value)


def parse_cidr(text: str) -> tuple[int, int] | None:
    """(first, last) address of ``addr/n`` as 128-bit values (IPv4 ones mapped), or None.

    As Go's ``net.ParseCIDR``: the prefix length is decimal digits (leading zeros allowed) up to
    32 for an IPv4 address and 128 for an IPv6 one.
    """
    address, slash, bits = text.partition("/")
    if not slash or not bits or not _DIGITS.issuperset(bits):
        return None
    digits = bits.lstrip("0") or "0"
    if len(digits) > 3:
        return None
    prefix = int(digits)
    v4 = parse(address)
    if v4 is not None:
        if prefix > 32:
            return None
        host = (1 << (32 - prefix)) - 1
        return V4_MAPPED | (v4 & ~host & MASK), V4_MAPPED | (v4 | host)
    v6 = parse_ip(address) if ":" in address else None
    if v6 is None or prefix > 128:
        return None
    host = (1 << (128 - prefix)) - 1
    return v6 & ~host & MASK6, v6 | host


def _range_ends(text: str) -> tuple[int | None, int | None]:
    """(start, end) of a BOSH static entry ``a - b`` or ``a``, as spiff's static_ips.go splits it
    at ``-`` and trims spaces (only spaces) from both parts."""
    first, dash, last = text.partition("-")
    start = parse(first.strip(" "))
    return (start, parse(last.strip(" "))) if dash else (start, start)


def expand_range(text: str) -> list[int] | None:
    """The addresses of a BOSH range ``a - b`` (or a single address), or None if malformed."""
    start, end = _range_ends(text)
    if start is None or end is None or end < start:
        return None
    return list(range(start, end + 1))


def range_size(text: str) -> int:
    """How many addresses ``a - b`` names (0 when malformed), without expanding it."""
    start, end = _range_ends(text)
    return 0 if start is None or end is None or end < start else end - start + 1
