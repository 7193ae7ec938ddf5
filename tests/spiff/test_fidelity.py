"""Semantics a differential run against the real spiff pinned down (issue 16), one class per section.

Each test failed on the engine before the fix: either it produced a value where spiff fails, or a
different value where spiff succeeds. Where spiff itself is wrong (crashes, hangs, prints an IPv6
address), the test pins the engine's documented behaviour instead (docs/architecture.md).
"""

from __future__ import annotations

from typing import Any

import pytest

from boshpipe.spiff import SpiffError, load, merge


def m(template: str, *stubs: str) -> Any:
    return merge(load(template, "template.yml"), *(load(s, f"stub{i}.yml") for i, s in enumerate(stubs, 1)))


def fails(template: str, *stubs: str, match: str | None = None) -> None:
    with pytest.raises(SpiffError, match=match):
        m(template, *stubs)


# -- 1. auto ------------------------------------------------------------------------------------
AUTO_TEMPLATE = """
resource_pools:
- name: small
  size: (( auto ))
jobs:
- name: a
  resource_pool: small
  instances: 1
- <<: (( merge ))
"""


def test_auto_sums_the_instances_of_jobs_merged_from_a_stub() -> None:
    stub = "jobs:\n- name: b\n  resource_pool: small\n  instances: 3\n- name: c\n  resource_pool: other\n  instances: 5"
    assert m(AUTO_TEMPLATE, stub)["resource_pools"] == [{"name": "small", "size": 4}]


def test_auto_counts_instances_overridden_by_a_stub() -> None:
    template = "resource_pools:\n- name: p\n  size: (( auto ))\njobs:\n- name: a\n  resource_pool: p\n  instances: 1"
    assert m(template, "jobs:\n- name: a\n  instances: 7")["resource_pools"][0]["size"] == 7


def test_auto_fails_when_a_job_in_the_pool_has_no_instances() -> None:
    fails(AUTO_TEMPLATE, "jobs:\n- name: b\n  resource_pool: small", match="no integer instances")


def test_auto_ignores_jobs_of_other_pools_without_instances() -> None:
    assert m(AUTO_TEMPLATE, "jobs:\n- name: b\n  resource_pool: other")["resource_pools"][0]["size"] == 1


# -- 2. static_ips ------------------------------------------------------------------------------
def static_template(instances: int, call: str) -> str:
    return (
        "networks:\n- name: net1\n  subnets:\n  - static: [10.0.0.10 - 10.0.0.14]\n"
        f"jobs:\n- name: j\n  instances: {instances}\n  networks:\n  - name: net1\n    static_ips: (( {call} ))\n"
    )


def test_static_ips_refuses_more_instances_than_indices() -> None:
    fails(static_template(3, "static_ips(0, 1)"), match="2 indices for 3 instances")


def test_static_ips_refuses_an_index_outside_the_pool_even_past_the_instance_count() -> None:
    fails(static_template(1, "static_ips(0, 5)"), match="outside")


def test_static_ips_returns_the_first_instances_addresses() -> None:
    job = m(static_template(2, "static_ips(4, 0, 1)"))["jobs"][0]
    assert job["networks"][0]["static_ips"] == ["10.0.0.14", "10.0.0.10"]


def test_static_ips_without_arguments_does_not_parse() -> None:
    fails(static_template(1, "static_ips()"), match="unparseable")


def test_static_ips_negative_index_and_backwards_range_are_errors_not_crashes() -> None:
    fails(static_template(1, "static_ips(-1)"), match="negative")
    backwards = static_template(1, "static_ips(0)").replace("10.0.0.10 - 10.0.0.14", "10.0.0.14 - 10.0.0.10")
    fails(backwards, match="invalid static IP range")


def test_static_ips_needs_a_static_list_in_every_subnet() -> None:
    template = static_template(1, "static_ips(0)").replace(
        "  - static: [10.0.0.10 - 10.0.0.14]\n", "  - static: [10.0.0.10 - 10.0.0.14]\n  - range: 10.0.1.0/24\n"
    )
    fails(template, match="no static ips")


