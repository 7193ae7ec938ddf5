"""Every class of error: one clear line naming the file, the YAML path and the expression."""

from __future__ import annotations

from pathlib import Path

import pytest

from boshpipe.errors import ManifestError
from boshpipe.spiff import InputError, SpiffError, UnresolvedError, load, merge, merge_files


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def test_spiff_errors_are_manifest_errors() -> None:
    assert issubclass(SpiffError, ManifestError)


def test_malformed_yaml_names_file_and_line(tmp_path: Path) -> None:
    bad = write(tmp_path, "bad.yml", "a: [1, 2\nb: 3\n")
    with pytest.raises(InputError) as info:
        merge_files(bad)
    message = str(info.value)
    assert message.startswith(str(bad)) and "line" in message and "\n" not in message


@pytest.mark.parametrize("text", ["- just\n", "42\n"])
def test_non_mapping_document(text: str) -> None:
    if text.startswith("-"):
        assert load(text, "t.yml") == ["just"]  # spiff merges lists too
    else:
        with pytest.raises(InputError, match=r"t\.yml: the document is a int, not a mapping"):
            load(text, "t.yml")


@pytest.mark.parametrize("text", ["", "# only a comment\n"])
def test_empty_document(text: str) -> None:
    with pytest.raises(InputError, match=r"empty document"):
        load(text, "stub.yml")


def test_bool_map_key_and_timestamp_are_refused() -> None:
    with pytest.raises(InputError, match="map key must be a string: true"):
        load("on: 1\n", "t.yml")
    with pytest.raises(InputError, match="timestamps"):
        load("d: 2015-06-09\n", "t.yml")


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"nope\.yml: no such file"):
        merge_files(tmp_path / "nope.yml")


def test_unknown_function() -> None:
    with pytest.raises(
        UnresolvedError, match=r"a: \(\( frobnicate\(1\) \)\) in t: unknown function 'frobnicate'"
    ):
        merge({"a": "(( frobnicate(1) ))"}, names=["t"])


def test_bad_expression_shows_a_caret() -> None:
    with pytest.raises(UnresolvedError) as info:
        merge({"x": {"y": "(( 1 + ))"}}, names=["t.yml"])
    message = str(info.value)
    assert "x.y: (( 1 + )) in t.yml: unparseable expression" in message
    assert "column 4" in message and "(( 1 +^ ))" in message


def test_unresolved_lists_every_node_with_its_yaml_path() -> None:
    template = {
        "jobs": [
            {"name": "redis_z1", "properties": {"redis": {"master": "(( merge ))"}}},
            {"name": "other", "value": "(( nowhere.to.be.found ))"},
        ]
    }
    with pytest.raises(UnresolvedError) as info:
        merge(template, names=["deployment.yml"])
    err = info.value
    assert len(err.entries) == 2
    assert err.entries[0].startswith("jobs.redis_z1.properties.redis.master: (( merge )) in deployment.yml")
    assert "'jobs.redis_z1.properties.redis.master' not found in any stub" in err.entries[0]
    assert err.entries[1].startswith("jobs.other.value: (( nowhere.to.be.found ))")
    assert "\n" not in str(err)


def test_cycle_is_reported_as_a_cycle() -> None:
    with pytest.raises(UnresolvedError) as info:
        merge({"a": "(( b ))", "b": "(( c ))", "c": "(( a ))", "d": "(( a ))"})
    entries = info.value.entries
    assert entries[0].endswith("reference cycle a -> b -> c -> a")
    assert "reference cycle" in entries[1] and "reference cycle" in entries[2]
    assert entries[3].startswith("d: (( a ))") and "waits for a" in entries[3]


def test_errors_in_a_stub_name_the_stub(tmp_path: Path) -> None:
    template = write(tmp_path, "template.yml", "a: (( merge ))\n")
    stub = write(tmp_path, "stub.yml", "a: (( missing ))\n")
    with pytest.raises(UnresolvedError, match=r"^.*stub\.yml: 1 unresolved node: a: \(\( missing \)\)"):
        merge_files(template, stub)
