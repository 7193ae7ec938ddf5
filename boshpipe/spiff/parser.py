"""Parse dynaml into expression nodes (recursive descent over :mod:`lexer` tokens).

Precedence, loosest first, as in spiff: ``prefer`` (whole expression only), ``||`` (right
associative), concatenation by juxtaposition (left associative: ``[1] "a" "b"`` appends twice),
``+ -``, ``* / %``, then primaries. ``merge`` and ``auto`` capture the node's path when parsed,
because what they look up depends on where they stand in the document.

spiff's grammar is a PEG, and a few of its consequences are refused here exactly as spiff
refuses them: binary operators need whitespace on both sides (``1+2``, ``a ||b``); a call needs
an argument (``static_ips()``); an empty list is ``[]``, not ``[ ]``; a relative reference cannot
start with a keyword (``auto_update``, ``nil.x``, ``merge_x``: the keyword matches first and the
rest does not parse) nor with ``_`` or a digit (spiff's integer rule takes those first); a list
index is ``.[digits]`` with nothing else inside. Integer literals that spiff's parser accepts but
then crashes on (``1_000``, beyond int64) are syntax errors here.

``merge`` is matched on the text itself, because spiff's grammar matches its words as prefixes:
``merge replacement`` and ``merge required_x`` are errors (``replace`` and ``required`` match,
the rest does not parse), ``merge on key-x`` too (the key is ``[A-Za-z0-9_]+``), while ``merge
1`` and ``merge _x`` redirect (any key may follow ``merge``). ``merge .x`` keeps spiff's path
``("", "x")``, which no stub holds. spiff builds ``a || b || c`` as ``(a || b) || c``; here it is
``a || (b || c)``, which gives the same value under the engine's rule for pending operands (see
``docs/architecture.md``).
"""

from __future__ import annotations

import functools
import re

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
#: words that spiff's grammar tries before a reference: a name starting with one cannot be one
_KEYWORDS = ("true", "false", "nil", "merge", "auto")
_KEYWORD_BY_INITIAL = {keyword[0]: keyword for keyword in _KEYWORDS}  # no two share an initial
_INT64_MIN = -(1 << 63)
_INT64_MAX = (1 << 63) - 1
#: spiff's ``Name`` (functions, ``merge on`` keys, lambda parameters)
_NAME = re.compile(r"[A-Za-z0-9_]+")

# spiff's merge rules on the text after ``merge`` (PEG: every repetition and option possessive):
#   RefMerge    <- 'merge' !(ws Required) (ws (Replace / On))? ws Reference
#   SimpleMerge <- 'merge' (ws (Replace / Required / On))?
# with On <- 'on' ws Name, Reference <- '.'? Key ('.' Key / '.' '[' [0-9]+ ']')* and ws one or more
# blanks. Words match as prefixes, so ``merge replacement`` leaves ``ment`` behind (an error).
_WS = r"[ \t\n\r]++"
_KEY = r"[A-Za-z0-9_][A-Za-z0-9_-]*+(?::[A-Za-z0-9_][A-Za-z0-9_-]*+)?+"
_ON = rf"on{_WS}(?P<key>[A-Za-z0-9_]++)"


@functools.cache
def _merge_rules() -> tuple[re.Pattern[str], re.Pattern[str]]:
    """(RefMerge, SimpleMerge) compiled on first use: a plain ``merge`` (the usual one) needs neither."""
    ref_merge = re.compile(
        rf"(?!{_WS}required)(?:{_WS}(?:(?P<replace>replace)|{_ON}))?+{_WS}(?P<ref>\.?{_KEY}(?:\.(?:{_KEY}|\[[0-9]++\]))*+)"
    )
    simple_merge = re.compile(rf"(?:{_WS}(?:(?P<replace>replace)|(?P<required>required)|{_ON}))?+")
    return ref_merge, simple_merge