# -- 5. types -----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "expression",
    [
        '"a" f',
        "f 1",
        'join(",", f)',
        'join(",", [1, f])',
        '"10.0.0.9" - "10.0.0.1"',
        'nil "a"',
        "nil [1]",
        "join(nil, 1, 2)",
        "nil + 2",  # nil counts as 0 only where an integer is required (addition.go)
    ],
)
def test_type_errors_spiff_raises(expression: str) -> None:
    fails(f"f: 1.5\na: (( {expression} ))")  # f is a float


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("3 - nil", 3),
        ("nil * 5", 0),
        ('"10.0.0.1" + nil', "10.0.0.1"),
        ('join(1, "a", "b")', "a1b"),
        ('join(true, "a", "b")', "atrueb"),
        ("9223372036854775807 + 1", -9223372036854775808),
        ("4611686018427387904 * 4", 0),
        ("-9223372036854775807 - 2", 9223372036854775807),
        ('"10.0.1.0" - 1', "10.0.0.255"),
        ('"10.1.0.0" - 1', "10.0.255.255"),
    ],
)
def test_values_spiff_computes(expression: str, expected: Any) -> None:
    assert m(f"a: (( {expression} ))") == {"a": expected}


def test_ipv4_overflow_is_an_error_not_an_ipv6_address() -> None:
    fails('a: (( "255.255.255.255" + 1 ))', match="outside the IPv4")
    fails('a: (( "0.0.0.0" - 1 ))', match="outside the IPv4")


def test_integer_literal_beyond_int64_is_an_error_not_a_crash() -> None:
    fails("a: (( 9223372036854775808 ))")


# -- 7. parser edge cases -----------------------------------------------------------------------
@pytest.mark.parametrize(
    "expression",
    [
        "[ ]",
        "auto_update",
        "automatic",
        "nil_value",
        "true.x",
        "merge_x",
        "falsey",
        "_x",
        "1+2",
        "1 +2",
        "a ||b",
        "a|| b",
        "7-1",
        "join()",
        "static_ips()",
        "a. b",
        "1_000",
        "99999999999999999999",
    ],
)
def test_expressions_spiff_does_not_parse(expression: str) -> None:
    fails(f"auto_update: 1\nautomatic: 1\nnil_value: 1\n_x: 1\na: 1\nb: 2\nv: (( {expression} ))", match="unparseable")


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("[]", []),
        ("[ 1 ]", [1]),
        (".auto_update", 5),
        ("x.auto_update", 6),
        ("a- 1", "a-1"),
        ("7 -1", "7-1"),
        ("true(1) || 3", 3),
    ],
)
def test_expressions_spiff_parses(expression: str, expected: Any) -> None:
    template = f"auto_update: 5\nx:\n  auto_update: 6\na-: a-\nv: (( {expression} ))"
    assert m(template)["v"] == expected


def test_merge_forms_follow_spiffs_grammar() -> None:
    # ``merge replace required``: a redirect to the key ``required``
    assert m("v: (( merge replace required ))", "required: 1\nv: 2")["v"] == 1
    # ``merge on key``: no reference follows, so it is the plain merge keyed by ``key``
    spliced = m("l:\n- <<: (( merge on id ))\n- id: x\n  v: 1", "l:\n- id: p\n  v: 2")["l"]
    assert spliced == [{"id": "p", "v": 2}, {"id": "x", "v": 1}]


def test_exec_output_that_is_a_yaml_list_becomes_a_list(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BOSHPIPE_SPIFF_EXEC", "1")
    doc = m('l: (( exec("printf", "- a\\n- 2\\n") ))\nnum: (( exec("echo", "42") ))\nt: (( exec("echo", "a b") ))')
    assert doc == {"l": ["a", 2], "num": 42, "t": "a b"}


# -- 6. merge details ---------------------------------------------------------------------------
def test_redirected_merge_with_no_stub_falls_back_to_the_stub_value_at_its_own_path() -> None:
    assert m("a: (( merge foo ))", "a: 7") == {"a": 7}
    assert m("a:\n  b: (( merge foo.bar ))", "a:\n  b: 7") == {"a": {"b": 7}}
    assert m("a: (( merge foo ))", "foo: 3\na: 7") == {"a": 3}  # the redirect still wins when found


def test_self_reference_overridden_by_a_stub_takes_the_stub_value() -> None:
    assert m("a: (( a || 4 ))", "a: 9") == {"a": 9}
    # only ``||`` gives way to the stub (its left side not resolved counts as a failure in
    # spiff); a plain reference cycle stays one: see test_audit_flow.py


def test_self_reference_without_a_stub_is_still_a_cycle() -> None:
    fails("a: (( a || 4 ))", match="cycle")
