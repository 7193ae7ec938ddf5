"""``python -m boshpipe.ops interpolate``: flag forms, output, and every kind of bad input."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from boshpipe.ops.cli import main

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def work(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "base.yml").write_text(
        "name: dep\nitems:\n- name: a\n  v: 1\npw: ((pw))\nvariables:\n- name: pw\n  type: password\n"
    )
    (tmp_path / "ops.yml").write_text("- type: replace\n  path: /items/name=a/v\n  value: ((x))\n")
    return tmp_path


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(["interpolate", *args])
    out, err = capsys.readouterr()
    return code, out, err


def test_flag_forms_and_order(work: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "--ops-file=ops.yml", "-v", "x=2", "--var=pw=p", "base.yml", "--path", "/items/0/v")
    assert (code, out) == (0, "2\n")
    code, out, _ = run(capsys, "base.yml", "-oops.yml", "-vx=3", "-v", "pw=p")
    assert code == 0 and "v: 3" in out and "variables: []" in out


def test_vars_store_written_once_and_reused(work: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, first, _ = run(capsys, "base.yml", "--vars-store", "creds.yml")
    assert code == 0 and (work / "creds.yml").exists()
    assert run(capsys, "base.yml", "--vars-store=creds.yml")[1] == first


def test_store_untouched_on_failure(work: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "base.yml", "--vars-store", "creds.yml", "--var-errs", "-o", "ops.yml")
    assert code == 1 and "- Expected to find variables:\n    - x" in err
    assert not (work / "creds.yml").exists()


BAD_INPUTS = [
    ("ops.yml", "type: replace\npath: /a\nvalue: 1\n", "cannot unmarshal !!map into []patch.OpDefinition"),
    ("ops.yml", "just a scalar\n", "cannot unmarshal !!str `just a ...` into []patch.OpDefinition"),
    ("ops.yml", "- type: add\n  path: /a\n  value: 1\n", "Unknown operation [0] with type 'add'"),
    ("ops.yml", "- type: replace\n  path: a\n  value: 1\n", "Invalid path: Expected to start with '/'"),
    ("ops.yml", "- type: replace\n  path: /a\n", "Replace operation [0]: Missing value"),
    ("ops.yml", "- type: remove\n  path: /a\n  value: 1\n", "Remove operation [0]: Cannot specify value"),
    ("ops.yml", "- type: test\n  path: /a\n", "Test operation [0]: Missing value or absent"),
    (
        "ops.yml",
        "- type: replace\n  path: /nope/x\n  value: 1\n",
        "Error 'operation [0] in ops.yml failed': Expected to find a map key 'nope' for path '/nope'",
    ),
    (
        "ops.yml",
        "- type: replace\n  path: /items/name=b/v\n  value: 1\n",
        "Expected to find exactly one matching array item for path '/items/name=b' but found 0",
    ),
    ("ops.yml", "- type: test\n  path: /name\n  value: other\n", "Found value does not match expected value"),
    ("ops.yml", "- [a\n", "Deserializing ops file 'ops.yml': yaml: line"),
    ("creds.yml", "[1]\n", "Deserializing variables file store 'creds.yml'"),
]


@pytest.mark.parametrize(("name", "content", "phrase"), BAD_INPUTS)
def test_bad_input_is_one_line_exit_1(
    work: Path, capsys: pytest.CaptureFixture[str], name: str, content: str, phrase: str
) -> None:
    (work / name).write_text(content)
    before = (work / "creds.yml").read_text() if name == "creds.yml" else None
    args = ["base.yml", "--vars-store", "creds.yml"] + (["-o", "ops.yml"] if name == "ops.yml" else [])
    code, out, err = run(capsys, *args)
    assert code == 1 and out == ""
    assert phrase in err and err.count("\n") == 1, err
    if before is None:
        assert not (work / "creds.yml").exists()
    else:
        assert (work / "creds.yml").read_text() == before


def test_ambiguous_match(work: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (work / "base.yml").write_text("l:\n- name: a\n- name: a\n")
    (work / "ops.yml").write_text("- type: remove\n  path: /l/name=a\n")
    code, _, err = run(capsys, "base.yml", "-o", "ops.yml")
    assert code == 1 and "but found 2" in err


@pytest.mark.parametrize(
    ("args", "phrase"),
    [
        (["base.yml", "-o", "nope.yml"], "Reading ops file 'nope.yml': Opening file nope.yml: open nope.yml: no such"),
        (["base.yml", "-v", "x"], "Expected var 'x' to be in format 'name=value'"),
        (["base.yml", "--path", "x"], "invalid argument for flag `--path' (expected patch.Pointer)"),
        (["base.yml", "--var-file", "x=nope"], "Reading variable from file 'nope'"),
        (["nope.yml"], "Reading manifest 'nope.yml'"),
    ],
)
def test_flag_and_file_errors(work: Path, capsys: pytest.CaptureFixture[str], args: list[str], phrase: str) -> None:
    code, _, err = run(capsys, *args)
    assert code == 1 and phrase in err and "Traceback" not in err


@pytest.mark.parametrize(
    "args",
    [
        [],
        ["base.yml"],
        ["interpolate"],
        ["interpolate", "--nope", "base.yml"],
        ["interpolate", "a.yml", "b.yml"],
        ["interpolate", "base.yml", "-o"],
    ],
)
def test_usage_errors_exit_2(work: Path, capsys: pytest.CaptureFixture[str], args: list[str]) -> None:
    assert main(args) == 2
    assert "usage:" in capsys.readouterr().err


def test_help(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["interpolate", "--help"]) == 0
    assert "--vars-store" in capsys.readouterr().out


def test_module_entry_point_and_debug(work: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    ok = subprocess.run(
        [sys.executable, "-m", "boshpipe.ops", "interpolate", "base.yml", "-v", "pw=p"],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    assert ok.returncode == 0 and "pw: p" in ok.stdout
    bad = subprocess.run(
        [sys.executable, "-m", "boshpipe.ops", "interpolate", "base.yml", "--var-errs", "--debug"],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    assert bad.returncode == 1 and "Traceback" in bad.stderr and "- pw" in bad.stderr


def test_library_call_matches_the_command(work: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from boshpipe.ops import interpolate

    (work / "vars.yml").write_text("x: 5\n")
    (work / "pw.txt").write_text("from-file")
    text = interpolate("base.yml", ops=["ops.yml"], vars_files=["vars.yml"], var_files={"pw": "pw.txt"})
    assert text == run(capsys, "base.yml", "-o", "ops.yml", "-l", "vars.yml", "--var-file", "pw=pw.txt")[1]
    assert interpolate("base.yml", vars_env=["E"], environ={"E_pw": "e"}, path="/pw") == "e\n"
