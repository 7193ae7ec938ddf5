"""The merge algorithm against the reference spiff's Go sources (flow.go, node.go, find.go, ...).

Each test below failed on the engine before the change it pins; the spiff behaviour is worked
out from the Go source (named in the test) and, where it exists, from the conformance corpus.
:mod:`spiff_model` is a slow, literal model of that source; the last test merges generated
templates and stubs with both and compares.
"""

from __future__ import annotations

import os
import random
import tempfile
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.configuration import set_hypothesis_home_dir

from boshpipe.spiff import SpiffError, load, merge, read
from tests.spiff import spiff_model

set_hypothesis_home_dir(os.path.join(tempfile.gettempdir(), "boshpipe-hypothesis"))


def m(template: str, *stubs: str) -> Any:
    return merge(load(template, "template.yml"), *(load(s, f"stub{i}.yml") for i, s in enumerate(stubs, 1)))


def model(template: str, *stubs: str) -> Any:
    return spiff_model.cascade(load(template, "template.yml"), *(load(s, "stub.yml") for s in stubs))


def both(template: str, *stubs: str) -> Any:
    """The engine's result, checked against the model of spiff's Go code first."""
    result = m(template, *stubs)
    assert result == model(template, *stubs)
    return result


# -- replaced nodes are merged nodes (node.go: Merged() is merged || replace || redirect) --------
def test_map_merge_replace_with_a_scalar_or_list_stub_value_leaves_an_empty_map() -> None:
    # flowMap: the base is no map, nothing is copied, replace ends the map; a replaced node is
    # never looked up in the stubs again, so the scalar does not come back on a later pass
    assert both("a:\n  <<: (( merge replace ))", "a: 5") == {"a": {}}
    assert both("a:\n  <<: (( merge replace ))", "a: [1, 2]") == {"a": {}}
    # in a list the entry is dropped (a spliced value that is no list is ignored)
    assert both("a:\n- <<: (( merge replace ))", "a: 5") == {"a": []}


def test_map_merge_replace_keeps_the_keys_that_sort_before_the_splice() -> None:
    # keys are flowed in sorted order: "0a" and "-x" come before "<<" and stay in the new map
    doc = both("a:\n  0a: 1\n  -x: 2\n  <<: (( merge replace ))\n  z: 3", "a:\n  x: 1")
    assert doc == {"a": {"0a": 1, "-x": 2, "x": 1}}
    # at the root too
    assert both("0a: 1\n<<: (( merge replace ))\nz: 2", "x: 1") == {"0a": 1, "x": 1}


def test_list_merge_replace_is_not_overridden_by_the_stub_list_afterwards() -> None:
    # processMerges: replace keeps only the spliced entries that are new to the template list
    # (newEntries), and the replaced list is final
    template = "l:\n- <<: (( merge replace ))\n- name: x\n  v: 0"
    assert both(template, "l:\n- name: x\n  v: 1\n- name: w") == {"l": [{"name": "w"}]}


def test_a_redirected_merge_replace_result_is_final() -> None:
    # the redirect makes the node a merged one too: the map is not replaced by the stub's map at
    # the redirected path on the next pass (which would drop "0a")
    template = "a:\n  0a: 1\n  <<: (( merge replace b ))\n"
    stubs = ("b:\n  x: 1\n  p: (( .c ))\nc: 2", "a:\n  x: 9")
    assert both(template, *stubs) == {"a": {"0a": 1, "x": 1, "p": 2}}


# -- list entries: names, indexes, key tags (flow.go stepName, find.go) -------------------------
def test_a_list_entry_with_its_own_pending_merge_is_addressed_by_index() -> None:
    # stepName uses FindString, which does not look into a map with a pending "<<": the entry is
    # "[0]" until its merge is done, so its merge and fields are looked up as l.[0] in the stub
    template = "l:\n- name: b\n  <<: (( merge ))\n  v: 1"
    stub = "l:\n- name: a\n  v: 2\n  w: 3\n- name: b\n  v: 4\n  w: 5"
    assert both(template, stub) == {"l": [{"name": "a", "v": 2, "w": 3}]}


