"""Audit of dynaml's syntax and of how spiff reads YAML, against spiff's own sources.

The reference is spiff develop at 9c50f79 (Feb 2016): its grammar ``dynaml/dynaml.peg`` (the
generated ``dynaml.peg.go`` holds the same rules as comments) and ``dynaml/parser.go``, which
builds the tree. :class:`SpiffGrammar` below is that grammar run as a PEG (ordered choice, every
repetition and option possessive, words matched as prefixes) and builds the tree the way
``parser.go`` does; the property tests parse generated texts with both and require the same
answer: both refuse, or both give the same tree. Where spiff's parser accepts a text and then
crashes converting it (``1_000``, integers beyond int64), the engine must refuse it.
"""

from __future__ import annotations

import math
from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from boshpipe.spiff import InputError, load, merge, tree, yamlio
from boshpipe.spiff.errors import DynamlSyntaxError
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
)
from boshpipe.spiff.parser import parse
from boshpipe.spiff.scalars import must_quote
from tests.spiff.test_yaml_typing import both_loaders

#: the value parser.go's ``strconv.ParseInt`` panics on (spiff crashes; the engine must refuse)
PANIC = ("panic",)
#: the path of a plain ``merge`` (the node's own stub path) in these tests
STUB = ("P",)

_WS = " \t\n\r"
_NAME_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_")
_KEY_CHARS = _NAME_CHARS | {"-"}

Result = tuple[int, Any] | None


