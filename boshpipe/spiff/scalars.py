"""How plain YAML scalars are typed: on the way in as spiff reads them, on the way out for everyone.

**In.** spiff reads YAML 1.1 with Go's YAML library (go-yaml v2 rules), which types plain scalars
differently from PyYAML in ways templates notice: ``0o17``, ``0x1F`` and ``017`` are integers (15,
31, 15); ``08`` and ``1.5e3`` are floats (8.0, 1500.0); ``y``/``n`` are booleans; sexagesimal
``1:20`` stays the string ``"1:20"`` (PyYAML makes it 80); a number outside int64 becomes a float,
and one outside float64 (``1e400``) a string. :func:`resolve_plain` implements those rules, so
that both loaders in :mod:`yamlio` type every plain text exactly like spiff.

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
MERGE = "tag:yaml.org,2002:merge"
TIMESTAMP = "tag:yaml.org,2002:timestamp"

#: go-yaml's table of plain words (checked before anything else)
_WORDS: dict[str, tuple[str, Any]] = {}
for _tag, _value, _spellings in (
    (BOOL, True, "y Y yes Yes YES true True TRUE on On ON"),
    (BOOL, False, "n N no No NO false False FALSE off Off OFF"),
    (NULL, None, "~ null Null NULL"),
    (FLOAT, math.nan, ".nan .NaN .NAN"),
    (FLOAT, math.inf, ".inf .Inf .INF +.inf +.Inf +.INF"),
    (FLOAT, -math.inf, "-.inf -.Inf -.INF"),
    (MERGE, "<<", "<<"),
):
    for _word in _spellings.split():
        _WORDS[_word] = (_tag, _value)
_WORDS[""] = (NULL, None)

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
_UINT64_MAX = (1 << 64) - 1

#: Go's ``strconv.ParseInt(text, 0, 64)`` syntax (after go-yaml removed the underscores)
_GO_INT = re.compile(r"([-+]?)(?:0[xX]([0-9a-fA-F]+)|0[oO]([0-7]+)|0[bB]([01]+)|0([0-7]*)|([1-9][0-9]*))")
#: go-yaml's ``yamlStyleFloat``
_GO_FLOAT = re.compile(r"[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?")
#: what Go's ParseFloat accepts of a text starting with ``.`` (no underscores there)
_DOT_FLOAT = _Lazy(r"\.[0-9]+(?:[eE][-+]?[0-9]+)?")
#: go-yaml's timestamp layouts (spiff cannot hold the resulting time value and refuses it)
_TIMESTAMP = _Lazy(
    r"[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}"
    r"(?:[Tt][0-9]{1,2}:[0-9]{1,2}:[0-9]{1,2}(?:\.[0-9]*)?(?:Z|[-+][0-9]{2}:[0-9]{2})"
    r"|[ \t]+[0-9]{1,2}:[0-9]{1,2}:[0-9]{1,2}(?:\.[0-9]*)?)?"
)


def _go_int(plain: str) -> int | None:
    """``ParseInt(plain, 0, 64)``, else ``ParseUint(plain, 0, 64)``: the value, or None."""
    match = _GO_INT.fullmatch(plain)
    if match is None:
        return None
    sign, hexa, octal, binary, legacy_octal, decimal = match.groups()
    if hexa is not None:
        value = int(hexa, 16)
    elif octal is not None:
        value = int(octal, 8)
    elif binary is not None:
        value = int(binary, 2)
    elif legacy_octal is not None:
        value = int(legacy_octal or "0", 8)
    else:
        value = int(decimal)
    if sign == "-":
        value = -value
    if INT64_MIN <= value <= INT64_MAX:
        return value
    if not sign and value <= _UINT64_MAX:
        return value  # ParseUint: go-yaml keeps it as an unsigned integer
    return None


def _go_float(text: str) -> float | None:
    """Go's ParseFloat of a text of the float syntax: None when it overflows (Go: an error)."""
    value = float(text)
    return None if math.isinf(value) else value


def resolve_plain(text: str) -> tuple[str, Any]:
    """The tag and value spiff's YAML reader gives a plain (unquoted, untagged) scalar ``text``.

    Timestamps get their tag and the text as value: spiff refuses them, and so does the loader.
    """
    known = _WORDS.get(text)
    if known is not None:
        return known
    first = text[:1]
    if first == ".":
        if _DOT_FLOAT.fullmatch(text):
            value = _go_float(text)
            if value is not None:
                return FLOAT, value
        return STR, text
    if not (first.isdigit() and first.isascii()) and first not in ("-", "+"):
        return STR, text
    if len(text) >= 8 and text[4] == "-" and _TIMESTAMP.fullmatch(text):
        return TIMESTAMP, text
    plain = text.replace("_", "")
    number = _go_int(plain)
    if number is not None:
        return INT, number
    if _GO_FLOAT.fullmatch(plain):
        value = _go_float(plain)
        if value is not None:
            return FLOAT, value
    return STR, text


#: texts some reader types as a number, once ``_`` and ``,`` (Ruby) are dropped: YAML 1.1 ints
#: (``0b``, ``0x``, octal ``0..``, sexagesimal ``1:20``), YAML 1.2 ``0o17``, floats with or without
#: a dot or a signed exponent, ``.5``, infinities and NaN
_NUMBERISH = _Lazy(
    r"[-+]?(?:0[xX][0-9a-fA-F]+|0[oO][0-7]+|0[bB][01]+"
    r"|[0-9]+(?::[0-9]+)*(?:\.[0-9]*)?(?:[eE][-+]?[0-9]+)?"
    r"|\.[0-9]+(?:[eE][-+]?[0-9]+)?"
    r"|\.(?:inf|Inf|INF|nan|NaN|NAN))"
)
#: YAML 1.1 booleans and nulls (``y``/``n`` included: PyYAML alone reads those as strings)
_TYPED_WORDS = frozenset(_WORDS) - {".nan", ".NaN", ".NAN"} | {"="}


def must_quote(text: str) -> bool:
    """True when some YAML 1.1 or 1.2 reader would not read ``text``, written plain, as a string.

    The readers considered: spiff's own (:func:`resolve_plain`), PyYAML's YAML 1.1 resolver, the
    YAML 1.1 type regexps as Ruby's Psych applies them (``1,000``, ``:symbol``) and the YAML 1.2
    core schema. The test is deliberately generous: quoting a string that did not need it is
    harmless, leaving one unquoted that a reader types is a silently different manifest.
    """
    if text in _TYPED_WORDS or not text:
        return True
    first = text[0]
    if first == ":" and len(text) > 1:
        return True  # Ruby reads :name as a symbol
    if first in "-+.0123456789":
        stripped = text.replace("_", "").replace(",", "") if ("_" in text or "," in text) else text
        if stripped.count(".") <= 1 and _NUMBERISH.fullmatch(stripped):  # not 10.0.0.1, 1.0.8
            return True
        if resolve_plain(text)[0] != STR:
            return True
    return False