def test_a_reference_by_name_skips_entries_whose_merge_is_pending() -> None:
    # stepThroughList looks names up without stepping into maps with a pending "<<"
    template = "l:\n- name: x\n  <<: (( merge ))\n  v: 1\n- name: x\n  v: 2\nr: (( l.x.v ))"
    assert both(template) == {"l": [{"name": "x", "v": 1}, {"name": "x", "v": 2}], "r": 2}


def test_list_indexes_are_ascii_digits_and_anything_else_is_a_name() -> None:
    # find.go: a step is an index only when it matches ^\[(\d+)\]$; newEntries looks the
    # spliced entries' names up as steps, so "[-1]" is a name (already in the list: not added)
    template = 'l:\n- name: "[-1]"\n  v: 1\n- <<: (( merge ))'
    assert both(template, 'l:\n- name: "[-1]"\n  v: 2') == {"l": [{"name": "[-1]", "v": 2}]}
    # and "[0]" is an index: a spliced entry named "[0]" counts as present when the list has one
    assert both(template, 'l:\n- name: "[0]"\n  v: 3') == {"l": [{"name": "[-1]", "v": 1}]}


def test_a_key_field_named_like_a_cached_fact_does_not_crash() -> None:
    # "resolved" and "local" are key names like any other
    assert both("l:\n- key:resolved: a\n  v: (( r ))\nr: 2\nq: (( l.a.v ))")["q"] == 2
    assert both("l:\n- key:local: a\n  v: 1\nr: (( l.a.v ))")["r"] == 1


def test_a_bare_key_tag_renames_the_key_to_the_empty_string() -> None:
    # ProcessKeyTag: "key:" is a tag with an empty field name; the list keeps "name" as its key
    assert both("l:\n- key:: a\n  name: x", "l:\n- name: x\n  v: 1") == {"l": [{"": "a", "name": "x"}]}


def test_spliced_stub_lists_are_flowed_again_against_the_stubs() -> None:
    # the spliced entries are flowed in the template's merge: two entries with one name both take
    # the first one's values from the stub (a stub lookup finds the first match)
    stub = "l:\n- {name: a, v: 1}\n- {name: a, v: 2}"
    assert both("<<: (( merge ))", stub) == {"l": [{"name": "a", "v": 1}, {"name": "a", "v": 1}]}
    assert both("<<: (( merge ))", stub, "x: 1") == {"l": [{"name": "a", "v": 1}, {"name": "a", "v": 1}]}


# -- references and || (reference.go, or.go) ----------------------------------------------------
def test_a_plain_reference_cycle_is_not_broken_by_a_stub() -> None:
    # a reference to an unresolved node evaluates to itself: no failure, so no stub lookup
    with pytest.raises(SpiffError, match="cycle"):
        m("a: (( b ))\nb: (( a ))", "a: 1")
    with pytest.raises(SpiffError, match="cycle"):
        m("a: (( a ))", "a: 1")
    with pytest.raises(spiff_model.ModelError):
        model("a: (( b ))\nb: (( a ))", "a: 1")


def test_or_with_an_unresolved_left_side_gives_way_to_a_stub_at_once() -> None:
    # or.go: the left side evaluating to itself is a failure, and a failed node takes the stub value
    # (kept from issue 16, now without a last pass that let any waiting expression take it)
    assert both("a: (( a || 4 ))", "a: 9") == {"a": 9}
    assert both("a: (( b || 4 ))\nb: (( c ))\nc: 1", "a: 9") == {"a": 9, "b": 1, "c": 1}


def test_or_keeps_the_on_key_of_a_failed_merge() -> None:
    # EvaluationInfo.Join: the right side's value carries the left side's key name
    assert both("lst:\n- id: a\n  v: 1\nl: (( merge on id || lst ))\nr: (( l.a.v ))")["r"] == 1


