"""Evaluation and merge semantics, through the public :func:`merge` on small documents."""

from __future__ import annotations

from typing import Any

import pytest

from boshpipe.spiff import UnresolvedError, load, merge


def m(template: str, *stubs: str, **options: Any) -> Any:
    return merge(
        load(template, "template.yml"), *(load(s, f"stub{i}.yml") for i, s in enumerate(stubs, 1)), **options
    )


def test_arithmetic_and_ip_arithmetic() -> None:
    assert m("a: (( 7 / 2 ))\nb: (( -7 % 3 ))\nc: (( 2 * 3 + 1 ))") == {"a": 3, "b": -1, "c": 7}
    assert m('a: (( "10.0.0.255" + 1 ))\nb: (( "10.0.1.0" - 1 ))') == {"a": "10.0.1.0", "b": "10.0.0.255"}


def test_concatenation_of_strings_numbers_and_lists() -> None:
    doc = m('x: 3\na: (( "n" x ))\nb: (( 4 2 ))\nc: (( [1] 2 [3] ))')
    assert doc["a"] == "n3" and doc["b"] == "42" and doc["c"] == [1, 2, 3]


def test_or_falls_back_only_on_failure() -> None:
    assert m("a: (( missing || 2 ))") == {"a": 2}
    assert m("a: (( nil || 2 ))") == {"a": None}


def test_references_are_scoped_innermost_first_and_root_anchored() -> None:
    doc = m("x: outer\nin:\n  x: inner\n  a: (( x ))\n  b: (( .x ))")
    assert doc["in"] == {"x": "inner", "a": "inner", "b": "outer"}


def test_list_entries_by_name_and_index() -> None:
    doc = m("l:\n- name: a\n  v: 1\n- name: b\n  v: 2\nx: (( l.b.v ))\nz: (( l.[0].v ))")
    assert (doc["x"], doc["z"]) == (2, 1)


def test_rightmost_stub_wins_and_stub_only_keys_are_dropped() -> None:
    doc = m("a: (( merge ))\nb: 1", "a: one\nb: 2\nc: 3", "a: two")
    assert doc == {"a": "two", "b": 2}


def test_stubs_are_resolved_right_to_left_before_the_template() -> None:
    doc = m(
        "p:\n  domain: (( merge ))\n  api: (( merge ))",
        'p:\n  domain: (( merge ))\n  api: (( "api." domain ))',
        "p:\n  domain: x.io",
    )
    assert doc == {"p": {"domain": "x.io", "api": "api.x.io"}}


def test_splice_merge_of_maps_and_lists() -> None:
    doc = m("m:\n  <<: (( merge ))\n  b: 3\nl:\n- 0\n- <<: (( merge ))\n- 9", "m:\n  a: 1\n  b: 2\nl: [1, 2]")
    assert doc == {"m": {"a": 1, "b": 2}, "l": [0, 1, 2, 9]}


def test_merge_replace_and_on_key() -> None:
    doc = m("m:\n  <<: (( merge replace ))\n  b: 3", "m:\n  a: 1")
    assert doc == {"m": {"a": 1}}
    doc = m("l:\n- <<: (( merge on id ))\n- id: a\n  v: 1", "l:\n- id: a\n  v: 2\n- id: b\n  v: 3")
    assert doc == {"l": [{"id": "b", "v": 3}, {"id": "a", "v": 2}]}


def test_static_ips_and_auto() -> None:
    doc = m(
        "networks:\n- name: net\n  subnets:\n  - static: [10.0.0.5 - 10.0.0.9]\n"
        "resource_pools:\n- name: p\n  size: (( auto ))\n"
        "jobs:\n- name: j\n  resource_pool: p\n  instances: 2\n  networks:\n  - name: net\n"
        "    static_ips: (( static_ips(1, 3, 4) ))\n"
    )
    assert doc["jobs"][0]["networks"][0]["static_ips"] == ["10.0.0.6", "10.0.0.8"]
    assert doc["resource_pools"][0]["size"] == 2


def test_join_map_and_cidr_functions() -> None:
    doc = m(
        'l: [a, b]\nj: (( join("-", l, 1) ))\nmp: (( map[l|x|->x "!"] ))\nlo: (( min_ip("10.1.2.3/24") ))'
    )
    assert (doc["j"], doc["mp"], doc["lo"]) == ("a-b-1", ["a!", "b!"], "10.1.2.0")


def test_exec_is_off_unless_enabled(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("BOSHPIPE_SPIFF_EXEC", raising=False)
    with pytest.raises(UnresolvedError, match="exec is disabled"):
        m('a: (( exec("echo", "hi") ))')
    assert m('a: (( exec("echo", "hi") ))', allow_exec=True) == {"a": "hi"}
    assert m('a: (( exec("echo", "42") ))', allow_exec=True) == {"a": 42}
    monkeypatch.setenv("BOSHPIPE_SPIFF_EXEC", "1")
    assert m('a: (( exec("echo", "ok") ))') == {"a": "ok"}


def test_yaml11_quirks() -> None:
    assert load("a: y\nb: off\nc: 1e3\nd: '<<'\n<<: (( merge ))\n", "t") == {
        "a": True,
        "b": False,
        "c": 1000.0,
        "d": "<<",
        "<<": "(( merge ))",
    }
    # candiedyaml knows no merge keys: ``<<`` stays a key, and spiff's merge splices its map
    assert load("base: &b {x: 1}\ncopy:\n  <<: *b\n  z: 2\n", "t")["copy"] == {"<<": {"x": 1}, "z": 2}
    assert m("base: &b {x: 1}\ncopy:\n  <<: *b\n  z: 2\n")["copy"] == {"x": 1, "z": 2}
    assert m("a: 1e3") == {"a": 1000} and isinstance(m("a: 1e3")["a"], int)


def test_long_reference_chains_do_not_recurse() -> None:
    lines = ["v0: 1"] + [f"v{i}: (( v{i - 1} ))" for i in range(1, 300)]
    assert m("\n".join(lines))["v299"] == 1
