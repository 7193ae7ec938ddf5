"""Parse dynaml into expression nodes (recursive descent over :mod:`lexer` tokens).

Precedence, loosest first, as in spiff: ``prefer`` (whole expression only), ``||`` (right
associative), concatenation by juxtaposition (left associative: ``[1] "a" "b"`` appends twice),
``+ -``, ``* / %``, then primaries. ``merge`` and ``auto`` capture the node's path when parsed,
because what they look up depends on where they stand in the document.
"""

from __future__ import annotations

from boshpipe.spiff.errors import DynamlSyntaxError
from boshpipe.spiff.functions import FUNCTIONS
from boshpipe.spiff.lexer import Token, tokenize
from boshpipe.spiff.nodes import (
    Arithmetic,
    Auto,
    Call,
    Concat,
    Expr,
    ListExpr,
    Literal,
    Mapping,
    Merge,
    Or,
    Prefer,
    Reference,
    Root,
)
from boshpipe.spiff.tree import Path

_OPERAND_START = frozenset({"number", "string", "name", "lparen", "lbracket", "tilde", "dot"})
_MERGE_WORDS = frozenset({"replace", "required", "on"})


def parse(text: str, path: Path = (), stub_path: Path | None = None) -> Root:
    """Parse the text between ``((`` and ``))``; raises :class:`DynamlSyntaxError`.

    Trees are immutable, so the tree of a text that captured no path (no ``merge``, no ``auto``)
    is cached and shared: templates repeat ``(( meta.zone ))`` hundreds of times.
    """
    cached = _SHARED.get(text)
    if cached is not None:
        return cached
    parser = _Parser(text, path, path if stub_path is None else stub_path)
    root = parser.parse()
    if not parser.uses_path:
        if len(_SHARED) >= _SHARED_MAX:
            _SHARED.clear()
        _SHARED[text] = root
    return root


#: parsed trees by text, for texts whose tree does not depend on where they stand
_SHARED: dict[str, Root] = {}
#: tokens by text, for the others (``(( merge || 1 ))`` hundreds of times at different paths)
_TOKENS: dict[str, list[Token]] = {}
_SHARED_MAX = 20_000