def test_a_root_reference_waits_for_the_root_merge() -> None:
    # FindFromRoot starts at the document, which is not resolved while its "<<" is pending: a
    # root "<<" that refers to the root itself never resolves
    with pytest.raises(SpiffError):
        m("a: true\n<<: (( .a ))", "a: 1")
    with pytest.raises(spiff_model.ModelError):
        model("a: true\n<<: (( .a ))", "a: 1")


def test_a_merge_that_nests_deeper_on_every_pass_is_an_error() -> None:
    # stub2's (( merge a )) at a.b is the node a of stub3, redirected to a; overriding stub1's a.b
    # with it, each pass finds it again one level further down. spiff never finishes (the model
    # grows without end); the engine stops with an error instead of a RecursionError
    docs = ({"a": {"b": "s"}}, {"a": {"b": "(( merge a ))"}}, {"a": {"b": "x"}})
    with pytest.raises(SpiffError, match=r"^template: merge does not settle"):
        merge(*docs)
    with pytest.raises(spiff_model.ModelError):
        spiff_model.cascade(*docs)
    # the same in a stub's own merge (with the stubs after it): the error names the stub
    with pytest.raises(SpiffError, match=r"^stub1: merge does not settle"):
        merge({"x": 1}, *docs)


# -- the model agrees with the corpus, and the engine with the model -----------------------------
@pytest.mark.shared
def test_the_model_reproduces_the_corpus_cases_it_covers(spiff_corpus: Path) -> None:
    """Every corpus case whose expressions the model covers gives spiff's recorded result."""
    root = spiff_corpus
    checked = 0
    for case in sorted(root.iterdir()):
        stubs = sorted(case.glob("stub*.yml"), key=lambda p: int(p.stem[4:]))
        try:
            docs = [read(p) for p in [case / "template.yml", *stubs]]
            for doc in docs:
                spiff_model.check_expressions(doc)
        except (SpiffError, ValueError):
            continue
        expected = case / "expected.yml"
        if expected.exists():
            assert spiff_model.cascade(*docs) == read(expected), case.name
        else:
            with pytest.raises(spiff_model.ModelError):
                spiff_model.cascade(*docs)
        checked += 1
    assert checked > 100


KEYS = ["a", "b", "l", "0a", "-x", "name", "id", "v"]
NAMES = ["x", "z", "w"]
SCALARS: list[Any] = [0, 1, 2, "s", None, True, "x"]
EXPRESSIONS = [
    *("merge", "merge replace", "merge required", "merge on id", "merge a", "merge replace a"),
    *("merge || nil", "merge || 1", "merge replace || nil", "merge on id || nil", "merge a || nil"),
    *("prefer 1", "1", '"s"', "nil"),
]


def _value(r: random.Random, depth: int, chance: float) -> Any:
    pick = r.random()
    if depth <= 0 or pick < 0.35:
        return "((" if r.random() < chance else r.choice(SCALARS)
    if pick < 0.7:
        return _map(r, depth - 1, chance)
    return _list(r, depth - 1, chance)


def _map(r: random.Random, depth: int, chance: float) -> dict[str, Any]:
    result = {key: _value(r, depth, chance) for key in r.sample(KEYS, r.randint(0, 4))}
    if r.random() < chance:
        result["<<"] = "(("
    return result


def _list(r: random.Random, depth: int, chance: float) -> list[Any]:
    result: list[Any] = []
    for _ in range(r.randint(0, 3)):
        pick = r.random()
        if pick < 0.15 and chance:
            result.append({"<<": "(("})
        elif pick < 0.7:
            key = "key:id" if r.random() < 0.1 else r.choice(["name", "name", "id"])
            entry: dict[str, Any] = {key: r.choice(NAMES)}
            entry.update({field: _value(r, depth, chance) for field in r.sample(["v", "w", "l"], r.randint(0, 2))})
            if r.random() < chance * 0.3:
                entry["<<"] = "(("
            result.append(entry)
        else:
            result.append(_value(r, depth, chance))
    return result


