"""The spiff conformance corpus: one test per case, expected outputs from the real spiff binary.

Merge cases must produce the same data as spiff (after a round trip through our YAML output, with
strict types: ``True != 1``, ``1 != 1.0``); error cases must raise :class:`SpiffError`. Cases
tagged ``exec`` run with exec enabled: the corpus was produced by a spiff that always allows it.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from boshpipe.spiff import SpiffError, dump, merge_files
from tests.conftest import SHARED

CASES_DIR = SHARED / "spiff-conformance" / "cases"
CASES = (
    sorted(p.name for p in CASES_DIR.iterdir() if (p / "template.yml").exists()) if CASES_DIR.is_dir() else []
)


def canon(value: Any) -> Any:
    """A comparable form that keeps types apart (check.py's rule)."""
    if isinstance(value, dict):
        return ("map", tuple(sorted(((canon(k), canon(v)) for k, v in value.items()), key=repr)))
    if isinstance(value, list):
        return ("list", tuple(canon(v) for v in value))
    return (type(value).__name__, value)


def stub_files(case: Path) -> list[Path]:
    stubs = [p for p in case.iterdir() if re.fullmatch(r"stub\d+\.yml", p.name)]
    return sorted(stubs, key=lambda p: int(p.name[4:-4]))


@pytest.mark.shared
@pytest.mark.parametrize("name", CASES or ["corpus-missing"])
def test_case(name: str, spiff_corpus: Path) -> None:
    case = spiff_corpus / name
    meta = json.loads((case / "case.json").read_text()) if (case / "case.json").exists() else {}
    allow_exec = "exec" in meta.get("features", [])
    args = [case / "template.yml", *stub_files(case)]
    expected = case / "expected.yml"
    if expected.exists():
        result = merge_files(*args, allow_exec=allow_exec)
        assert canon(yaml.safe_load(dump(result))) == canon(yaml.safe_load(expected.read_text()))
    else:
        assert (case / "expected_error.txt").exists()
        with pytest.raises(SpiffError):
            merge_files(*args, allow_exec=allow_exec)


def test_canon_keeps_types_apart() -> None:
    assert canon({"a": True}) != canon({"a": 1})
    assert canon([1]) != canon([1.0])
    assert canon({"a": "1"}) != canon({"a": 1})
