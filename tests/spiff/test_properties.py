"""Differential and property-based tests of the spiff engine (hypothesis).

* **Reference evaluator**: generated templates (plain leaves, references, int64 arithmetic,
  concatenation, ``(( merge || default ))``) and plain stubs, whose expected merge is computed
  here independently, by rules stated once in :func:`expected_merge` (rightmost stub wins, only
  template keys survive, expressions see the merged values, int64 wrap-around).
* **Invariants** on the same documents: the output text reads back with the same types in a
  YAML 1.1 reader (PyYAML's SafeLoader), a YAML 1.2 reader (ruamel.yaml) and spiff's own reader;
  merging the output again as a template changes nothing.
* **Robustness**: random dynaml-like expressions either merge or raise a SpiffError, nothing
  else (no crash, no hang).
"""

from __future__ import annotations

import contextlib
import io
import os
import tempfile
from typing import Any

import yaml
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.configuration import set_hypothesis_home_dir
from ruamel.yaml import YAML

from boshpipe.spiff import SpiffError, merge, tree, yamlio
from boshpipe.spiff.nodes import int64

# hypothesis keeps caches in ./.hypothesis by default: keep the checkout clean
set_hypothesis_home_dir(os.path.join(tempfile.gettempdir(), "boshpipe-hypothesis"))

#: a few seconds in all; no example database (nothing is written into the checkout)
SETTINGS = settings(max_examples=150, deadline=None, database=None)

#: texts chosen to sit on YAML typing edges, plus ordinary ones
TEXTS = st.sampled_from(
    ["n", "y", "yes", "off", "1e3", "0123", "0o17", "1:20", ".inf", "~", "null", "1,000", "abc", "10.0.0.1", "x y"]
)
INTS = st.one_of(st.integers(-5, 5), st.integers(-(2**63), 2**63 - 1))
KEYS = [f"k{i}" for i in range(6)]


@st.composite
def documents(draw: st.DrawFn) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """A template of plain leaves and expressions over them, and up to three plain stubs."""
    leaves: dict[str, Any] = {}
    for key in KEYS[:3]:
        leaves[key] = draw(st.one_of(INTS, TEXTS))
    template: dict[str, Any] = dict(leaves)
    ints = [k for k, v in leaves.items() if type(v) is int]
    texts = [k for k, v in leaves.items() if type(v) is not int]
    for key in KEYS[3:]:
        kind = draw(st.sampled_from(["arith", "concat", "merge", "plain"]))
        if kind == "arith" and len(ints) >= 1:
            op = draw(st.sampled_from(["+", "-", "*"]))
            template[key] = f"(( {draw(st.sampled_from(ints))} {op} {draw(st.sampled_from(ints))} ))"
        elif kind == "concat" and texts:
            template[key] = f'(( {draw(st.sampled_from(texts))} "-" {draw(st.sampled_from(ints or texts))} ))'
        elif kind == "merge":
            template[key] = f"(( merge || {draw(st.integers(0, 9))} ))"
        else:
            template[key] = draw(TEXTS)
    stubs = draw(
        st.lists(
            st.dictionaries(st.sampled_from([*KEYS, "extra"]), st.one_of(INTS, TEXTS), max_size=4),
            max_size=3,
        )
    )
    return template, stubs


def text_of(value: Any) -> str:
    return ("true" if value else "false") if type(value) is bool else str(value)