class SpiffGrammar:
    """spiff's dynaml PEG (develop, Feb 2016) and parser.go's tree, for one text.

    Each rule method takes a position and returns ``(end, tree)`` or None, exactly as the
    generated parser matches: ordered choice commits to the first alternative that matches, and
    ``*``/``?`` never give back what they matched. Trees are tuples (see :func:`shape`).
    """

    def __init__(self, text: str) -> None:
        self.s = text

    # -- lexical helpers --------------------------------------------------------------------------
    def ws(self, i: int) -> int:
        while i < len(self.s) and self.s[i] in _WS:
            i += 1
        return i

    def req_ws(self, i: int) -> int | None:
        j = self.ws(i)
        return j if j > i else None

    def word(self, i: int, word: str) -> int | None:
        return i + len(word) if self.s.startswith(word, i) else None

    def chars(self, i: int, allowed: frozenset[str]) -> int:
        while i < len(self.s) and self.s[i] in allowed:
            i += 1
        return i

    # -- rules -------------------------------------------------------------------------------------
    def dynaml(self) -> Any:
        """``Dynaml <- (Prefer / Expression) !.``: the tree, or None when the text does not parse."""
        found = self.prefer(0)
        if found is None:
            found = self.expression(0)
        if found is None or found[0] != len(self.s):
            return None
        return found[1]

    def prefer(self, i: int) -> Result:
        j = self.word(self.ws(i), "prefer")
        if j is None:
            return None
        j = self.req_ws(j)
        if j is None:
            return None
        found = self.expression(j)
        return None if found is None else (found[0], ("prefer", found[1]))

    def expression(self, i: int) -> Result:
        found = self.level4(self.ws(i))
        return None if found is None else (self.ws(found[0]), found[1])

    def binary(self, i: int, operand: Any, ops: tuple[str, ...]) -> Result:
        """``Operand (req_ws (op req_ws Operand / ...))*``, each operator building (op, lhs, rhs)."""
        found = operand(i)
        if found is None:
            return None
        pos, tree = found
        while True:
            j = self.req_ws(pos)
            if j is None:
                return pos, tree
            for op in ops:
                k = self.word(j, op)
                k = None if k is None else self.req_ws(k)
                right = None if k is None else operand(k)
                if right is not None:
                    pos, tree = right[0], (op, tree, right[1])
                    break
            else:
                return pos, tree

    def level4(self, i: int) -> Result:
        return self.binary(i, self.level3, ("||",))

    def level3(self, i: int) -> Result:
        found = self.level2(i)
        if found is None:
            return None
        pos, tree = found
        while True:  # Concatenation <- req_ws Level2
            j = self.req_ws(pos)
            right = None if j is None else self.level2(j)
            if right is None:
                return pos, tree
            pos, tree = right[0], ("concat", tree, right[1])

    def level2(self, i: int) -> Result:
        return self.binary(i, self.level1, ("+", "-"))

    def level1(self, i: int) -> Result:
        return self.binary(i, self.level0, ("*", "/", "%"))

    def level0(self, i: int) -> Result:
        for rule in (
            self.grouped,
            self.call,
            self.boolean,
            self.nil,
            self.string,
            self.integer,
            self.list,
            self.merge,
            self.auto,
            self.mapping,
            self.reference,
        ):
            found = rule(i)
            if found is not None:
                return found
        return None

    def grouped(self, i: int) -> Result:
        j = self.word(i, "(")
        found = None if j is None else self.expression(j)
        if found is None or self.word(found[0], ")") is None:
            return None
        return found[0] + 1, found[1]

    def name(self, i: int) -> Result:
        j = self.chars(i, _NAME_CHARS)
        return (j, self.s[i:j]) if j > i else None

    def expressions(self, i: int) -> Result:
        """``Expression (',' Expression)*`` (Arguments, Contents)."""
        found = self.expression(i)
        if found is None:
            return None
        pos, items = found[0], [found[1]]
        while True:
            j = self.word(pos, ",")
            following = None if j is None else self.expression(j)
            if following is None:
                return pos, items
            pos = following[0]
            items.append(following[1])

    def call(self, i: int) -> Result:
        named = self.name(i)
        j = None if named is None else self.word(named[0], "(")
        args = None if j is None else self.expressions(j)
        if named is None or args is None or self.word(args[0], ")") is None:
            return None
        return args[0] + 1, ("call", named[1], tuple(args[1]))

    def boolean(self, i: int) -> Result:
        for text, value in (("true", True), ("false", False)):
            j = self.word(i, text)
            if j is not None:
                return j, ("bool", value)
        return None

    def nil(self, i: int) -> Result:
        j = self.word(i, "nil")
        if j is None:
            j = self.word(i, "~")
        return None if j is None else (j, ("nil",))

    def string(self, i: int) -> Result:
        if self.word(i, '"') is None:
            return None
        j = i + 1
        while j < len(self.s):
            if self.s.startswith('\\"', j):
                j += 2
            elif self.s[j] == '"':
                break
            else:
                j += 1
        if j >= len(self.s):
            return None
        return j + 1, ("str", self.s[i + 1 : j].replace('\\"', '"'))

    def integer(self, i: int) -> Result:
        j = i + 1 if self.s.startswith("-", i) else i
        k = self.chars(j, frozenset("0123456789_"))
        if k == j:
            return None
        text = self.s[i:k]
        # parser.go: strconv.ParseInt(text, 10, 64), panicking on an error
        if "_" in text or not -(2**63) <= int(text) < 2**63:
            return k, PANIC
        return k, ("int", int(text))

    def list(self, i: int) -> Result:
        j = self.word(i, "[")
        if j is None:
            return None
        contents = self.expressions(j)
        items: list[Any] = []
        if contents is not None:
            j, items = contents
        if self.word(j, "]") is None:
            return None
        return j + 1, ("list", tuple(items))

    def merge(self, i: int) -> Result:
        j = self.word(i, "merge")
        if j is None:
            return None
        # RefMerge <- 'merge' !(req_ws Required) (req_ws (Replace / On))? req_ws Reference
        k = self.req_ws(j)
        if k is None or self.word(k, "required") is None:
            pos, replace, key = j, False, ""
            k = self.req_ws(j)
            if k is not None:
                option = self.word(k, "replace")
                if option is not None:
                    pos, replace = option, True
                else:
                    on = self.on(k)
                    if on is not None:
                        pos, key = on
            k = self.req_ws(pos)
            ref = None if k is None else self.reference(k)
            if ref is not None:
                return ref[0], ("merge", ref[1][1], True, replace, True, key)
        # SimpleMerge <- 'merge' (req_ws (Replace / Required / On))?
        k = self.req_ws(j)
        if k is not None:
            for word in ("replace", "required"):
                end = self.word(k, word)
                if end is not None:
                    replace = word == "replace"
                    return end, ("merge", STUB, False, replace, True, "")
            on = self.on(k)
            if on is not None:
                return on[0], ("merge", STUB, False, False, False, on[1])
        return j, ("merge", STUB, False, False, False, "")

    def on(self, i: int) -> Result:
        j = self.word(i, "on")
        j = None if j is None else self.req_ws(j)
        return None if j is None else self.name(j)

    def auto(self, i: int) -> Result:
        j = self.word(i, "auto")
        return None if j is None else (j, ("auto",))

    def mapping(self, i: int) -> Result:
        """``'map[' Expression '|' ws Name (ws ',' ws Name)? ws '|' ws '->' Expression ']'``."""
        j = self.word(i, "map[")
        source = None if j is None else self.expression(j)
        j = None if source is None else self.word(source[0], "|")
        first = None if j is None else self.name(self.ws(j))
        if source is None or first is None:
            return None
        names = [first[1]]
        j = first[0]
        comma = self.word(self.ws(j), ",")
        second = None if comma is None else self.name(self.ws(comma))
        if second is not None:
            j = second[0]
            names.append(second[1])
        j2 = self.word(self.ws(j), "|")
        j2 = None if j2 is None else self.word(self.ws(j2), "->")
        body = None if j2 is None else self.expression(j2)
        if body is None or self.word(body[0], "]") is None:
            return None
        # parser.go pops the names in reverse; mapping.go then reads them so that the written order
        # is (key, value): the tree here keeps the written order, as the engine does
        return body[0] + 1, ("map", source[1], tuple(names), body[1])

    def key(self, i: int) -> int | None:
        if i >= len(self.s) or self.s[i] not in _NAME_CHARS:
            return None
        j = self.chars(i + 1, _KEY_CHARS)
        if self.s.startswith(":", j) and j + 1 < len(self.s) and self.s[j + 1] in _NAME_CHARS:
            j = self.chars(j + 2, _KEY_CHARS)
        return j

    def reference(self, i: int) -> Result:
        start = i
        j = i + 1 if self.s.startswith(".", i) else i
        end = self.key(j)
        if end is None:
            return None
        while self.s.startswith(".", end):
            following = self.key(end + 1)
            if following is None and self.s.startswith("[", end + 1):
                digits = self.chars(end + 2, frozenset("0123456789"))
                if digits > end + 2 and self.s.startswith("]", digits):
                    following = digits + 1
            if following is None:
                break
            end = following
        return end, ("ref", tuple(self.s[start:end].split(".")))


