"""nox sessions: the catalogue of what CI and people run.

nox -s tests        the whole pytest suite (real redis-server and S3 server processes)
nox -s lint         ruff
nox -s typecheck    mypy --strict
nox -s conformance  the spiff corpus through the command line, as check.py counts it
nox -s ops-conformance  the bosh interpolate corpus (boshpipe.ops) through the command line
nox -s bench        every benchmark in bench/, figures printed
"""

from __future__ import annotations

import os
from pathlib import Path

import nox

nox.options.sessions = ["tests", "lint", "typecheck"]
nox.options.reuse_existing_virtualenvs = True

ROOT = Path(__file__).parent
SHARED = Path(os.environ.get("BOSHPIPE_SHARED", ROOT.parent / "shared"))


@nox.session
def tests(session: nox.Session) -> None:
    """The whole test suite."""
    session.install("-e", ".[test]")
    session.run("pytest", *session.posargs)


@nox.session
def lint(session: nox.Session) -> None:
    """ruff over the package, the tests, the benchmarks and the task files."""
    session.install("ruff")
    session.run("ruff", "check", "boshpipe", "tests", "bench", "tasks.py", "pipeline_tasks.py", "noxfile.py")


@nox.session
def typecheck(session: nox.Session) -> None:
    """mypy --strict over the package and the task files."""
    session.install("-e", ".[test]")
    session.run("mypy")


@nox.session
def conformance(session: nox.Session) -> None:
    """The spiff conformance corpus through `python -m boshpipe.spiff merge`, counted by its check.py."""
    session.install("-e", ".")
    check = SHARED / "spiff-conformance" / "check.py"
    if not check.exists():
        session.error(f"needs {check}: put ../shared beside the checkout or set BOSHPIPE_SHARED")
    session.run("python", str(check), "--cmd", "python -m boshpipe.spiff merge {template} {stubs}", *session.posargs)


@nox.session(name="ops-conformance")
def ops_conformance(session: nox.Session) -> None:
    """The ops-file corpus through `python -m boshpipe.ops interpolate`, with key phrases of errors."""
    session.install("-e", ".")
    check = SHARED / "ops-conformance" / "check.py"
    if not check.exists():
        session.error(f"needs {check}: put ../shared beside the checkout or set BOSHPIPE_SHARED")
    session.run(
        "python", str(check), "--cmd", "python -m boshpipe.ops interpolate {args}", "--messages", *session.posargs
    )


@nox.session
def bench(session: nox.Session) -> None:
    """Every benchmark; each prints its figures (see bench/README.md for what they measure)."""
    session.install("-e", ".[test]")
    session.run("python", "-m", "bench", *session.posargs)
