"""Tokens of dynaml: whitespace-sensitive, negative numbers vs. minus, names with dashes."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from boshpipe.spiff.errors import DynamlSyntaxError
from boshpipe.spiff.lexer import tokenize


def kinds(text: str) -> list[tuple[str, str]]:
    return [(t.kind, t.value) for t in tokenize(text)[:-1]]


def test_names_keep_dashes_and_underscores() -> None:
    assert kinds("foo.bar-baz.fizz_buzz") == [
        ("name", "foo"),
        ("dot", "."),
        ("name", "bar-baz"),
        ("dot", "."),
        ("name", "fizz_buzz"),
    ]


def test_minus_between_operands_is_an_operator() -> None:
    assert kinds("7 - 3") == [("number", "7"), ("minus", "-"), ("number", "3")]
    assert kinds("a-1") == [("name", "a-1")]


def test_leading_minus_before_digit_is_a_negative_number() -> None:
    assert kinds("-1") == [("number", "-1")]
    assert kinds("(-7)") == [("lparen", "("), ("number", "-7"), ("rparen", ")")]


def test_operators_and_lambda_tokens() -> None:
    assert [k for k, _ in kinds("a || b | x |-> [1] * 2 / 3 % 4 + ~")] == [
        "name",
        "or",
        "name",
        "pipe",
        "name",
        "pipe",
        "arrow",
        "lbracket",
        "number",
        "rbracket",
        "star",
        "number",
        "slash",
        "number",
        "percent",
        "number",
        "plus",
        "tilde",
    ]


def test_strings_unescape_only_quotes() -> None:
    assert kinds(r'"foo \"bar\" \n"') == [("string", 'foo "bar" \\n')]


def test_space_before_is_recorded() -> None:
    tokens = tokenize("f(x) g (y)")
    assert [t.space_before for t in tokens[:3]] == [False, False, False]
    assert tokens[4].space_before and tokens[5].space_before


@pytest.mark.parametrize(("text", "offset"), [('"open', 0), ("a # b", 2), ("1 + $", 4)])
def test_bad_input_points_at_the_character(text: str, offset: int) -> None:
    with pytest.raises(DynamlSyntaxError) as info:
        tokenize(text)
    assert info.value.offset == offset
    assert "^" in str(info.value)


_PIECES = [*"ab_-:0129 \"\\\t\n.()[],+*/%~|>^é", "||", "->", "merge", "  ", '"x"', "-1", "12"]


@given(st.lists(st.sampled_from(_PIECES), max_size=14).map("".join))
@settings(max_examples=3000, deadline=None)
def test_tokens_tile_the_text_or_the_error_points_into_it(text: str) -> None:
    """Each token sits where its text is, after exactly the whitespace it says; or a located error."""
    try:
        tokens = tokenize(text)
    except DynamlSyntaxError as err:
        shown = err.expression  # the offset counts in the expression as shown (stripped)
        assert 0 <= err.offset < len(shown) and shown[err.offset] not in " \t\r\n", (text, err)
        return
    assert tokens[-1].kind == "eof" and tokens[-1].start == len(text)
    pos = 0
    for token in tokens[:-1]:
        gap = text[pos : token.start]
        assert gap.strip(" \t\r\n") == "" and token.space_before == bool(gap), (text, token)
        raw = f'"{token.value.replace(chr(34), chr(92) + chr(34))}"' if token.kind == "string" else token.value
        assert text.startswith(raw, token.start), (text, token)
        pos = token.start + len(raw)
    assert text[pos:].strip(" \t\r\n") == "" and tokens[-1].space_before == (pos < len(text))
