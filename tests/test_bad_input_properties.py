"""Property tests: whatever bytes or YAML a person (or a broken disk) hands the config loaders, the
spiff CLI or the candidate reader, the answer is exit 0 or 1 with at most one stderr line, never a
traceback. In-process runs take many examples cheaply; a few go through real child processes
(``invoke status``, ``python -m boshpipe.spiff merge``) to cover the command line itself.
"""

from __future__ import annotations

import contextlib
import io
import json
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from boshpipe import candidate as cand
from boshpipe.environments import load_env
from boshpipe.errors import BoshpipeError
from boshpipe.project import Project
from boshpipe.spiff import cli
from tests.hardening import INVOKE, REPO, SPIFF, run, tgz

YAMLISH = st.text(alphabet=st.sampled_from(list("ab01 :-[]{},&*!|>'\"#\n\t.~%@`?\x00\xe9")), max_size=300)
SCALARS = st.one_of(
    st.none(), st.booleans(), st.integers(), st.floats(allow_nan=True), st.text(max_size=20)
)
DATA = st.recursive(
    SCALARS,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=12), inner, max_size=4)
    ),
    max_leaves=20,
)
KEYS = ["deployment", "director", "upstream", "templates", "releases", "tests", "accepts", "stemcell", "acepts"]
ENVISH = st.dictionaries(st.sampled_from(KEYS), DATA, max_size=8)


def yaml_text(data: Any) -> bytes:
    return yaml.safe_dump(data, allow_unicode=True).encode()


INPUTS = st.one_of(
    st.binary(max_size=600),
    YAMLISH.map(lambda text: text.encode("utf-8", "surrogatepass")),
    DATA.map(yaml_text),
    ENVISH.map(yaml_text),
)


@contextlib.contextmanager
def scratch_project() -> Iterator[Path]:
    """A copy of boshpipe.yml and dev1/env.yml, nothing else (the loaders read only these)."""
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        shutil.copy(REPO / "boshpipe.yml", root / "boshpipe.yml")
        for env in ("dev1", "dev2", "staging", "production"):
            (root / env).mkdir()
            shutil.copy(REPO / env / "env.yml", root / env / "env.yml")
        yield root


def assert_one_line(err: BoshpipeError) -> None:
    text = str(err)
    assert text and "\n" not in text and "\r" not in text, repr(text)


PROPERTY = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@PROPERTY
@given(data=INPUTS, target=st.sampled_from(["boshpipe.yml", "dev1/env.yml", "production/env.yml"]))
def test_config_loaders_answer_in_one_line(data: bytes, target: str) -> None:
    with scratch_project() as root:
        (root / target).write_bytes(data)
        try:
            load_env(Project.load(root), target.split("/")[0] if "/" in target else "dev1")
        except BoshpipeError as err:
            assert_one_line(err)


@PROPERTY
@given(template=INPUTS, stub=INPUTS)
def test_spiff_cli_answers_in_one_line(template: bytes, stub: bytes) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        paths = [Path(tmp) / "template.yml", Path(tmp) / "stub.yml"]
        for path, data in zip(paths, (template, stub), strict=True):
            path.write_bytes(data)
        err = io.StringIO()
        with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
            code = cli.main(["merge", *map(str, paths)])
        assert code in (0, 1)
        assert len(err.getvalue().splitlines()) <= 1 and "Traceback" not in err.getvalue(), err.getvalue()


JSONISH = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.text(max_size=20)),
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=10), inner, max_size=3)),
    max_leaves=15,
)
RELEASE_KEYS = st.sampled_from(["name", "version", "url", "final"])
METADATA = st.fixed_dictionaries(
    {},
    optional={
        "files": st.one_of(JSONISH, st.just({"a.yml": cand.sha256(b"x")})),
        "releases": st.one_of(JSONISH, st.lists(st.dictionaries(RELEASE_KEYS, JSONISH), max_size=2)),
        "format": JSONISH,
    },
)
ARCHIVES = st.one_of(
    st.binary(max_size=400),
    METADATA.map(lambda meta: tgz({"candidate.json": json.dumps(meta).encode(), "a.yml": b"x"})),
    st.dictionaries(st.text(min_size=1, max_size=30), st.binary(max_size=30), max_size=4).map(tgz),
)


@PROPERTY
@given(data=ARCHIVES)
def test_candidate_reader_answers_in_one_line(data: bytes) -> None:
    try:
        candidate = cand.read(data, None)
    except BoshpipeError as err:
        assert_one_line(err)
    else:  # what read accepts, the rest of the chain can use without KeyError
        assert all(r.name and r.version for r in candidate.releases)


# -- the same through real processes (fewer examples: each is an interpreter start) --------------

PROCESSES = settings(max_examples=12, deadline=None, suppress_health_check=list(HealthCheck))


def _assert_clean(done: subprocess.CompletedProcess[str]) -> None:
    assert done.returncode in (0, 1), (done.returncode, done.stderr)
    assert "Traceback" not in done.stderr and len(done.stderr.strip().splitlines()) <= 1, done.stderr


@pytest.mark.e2e
@PROCESSES
@given(data=INPUTS)
def test_invoke_status_answers_in_one_line(data: bytes) -> None:
    with scratch_project() as root:
        (root / "boshpipe.yml").write_bytes(data)
        env = {"BOSHPIPE_PROJECT": str(root), "BOSHPIPE_WORKDIR": str(root / "work"), "PATH": "/usr/bin:/bin"}
        _assert_clean(run([*INVOKE, "status"], cwd=root, env=env))


@pytest.mark.e2e
@PROCESSES
@given(data=INPUTS)
def test_spiff_process_answers_in_one_line(data: bytes) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "t.yml"
        path.write_bytes(data)
        _assert_clean(run([*SPIFF, str(path)]))


@pytest.mark.e2e
@PROCESSES
@given(data=ARCHIVES)
def test_invoke_upload_file_answers_in_one_line(data: bytes) -> None:
    with scratch_project() as root:
        path = root / "c.tgz"
        path.write_bytes(data)
        env = {"BOSHPIPE_PROJECT": str(root), "BOSHPIPE_WORKDIR": str(root / "work"), "PATH": "/usr/bin:/bin"}
        _assert_clean(run([*INVOKE, "upload", "--env", "dev1", "--file", str(path)], cwd=root, env=env))
