"""Tokens of dynaml, the language inside ``(( ... ))``.

Whitespace matters in dynaml: ``a b`` is a concatenation and ``f(x)`` a call while ``f (x)`` is
not, so every token records whether whitespace preceded it. ``-`` directly before a digit is a
negative number when it cannot be a binary minus (start, after an operator, or after a space), which
is how spiff's PEG grammar reads ``(( -1 ))`` and ``(( 7 -3 ))``.

Digits glued to letters (``1b``, ``0-x``, ``1:z``) make one *name* token, not a number and a name:
spiff's keys may start with a digit after a dot (``a.1b``, ``.0-x``) and so may function names
(``1f(x)``); where the grammar wants a number or a relative reference, the parser refuses such a
name, as spiff's grammar does (its integer rule takes the digits and the rest does not parse).

The tokenizer is one compiled regular expression run over the whole text by ``findall`` (in C): a
large template holds thousands of expressions, and a character-by-character loop in Python was the
single biggest cost of a merge (a ``match`` per token, its successor, cost 20-30 % more than this).
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

#: One token after optional whitespace, as plain groups for ``findall``: (space, number, name,
#: string, punct). Names are spiff's keys: ASCII letters, digits, ``_`` and ``-`` (also at the end:
#: ``a- 1`` is the key ``a-`` concatenated with 1), optionally a ``:`` part (``name:z1``). Digits
#: are a number only when no key character follows them (``12``, ``-3``, ``1_000``); ``1b`` is a
#: name (see the module docstring). In strings only ``\"`` is an escape; the possessive ``*+``
#: keeps ``"a\"`` unterminated instead of backtracking.
_TOKENS = re.compile(
    r"""([ \t\r\n]*)
    (?:
        (-?[0-9][0-9_]*+(?![A-Za-z0-9_:-]))
      | ([A-Za-z0-9_][A-Za-z0-9_-]*+(?::[A-Za-z0-9_][A-Za-z0-9_-]*+)?)
      | "((?:[^"\\]|\\"|\\)*+)"
      | (\|\||->|[()\[\],.+*/%~|-])
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
    """Split an expression (the text between ``((`` and ``))``) into tokens, ending with ``eof``.

    ``findall`` runs the whole scan in C and hands back each token's pieces; offsets follow from
    their lengths. It skips what it cannot read, so when the pieces do not add up to the text the
    text is scanned again token by token to say where it went wrong.
    """
    tokens: list[Token] = []
    append = tokens.append
    pos = 0
    for space, number, name, string, punct in _TOKENS.findall(text):
        start = pos + len(space)
        if name:
            append(Token("name", name, start, start > pos))
            pos = start + len(name)
        elif punct:
            append(Token(_PUNCT[punct], punct, start, start > pos))
            pos = start + len(punct)
        elif number:
            if number[0] == "-" and start == pos and tokens and tokens[-1].kind in _OPERAND_END:
                # ``a -1`` reads as a number, ``a-1`` was a name, ``7-1`` is 7 minus 1
                append(Token("minus", "-", start, False))
                append(Token("number", number[1:], start + 1, False))
            else:
                append(Token("number", number, start, start > pos))
            pos = start + len(number)
        else:
            append(Token("string", string.replace('\\"', '"'), start, start > pos))
            pos = start + len(string) + 2
    rest = text[pos:]
    if rest.strip(" \t\r\n"):
        _explain(text)
    append(Token("eof", "", len(text), bool(rest)))
    return tokens


def _explain(text: str) -> None:
    """Raise the :class:`DynamlSyntaxError` for the first place where no token starts."""
    pos = 0
    while (found := _TOKENS.match(text, pos)) is not None:
        pos = found.end()  # every token is at least one character long
    start = pos
    while start < len(text) and text[start] in " \t\r\n":
        start += 1
    if start == len(text):  # pragma: no cover - tokenize calls this only for unreadable text
        raise AssertionError(f"no unreadable character in {text!r}")
    if text[start] == '"':
        raise DynamlSyntaxError("unterminated string", text, start)
    raise DynamlSyntaxError(f"unexpected character {text[start]!r}", text, start)
