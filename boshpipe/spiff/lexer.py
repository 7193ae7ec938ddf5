"""Tokens of dynaml, the language inside ``(( ... ))``.

Whitespace matters in dynaml: ``a b`` is a concatenation and ``f(x)`` a call while ``f (x)`` is
not, so every token records whether whitespace preceded it. ``-`` directly before a digit is a
negative number when it cannot be a binary minus (start, after an operator, or after a space), which
is how spiff's PEG grammar reads ``(( -1 ))`` and ``(( 7 -3 ))``.
"""

from __future__ import annotations

from dataclasses import dataclass

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
}


@dataclass(frozen=True, slots=True)
class Token:
    kind: str
    value: str
    start: int
    space_before: bool


def _is_name_start(char: str) -> bool:
    return char.isalpha() or char == "_"


def _is_name_char(char: str) -> bool:
    return char.isalnum() or char in "_-"


def tokenize(text: str) -> list[Token]:
    """Split an expression (the text between ``((`` and ``))``) into tokens, ending with ``eof``."""
    tokens: list[Token] = []
    pos = 0
    size = len(text)
    space = False
    while pos < size:
        char = text[pos]
        if char in " \t\r\n":
            space = True
            pos += 1
            continue
        start = pos
        nxt = text[pos + 1] if pos + 1 < size else ""
        if char.isdigit() or (
            char == "-" and nxt.isdigit() and (not tokens or tokens[-1].kind not in _OPERAND_END or space)
        ):
            pos += 1
            while pos < size and (text[pos].isdigit() or text[pos] == "_"):
                pos += 1
            tokens.append(Token("number", text[start:pos], start, space))
        elif _is_name_start(char):
            pos += 1
            while pos < size and _is_name_char(text[pos]):
                pos += 1
            # a trailing '-' belongs to the operator that follows, not to the name
            while text[pos - 1] == "-":
                pos -= 1
            tokens.append(Token("name", text[start:pos], start, space))
        elif char == '"':
            pos += 1
            chars: list[str] = []
            while pos < size and text[pos] != '"':
                if text[pos] == "\\" and pos + 1 < size and text[pos + 1] == '"':
                    chars.append('"')
                    pos += 2
                else:
                    chars.append(text[pos])
                    pos += 1
            if pos >= size:
                raise DynamlSyntaxError("unterminated string", text, start)
            pos += 1
            tokens.append(Token("string", "".join(chars), start, space))
        elif char == "|" and nxt == "|":
            pos += 2
            tokens.append(Token("or", "||", start, space))
        elif char == "-" and nxt == ">":
            pos += 2
            tokens.append(Token("arrow", "->", start, space))
        elif char == "|":
            pos += 1
            tokens.append(Token("pipe", "|", start, space))
        elif char == "-":
            pos += 1
            tokens.append(Token("minus", "-", start, space))
        elif char in _PUNCT:
            pos += 1
            tokens.append(Token(_PUNCT[char], char, start, space))
        else:
            raise DynamlSyntaxError(f"unexpected character {char!r}", text, start)
        space = False
    tokens.append(Token("eof", "", size, space))
    return tokens
