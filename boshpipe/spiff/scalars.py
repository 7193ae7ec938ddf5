"""How plain YAML scalars are typed: on the way in as spiff reads them, on the way out for everyone.

**In.** spiff (develop, 2016) reads YAML with candiedyaml, whose resolver types a plain scalar by
its first character and then by trying Go's number parsers in turn; its error message for dates
(``unknown type (time.Time) during sanitization``) and its reading of ``0o17`` (15) and ``1:20``
(a string) identify the last candiedyaml release. Its rules, which :func:`resolve_plain`
follows, differ from PyYAML's in ways templates notice:

* the empty text and ``~ null Null NULL`` are null; ``y yes n no true false on off`` are
  booleans in any letter case (``tRUE``, ``oFF``);
* after ``_`` are dropped and one sign is taken off, an integer is ``0``, ``0o17``, or what Go's
  ``ParseUint(text, 0, 64)`` reads (``0x1F``, ``0b101``, ``017`` octal, decimal); one that does
  not fit int64 is tried as a float instead (``99999999999999999999`` is ``1e20``, a hex one
  stays text);
* a float is ``.inf``/``.nan`` in any case, or what Go's ``ParseFloat`` reads: ``08`` and
  ``1e3`` (8.0, 1000.0), ``inf``/``infinity`` with a sign (``-inf``), ``nan`` after a sign
  (``+nan``), hexadecimal ``0x1p3``, and (the sign being taken off twice) ``--1`` as 1.0; a float
  that overflows (``1e400``) stays text;
* a date or timestamp (``2015-06-09``) becomes a time value spiff refuses;
* everything else, sexagesimal ``1:20`` and ``<<`` included, is a string.

**Out.** A merged manifest is read by YAML 1.1 readers (spiff itself when the output is used as a
stub, Ruby's YAML in the BOSH director, PyYAML) and YAML 1.2 readers (most newer tools). A string
written without quotes must come back as a string in every one of them, so :func:`must_quote` is
the one place that decides it: it says yes when *any* of those readers would type the plain text
as something else (a boolean such as ``n`` or ``off``, a number such as ``1e3``, ``0123``,
``0o17``, ``1:20``, ``1,000`` (Ruby), ``.inf``, a null such as ``~``, a Ruby symbol ``:x``, or
PyYAML's special ``<<`` and ``=``). Both output paths of :mod:`yamlio` ask it.
"""

from __future__ import annotations

import math
import re

# typing only for the type checker (see boshpipe.spiff.tree)
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

STR = "tag:yaml.org,2002:str"
INT = "tag:yaml.org,2002:int"
FLOAT = "tag:yaml.org,2002:float"
BOOL = "tag:yaml.org,2002:bool"
NULL = "tag:yaml.org,2002:null"
TIMESTAMP = "tag:yaml.org,2002:timestamp"

#: candiedyaml's null words (exact spelling) and boolean words (compared in lower case)
_NULLS = frozenset({"~", "null", "Null", "NULL"})
_BOOLS = {"y": True, "yes": True, "on": True, "true": True, "n": False, "no": False, "off": False, "false": False}


class _Lazy:
    """A regular expression compiled on first use: most merges never need the rare ones, and
    every merge is a fresh process whose start-up time counts."""

    __slots__ = ("compiled", "pattern")

    def __init__(self, pattern: str) -> None:
        self.pattern = pattern
        self.compiled: re.Pattern[str] | None = None

    def fullmatch(self, text: str) -> re.Match[str] | None:
        if self.compiled is None:
            self.compiled = re.compile(self.pattern)
        return self.compiled.fullmatch(text)


INT64_MIN = -(1 << 63)
INT64_MAX = (1 << 63) - 1

#: the digits Go's ParseUint accepts in each base (ASCII only, no sign, no ``_``)
_BASE_DIGITS = {
    2: frozenset("01"),
    8: frozenset("01234567"),
    10: frozenset("0123456789"),
    16: frozenset("0123456789abcdefABCDEF"),
}
#: Go's ParseFloat: decimal, hexadecimal (a ``p`` exponent is required), ``inf``/``infinity``
#: with an optional sign, ``nan`` without one (letter case ignored in the words)
_GO_DECIMAL = _Lazy(r"[-+]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][-+]?[0-9]+)?")
_GO_HEX_FLOAT = _Lazy(r"[-+]?0[xX](?:[0-9a-fA-F]+\.?[0-9a-fA-F]*|\.[0-9a-fA-F]+)[pP][-+]?[0-9]+")
_GO_SPECIAL = _Lazy(r"(?i:[-+]?inf(?:inity)?|nan)")
#: candiedyaml's timestamp pattern (its date-only form included); spiff refuses the time value
_TIMESTAMP = _Lazy(
    r"[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}"
    r"(?:(?:[Tt]|[ \t]+)[0-9]{1,2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]*)?"
    r"(?:[ \t]*(?:Z|[-+][0-9]{1,2}(?::(?:[0-9]{2})?)?))?)?"
)


def _without_sign(text: str) -> tuple[bool, str]:
    """candiedyaml's first step for numbers: drop every ``_``, then one leading sign."""
    if "_" in text:
        text = text.replace("_", "")
    if text[:1] == "-":
        return True, text[1:]
    if text[:1] == "+":
        return False, text[1:]
    return False, text