def _like(r: random.Random, template: Any, chance: float) -> Any:
    """A stub shaped like the template: same keys and entry names, other values."""
    if type(template) is dict:
        stub = {key.replace("key:", ""): _like(r, value, chance) for key, value in template.items() if key != "<<"}
        stub = {key: value for key, value in stub.items() if r.random() < 0.65}
        if r.random() < 0.3:
            stub[r.choice(KEYS)] = _value(r, 1, chance)
        return stub
    if type(template) is list:
        entries = [entry for entry in template if type(entry) is dict]
        names = [entry.get("name", entry.get("id")) for entry in entries] + NAMES
        stub_list: list[Any] = []
        for _ in range(r.randint(0, 3)):
            if r.random() < 0.8:
                entry = {r.choice(["name", "name", "id"]): r.choice(names)}
                model_entry = r.choice(entries or [{}])
                for key, value in model_entry.items():
                    if key not in ("name", "id", "<<", "key:id") and r.random() < 0.7:
                        entry[key] = _like(r, value, chance)
                stub_list.append(entry)
            else:
                stub_list.append(r.choice(SCALARS))
        return stub_list
    if r.random() < chance:
        return "(("
    return r.choice([*SCALARS, {"x": 1, "v": "s"}, [{"name": "x", "v": 2}]])


def _paths(doc: Any, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    found: list[tuple[str, ...]] = []
    if type(doc) is dict:
        for key, value in doc.items():
            if key != "<<" and not key.startswith("key:") and key[0].isalpha():
                found.append((*prefix, key))
                found.extend(_paths(value, (*prefix, key)))
    elif type(doc) is list:
        for index, entry in enumerate(doc):
            named = entry.get("name") if type(entry) is dict else None
            step = named if type(named) is str else f"[{index}]"
            found.append((*prefix, step))
            found.extend(_paths(entry, (*prefix, step)))
    return found


def _fill(r: random.Random, doc: Any, paths: list[tuple[str, ...]]) -> Any:
    """Turn the "((" placeholders into expressions: merges, literals, references to paths."""
    if type(doc) is dict:
        return {key: _fill(r, value, paths) for key, value in doc.items()}
    if type(doc) is list:
        return [_fill(r, value, paths) for value in doc]
    if doc != "((":
        return doc
    if paths and r.random() < 0.35:
        reference = ("." if r.random() < 0.5 else "") + ".".join(r.choice(paths))
        return f"(( {'prefer ' if r.random() < 0.2 else ''}{reference} ))"
    return f"(( {r.choice(EXPRESSIONS)} ))"


def generated(seed: int) -> tuple[dict[str, Any], list[Any]]:
    r = random.Random(seed)
    template = _map(r, 3, 0.4)
    template = _fill(r, template, _paths(template))
    stubs = [_like(r, template, r.choice([0.0, 0.1])) for _ in range(r.randint(1, 3))]
    return template, [_fill(r, stub, _paths(stub)) for stub in stubs]


def outcome(template: dict[str, Any], stubs: list[Any]) -> tuple[Any, Any]:
    try:
        engine: Any = merge(template, *stubs)
    except SpiffError:
        engine = "error"
    try:
        spiff: Any = spiff_model.cascade(template, *stubs)
    except spiff_model.ModelError:
        spiff = "error"
    return engine, spiff


@settings(max_examples=300, deadline=None, database=None)
@given(st.integers(0, 2**32 - 1))
def test_generated_merges_agree_with_the_model_of_spiff(seed: int) -> None:
    """Templates of maps, named lists, ``<<`` and list-entry merges, key tags, references and
    every merge form, with stubs shaped like them: the engine gives what spiff's code gives."""
    template, stubs = generated(seed)
    engine, spiff = outcome(template, stubs)
    assert engine == spiff, (template, stubs)
