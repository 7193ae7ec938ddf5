"""Parsing dynaml into expression nodes: precedence, associativity, merge forms, errors."""

from __future__ import annotations

import pytest

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


def shape(expr: Expr) -> object:
    """A compact, comparable picture of a tree."""
    if isinstance(expr, Literal):
        return expr.value
    if isinstance(expr, Reference):
        return ("." if expr.from_root else "") + ".".join(expr.path)
    if isinstance(expr, Arithmetic):
        return (expr.op, shape(expr.left), shape(expr.right))
    if isinstance(expr, Concat):
        return ("concat", shape(expr.left), shape(expr.right))
    if isinstance(expr, Or):
        return ("||", shape(expr.left), shape(expr.right))
    if isinstance(expr, ListExpr):
        return [shape(item) for item in expr.items]
    if isinstance(expr, Call):
        return (expr.name, *[shape(a) for a in expr.args])
    if isinstance(expr, Prefer):
        return ("prefer", shape(expr.expr))
    if isinstance(expr, Mapping):
        return ("map", shape(expr.source), tuple(expr.names), shape(expr.body))
    raise AssertionError(expr)


def tree(text: str) -> object:
    return shape(parse(text).expr)


def test_multiplication_binds_tighter_than_addition() -> None:
    assert tree("1 + 2 * 3") == ("+", 1, ("*", 2, 3))


def test_arithmetic_is_left_associative() -> None:
    assert tree("6 - 3 - 2") == ("-", ("-", 6, 3), 2)


def test_concatenation_is_looser_than_arithmetic_and_left_associative() -> None:
    assert tree('"x" 1 + 1') == ("concat", "x", ("+", 1, 1))
    assert tree('[1] "a" "b"') == ("concat", ("concat", [1], "a"), "b")


def test_or_is_loosest() -> None:
    assert tree("missing || 1 + 1") == ("||", "missing", ("+", 1, 1))


def test_literals() -> None:
    assert tree("nil") is None and tree("~") is None
    assert tree("true") is True and tree("-7") == -7
    with pytest.raises(DynamlSyntaxError, match="'_' in an integer"):
        parse("1_000")  # spiff's parser accepts it, then crashes converting it


def test_references_with_indexes_and_root() -> None:
    assert tree("jobs.api.networks.[0]") == "jobs.api.networks.[0]"
    assert tree(".bar.buzz") == ".bar.buzz"


def test_calls_lists_and_mapping() -> None:
    assert tree('join(",", [a, "b"])') == ("join", ",", ["a", "b"])
    assert tree("map[list|i,x|->i x]") == ("map", "list", ("i", "x"), ("concat", "i", "x"))
    assert tree("prefer alt") == ("prefer", "alt")


def test_merge_forms_capture_paths() -> None:
    plain = parse("merge", ("a", "b"), ("a", "b")).expr
    assert isinstance(plain, Merge)
    assert plain.path == ("a", "b") and not plain.redirect and not plain.required
    redirected = parse("merge replace alt.x", ("a",), ("a",)).expr
    assert isinstance(redirected, Merge)
    assert redirected.path == ("alt", "x") and redirected.redirect and redirected.replace
    keyed = parse("merge on key", ("l",), ("l",)).expr
    assert isinstance(keyed, Merge) and keyed.key_name == "key"
    assert isinstance(parse("merge required").expr, Merge) and parse("merge required").expr.required  # type: ignore[attr-defined]
    auto = parse("auto", ("resource_pools", "small", "size")).expr
    assert isinstance(auto, Auto) and auto.path == ("resource_pools", "small", "size")


@pytest.mark.parametrize(
    ("text", "column"),
    [("1 +", 4), ('a "." )', 7), ("join(1,", 8), ("!foo", 1), ("map[x|->x]", 7)],
)
def test_syntax_errors_carry_the_column(text: str, column: int) -> None:
    with pytest.raises(DynamlSyntaxError) as info:
        parse(text)
    assert info.value.offset + 1 == column
    rendered = str(info.value)
    assert f"column {column}" in rendered
    assert "\n" not in rendered
    assert info.value.caret_lines().splitlines()[1].index("^") == column + 2