def _parse_uint(text: str, base: int) -> int | None:
    """Go's ``strconv.ParseUint(text, base, 64)`` (base 0: ``0x``/``0o``/``0b`` prefixes, a
    leading ``0`` for octal, as Go reads them since 1.13); None for Go's syntax or range error."""
    if base == 0:
        base = 10
        if text[:1] == "0":
            prefix = text[1:2].lower()
            if len(text) >= 3 and prefix in ("b", "o", "x"):
                base = {"b": 2, "o": 8, "x": 16}[prefix]
                text = text[2:]
            else:
                base = 8
                text = text[1:]
    if not text or not _BASE_DIGITS[base].issuperset(text):
        return None
    value = int(text, base)
    return value if value < 1 << 64 else None


def _plain_int(text: str) -> int | None:
    """candiedyaml's ``resolve_int`` for a plain text starting with a sign or digit."""
    negative, digits = _without_sign(text)
    if digits == "0":
        return 0
    value = _parse_uint(digits[2:], 8) if digits[:2] == "0o" else _parse_uint(digits, 0)
    if value is None:
        return None
    if value <= INT64_MAX:
        return -value if negative else value
    if negative and value == -INT64_MIN:
        return INT64_MIN
    return None  # too large for int64: candiedyaml tries it as a float


def _go_parse_float(text: str) -> float | None:
    """Go's ``strconv.ParseFloat(text, 64)``: the value, or None for a syntax or range error.

    The cheap character tests first keep the patterns uncompiled for what manifests hold most
    (addresses and versions such as ``10.0.0.1`` and ``1.0.8`` are no float in any spelling).
    """
    if text.count(".") > 1:
        return None
    if _GO_DECIMAL.fullmatch(text):
        value = float(text)
    elif text[-1:] in ("f", "F", "y", "Y", "n", "N") and _GO_SPECIAL.fullmatch(text):
        return float(text)
    elif ("x" in text or "X" in text) and _GO_HEX_FLOAT.fullmatch(text):
        try:
            value = float.fromhex(text)
        except OverflowError:
            return None
    else:
        return None
    return None if math.isinf(value) else value


def _plain_float(text: str) -> float | None:
    """candiedyaml's ``resolve_float``: ``.inf``/``.nan`` in any case, else Go's ParseFloat of
    the text without ``_`` and one sign (the sign applied afterwards)."""
    negative, rest = _without_sign(text)
    lowered = rest.lower()
    if lowered == ".inf":
        return -math.inf if negative else math.inf
    if lowered == ".nan":
        return math.nan
    value = _go_parse_float(rest)
    if value is None:
        return None
    return -value if negative else value


def resolve_plain(text: str) -> tuple[str, Any]:
    """The tag and value spiff's YAML reader gives a plain (unquoted, untagged) scalar ``text``.

    candiedyaml's ``resolveInterface``, branch by branch on the first character. Timestamps get
    their tag and the text as value: spiff refuses them, and so does the loader.
    """
    if not text:
        return NULL, None
    first = text[0]
    if first in "0123456789-+":
        number = _plain_int(text)
        if number is not None:
            return INT, number
        real = _plain_float(text)
        if real is not None:
            return FLOAT, real
        if text[4:5] == "-" and _TIMESTAMP.fullmatch(text):
            return TIMESTAMP, text
        return STR, text
    if first in "tTfFyYnNoO~":
        if text in _NULLS:
            return NULL, None
        flag = _BOOLS.get(text.lower())
        if flag is not None:
            return BOOL, flag
        return STR, text
    if first == ".":
        real = _plain_float(text)
        if real is not None:
            return FLOAT, real
    return STR, text


#: texts some reader types as a number, once ``_`` and ``,`` (Ruby) are dropped: YAML 1.1 ints
#: (``0b``, ``0x``, octal ``0..``, sexagesimal ``1:20``), YAML 1.2 ``0o17``, floats with or without
#: a dot or a signed exponent, ``.5``, infinities and NaN
_NUMBERISH = _Lazy(
    r"[-+]?(?:0[xX][0-9a-fA-F]*|0[oO][0-7]*|0[bB][01]*"  # ``*``: PyYAML types ``0x_`` (the ``_`` dropped here)
    r"|[0-9]+(?::[0-9]+)*(?:\.[0-9]*)?(?:[eE][-+]?[0-9]+)?"
    r"|\.[0-9]+(?:[eE][-+]?[0-9]+)?"
    r"|\.(?:inf|Inf|INF|nan|NaN|NAN))"
)
#: plain texts PyYAML gives a tag of its own: the merge key and the ``value`` key
_PYYAML_SPECIAL = frozenset({"<<", "="})


def must_quote(text: str) -> bool:
    """True when some YAML 1.1 or 1.2 reader would not read ``text``, written plain, as a string.

    The readers considered: spiff's own (:func:`resolve_plain`), PyYAML's YAML 1.1 resolver, the
    YAML 1.1 type regexps as Ruby's Psych applies them (``1,000``, ``:symbol``) and the YAML 1.2
    core schema. The test is deliberately generous: quoting a string that did not need it is
    harmless, leaving one unquoted that a reader types is a silently different manifest.
    """
    if not text or text in _PYYAML_SPECIAL or resolve_plain(text)[0] != STR:
        return True  # spiff's reader (whose words and numbers include YAML 1.1's and 1.2's)
    first = text[0]
    if first == ":" and len(text) > 1:
        return True  # Ruby reads :name as a symbol
    if first in "-+.0123456789":
        stripped = text.replace("_", "").replace(",", "") if ("_" in text or "," in text) else text
        if stripped.count(".") <= 1 and _NUMBERISH.fullmatch(stripped):  # not 10.0.0.1, 1.0.8
            return True
    return False