def spiff_tree(text: str) -> Any:
    """spiff's tree for ``text``, None when it does not parse, or :data:`PANIC` when spiff crashes."""
    tree = SpiffGrammar(text).dynaml()
    return PANIC if tree is not None and PANIC in _walk(tree) else tree


def _walk(tree: Any) -> list[Any]:
    found = [tree]
    if type(tree) is tuple:
        for item in tree:
            found.extend(_walk(item))
    return found


def _or_operands(expr: Any) -> list[Any]:
    """The operands of a ``||`` chain, however it is nested (``||`` is associative)."""
    if type(expr) is tuple and expr[:1] == ("||",):
        return _or_operands(expr[1]) + _or_operands(expr[2])
    return [expr]


def normal(tree: Any) -> Any:
    """A spiff tree with ``||`` chains flattened (spiff nests them to the left, the engine right)."""
    if type(tree) is not tuple:
        return tree
    if tree[:1] == ("||",):
        return ("||", tuple(normal(item) for item in _or_operands(tree)))
    return tuple(normal(item) for item in tree)


def shape(expr: Expr) -> Any:
    """The engine's tree in :class:`SpiffGrammar`'s form."""
    if isinstance(expr, Literal):
        value = expr.value
        if value is None:
            return ("nil",)
        return ("bool" if type(value) is bool else "int" if type(value) is int else "str", value)
    if isinstance(expr, Reference):
        return ("ref", ("", *expr.path) if expr.from_root else tuple(expr.path))
    if isinstance(expr, Arithmetic):
        return (expr.op, shape(expr.left), shape(expr.right))
    if isinstance(expr, Concat):
        return ("concat", shape(expr.left), shape(expr.right))
    if isinstance(expr, Or):
        return ("||", shape(expr.left), shape(expr.right))
    if isinstance(expr, ListExpr):
        return ("list", tuple(shape(item) for item in expr.items))
    if isinstance(expr, Call):
        return ("call", expr.name, tuple(shape(arg) for arg in expr.args))
    if isinstance(expr, Prefer):
        return ("prefer", shape(expr.expr))
    if isinstance(expr, Mapping):
        return ("map", shape(expr.source), tuple(expr.names), shape(expr.body))
    if isinstance(expr, Merge):
        return ("merge", tuple(expr.path), expr.redirect, expr.replace, expr.required, expr.key_name)
    if isinstance(expr, Auto):
        return ("auto",)
    raise AssertionError(expr)