class _Parser:
    def __init__(self, text: str, path: Path, stub_path: Path) -> None:
        self.text = text
        tokens = _TOKENS.get(text)
        if tokens is None:
            tokens = tokenize(text)
            if len(_TOKENS) >= _SHARED_MAX:
                _TOKENS.clear()
            _TOKENS[text] = tokens
        self.tokens = [*tokens, tokens[-1]]  # a second eof: the token after the current one always exists
        self.pos = 0
        self.path = path
        self.stub_path = stub_path
        #: whether the tree captured ``path``/``stub_path`` (merge, auto) and so cannot be shared
        self.uses_path = False

    # -- token helpers -------------------------------------------------------------------------
    def advance(self) -> Token:
        token = self.tokens[self.pos]
        self.pos += 1
        return token

    def expect(self, kind: str, what: str) -> Token:
        token = self.tokens[self.pos]
        if token.kind != kind:
            self.error(f"expected {what}", token)
        return self.advance()

    def error(self, message: str, token: Token) -> None:
        found = "end of expression" if token.kind == "eof" else repr(token.value)
        raise DynamlSyntaxError(f"{message}, found {found}", self.text, token.start)

    # -- grammar ---------------------------------------------------------------------------------
    def parse(self) -> Root:
        if self.tokens[self.pos].kind == "eof":
            self.error("empty expression", self.tokens[self.pos])
        first = self.tokens[self.pos]
        if first.kind == "name" and first.value == "prefer" and self.tokens[self.pos + 1].kind in _OPERAND_START:
            self.advance()
            expr: Expr = Prefer(self.expression())
        else:
            expr = self.expression()
        token = self.tokens[self.pos]
        if token.kind != "eof":
            self.error("unexpected token", token)
        return Root(expr, self.text)

    def expression(self) -> Expr:
        left = self.concatenation()
        if self.tokens[self.pos].kind == "or":
            self.advance()
            return Or(left, self.expression())
        return left

    def concatenation(self) -> Expr:
        left = self.additive()
        while self.tokens[self.pos].kind in _OPERAND_START:
            token = self.tokens[self.pos]
            if not token.space_before:
                self.error("expected an operator or a space", token)
            left = Concat(left, self.additive())
        return left

    def additive(self) -> Expr:
        left = self.multiplicative()
        while self.tokens[self.pos].kind in ("plus", "minus"):
            op = self.advance().value
            left = Arithmetic(op, left, self.multiplicative())
        return left

    def multiplicative(self) -> Expr:
        left = self.primary()
        while self.tokens[self.pos].kind in ("star", "slash", "percent"):
            op = self.advance().value
            left = Arithmetic(op, left, self.primary())
        return left

    def primary(self) -> Expr:
        token = self.tokens[self.pos]
        kind = token.kind
        if kind == "lparen":
            self.advance()
            inner = self.expression()
            self.expect("rparen", "')'")
            return inner
        if kind == "number":
            self.advance()
            return Literal(int(token.value.replace("_", "")))
        if kind == "string":
            self.advance()
            return Literal(token.value)
        if kind == "tilde":
            self.advance()
            return Literal(None)
        if kind == "lbracket":
            self.advance()
            return ListExpr(self.arguments("rbracket", "']'"))
        if kind == "dot":
            self.advance()
            return self.reference(from_root=True)
        if kind == "name":
            return self.named(token)
        self.error("expected a value", token)
        raise AssertionError  # pragma: no cover - error() raises

    def named(self, token: Token) -> Expr:
        word = token.value
        after = self.tokens[self.pos + 1]
        glued = not after.space_before
        if word in ("true", "false", "nil") and not (glued and after.kind in ("dot", "lparen")):
            self.advance()
            return Literal(None if word == "nil" else word == "true")
        if word == "merge" and not (glued and after.kind in ("dot", "lparen")):
            self.advance()
            return self.merge()
        if word == "auto" and not (glued and after.kind in ("dot", "lparen")):
            self.advance()
            self.uses_path = True
            return Auto(self.path)
        if word == "map" and glued and after.kind == "lbracket":
            self.advance()
            self.advance()
            return self.mapping()
        if glued and after.kind == "lparen":
            self.advance()
            self.advance()
            return Call(word, self.arguments("rparen", "')'"), FUNCTIONS.get(word))
        return self.reference(from_root=False)

    def arguments(self, closing: str, what: str) -> list[Expr]:
        items: list[Expr] = []
        if self.tokens[self.pos].kind == closing:
            self.advance()
            return items
        while True:
            items.append(self.expression())
            if self.tokens[self.pos].kind == "comma":
                self.advance()
                continue
            self.expect(closing, f"',' or {what}")
            return items

    def reference(self, from_root: bool) -> Reference:
        steps = [self.step()]
        while self.tokens[self.pos].kind == "dot" and not self.tokens[self.pos].space_before:
            self.advance()
            steps.append(self.step())
        return Reference(tuple(steps), from_root)

    def step(self) -> str:
        token = self.tokens[self.pos]
        if token.kind == "name" or (token.kind == "number" and not token.value.startswith("-")):
            self.advance()
            return token.value
        if token.kind == "lbracket":
            self.advance()
            index = self.expect("number", "a list index")
            self.expect("rbracket", "']'")
            return f"[{int(index.value)}]"
        self.error("expected a name", token)
        raise AssertionError  # pragma: no cover

    def merge(self) -> Merge:
        self.uses_path = True
        replace = required = False
        key_name = ""
        while self.tokens[self.pos].kind == "name" and self.tokens[self.pos].value in _MERGE_WORDS:
            word = self.advance().value
            if word == "replace":
                replace = True
            elif word == "required":
                required = True
            else:
                key_name = self.expect("name", "a key name after 'on'").value
        if self.tokens[self.pos].kind in ("name", "dot"):
            target = self.reference(from_root=self.tokens[self.pos].kind == "dot" and bool(self.advance()))
            return Merge(target.path, redirect=True, replace=replace, required=True, key_name=key_name)
        redirect = self.path != self.stub_path
        return Merge(
            self.stub_path,
            redirect=redirect,
            replace=replace,
            required=replace or required or redirect,
            key_name=key_name,
        )

    def mapping(self) -> Mapping:
        source = self.expression()
        self.expect("pipe", "'|' before the lambda parameters")
        names = [self.expect("name", "a parameter name").value]
        while self.tokens[self.pos].kind == "comma":
            self.advance()
            names.append(self.expect("name", "a parameter name").value)
        if len(names) > 2:
            self.error("map[] takes one or two parameters", self.tokens[self.pos])
        self.expect("pipe", "'|' after the lambda parameters")
        self.expect("arrow", "'->'")
        body = self.expression()
        self.expect("rbracket", "']'")
        return Mapping(source, names, body)
