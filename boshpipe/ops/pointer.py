"""go-patch paths: ``/key``, ``/0``, ``/-``, ``/name=x``, ``?`` and ``:before``-style modifiers.

A path is split on ``/``; each piece is then read in go-patch's order, which explains most of its
surprises:

1. ``:`` splits off modifiers (``prev``, ``next``, ``before``, ``after``); a literal ``:`` must be
   written ``~7``.
2. ``-`` as the *last* piece appends; elsewhere it is an ordinary key.
3. anything ``strconv.Atoi`` accepts (``0``, ``-1``, ``01``, ``+2``) is an index: a map key
   ``"80"`` cannot be addressed.
4. a trailing ``?`` makes this piece and every later one optional (missing keys are created).
5. anything containing ``=`` matches list items by ``key=value`` (values compared as strings).
6. the rest is a map key; ``~0`` is ``~``, ``~1`` is ``/``, ``~7`` is ``:``.

Only ``~0``, ``~1`` and ``~7`` are escapes, so keys containing ``=`` or ending in ``?`` cannot be
addressed at all: that is go-patch's behaviour, kept. :meth:`Pointer.__str__` gives the path back
the way go-patch prints it in messages (``01`` as ``1``, ``?`` only on the first optional piece).
"""

from __future__ import annotations

import re

from boshpipe.ops.errors import PointerError

PREV, NEXT, BEFORE, AFTER = "prev", "next", "before", "after"
MODIFIER_TYPES = {
    PREV: "patch.PrevModifier",
    NEXT: "patch.NextModifier",
    BEFORE: "patch.BeforeModifier",
    AFTER: "patch.AfterModifier",
}

_INDEX = re.compile(r"[+-]?[0-9]+")
_UNESCAPE = re.compile(r"~[017]")
_UNESCAPED = {"~0": "~", "~1": "/", "~7": ":"}
_INT_MAX = (1 << 63) - 1


def unescape(text: str) -> str:
    return _UNESCAPE.sub(lambda m: _UNESCAPED[m.group(0)], text) if "~" in text else text


def escape(text: str) -> str:
    return text.replace("~", "~0").replace("/", "~1").replace(":", "~7")


class _Token:
    """Immutable value objects (plain classes: ``dataclasses`` costs a few ms at every start)."""

    __slots__: tuple[str, ...] = ()

    def _fields(self) -> tuple[object, ...]:
        return tuple(getattr(self, name) for name in self.__slots__)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _Token) and type(other) is type(self) and self._fields() == other._fields()

    def __hash__(self) -> int:
        return hash((type(self).__name__, self._fields()))

    def __repr__(self) -> str:
        args = ", ".join(f"{name}={getattr(self, name)!r}" for name in self.__slots__)
        return f"{type(self).__name__}({args})"


class Index(_Token):
    """``/3``, ``/-1``, ``/0:before``: a list position, negative from the end."""

    __slots__ = ("index", "modifiers")

    def __init__(self, index: int, modifiers: tuple[str, ...] = ()) -> None:
        self.index = index
        self.modifiers = modifiers


class AfterLast(_Token):
    """``/-`` at the end of a path: append to the list."""

    __slots__ = ()


class Match(_Token):
    """``/name=x``: the one list item that is a map whose ``key`` is the string ``value``."""

    __slots__ = ("key", "modifiers", "optional", "value")

    def __init__(self, key: str, value: str, optional: bool = False, modifiers: tuple[str, ...] = ()) -> None:
        self.key = key
        self.value = value
        self.optional = optional
        self.modifiers = modifiers


class Key(_Token):
    """``/name``: a map key."""

    __slots__ = ("key", "optional")

    def __init__(self, key: str, optional: bool = False) -> None:
        self.key = key
        self.optional = optional


Token = Index | AfterLast | Match | Key


class Pointer(_Token):
    """A parsed path; ``tokens`` excludes the root (an empty tuple is the whole document)."""

    __slots__ = ("tokens",)

    def __init__(self, tokens: tuple[Token, ...]) -> None:
        self.tokens = tokens

    def __str__(self) -> str:
        return render(self.tokens)

    def prefix(self, count: int) -> str:
        """The path of the first ``count`` tokens, as messages show it."""
        return render(self.tokens[:count])


def render(tokens: tuple[Token, ...]) -> str:
    """go-patch's ``Pointer.String()``."""
    parts = [""]
    optional = False
    for token in tokens:
        if type(token) is Index:
            parts.append(f"{token.index}{_modifiers(token.modifiers)}")
        elif type(token) is AfterLast:
            parts.append("-")
        elif type(token) is Match:
            value = escape(token.value)
            if token.optional and not optional:
                value += "?"
                optional = True
            parts.append(f"{escape(token.key)}={value}{_modifiers(token.modifiers)}")
        else:
            assert type(token) is Key
            text = escape(token.key)
            if token.optional and not optional:
                text += "?"
                optional = True
            parts.append(text)
    return "/".join(parts)


def _modifiers(modifiers: tuple[str, ...]) -> str:
    return "".join(":" + m for m in modifiers)


_CACHE: dict[str, Pointer] = {}


def parse(text: str) -> Pointer:
    """Parse a path; raises :class:`PointerError` with go-patch's message (memoized)."""
    known = _CACHE.get(text)
    if known is not None:
        return known
    pointer = _parse(text)
    if len(_CACHE) < 100_000:
        _CACHE[text] = pointer
    return pointer


def _parse(text: str) -> Pointer:
    if text == "":
        return Pointer(())
    if not text.startswith("/"):
        raise PointerError("Expected to start with '/'")
    pieces = text.split("/")[1:]
    tokens: list[Token] = []
    optional = False
    last = len(pieces) - 1
    for i, piece in enumerate(pieces):
        modifiers: tuple[str, ...] = ()
        if ":" in piece:
            piece, *names = piece.split(":")
            for name in names:
                if name not in MODIFIER_TYPES:
                    raise PointerError(
                        "Expected to find one of the following modifiers: 'prev', 'next', 'before', or 'after' "
                        f"but found '{names[0]}'"
                    )
            modifiers = tuple(names)
        if i == last and piece == "-":
            if modifiers:
                raise PointerError("Expected not to find any modifiers with after last index token")
            tokens.append(AfterLast())
            continue
        if _INDEX.fullmatch(piece) and abs(int(piece)) <= _INT_MAX:
            tokens.append(Index(int(piece), modifiers))
            continue
        if piece.endswith("?"):
            optional = True
            piece = piece[:-1]
        if "=" in piece:
            key, value = piece.split("=", 1)
            tokens.append(Match(unescape(key), unescape(value), optional, modifiers))
            continue
        if modifiers:
            raise PointerError("Expected not to find any modifiers with key token")
        tokens.append(Key(unescape(piece), optional))
    return Pointer(tuple(tokens))
