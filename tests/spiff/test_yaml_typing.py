"""Scalar typing in and out (issue 16, classes 3 and 4).

In: plain scalars are typed as spiff's Go YAML reader types them. Out: every string comes back
as a string in a YAML 1.1 reader (PyYAML's SafeLoader, spiff's own rules) and a YAML 1.2 reader
(ruamel.yaml's default), whichever of the two output paths wrote it.
"""

from __future__ import annotations

import io
import math
from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st
from ruamel.yaml import YAML

from boshpipe.spiff import load, tree, yamlio
from boshpipe.spiff.scalars import must_quote, resolve_plain


def both_loaders(text: str) -> Any:
    """The value of ``a`` through the fast loader and the ordinary one, which must agree."""
    fast = yamlio.load_tree(f"a: {text}\n").value["a"].value
    slow = load(f"a: {text}\nanchor: &x 1\nalias: *x\n")["a"]  # the alias forces the ordinary loader
    assert type(fast) is type(slow) and (fast == slow or fast != fast)
    return slow


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("0o17", 15),
        ("0x1F", 31),
        ("017", 15),
        ("08", 8.0),
        ("09", 9.0),
        ("1:20", "1:20"),
        ("190:20:30", "190:20:30"),
        ("1e3", 1000.0),
        ("1.5e3", 1500.0),
        ("+.5", 0.5),
        (".5", 0.5),
        ("1_000", 1000),
        ("1e400", "1e400"),
        ("y", True),
        ("n", False),
        ("Off", False),
        ("~", None),
        ("=", "="),
        ("<<", "<<"),
        ("0b101", 5),
        ("-017", -15),
        ("99999999999999999999", 1e20),
    ],
)
def test_input_is_typed_like_spiffs_go_yaml_reader(text: str, expected: Any) -> None:
    value = both_loaders(text)
    assert type(value) is type(expected) and value == expected


def test_integers_beyond_int64_are_read_as_floats_not_wrapped() -> None:
    """candiedyaml's resolve_int fails beyond int64 and its resolve_float reads the text."""
    assert both_loaders("18446744073709551615") == 18446744073709551615.0
    assert type(both_loaders("9223372036854775808")) is float
    assert both_loaders("0xFFFFFFFFFFFFFFFF") == "0xFFFFFFFFFFFFFFFF"  # Go's ParseFloat refuses it


def test_nan_reads_as_a_float() -> None:
    assert math.isnan(both_loaders(".nan"))


TRICKY_STRINGS = [
    *("n", "N", "y", "Y", "yes", "No", "on", "OFF", "true", "False", "~", "null", "NULL", ""),
    *("1e3", "1E3", "1.5e3", "1e+06", "0123", "0123456789", "08", "0o17", "0x1F", "0b11", "1:20"),
    *("12:30:45", ".inf", "-.Inf", ".nan", ".5", "+1", "-1", "1_000", "1,000", "1.", "=", "<<", ":a"),
    *("2015-06-09", "1.0", "-0", "+.5", "1e400"),
]
PLAIN_STRINGS = ["abc", "10.0.0.1", "1.0.8", "a1", "redis_z1", "z1:x", "n1", "yes-no"]

_RUAMEL = YAML(typ="safe", pure=True)  # its default is YAML 1.2


def yaml12(text: str) -> Any:
    return _RUAMEL.load(io.StringIO(text))


@pytest.mark.parametrize("text", TRICKY_STRINGS + PLAIN_STRINGS)
def test_strings_read_back_as_strings_in_yaml_11_and_12_readers(text: str) -> None:
    data = {"k": [text], text or "empty": text}
    written = [yamlio.dump(data), yamlio.dump_tree(tree.wrap(data, "t"))]
    for output in written:
        assert yaml.load(output, Loader=yaml.SafeLoader) == data  # YAML 1.1 (PyYAML)
        assert yaml12(output) == data  # YAML 1.2 (ruamel.yaml)
        assert tree.unwrap(yamlio.load_tree(output)) == data  # spiff's own reader (a stub)
    assert written[0] == written[1]


@pytest.mark.parametrize("text", TRICKY_STRINGS)
def test_must_quote_tricky_strings(text: str) -> None:
    assert must_quote(text)


@pytest.mark.parametrize("text", PLAIN_STRINGS)
def test_ordinary_strings_stay_plain(text: str) -> None:
    assert not must_quote(text)
    assert yamlio.dump({"a": text}) == f"a: {text}\n\n"


_PIECES = [*"abefxyzEINOTYnoesulrtfia0123456789_/+=.:,- ", "true", "yes", "Yes", "on", "off", "null", "NULL", "~"]
_PIECES += [".inf", ".nan", "0x", "0b", "0o", "1e", "e+", "E-", "2001-12-14", "<<", "="]


@given(st.lists(st.sampled_from(_PIECES), min_size=1, max_size=7).map("".join))
@settings(max_examples=5000, deadline=None)
def test_must_quote_covers_what_pyyaml_types(text: str) -> None:
    """The direct writer quotes by must_quote alone, so it must say yes wherever PyYAML types a text."""
    tag = yaml.resolver.Resolver().resolve(yaml.ScalarNode, text, (True, False))
    if tag != "tag:yaml.org,2002:str":
        assert must_quote(text), (text, tag)


def test_resolve_plain_keeps_words_and_numbers_apart() -> None:
    assert resolve_plain("1.0.8") == ("tag:yaml.org,2002:str", "1.0.8")
    assert resolve_plain("-.inf")[1] == -math.inf
    assert resolve_plain("2015-6-9")[0] == "tag:yaml.org,2002:timestamp"


def test_large_integral_floats_stay_floats_small_ones_print_as_integers() -> None:
    data = tree.wrap({"small": 1000.0, "large": 1e6}, "t")
    assert tree.unwrap(data) == {"small": 1000, "large": 1e6}
    assert type(tree.unwrap(data)["large"]) is float
    output = yamlio.dump_tree(data)
    assert yaml.safe_load(output) == {"small": 1000, "large": 1e6}
    assert type(yaml.safe_load(output)["large"]) is float
