"""Path parsing: every token form, escapes, modifiers, and go-patch's way of printing paths."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from boshpipe.ops.errors import PointerError
from boshpipe.ops.pointer import AfterLast, Index, Key, Match, Pointer, escape, parse, unescape


def test_root_and_empty_key() -> None:
    assert parse("").tokens == ()
    assert parse("/").tokens == (Key(""),)


@pytest.mark.parametrize(
    ("path", "tokens"),
    [
        ("/a/b", (Key("a"), Key("b"))),
        ("/list/0", (Key("list"), Index(0))),
        ("/list/-1", (Key("list"), Index(-1))),
        ("/list/01", (Key("list"), Index(1))),
        ("/list/+2", (Key("list"), Index(2))),
        ("/list/-", (Key("list"), AfterLast())),
        ("/-/x", (Key("-"), Key("x"))),
        ("/list/name=x", (Key("list"), Match("name", "x"))),
        ("/list/k=a=b", (Key("list"), Match("k", "a=b"))),
        ("/a?/b", (Key("a", True), Key("b", True))),
        ("/list/name=x?/k", (Key("list"), Match("name", "x", True), Key("k", True))),
        ("/list/0:before", (Key("list"), Index(0, ("before",)))),
        ("/list/name=x:prev:after", (Key("list"), Match("name", "x", False, ("prev", "after")))),
        ("/a~1b/m~0n/c~7d", (Key("a/b"), Key("m~n"), Key("c:d"))),
        ("/0?", (Key("0", True),)),
    ],
)
def test_token_forms(path: str, tokens: tuple[object, ...]) -> None:
    assert parse(path).tokens == tokens


@pytest.mark.parametrize(
    ("path", "message"),
    [
        ("a/b", "Expected to start with '/'"),
        ("/m:n", "Expected to find one of the following modifiers: 'prev', 'next', 'before', or 'after' but found 'n'"),
        ("/list/-:before", "Expected not to find any modifiers with after last index token"),
        ("/key:before", "Expected not to find any modifiers with key token"),
    ],
)
def test_bad_paths(path: str, message: str) -> None:
    with pytest.raises(PointerError) as err:
        parse(path)
    assert str(err.value) == message


@pytest.mark.parametrize(
    ("path", "printed"),
    [("/list/01", "/list/1"), ("/a?/b?/c", "/a?/b/c"), ("/l/name=x?/k", "/l/name=x?/k"), ("/a~1b", "/a~1b")],
)
def test_printed_like_go_patch(path: str, printed: str) -> None:
    assert str(parse(path)) == printed


def test_prefix_is_the_path_so_far() -> None:
    assert parse("/a/b/c").prefix(2) == "/a/b"
    assert Pointer(()).prefix(0) == ""


@given(st.text(alphabet="ab~/:", max_size=12))
def test_escape_round_trip(text: str) -> None:
    assert unescape(escape(text)) == text


@given(st.lists(st.text(alphabet="abc~/:-", min_size=1, max_size=6), min_size=1, max_size=5))
def test_keys_survive_printing(keys: list[str]) -> None:
    """A path of plain keys prints back to a path that parses to the same keys."""
    text = "".join("/" + escape(k) for k in keys)
    pointer = parse(text)
    if all(type(t) is Key for t in pointer.tokens):
        assert parse(str(pointer)) == pointer