def expected_merge(template: dict[str, Any], stubs: list[dict[str, Any]]) -> dict[str, Any]:
    """The merge computed independently: stub values win (rightmost first), then expressions."""

    def stub_value(key: str) -> tuple[bool, Any]:
        for stub in reversed(stubs):
            if key in stub:
                return True, stub[key]
        return False, None

    result: dict[str, Any] = {}
    for key, value in template.items():
        found, override = stub_value(key)
        if found:
            result[key] = override
        elif not (type(value) is str and value.startswith("((")):
            result[key] = value
    for key, value in template.items():
        if key in result:
            continue
        words = value[3:-3].split(" ")
        if words[0] == "merge":
            result[key] = int(words[-1])
        elif words[1] in "+-*":
            left, right = result[words[0]], result[words[2]]
            if type(left) is not int or type(right) is not int:
                result[key] = SpiffError
            else:
                exact = {"+": left + right, "-": left - right, "*": left * right}[words[1]]
                result[key] = int64(exact)
        else:
            left, right = result[words[0]], result[words[2]]
            simple = (str, int, bool)
            result[key] = (
                text_of(left) + "-" + text_of(right)
                if type(left) in simple and type(right) in simple
                else SpiffError
            )
    return result


def typed(data: Any) -> Any:
    """Data with types made explicit, so that 1 and True and 1.0 compare different."""
    if type(data) is dict:
        return {key: typed(value) for key, value in data.items()}
    if type(data) is list:
        return [typed(value) for value in data]
    return (type(data).__name__, data)


_YAML12 = YAML(typ="safe", pure=True)


@SETTINGS
@given(documents())
def test_merge_matches_the_reference_evaluator(doc: tuple[dict[str, Any], list[dict[str, Any]]]) -> None:
    template, stubs = doc
    expected = expected_merge(template, stubs)
    if SpiffError in expected.values():
        try:
            merge(template, *stubs)
        except SpiffError:
            return
        raise AssertionError("expected a SpiffError")
    assert typed(merge(template, *stubs)) == typed(expected)


@SETTINGS
@given(documents())
def test_output_reads_back_with_the_same_types_and_remerges_unchanged(
    doc: tuple[dict[str, Any], list[dict[str, Any]]],
) -> None:
    template, stubs = doc
    try:
        result = merge(template, *stubs)
    except SpiffError:
        return
    merged = tree.wrap(result, "result")
    text = yamlio.dump_tree(merged)
    assert text == yamlio.dump(result)
    assert typed(yaml.load(text, Loader=yaml.SafeLoader)) == typed(result)  # YAML 1.1
    assert typed(_YAML12.load(io.StringIO(text))) == typed(result)  # YAML 1.2
    reread = tree.unwrap(yamlio.load_tree(text, "output.yml"))  # spiff's own reader
    assert typed(reread) == typed(result)
    assert typed(merge(reread)) == typed(result)  # idempotent as a template
    assert typed(merge(template, *stubs, result)) == typed(result)  # the output as the last stub


EXPRESSION_PIECES = st.sampled_from(
    [
        *("a", "b.c", ".a", "l.[0]", "l.[9]", "m.x", "nil", "~", "true", "auto", "merge", "merge replace"),
        *("1", "-1", "9223372036854775807", '"s"', '"10.0.0.1"', "[]", "[1, a]", "(", ")", "[", "]"),
        *(" + ", " - ", " * ", " / ", " % ", " || ", " ", ",", "+", "-", "join(", "static_ips(", "min_ip("),
        *("map[", "|x|->", "x", '"10.0.0.0/24"', "1.5", "prefer ", "exec(", "_", ":", "auto_x", "name:a"),
    ]
)


@settings(max_examples=300, deadline=None, database=None)
@given(st.lists(EXPRESSION_PIECES, min_size=1, max_size=8))
def test_any_expression_merges_or_raises_a_spiff_error(pieces: list[str]) -> None:
    expression = "".join(pieces)
    template = {
        "a": 1,
        "b": {"c": "x"},
        "l": [1, 2],
        "m": {"x": 2.5},
        "resource_pools": [{"name": "p", "size": "(( auto ))"}],
        "jobs": [{"name": "j", "resource_pool": "p", "instances": 1, "v": f"(( {expression} ))"}],
    }
    with contextlib.suppress(SpiffError):
        merge(template, {"a": 2, "jobs": [{"name": "j", "v": 3}]}, allow_exec=False)
