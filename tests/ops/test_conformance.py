"""The bosh CLI conformance corpus: one test per case, run in-process through the CLI entry point.

Each case runs in a fresh copy of its folder (``--vars-store`` writes files) with its environment,
and is judged by the corpus' own ``check.py`` (imported, not run per case as a process): output
cases must match the CLI's output as data *and* byte for byte, error cases must fail with the
CLI's key phrase on stderr, and generated-value cases must pass every property check (certificate
chains verify, passwords have the right alphabet and length, a second run is identical...).
"""

from __future__ import annotations

import contextlib
import importlib.util
import io
import json
import os
import shutil
import time
import types
from pathlib import Path
from typing import Any

import pytest

from boshpipe.ops.cli import main
from tests.ops.conftest import OPS_CORPUS

CASES_DIR = OPS_CORPUS / "cases"
CASES = sorted(p.name for p in CASES_DIR.iterdir() if (p / "case.json").exists()) if CASES_DIR.is_dir() else []


def load_checker(corpus: Path) -> Any:
    spec = importlib.util.spec_from_file_location("ops_conformance_check", corpus / "check.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def run_in_process(checker: Any, meta: dict[str, Any], workdir: str) -> Any:
    """``python -m boshpipe.ops interpolate ARGS`` in ``workdir``, without a new interpreter."""
    out, err = io.StringIO(), io.StringIO()
    saved_cwd, saved_env = os.getcwd(), dict(os.environ)
    start = time.perf_counter()
    try:
        os.chdir(workdir)
        os.environ.update(meta.get("env", {}))
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = main(["interpolate", *meta["args"]])
    finally:
        os.chdir(saved_cwd)
        os.environ.clear()
        os.environ.update(saved_env)
    return checker.Run(code, out.getvalue(), err.getvalue(), workdir, time.perf_counter() - start)


@pytest.mark.shared
@pytest.mark.parametrize("name", CASES or ["corpus-missing"])
def test_case(name: str, ops_corpus: Path, tmp_path: Path) -> None:
    checker = load_checker(ops_corpus)
    checker.execute = lambda cmd, meta, case_dir, workdir, timeout: run_in_process(checker, meta, workdir)
    case = ops_corpus / "cases" / name
    meta = json.loads((case / "case.json").read_text())
    options = types.SimpleNamespace(messages=True, cmd="in-process", timeout=60)
    workdir = str(tmp_path / "a" / name)
    shutil.copytree(case, workdir)
    run = run_in_process(checker, meta, workdir)
    result: dict[str, Any] = {"name": name}
    assert "Traceback" not in run.err
    if (case / "expected-error.txt").exists():
        checker.judge_error(result, meta, run, str(case / "expected-error.txt"), options)
    else:
        if (case / "expected.yml").exists():
            assert run.rc == 0, run.err
            checker.judge_output(result, meta, run, str(case / "expected.yml"))
            assert result["status"] == "pass", result.get("diff")
            assert result["bytes_equal"], result.get("bytes_diff")
        if meta.get("checks"):
            assert run.rc == 0, run.err
            result = checker.judge_checks(result, meta, run, str(case), str(tmp_path), options)
    assert result["status"] == "pass", f"{result.get('reason')}\n{result.get('diff', '')}"
