"""Each go-patch operation, its path forms, and its messages."""

from __future__ import annotations

from typing import Any

import pytest

from boshpipe.ops.errors import PatchError
from boshpipe.ops.patch import Operation, apply_all, find, remove, replace, verify
from boshpipe.ops.pointer import parse


def doc() -> dict[str, Any]:
    return {
        "key": 1,
        "key2": {"nested": {"a": 1}, "other": 2},
        "array": [4, 5, 6],
        "items": [{"name": "item7"}, {"name": "item8", "count": 8}, "scalar"],
    }


@pytest.mark.parametrize(
    ("path", "value", "check"),
    [
        ("", {"x": 1}, lambda d: d == {"x": 1}),
        ("/key", 10, lambda d: d["key"] == 10),
        ("/new?", 3, lambda d: d["new"] == 3),
        ("/a?/b/c", 1, lambda d: d["a"] == {"b": {"c": 1}}),
        ("/l?/-", 1, lambda d: d["l"] == [1]),
        ("/l?/name=z/v", 1, lambda d: d["l"] == [{"name": "z", "v": 1}]),
        ("/array/0", 9, lambda d: d["array"] == [9, 5, 6]),
        ("/array/-1", 9, lambda d: d["array"] == [4, 5, 9]),
        ("/array/-", 7, lambda d: d["array"] == [4, 5, 6, 7]),
        ("/array/0:before", 3, lambda d: d["array"] == [3, 4, 5, 6]),
        ("/array/2:after", 7, lambda d: d["array"] == [4, 5, 6, 7]),
        ("/array/0:prev", 0, lambda d: d["array"] == [4, 5, 0]),
        ("/array/0:next", 0, lambda d: d["array"] == [4, 0, 6]),
        ("/items/name=item8/count", 9, lambda d: d["items"][1]["count"] == 9),
        ("/items/name=item9?", {"name": "item9"}, lambda d: d["items"][-1] == {"name": "item9"}),
        ("/items/name=item9?/count", 1, lambda d: d["items"][-1] == {"name": "item9", "count": 1}),
        ("/items/name=item7:after", "x", lambda d: d["items"][1] == "x"),
        ("/key", 1.0, lambda d: d["key"] == 1 and type(d["key"]) is int),
    ],
)
def test_replace(path: str, value: Any, check: Any) -> None:
    assert check(replace(doc(), parse(path), value))


def test_replace_copies_the_value() -> None:
    value = {"a": [1]}
    result = replace(doc(), parse("/key"), value)
    result["key"]["a"].append(2)
    assert value == {"a": [1]}


@pytest.mark.parametrize(
    ("path", "message"),
    [
        (
            "/nope",
            "Expected to find a map key 'nope' for path '/nope' (found map keys: 'array', 'items', 'key', 'key2')",
        ),
        ("/key2/nope", "Expected to find a map key 'nope' for path '/key2/nope' (found map keys: 'nested', 'other')"),
        ("/key/sub", "Expected to find a map at path '/key/sub' but found 'int'"),
        ("/key2/0", "Expected to find an array at path '/key2/0' but found 'map[interface {}]interface {}'"),
        ("/array/3", "Expected to find array index '3' but found array of length '3' for path '/array/3'"),
        ("/array/-4", "Expected to find array index '-4' but found array of length '3' for path '/array/-4'"),
        ("/array/-/x", "Expected to find a map at path '/array/-' but found '[]interface {}'"),
        ("/key/-", "Expected to find an array at path '/key/-' but found 'int'"),
        (
            "/items/name=nope",
            "Expected to find exactly one matching array item for path '/items/name=nope' but found 0",
        ),
        (
            "/items/name=item7/count",
            "Expected to find a map key 'count' for path '/items/name=item7/count' (found map keys: 'name')",
        ),
        (
            "/array/0:before:after",
            "Expected to not find any modifiers after 'before' modifier, but found modifier 'patch.AfterModifier'",
        ),
        ("/a?/0", "Expected to find key, matching index or after last index token at path '/a?/0'"),
    ],
)
def test_replace_errors(path: str, message: str) -> None:
    with pytest.raises(PatchError) as err:
        replace(doc(), parse(path), 1)
    assert str(err.value) == message


def test_two_matches_are_ambiguous() -> None:
    data = {"l": [{"name": "a"}, {"name": "a"}]}
    with pytest.raises(PatchError, match="for path '/l/name=a' but found 2"):
        replace(data, parse("/l/name=a/x"), 1)


def test_match_compares_strings_only() -> None:
    data = {"ports": [{"port": 80}, {"port": "80"}]}
    assert replace(data, parse("/ports/port=80/x?"), 1)["ports"] == [{"port": 80}, {"port": "80", "x": 1}]


@pytest.mark.parametrize(
    ("path", "check"),
    [
        ("/key", lambda d: "key" not in d),
        ("/array/0", lambda d: d["array"] == [5, 6]),
        ("/array/-1", lambda d: d["array"] == [4, 5]),
        ("/items/name=item7", lambda d: len(d["items"]) == 2),
        ("/nope?/x", lambda d: d == doc()),
        ("/items/name=nope?", lambda d: d == doc()),
        ("/key2/nested/a", lambda d: d["key2"]["nested"] == {}),
    ],
)
def test_remove(path: str, check: Any) -> None:
    assert check(remove(doc(), parse(path)))


@pytest.mark.parametrize(
    ("path", "message"),
    [
        ("", "Cannot remove entire document"),
        ("/array/5", "Expected to find array index '5' but found array of length '3' for path '/array/5'"),
        ("/array/-", "Expected to not find token 'patch.AfterLastIndexToken' at path '/array/-'"),
        (
            "/array/0:before",
            "Expected to find one of the following modifiers: 'prev', 'next', "
            "but found modifier 'patch.BeforeModifier'",
        ),
    ],
)
def test_remove_errors(path: str, message: str) -> None:
    with pytest.raises(PatchError) as err:
        remove(doc(), parse(path))
    assert str(err.value) == message


def test_test_op_value_and_absent() -> None:
    verify(doc(), parse("/key2/nested"), {"a": 1}, absent=False)
    verify(doc(), parse("/nope"), None, absent=True)
    verify(doc(), parse("/array/7"), None, absent=True)
    with pytest.raises(PatchError, match="Found value does not match expected value"):
        verify(doc(), parse("/key"), 1.0, absent=False)
    with pytest.raises(PatchError, match="Found value does not match expected value"):
        verify(doc(), parse("/key"), "1", absent=False)
    with pytest.raises(PatchError, match="Expected to not find '/key'"):
        verify(doc(), parse("/key"), None, absent=True)
    with pytest.raises(PatchError, match="Expected to find a map key 'nope' for path '/nope'"):
        verify(doc(), parse("/nope/deeper"), None, absent=True)


def test_find_forms_and_errors() -> None:
    assert find(doc(), parse("/items/name=item8/count")) == 8
    assert find(doc(), parse("/items/name=zzz?")) == {"name": "zzz"}
    assert find(doc(), parse("/array/-1")) == 6
    with pytest.raises(PatchError, match=r"Expected not to find after last index token in path '/array/-'"):
        find(doc(), parse("/array/-"))


def test_operation_names_its_file_and_index() -> None:
    op = Operation("replace", parse("/nokey"), 1, label="operation [1] in ops.yml failed")
    with pytest.raises(PatchError) as err:
        apply_all(doc(), [op])
    assert str(err.value).startswith("Error 'operation [1] in ops.yml failed': Expected to find a map key 'nokey'")