def engine_tree(text: str) -> Any:
    """The engine's tree for ``text`` (normalised), or None when it refuses the text."""
    try:
        root = parse(text, STUB, STUB)
    except DynamlSyntaxError:
        return None
    return normal(shape(root.expr))


def assert_same(text: str) -> None:
    expected = spiff_tree(text)
    # where spiff crashes (PANIC), the engine refuses the text instead
    expected = None if expected == PANIC else normal(expected)
    assert engine_tree(text) == expected, text


# -- the reference grammar itself, on cases whose answer is known from spiff's tests --------------
def test_reference_grammar_reads_spiffs_documented_examples() -> None:
    assert spiff_tree("1 - 2 - 3") == ("-", ("-", ("int", 1), ("int", 2)), ("int", 3))
    assert spiff_tree("a || b || c") == ("||", ("||", ("ref", ("a",)), ("ref", ("b",))), ("ref", ("c",)))
    assert spiff_tree("merge required foo") == ("concat", ("merge", STUB, False, False, True, ""), ("ref", ("foo",)))
    assert spiff_tree(".foo.[0]") == ("ref", ("", "foo", "[0]"))
    assert spiff_tree("[ ]") is None and spiff_tree("auto_x") is None and spiff_tree("1_0") == PANIC


# -- texts the differential check found (each failed before the fix) -------------------------------
@pytest.mark.parametrize(
    "text",
    [
        # merge words match as prefixes in spiff's grammar, and the key after ``on`` is a Name
        "merge replacement",
        "merge requiredx",
        "merge replace:x",
        "merge replace-x",
        "merge on x-y",
        "merge on x:y z",
        # a key may start with a digit after a dot, after ``merge`` and in a call's name
        "merge 1",
        "merge 1_0",
        "merge on 1 z",
        "a.1b",
        ".1a",
        "a.0-x",
        "a.1:x",
        "1f(2) || 3",
        # a list index is ``.[digits]``, nothing else
        "a.[ 0 ]",
        "a.[-1]",
        "a.[1_0]",
        "a.[01]",
        # lambda parameters are Names
        "map[l|x-y|->1]",
        "map[l|1|->1]",
        # ``merge .x`` keeps the empty first step of spiff's path
        "merge .foo",
        "merge replace .foo.bar",
    ],
)
def test_syntax_matches_spiffs_grammar(text: str) -> None:
    assert_same(text)


def test_merge_of_a_root_reference_keeps_spiffs_path() -> None:
    """spiff splits ``merge .foo`` into the path ``["", "foo"]``, which no stub holds."""
    merge = parse("merge .foo", ("a",), ("a",)).expr
    assert isinstance(merge, Merge) and merge.path == ("", "foo") and merge.redirect


def test_list_index_is_kept_as_written() -> None:
    reference = parse("a.[01]").expr
    assert isinstance(reference, Reference) and reference.path == ("a", "[01]")


# -- the differential property tests ---------------------------------------------------------------
#: fragments from which texts are built: words of the grammar, near misses and separators
FRAGMENTS = [
    *(" ", "  ", "\t", "\n"),
    *("a", "b", "x-y", "k:z", "_x", "_", "1b", "0-x"),
    *("1", "0", "12", "-1", "-", "1_0", "01"),
    *(".", "[", "]", "[0]", ".[1]", "(", ")", ",", "~"),
    *('"s"', '"', '\\"', '"a\\"b"', "\\"),
    *("|", "||", "->", "+", "*", "/", "%", ":"),
    *("nil", "true", "false", "merge", "replace", "required", "on", "auto", "map", "map[", "prefer"),
    *("join", "f", "merge replace", "merge on k", "merge required"),
]


@settings(max_examples=800, deadline=None)
@given(st.lists(st.sampled_from(FRAGMENTS), min_size=1, max_size=9).map("".join))
def test_generated_texts_parse_as_in_spiff(text: str) -> None:
    assert_same(text)


_SPACE = st.sampled_from([" ", " ", " ", "  ", "\t", ""])  # "" tests where blanks are required


