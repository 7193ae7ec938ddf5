"""The command line: spiff's output format on success, one line and no traceback on failure."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from boshpipe.spiff.cli import main


def run(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "boshpipe.spiff", *args], cwd=cwd, capture_output=True, text=True, check=False
    )


def test_merge_prints_sorted_block_yaml(tmp_path: Path) -> None:
    (tmp_path / "t.yml").write_text("b: (( merge ))\na: [1, 2]\n")
    (tmp_path / "s.yml").write_text("b: {q: 2, p: 1}\n")
    done = run("merge", "t.yml", "s.yml", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout == "a:\n- 1\n- 2\nb:\n  p: 1\n  q: 2\n\n"
    assert yaml.safe_load(done.stdout) == {"a": [1, 2], "b": {"p": 1, "q": 2}}


@pytest.mark.parametrize(
    ("template", "expected"),
    [
        ("a: [1,\n", "t.yml: invalid YAML"),
        ("a: (( b ))\nb: (( a ))\n", "reference cycle a -> b -> a"),
        ("a: (( 1 + ))\n", "unparseable expression"),
        ("a: (( merge ))\n", "'a' not found in any stub"),
    ],
)
def test_bad_input_prints_one_line_without_traceback(tmp_path: Path, template: str, expected: str) -> None:
    (tmp_path / "t.yml").write_text(template)
    done = run("merge", "t.yml", cwd=tmp_path)
    assert done.returncode == 1
    assert done.stdout == ""
    lines = done.stderr.splitlines()
    assert len(lines) == 1 and expected in lines[0]
    assert "Traceback" not in done.stderr


def test_missing_file_and_debug_traceback(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["merge", str(tmp_path / "missing.yml")]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "missing.yml: no such file" in err
    assert main(["merge", str(tmp_path / "missing.yml"), "--debug"]) == 1
    assert "Traceback" in capsys.readouterr().err


def test_exec_flag(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("BOSHPIPE_SPIFF_EXEC", raising=False)
    (tmp_path / "t.yml").write_text('a: (( exec("echo", "x") ))\n')
    assert main(["merge", str(tmp_path / "t.yml")]) == 1
    assert "exec is disabled" in capsys.readouterr().err
    assert main(["merge", str(tmp_path / "t.yml"), "--allow-exec"]) == 0
    assert capsys.readouterr().out == "a: x\n\n"


def test_large_output_arrives_whole_through_a_pipe(tmp_path: Path) -> None:
    """The process ends with os._exit after flushing: every byte of a large merge still arrives."""
    template = {f"key{i:05d}": {"value": f"v{i}", "list": [i, i + 1]} for i in range(8_000)}
    (tmp_path / "t.yml").write_text(yaml.safe_dump(template))
    done = run("merge", "t.yml", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert len(done.stdout) > 300_000  # several pipe buffers
    assert yaml.safe_load(done.stdout) == template


def test_a_reader_that_goes_away_gets_no_traceback(tmp_path: Path) -> None:
    (tmp_path / "t.yml").write_text(yaml.safe_dump({f"k{i}": i for i in range(30_000)}))
    command = f"{sys.executable} -m boshpipe.spiff merge t.yml | head -c 10"
    done = subprocess.run(["sh", "-c", command], cwd=tmp_path, capture_output=True, text=True, check=False)
    assert done.stdout == "k0: 0\nk1: "
    assert "Traceback" not in done.stderr
