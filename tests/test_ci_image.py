"""ci_image/Dockerfile: parses, installs the project, and can run every task the pipeline calls.

No Docker engine exists here, so the Dockerfile is read by a small parser and its install steps are
replayed: its COPY instructions fill a fake image root, its RUN steps (all but the system package
installs) run in a fresh virtualenv standing in for the image's Python, and the resulting `invoke`
must list every task that pipeline/pipeline.yml runs and pass `invoke pipeline.check`.
The replay takes ~20 s (a venv and a pip install from the local index); select it alone with
``pytest tests/test_ci_image.py -k replay``.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import tomllib
import venv
from dataclasses import dataclass
from pathlib import Path

import pytest

from boshpipe import concourse
from tests.conftest import REPO

DOCKERFILE = REPO / "ci_image" / "Dockerfile"
INSTRUCTIONS = frozenset(
    ("FROM", "RUN", "CMD", "LABEL", "EXPOSE", "ENV", "ADD", "COPY", "ENTRYPOINT", "VOLUME", "USER",
     "WORKDIR", "ARG", "ONBUILD", "STOPSIGNAL", "HEALTHCHECK", "SHELL")
)  # fmt: skip
SYSTEM_PACKAGES = re.compile(r"^\s*(apt-get|apk|yum|dnf)\b")


@dataclass(frozen=True)
class Instruction:
    line: int
    keyword: str
    args: str

    def words(self) -> list[str]:
        """The arguments: JSON (exec) form or whitespace-separated shell words."""
        if self.args.startswith("["):
            value = json.loads(self.args)
            assert isinstance(value, list)
            return [str(v) for v in value]
        return shlex.split(self.args)


def parse_dockerfile(text: str) -> list[Instruction]:
    """Instructions with continuation lines joined and comments dropped, as docker build reads them."""
    result: list[Instruction] = []
    pending: list[str] = []
    start = 0
    for number, raw in enumerate(text.splitlines(), 1):
        stripped = raw.strip()
        if not pending and (not stripped or stripped.startswith("#")):
            continue
        if pending and stripped.startswith("#"):
            continue  # comment lines inside a continued instruction are dropped
        if not pending:
            start = number
        if stripped.endswith("\\"):
            pending.append(stripped[:-1].strip())
            continue
        pending.append(stripped)
        keyword, _, args = " ".join(p for p in pending if p).partition(" ")
        pending = []
        if keyword.upper() not in INSTRUCTIONS:
            raise ValueError(f"Dockerfile:{start}: unknown instruction {keyword!r}")
        result.append(Instruction(start, keyword.upper(), args.strip()))
    if pending:
        raise ValueError("Dockerfile: ends inside a continued instruction")
    return result


def env_pairs(instruction: Instruction) -> dict[str, str]:
    words = instruction.words()
    if len(words) >= 2 and "=" not in words[0]:
        return {words[0]: " ".join(words[1:])}  # legacy `ENV KEY value`
    return dict(word.split("=", 1) for word in words)


@pytest.fixture(scope="module")
def instructions() -> list[Instruction]:
    return parse_dockerfile(DOCKERFILE.read_text())


def test_parser_reads_continuations_and_rejects_garbage() -> None:
    parsed = parse_dockerfile("# c\nFROM a:1\nRUN x \\\n  # inside\n  && y\nENV A=1 B='two words'\n")
    assert [(i.keyword, i.args) for i in parsed] == [
        ("FROM", "a:1"),
        ("RUN", "x && y"),
        ("ENV", "A=1 B='two words'"),
    ]
    assert env_pairs(parsed[2]) == {"A": "1", "B": "two words"}
    with pytest.raises(ValueError, match="unknown instruction 'FORM'"):
        parse_dockerfile("FORM a\n")


def test_dockerfile_is_a_slim_python_311_image_with_git(instructions: list[Instruction]) -> None:
    assert instructions[0].keyword == "FROM"
    image = instructions[0].words()[0]
    name, _, tag = image.partition(":")
    assert name in ("python", "docker.io/library/python") and tag.startswith("3.11") and "slim" in tag, image
    installs = [i.args for i in instructions if i.keyword == "RUN" and SYSTEM_PACKAGES.match(i.args)]
    assert any(re.search(r"apt-get install .*\bgit\b", run) for run in installs), installs


def test_dockerfile_copies_what_pip_install_needs(instructions: list[Instruction]) -> None:
    """Every COPY source exists, and together they hold pyproject.toml, its readme and its packages."""
    copied: set[str] = set()
    for copy in (i for i in instructions if i.keyword == "COPY"):
        *sources, _ = copy.words()
        for source in sources:
            assert (REPO / source).exists(), f"COPY {source}: not in the repository"
            copied.add(source.rstrip("/"))
    project = tomllib.loads((REPO / "pyproject.toml").read_text())
    assert "pyproject.toml" in copied
    assert project["project"]["readme"] in copied
    packages = {p.rstrip("*") for p in project["tool"]["setuptools"]["packages"]["find"]["include"]}
    assert packages <= copied, packages - copied
    assert any(re.search(r"pip install \.(\s|$)", i.args) for i in instructions if i.keyword == "RUN")


def _replay(instructions: list[Instruction], root: Path, python_bin: Path) -> list[str]:
    """COPY into ``root`` (the image's filesystem), RUN in it with the venv as the image's Python."""
    workdir = root
    env = {
        **os.environ,
        "PATH": os.pathsep.join([str(root / "usr/local/bin"), str(python_bin), "/usr/bin", "/bin"]),
    }
    env.pop("PYTHONPATH", None)
    (root / "usr/local/bin").mkdir(parents=True)
    ran: list[str] = []
    for instruction in instructions:
        if instruction.keyword == "WORKDIR":
            workdir = root / instruction.args.lstrip("/")
            workdir.mkdir(parents=True, exist_ok=True)
        elif instruction.keyword == "ENV":
            env.update(env_pairs(instruction))
        elif instruction.keyword == "COPY":
            *sources, dest = instruction.words()
            target = workdir / dest if not dest.startswith("/") else root / dest.lstrip("/")
            for source in sources:
                path = REPO / source
                if path.is_dir():  # like docker: the directory's contents go to dest
                    ignore = shutil.ignore_patterns("__pycache__")
                    shutil.copytree(path, target, dirs_exist_ok=True, ignore=ignore)
                else:
                    target.mkdir(parents=True, exist_ok=True)
                    shutil.copy(path, target / path.name)
        elif instruction.keyword == "RUN" and not SYSTEM_PACKAGES.match(instruction.args):
            script = instruction.args.replace("/usr/local/bin", str(root / "usr/local/bin"))
            run = subprocess.run(
                ["sh", "-ec", script], cwd=workdir, env=env, capture_output=True, text=True, timeout=600
            )
            assert run.returncode == 0, (
                f"Dockerfile:{instruction.line}: RUN failed:\n{run.stdout}{run.stderr}"
            )
            ran.append(run.stdout + run.stderr)
    return ran


@pytest.mark.image
def test_replay_install_then_run_the_pipeline_tasks(instructions: list[Instruction], tmp_path: Path) -> None:
    """The image's Python can load tasks.py from a checkout and has every task the pipeline runs."""
    env_dir = tmp_path / "venv"
    venv.EnvBuilder(with_pip=True).create(env_dir)
    bin_dir = env_dir / "bin"
    outputs = _replay(instructions, tmp_path / "image", bin_dir)
    assert len(outputs) == 2  # the pip install, and the redis tools put on PATH
    assert re.search(r"Redis server v=\d", "".join(outputs)), outputs
    assert not (bin_dir / "python").resolve().samefile(Path(sys.executable).resolve())

    # A Concourse task: `dir: repo` (the checkout), the image's invoke on PATH.
    task_env = {**os.environ, "PATH": os.pathsep.join([str(bin_dir), "/usr/bin", "/bin"])}
    task_env.pop("PYTHONPATH", None)
    listing = subprocess.run(
        [str(bin_dir / "invoke"), "--list", "--list-format=json"],
        cwd=REPO,
        env=task_env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert listing.returncode == 0, listing.stderr
    tree = json.loads(listing.stdout)
    names = {t["name"] for t in tree["tasks"]}
    names |= {f"{c['name']}.{t['name']}" for c in tree["collections"] for t in c["tasks"]}
    called = {argv[0] for argv in concourse.invoke_argvs(REPO / "pipeline" / "pipeline.yml", REPO)}
    assert called and called <= names, called - names

    check = subprocess.run(
        [str(bin_dir / "invoke"), "pipeline.check"], cwd=REPO, env=task_env, capture_output=True, text=True
    )
    assert check.returncode == 0, check.stdout + check.stderr