@st.composite
def expressions(draw: st.DrawFn, depth: int = 0) -> str:
    """Mostly well-formed expressions with random spacing (sometimes none where spiff wants some)."""
    leaves = st.sampled_from(
        ["a", "b.c", ".r", "a.[0]", "x-y.1z", "1", "-2", '"s"', "nil", "~", "true", "merge", "auto", "name:z"]
    )
    if depth > 2:
        return draw(leaves)
    kind = draw(st.integers(0, 9))
    sub = expressions(depth + 1)
    if kind <= 2:
        return draw(leaves)
    if kind == 3:
        op = draw(st.sampled_from(["||", "+", "-", "*", "/", "%", ""]))
        return draw(sub) + draw(_SPACE) + op + draw(_SPACE) + draw(sub)
    if kind == 4:
        return "(" + draw(_SPACE) + draw(sub) + draw(_SPACE) + ")"
    if kind == 5:
        items = draw(st.lists(sub, max_size=3))
        return "[" + ("," + draw(_SPACE)).join(items) + "]"
    if kind == 6:
        name = draw(st.sampled_from(["join", "f", "static_ips", "1f"]))
        return name + "(" + ", ".join(draw(st.lists(sub, max_size=3))) + ")"
    if kind == 7:
        names = draw(st.sampled_from(["x", "k,v", "k, v", "1", "x-y"]))
        return f"map[{draw(sub)}|{names}|->{draw(_SPACE)}{draw(sub)}]"
    if kind == 8:
        words = draw(st.sampled_from(["", "replace", "required", "on k", "replace on", "on"]))
        target = draw(st.sampled_from(["", "foo", ".foo", "foo.[1]", "1", "_x"]))
        return " ".join(part for part in ("merge", words, target) if part)
    return "prefer" + draw(_SPACE) + draw(sub)


@settings(max_examples=800, deadline=None)
@given(expressions())
def test_generated_expressions_parse_as_in_spiff(text: str) -> None:
    assert_same(text)


# -- how spiff reads YAML: candiedyaml's resolver and decoder ---------------------------------------
read_both_ways = both_loaders  # the value of ``a`` through both loaders, which must agree


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # booleans in any letter case (resolve_bool lowers the text); null words exactly spelled
        ("tRUE", True),
        ("yEs", True),
        ("oN", True),
        ("nO", False),
        ("OFF", False),
        ("nULL", "nULL"),
        ("F", "F"),
        # .inf/.nan in any case; Go's ParseFloat words after a sign; the sign taken off twice
        (".iNf", math.inf),
        ("-.INF", -math.inf),
        ("-inf", -math.inf),
        ("+Infinity", math.inf),
        ("--1", 1.0),
        ("+-1", -1.0),
        ("inf", "inf"),
        ("nan", "nan"),
        # hexadecimal floats (Go's ParseFloat), underscores dropped everywhere
        ("0x1p3", 8.0),
        ("._5", 0.5),
        ("0x_1F", 31),
        # past int64: a float when Go's ParseFloat reads the text, else a string
        ("9223372036854775808", 9223372036854775808.0),
        ("-9223372036854775808", -9223372036854775808),
        ("-9223372036854775809", -9223372036854775809.0),
        ("01777777777777777777777", 1.777777777777777777777e21),
        ("0o1777777777777777777777", "0o1777777777777777777777"),
        ("0O17", 15),
        ("0B11", 3),
    ],
)
def test_plain_scalars_are_typed_as_candiedyaml_types_them(text: str, expected: Any) -> None:
    value = read_both_ways(text)
    assert type(value) is type(expected)
    assert value == expected or (math.isnan(expected) if type(expected) is float else False)


@pytest.mark.parametrize("text", ["+nan", "-.NaN", ".nAn"])
def test_nan_spellings(text: str) -> None:
    assert math.isnan(read_both_ways(text))


@pytest.mark.parametrize(
    "text", ["2016-01-01T10:00:00", "2001-12-14 21:59:43.10 -5", "2015-6-9", "2001-12-14t21:59:43+05"]
)
def test_timestamps_are_refused_like_spiff_refuses_time_values(text: str) -> None:
    with pytest.raises(InputError, match="timestamps"):
        load(f"a: {text}\n")
    with pytest.raises(InputError, match="timestamps"):
        yamlio.load_tree(f"a: {text}\n")