_BLANK = frozenset(" \t\n\r")


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
        following = self.tokens[self.pos + 1]
        prefer = first.kind == "name" and first.value == "prefer"
        if prefer and following.kind in _OPERAND_START and following.space_before:
            self.advance()
            expr: Expr = Prefer(self.expression())
        else:
            expr = self.expression()
        token = self.tokens[self.pos]
        if token.kind != "eof":
            self.error("unexpected token", token)
        return Root(expr, self.text)

    def is_key(self, token: Token) -> bool:
        """A token that can be a key of a reference (spiff's ``Key`` may start with a digit)."""
        return token.kind == "name" or (token.kind == "number" and token.value[0] != "-")

    def binary_operator(self) -> str:
        """Take an operator token; spiff's grammar wants whitespace on both of its sides."""
        token = self.tokens[self.pos]
        following = self.tokens[self.pos + 1]
        if not token.space_before or not (following.space_before or following.kind == "eof"):
            self.error(f"'{token.value}' needs whitespace on both sides", token)
        return self.advance().value

    def expression(self) -> Expr:
        left = self.concatenation()
        if self.tokens[self.pos].kind == "or":
            self.binary_operator()
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
            op = self.binary_operator()
            left = Arithmetic(op, left, self.multiplicative())
        return left

    def multiplicative(self) -> Expr:
        left = self.primary()
        while self.tokens[self.pos].kind in ("star", "slash", "percent"):
            op = self.binary_operator()
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
            return Literal(self.integer(token))
        if kind == "string":
            self.advance()
            return Literal(token.value)
        if kind == "tilde":
            self.advance()
            return Literal(None)
        if kind == "lbracket":
            self.advance()
            if self.tokens[self.pos].kind == "rbracket" and self.tokens[self.pos].space_before:
                self.error("an empty list is written [] (no space inside)", self.tokens[self.pos])
            return ListExpr(self.arguments("rbracket", "']'"))
        if kind == "dot":
            self.advance()
            if not self.is_key(self.tokens[self.pos]) or self.tokens[self.pos].space_before:
                self.error("expected a name after '.'", self.tokens[self.pos])
            return self.reference(from_root=True)
        if kind == "name":
            return self.named(token)
        self.error("expected a value", token)
        raise AssertionError  # pragma: no cover - error() raises

    def integer(self, token: Token) -> int:
        """An integer literal; spiff crashes on those with ``_`` or beyond int64, so refuse them."""
        text = token.value
        if "_" in text:
            self.error("'_' in an integer literal is not supported", token)
        value = int(text)
        if not _INT64_MIN <= value <= _INT64_MAX:
            self.error("integer literal out of the 64-bit range", token)
        return value

    def named(self, token: Token) -> Expr:
        word = token.value
        after = self.tokens[self.pos + 1]
        glued = not after.space_before
        if glued and after.kind == "lparen" and _NAME.fullmatch(word):
            self.advance()
            self.advance()
            if self.tokens[self.pos].kind == "rparen":
                self.error(f"{word}() needs at least one argument", self.tokens[self.pos])
            return Call(word, self.arguments("rparen", "')'"), FUNCTIONS.get(word))
        if word == "map" and glued and after.kind == "lbracket":
            self.advance()
            self.advance()
            return self.mapping()
        if word.startswith(_KEYWORDS):  # one C-level test for the common case of no keyword
            keyword = _KEYWORD_BY_INITIAL[word[0]]
            if word != keyword or (glued and after.kind in ("dot", "lparen", "name", "number")):
                self.error(f"a reference cannot start with the keyword '{keyword}'", token)
            self.advance()
            if word == "merge":
                return self.merge(token)
            if word == "auto":
                self.uses_path = True
                return Auto(self.path)
            return Literal(None if word == "nil" else word == "true")
        first = word[0]
        if first == "_" or "0" <= first <= "9":
            self.error(f"a reference cannot start with {first!r}", token)
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
            if self.tokens[self.pos].space_before:
                self.error("expected a name after '.'", self.tokens[self.pos])
            steps.append(self.step())
        return Reference(tuple(steps), from_root)

    def step(self) -> str:
        """One key, or a list index ``[digits]`` kept as written (``[01]``), as spiff's path holds it."""
        token = self.tokens[self.pos]
        if self.is_key(token):
            self.advance()
            return token.value
        if token.kind == "lbracket":
            self.advance()
            index = self.tokens[self.pos]
            if index.kind != "number" or index.space_before or not index.value.isdigit():
                self.error("expected a list index (digits, no spaces)", index)
            self.advance()
            closing = self.tokens[self.pos]
            if closing.kind != "rbracket" or closing.space_before:
                self.error("expected ']' right after the index", closing)
            self.advance()
            return f"[{index.value}]"
        self.error("expected a name", token)
        raise AssertionError  # pragma: no cover

    def merge(self, token: Token) -> Merge:
        """spiff's two merge forms, tried in its order on the text after ``merge`` (see above).

        ``merge [replace | on KEY] REFERENCE`` (a redirect; never with ``required``), else
        ``merge [replace | required | on KEY]``. One modifier at most: ``merge required foo`` is
        ``merge required`` concatenated with ``foo``, and ``merge replace required`` redirects to
        a key named ``required``, exactly as spiff reads them.
        """
        self.uses_path = True
        if self.tokens[self.pos].kind not in ("name", "number", "dot"):
            # no modifier or reference can follow: spiff's SimpleMerge without options
            redirect = self.path != self.stub_path
            return Merge(self.stub_path, redirect=redirect, replace=False, required=redirect, key_name="")
        text = self.text
        start = token.start + len("merge")
        ref_merge, simple_merge = _merge_rules()
        found = ref_merge.match(text, start)
        if found is not None:
            merge = Merge(
                tuple(found.group("ref").split(".")),
                redirect=True,
                replace=found.group("replace") is not None,
                required=True,
                key_name=found.group("key") or "",
            )
        else:
            found = simple_merge.match(text, start)
            assert found is not None  # everything in it is optional
            replace = found.group("replace") is not None
            redirect = self.path != self.stub_path
            merge = Merge(
                self.stub_path,
                redirect=redirect,
                replace=replace,
                required=replace or found.group("required") is not None or redirect,
                key_name=found.group("key") or "",
            )
        self.resume_at(found.end())
        return merge

    def resume_at(self, offset: int) -> None:
        """Continue with the token at ``offset`` of the text, which must be a token boundary.

        spiff's rule may stop inside what is one token here (``merge replace-x`` stops after
        ``replace``); nothing can follow a value without a blank there, so that is an error.
        """
        tokens = self.tokens
        while tokens[self.pos].start < offset and tokens[self.pos].kind != "eof":
            self.pos += 1
        following = tokens[self.pos]
        if following.start != offset and offset < len(self.text) and self.text[offset] not in _BLANK:
            raise DynamlSyntaxError("expected a blank or an operator", self.text, offset)

    def mapping(self) -> Mapping:
        source = self.expression()
        self.expect("pipe", "'|' before the lambda parameters")
        names = [self.parameter()]
        while self.tokens[self.pos].kind == "comma":
            self.advance()
            names.append(self.parameter())
        if len(names) > 2:
            self.error("map[] takes one or two parameters", self.tokens[self.pos])
        self.expect("pipe", "'|' after the lambda parameters")
        self.expect("arrow", "'->'")
        body = self.expression()
        self.expect("rbracket", "']'")
        return Mapping(source, names, body)

    def parameter(self) -> str:
        """A lambda parameter: spiff's ``Name``, ``[A-Za-z0-9_]+`` (no ``-`` or ``:``)."""
        token = self.tokens[self.pos]
        if (token.kind == "name" and _NAME.fullmatch(token.value)) or (
            token.kind == "number" and token.value[0] != "-"
        ):
            self.advance()
            return token.value
        self.error("expected a parameter name", token)
        raise AssertionError  # pragma: no cover
