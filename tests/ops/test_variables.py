"""Variables: placeholders, sources and their precedence, the variables section, --var-errs."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from boshpipe.ops import Inputs, evaluate, render
from boshpipe.ops.errors import InputError, OpsError, VariableError
from boshpipe.ops.sources import parse_var, read_var_file, read_vars_env, read_vars_file
from boshpipe.ops.variables import StaticVariables, placeholders
from boshpipe.ops.yamlio import load


def run(manifest: str, **kwargs: Any) -> Any:
    return evaluate(Inputs(manifest=load(manifest), **kwargs))[0]


def test_placeholder_forms() -> None:
    assert placeholders("((a)) ((!b)) ((c.d.0)) ((/dir/e)) (( f )) ((  g  )) ((h i))") == [
        ("a", "((a))"),
        ("b", "((!b))"),
        ("c.d.0", "((c.d.0))"),
        ("/dir/e", "((/dir/e))"),
        ("f", "(( f ))"),
    ]
    assert placeholders("((ключ)) ((x²))") == [("ключ", "((ключ))")]


def test_whole_node_keeps_type_and_strings_interpolate() -> None:
    out = run(
        "a: ((m))\nb: x-((s))-((i))\n((k)): 1\nc: [((!s))]\n",
        vars={"m": {"x": [1]}, "s": "str", "i": 7, "k": "key"},
    )
    assert out == {"a": {"x": [1]}, "b": "x-str-7", "key": 1, "c": ["str"]}


def test_missing_left_as_is_and_not_recursive() -> None:
    assert run("a: ((x))\nb: ((y))\n", vars={"x": "((y))"}) == {"a": "((y))", "b": "((y))"}


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (1.5, "Invalid type 'float64' for value '1.5' and variable 'x'."),
        (True, "Invalid type 'bool' for value 'true' and variable 'x'."),
        ({"k": "v"}, "Invalid type 'map[interface {}]interface {}' for value 'map[k:v]' and variable 'x'."),
        (None, "Invalid type '<nil>' for value '<nil>' and variable 'x'."),
    ],
)
def test_only_strings_and_ints_inside_strings(value: Any, message: str) -> None:
    with pytest.raises(VariableError) as err:
        run("a: pre-((x))\n", vars={"x": value})
    assert str(err.value).startswith(message)


def test_dotted_lookup_into_maps_and_lists() -> None:
    creds = {"creds": {"list": ["a", "b"], "m": {"k": "v"}}}
    assert run("a: ((creds.list.1))\nb: ((creds.m.k))\n", vars=creds) == {"a": "b", "b": "v"}
    with pytest.raises(OpsError, match=r"Finding variable 'creds.list.5': Expected to find a map"):
        run("a: ((creds.list.5))\n", vars=creds)


def test_dotted_names_given_as_flags_nest() -> None:
    assert StaticVariables({"a.b": 1, "a.c": 2}).processed() == {"a": {"b": 1, "c": 2}}
    assert run("x: ((a.b))\n", vars={"a.b": 1}) == {"x": 1}


def test_precedence_is_fixed() -> None:
    manifest = "a: ((a))\n"
    inputs = {
        "vars_envs": [{"a": "env"}],
        "vars_files": [{"a": "file1"}, {"a": "file2"}],
        "var_files": {"a": "var-file"},
        "vars": {"a": "v"},
    }
    assert run(manifest, **inputs) == {"a": "v"}
    del inputs["vars"]
    assert run(manifest, **inputs) == {"a": "var-file"}
    del inputs["var_files"]
    assert run(manifest, **inputs) == {"a": "file2"}
    del inputs["vars_files"]
    assert run(manifest, **inputs) == {"a": "env"}


def test_found_definitions_leave_the_section() -> None:
    out = run(
        "a: ((pw))\nvariables:\n- name: pw\n  type: password\n- name: other\n  options: {ip: ((ip))}\n",
        vars={"pw": "given", "ip": "10.0.0.1"},
    )
    assert out == {"a": "given", "variables": [{"name": "other", "options": {"ip": "10.0.0.1"}}]}


def test_var_errs_lists_missing_names_sorted() -> None:
    with pytest.raises(VariableError) as err:
        run("a: ((zeta))\nb: ((alpha.x))\n", var_errs=True)
    # the CLI's text (printed as it is by the ops CLI); str() is the project's one-line form
    assert err.value.message == "- Expected to find variables:\n    - alpha\n    - zeta"
    assert "\n" not in str(err.value)


def test_var_errs_unused_lists_unused_names() -> None:
    with pytest.raises(VariableError) as err:
        run("a: ((a))\n", vars={"a": 1, "b": 2}, var_errs_unused=True)
    assert err.value.message == "- Expected to use variables:\n    - b"
    assert "\n" not in str(err.value)


def test_recursion_in_definitions() -> None:
    manifest = (
        "variables:\n- name: a\n  type: password\n  options: {x: ((b))}\n"
        "- name: b\n  type: password\n  options: {x: ((a))}\n"
    )
    with pytest.raises(VariableError, match="Detected recursion"):
        run(manifest, vars_store="/nonexistent/never-written.yml")


def test_definitions_must_be_a_list() -> None:
    with pytest.raises(OpsError, match=r"cannot unmarshal !!map into \[\]template.VariableDefinition"):
        run("variables:\n  a: 1\n")


@pytest.mark.parametrize(
    ("flag", "value"),
    [
        ("x=1", 1),
        ("x=0777", 511),
        ("x=yes", True),
        ("x=k: v", {"k": "v"}),
        ("x=a=b", "a=b"),
        ('x="123"', "123"),
        ("x='it''s'", "it''s"),
        ("x=[", "["),
    ],
)
def test_v_values_are_yaml(flag: str, value: Any) -> None:
    assert parse_var(flag) == ("x", value)


@pytest.mark.parametrize(
    ("flag", "message"),
    [
        ("x", "Expected var 'x' to be in format 'name=value'"),
        ("x=", "Expected var 'x=' to specify non-empty value"),
        ("=1", "Expected var '=1' to specify non-empty name"),
    ],
)
def test_v_errors(flag: str, message: str) -> None:
    with pytest.raises(InputError) as err:
        parse_var(flag)
    assert str(err.value).endswith(message)
    assert str(err.value).startswith("invalid argument for flag `-v, --var'")


def test_var_file_is_raw_text(tmp_path: Path) -> None:
    (tmp_path / "n.txt").write_text("0777\n")
    assert read_var_file(f"n={tmp_path / 'n.txt'}") == ("n", "0777\n")
    with pytest.raises(InputError, match=r"Reading variable from file .*no such file or directory"):
        read_var_file(f"n={tmp_path / 'nope.txt'}")


def test_vars_file_must_be_a_map(tmp_path: Path) -> None:
    (tmp_path / "v.yml").write_text("a: 1\nb: [x]\n")
    assert read_vars_file(str(tmp_path / "v.yml")) == {"a": 1, "b": ["x"]}
    (tmp_path / "bad.yml").write_text("- a\n")
    with pytest.raises(InputError, match=r"Deserializing variables file .*cannot unmarshal !!seq into template"):
        read_vars_file(str(tmp_path / "bad.yml"))


def test_vars_env_reads_prefixed_yaml() -> None:
    env = {"P_a": "1", "P_b": "x", "Q_c": "2", "Pa": "3"}
    assert read_vars_env("P", env) == {"a": 1, "b": "x"}
    with pytest.raises(InputError, match="Deserializing YAML from environment variable 'P_bad'"):
        read_vars_env("P", {"P_bad": "a: b: c"})


def test_path_prints_a_string_bare() -> None:
    inputs = Inputs(manifest=load("a: {b: 'yes'}\n"))
    from boshpipe.ops.pointer import parse

    inputs.path = parse("/a/b")
    doc, _ = evaluate(inputs)
    assert render(doc, True) == "yes\n"