@pytest.mark.parametrize(
    ("document", "expected"),
    [
        ("a: !!str 123", 123),  # candiedyaml types a tagged scalar by its text
        ('a: !!str "123"', 123),
        ("a: !!str", None),
        ("a: !!float 1", 1),
        ("a: !!int '12'", 12),
        ("a: !custom text", "text"),
        ("a: ! 12", 12),
        ("a: !!map {b: 1}", {"b": 1}),
        ("a: !thing [1]", [1]),
        ("a: [1,!!str 2]", [1, 2]),
        ("!!map\na: 1", 1),
    ],
)
def test_explicit_tags_change_nothing_but_quoting(document: str, expected: Any) -> None:
    assert load(document)["a"] == expected
    assert tree.unwrap(yamlio.load_tree(document))["a"] == expected


def test_a_bang_inside_a_value_is_no_tag() -> None:
    assert load("a: ((!foo))\nb: hi!\n") == {"a": "((!foo))", "b": "hi!"}


@pytest.mark.parametrize("document", ["a: 1\n---\nb: 2\n", "a: 1\n---\n", "a: 1\n...\n---\n- x\n"])
def test_only_the_first_document_is_read(document: str) -> None:
    assert load(document) == {"a": 1}
    assert tree.unwrap(yamlio.load_tree(document)) == {"a": 1}


def merged(template: str, *stubs: str) -> Any:
    return merge(load(template, "t.yml"), *(load(stub, f"s{i}.yml") for i, stub in enumerate(stubs, 1)))


def test_merge_key_is_an_ordinary_key_spliced_by_spiffs_merge() -> None:
    """flow.go splices a ``<<`` map in sorted key order: a key sorting before ``<<`` loses."""
    template = "base: &b {1x: base, z: base}\nm:\n  <<: *b\n  1x: mine\n  z: mine\n"
    assert merged(template)["m"] == {"1x": "base", "z": "mine"}
    assert merged('"<<": {a: 1}\nb: 2') == {"a": 1, "b": 2}  # a quoted "<<" is the same key


def test_list_entry_holding_only_a_merge_key_with_a_map_is_dropped() -> None:
    """flow.go's processMerges takes ``- <<: x`` as a list splice; a map there splices nothing."""
    template = "base: &b {a: 1}\nl:\n- <<: *b\n- b: 2\n- <<: *b\n  c: 3\n"
    assert merged(template)["l"] == [{"b": 2}, {"a": 1, "c": 3}]


def test_merge_key_with_a_list_splices_nothing() -> None:
    template = "a: &a {x: 1}\nb: &b {w: 2}\nm:\n  <<: [*a, *b]\n  z: 3\n"
    assert merged(template)["m"] == {"z": 3}


# -- output: every string reads back as a string, spiff's reader included --------------------------
SPIFF_TYPED = ["tRUE", "yEs", "oN", "nO", ".iNf", ".nAn", "-inf", "+nan", "--1", "0x1p3", "._5", "0B11", "+Infinity"]


@pytest.mark.parametrize("text", SPIFF_TYPED)
def test_strings_spiff_would_type_are_quoted(text: str) -> None:
    assert must_quote(text)
    data = {"k": text}
    for output in (yamlio.dump(data), yamlio.dump_tree(tree.wrap(data, "t"))):
        assert tree.unwrap(yamlio.load_tree(output)) == data
        assert yaml.safe_load(output) == data


_SCALAR_CHARS = "0123456789+-._xXoObBeEpP:infINFatyAnNsulTRUFY~ ,"


@settings(max_examples=600, deadline=None)
@given(st.text(alphabet=_SCALAR_CHARS, min_size=1, max_size=8))
def test_any_string_is_written_so_that_every_reader_reads_it_back(text: str) -> None:
    data = {"k": text}
    output = yamlio.dump_tree(tree.wrap(data, "t"))
    assert tree.unwrap(yamlio.load_tree(output)) == data  # spiff's reader (a stub)
    assert yaml.safe_load(output) == data  # YAML 1.1 (PyYAML)


@settings(max_examples=600, deadline=None)
@given(st.text(alphabet=_SCALAR_CHARS.replace(" ", "").replace(",", ""), min_size=1, max_size=8))
def test_both_loaders_type_plain_scalars_alike(text: str) -> None:
    try:
        fast = yamlio.load_tree(f"a: {text}\n")
    except InputError:
        with pytest.raises(InputError):
            load(f"a: {text}\nanchor: &x 1\nalias: *x\n")
        return
    slow = load(f"a: {text}\nanchor: &x 1\nalias: *x\n")["a"]
    value = fast.value["a"].value
    assert type(value) is type(slow) and (value == slow or value != value)
