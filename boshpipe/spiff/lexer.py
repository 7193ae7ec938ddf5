"""Tokens of dynaml, the language inside ``(( ... ))``.

Whitespace matters in dynaml: ``a b`` is a concatenation and ``f(x)`` a call while ``f (x)`` is
not, so every token records whether whitespace preceded it. ``-`` directly before a digit is a
negative number when it cannot be a binary minus (start, after an operator, or after a space), which
is how spiff's PEG grammar reads ``(( -1 ))`` and ``(( 7 -3 ))``.

Digits glued to letters (``1b``, ``0-x``, ``1:z``) make one *name* token, not a number and a name:
spiff's keys may start with a digit after a dot (``a.1b``, ``.0-x``) and so may function names
(``1f(x)``); where the grammar wants a number or a relative reference, the parser refuses such a
name, as spiff's grammar does (its integer rule takes the digits and the rest does not parse).

The tokenizer is one compiled regular expression applied with ``match`` at each position: a large
template holds thousands of expressions, and a character-by-character loop in Python was the single
biggest cost of a merge.
"""

from __future__ import annotations

import re

from boshpipe.spiff.errors import DynamlSyntaxError

#: token kinds that end an operand, after which ``-1`` is a subtraction, not a number.
_OPERAND_END = frozenset({"number", "string", "name", "rparen", "rbracket", "tilde"})

_PUNCT = {
    "(": "lparen",
    ")": "rparen",
    "[": "lbracket",
    "]": "rbracket",
    ",": "comma",
    ".": "dot",
    "+": "plus",
    "*": "star",
    "/": "slash",
    "%": "percent",
    "~": "tilde",
    "|": "pipe",
    "-": "minus",
    "||": "or",
    "->": "arrow",
}

#: One token (after optional whitespace). Names are spiff's keys: ASCII letters, digits, ``_``
#: and ``-`` (also at the end: ``a- 1`` is the key ``a-`` concatenated with 1), optionally a
#: ``:`` part (``name:z1``). Digits are a number only when no key character follows them (``12``,
#: ``-3``, ``1_000``); ``1b`` is a name (see the module docstring). In strings only ``\"`` is an
#: escape; the possessive ``*+`` keeps ``"a\"`` unterminated instead of backtracking.
_TOKEN = re.compile(
    r"""(?P<space>[ \t\r\n]*)
    (?:
        (?P<number>-?[0-9][0-9_]*+(?![A-Za-z0-9_:-]))
      | (?P<name>[A-Za-z0-9_][A-Za-z0-9_-]*+(?::[A-Za-z0-9_][A-Za-z0-9_-]*+)?)
      | "(?P<string>(?:[^"\\]|\\"|\\)*+)"
      | (?P<punct>\|\||->|[()\[\],.+*/%~|-])
      | (?P<end>\Z)
    )""",
    re.VERBOSE,
)


class Token:
    """One token: its kind, its text (a string's unescaped contents), offset and leading space."""

    __slots__ = ("kind", "space_before", "start", "value")

    def __init__(self, kind: str, value: str, start: int, space_before: bool) -> None:
        self.kind = kind
        self.value = value
        self.start = start
        self.space_before = space_before

    def __repr__(self) -> str:  # pragma: no cover - debugging aid
        return f"Token({self.kind}, {self.value!r}, {self.start})"


def tokenize(text: str) -> list[Token]:
    """Split an expression (the text between ``((`` and ``))``) into tokens, ending with ``eof``."""
    tokens: list[Token] = []
    append = tokens.append
    match = _TOKEN.match
    pos = 0
    while True:
        found = match(text, pos)
        if found is None:
            start = pos
            while text[start] in " \t\r\n":
                start += 1
            if text[start] == '"':
                raise DynamlSyntaxError("unterminated string", text, start)
            raise DynamlSyntaxError(f"unexpected character {text[start]!r}", text, start)
        space = found.end("space") > pos
        kind = found.lastgroup
        start = found.end("space")
        pos = found.end()
        if kind == "name":
            append(Token("name", found.group("name"), start, space))
        elif kind == "punct":
            value = found.group("punct")
            append(Token(_PUNCT[value], value, start, space))
        elif kind == "number":
            value = found.group("number")
            if value[0] == "-" and not space and tokens and tokens[-1].kind in _OPERAND_END:
                # ``a -1`` reads as a number, ``a-1`` was a name, ``7-1`` is 7 minus 1
                pos = start + 1
                append(Token("minus", "-", start, space))
            else:
                append(Token("number", value, start, space))
        elif kind == "string":
            append(Token("string", found.group("string").replace('\\"', '"'), start, space))
        else:
            append(Token("eof", "", len(text), space))
            return tokens
