"""The Concourse pipelines against tasks.py, the env folders and the credentials example.

The committed pipelines must pass ``invoke pipeline.check``; broken copies made here must fail with
one line per problem, each naming the file and the YAML path. The gate test reads the env.yml rules
itself (not through the checker), so the pipeline's ``passed:`` order and the rules cannot disagree
without a test failing.
"""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from invoke.collection import Collection
from invoke.tasks import task

from boshpipe import concourse
from boshpipe.environments import load_env
from boshpipe.errors import ConfigError
from boshpipe.project import Project
from tests.conftest import REPO

PIPELINE = "pipeline/pipeline.yml"
INVOKE = [sys.executable, "-m", "invoke"]


@pytest.fixture(scope="module")
def tasks() -> concourse.TaskCatalogue:
    """The real tasks.py collection, loaded as `invoke` loads it."""
    return concourse.load_tasks(REPO)


@pytest.fixture
def copy(tmp_path: Path) -> Path:
    """A copy of what the checker reads: pipelines, task files, env.yml files, credentials example."""
    root = tmp_path / "repo"
    root.mkdir()
    for name in ("boshpipe.yml", "credentials.example.yml", "tasks.py", "pipeline_tasks.py"):
        shutil.copy(REPO / name, root / name)
    shutil.copytree(REPO / "pipeline", root / "pipeline")
    (root / "ci_image").mkdir()
    shutil.copy(REPO / "ci_image" / "pipeline.yml", root / "ci_image" / "pipeline.yml")
    for env in Project.load(REPO).environments:
        (root / env).mkdir()
        shutil.copy(REPO / env / "env.yml", root / env / "env.yml")
    return root


def edit(path: Path, change: Callable[[Any], None]) -> None:
    data = yaml.safe_load(path.read_text())
    change(data)
    path.write_text(yaml.safe_dump(data, sort_keys=False))


def job(data: dict[str, Any], name: str) -> dict[str, Any]:
    found: dict[str, Any] = next(j for j in data["jobs"] if j["name"] == name)
    return found


def candidate_get(data: dict[str, Any], name: str) -> dict[str, Any]:
    """The `get:` of the candidate resource in a job (first step is an in_parallel of gets)."""
    steps: list[dict[str, Any]] = job(data, name)["plan"][0]["in_parallel"]
    return next(s for s in steps if s.get("get") == "candidate")


def problems_of(root: Path, tasks: concourse.TaskCatalogue) -> list[str]:
    return [str(p) for p in concourse.check([root / PIPELINE], root, tasks)]


# -- the committed pipelines ---------------------------------------------------------------------


def test_invoke_pipeline_check_passes_on_the_committed_pipelines() -> None:
    run = subprocess.run([*INVOKE, "pipeline.check"], cwd=REPO, capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "pipeline/pipeline.yml, ci_image/pipeline.yml ok" in run.stdout


def test_library_check_finds_nothing_in_the_committed_pipelines(tasks: concourse.TaskCatalogue) -> None:
    paths = [REPO / p for p in concourse.PIPELINE_FILES]
    assert concourse.check(paths, REPO, tasks) == []


def test_every_pipeline_task_runs_invoke_with_an_env(tasks: concourse.TaskCatalogue) -> None:
    argvs = concourse.invoke_argvs(REPO / PIPELINE, REPO)
    assert argvs, "the pipeline runs no invoke command"
    for argv in argvs:
        assert argv[0] in tasks.names
        assert "--env" in argv, argv


def test_credentials_yml_is_ignored_by_git() -> None:
    run = subprocess.run(["git", "check-ignore", "-q", "credentials.yml"], cwd=REPO, check=False)
    assert run.returncode == 0
    run = subprocess.run(["git", "check-ignore", "-q", "credentials.example.yml"], cwd=REPO, check=False)
    assert run.returncode == 1


# -- broken copies: one line per problem, naming file and YAML path ---------------------------------


def test_the_copy_itself_is_clean(copy: Path, tasks: concourse.TaskCatalogue) -> None:
    assert problems_of(copy, tasks) == []


def test_unknown_resource(copy: Path, tasks: concourse.TaskCatalogue) -> None:
    edit(
        copy / PIPELINE,
        lambda d: job(d, "build-candidate")["plan"][0]["in_parallel"].append({"get": "nightly"}),
    )
    assert problems_of(copy, tasks) == [
        "pipeline/pipeline.yml: jobs[build-candidate].plan[0].in_parallel[3].get: "
        "resource 'nightly' is not declared under resources"
    ]


def test_missing_passed_job(copy: Path, tasks: concourse.TaskCatalogue) -> None:
    edit(copy / PIPELINE, lambda d: candidate_get(d, "deploy-production").update(passed=["deploy-stagin"]))
    found = problems_of(copy, tasks)
    where = "pipeline/pipeline.yml: jobs[deploy-production].plan[0].in_parallel[0].passed: "
    assert where + "job 'deploy-stagin' does not exist" in found
    # ...and production's rule (succeeded in staging) is no longer what passed: says
    assert len(found) == 2 and all(line.startswith(where) for line in found), found


def test_passed_job_that_never_gets_the_resource(copy: Path, tasks: concourse.TaskCatalogue) -> None:
    def change(d: Any) -> None:
        candidate_get(d, "deploy-production")["passed"] = ["deploy-staging", "build-candidate"]

    edit(copy / PIPELINE, change)
    assert problems_of(copy, tasks) == [
        "pipeline/pipeline.yml: jobs[deploy-production].plan[0].in_parallel[0].passed: "
        "job 'build-candidate' never gets or puts 'candidate'"
    ]


def test_unknown_invoke_task(copy: Path, tasks: concourse.TaskCatalogue) -> None:
    path = copy / "pipeline/tasks/tarball.yml"
    path.write_text(path.read_text().replace("invoke tarball", "invoke tar-ball"))
    (line,) = problems_of(copy, tasks)
    assert line.startswith("pipeline/pipeline.yml: jobs[build-candidate].plan[2]: `invoke tar-ball --env")
    assert "unknown invoke task 'tar-ball'; tasks.py has: " in line and "tarball" in line


def test_unknown_flag(copy: Path, tasks: concourse.TaskCatalogue) -> None:
    path = copy / "pipeline/tasks/upload.yml"
    path.write_text(path.read_text().replace("--file ../built", "--from ../built"))
    (line,) = problems_of(copy, tasks)
    assert line.startswith("pipeline/pipeline.yml: jobs[build-candidate].plan[3]: `invoke upload")
    assert "task 'upload' has no flag --from; it accepts " in line and "--file" in line


def test_secret_literal_instead_of_a_var(copy: Path, tasks: concourse.TaskCatalogue) -> None:
    def change(d: Any) -> None:
        job(d, "deploy-dev1")["plan"][1]["params"]["BOSH_CLIENT_SECRET"] = "hunter2"

    edit(copy / PIPELINE, change)
    assert problems_of(copy, tasks) == [
        "pipeline/pipeline.yml: jobs[deploy-dev1].plan[1].params.BOSH_CLIENT_SECRET: BOSH_CLIENT_SECRET "
        "holds a literal value: secrets come from credentials as ((bosh-client-secret))"
    ]


def test_missing_serial_group(copy: Path, tasks: concourse.TaskCatalogue) -> None:
    edit(copy / PIPELINE, lambda d: job(d, "deploy-staging").pop("serial_groups"))
    (line,) = problems_of(copy, tasks)
    assert line.startswith(
        "pipeline/pipeline.yml: jobs[deploy-staging].serial_groups: "
        "the job changes staging but is not in serial group 'staging'"
    )


def test_var_missing_from_credentials_example(copy: Path, tasks: concourse.TaskCatalogue) -> None:
    edit(
        copy / PIPELINE, lambda d: job(d, "deploy-dev2")["plan"][1]["params"].update(EXTRA="((extra-thing))")
    )
    assert problems_of(copy, tasks) == [
        "pipeline/pipeline.yml: jobs[deploy-dev2].plan[1].params.EXTRA: "
        "((extra-thing)) is not listed in credentials.example.yml"
    ]


def test_var_in_a_task_file_is_refused(copy: Path, tasks: concourse.TaskCatalogue) -> None:
    path = copy / "pipeline/tasks/upload.yml"
    path.write_text(path.read_text().replace("BOSHPIPE_STORE: ~", "BOSHPIPE_STORE: ((store))"))
    (line,) = problems_of(copy, tasks)
    assert line.startswith("pipeline/tasks/upload.yml: params.BOSHPIPE_STORE: ((store)) in a task file")


def test_unknown_top_level_key_and_unknown_env(copy: Path, tasks: concourse.TaskCatalogue) -> None:
    def change(d: Any) -> None:
        d["resource"] = []
        job(d, "deploy-dev2")["plan"][1]["params"]["ENV"] = "dev3"

    edit(copy / PIPELINE, change)
    found = problems_of(copy, tasks)
    assert len(found) == 2, found
    assert found[0].startswith("pipeline/pipeline.yml: jobs[deploy-dev2].plan[1]: `invoke deploy --env")
    assert "--env 'dev3' is not an env of this project" in found[0]
    assert found[1].startswith("pipeline/pipeline.yml: resource: unknown top-level key")


def test_upstream_resource_must_be_pinned_where_env_yml_pins_it(
    copy: Path, tasks: concourse.TaskCatalogue
) -> None:
    edit(copy / PIPELINE, lambda d: d["resources"][1].update(version={"ref": "0" * 40}))
    found = problems_of(copy, tasks)
    assert found and all(
        p.startswith("pipeline/pipeline.yml: resources[upstream].version.ref: ") for p in found
    )
    assert len(found) == len(Project.load(REPO).environments)


def test_invoke_pipeline_check_prints_one_line_per_problem(copy: Path) -> None:
    def change(d: Any) -> None:
        job(d, "build-candidate")["plan"][0]["in_parallel"].append({"get": "nightly"})
        job(d, "deploy-staging").pop("serial_groups")
        job(d, "deploy-dev1")["plan"][1]["params"]["AWS_SECRET_ACCESS_KEY"] = "abc123"

    edit(copy / PIPELINE, change)
    run = subprocess.run([*INVOKE, "pipeline.check"], cwd=copy, capture_output=True, text=True, timeout=120)
    assert run.returncode == 1
    lines = run.stdout.splitlines()
    assert len(lines) == 3, run.stdout
    assert all(line.startswith("pipeline/pipeline.yml: jobs[") for line in lines)
    assert "pipeline.check: 3 problem(s)" in run.stderr


# -- the pipeline's promotion order is the env folders' gate rules --------------------------------


def test_passed_constraints_match_the_gate_rules_of_the_env_folders() -> None:
    """For each env, the candidate's `passed:` says what env.yml's `succeeded_in` says.

    `passed:` is an AND over jobs: all_of [X] must be exactly X's deploy job; any_of over several
    envs cannot be written as `passed:` and must not be (an AND would refuse what the rules admit).
    """
    project = Project.load(REPO)
    data = yaml.safe_load((REPO / PIPELINE).read_text())
    seen = []
    for env in project.environments:
        rules = load_env(project, env).rules
        get = candidate_get(data, f"deploy-{env}")
        assert job(data, f"deploy-{env}")["plan"][1]["params"]["ENV"] == env
        passed = set(get.get("passed") or [])
        if rules.mode == "all_of" or len(rules.succeeded_in) == 1:
            assert passed == {f"deploy-{e}" for e in rules.succeeded_in}, env
        else:
            assert not passed & {f"deploy-{e}" for e in project.environments}, env
        seen.append((env, rules.mode, rules.succeeded_in, sorted(passed)))
    # the rules these assertions were written for: dev1 OR dev2 -> staging -> production
    assert ("staging", "any_of", ("dev1", "dev2"), []) in seen
    assert ("production", "all_of", ("staging",), ["deploy-staging"]) in seen


def test_and_of_both_dev_jobs_is_refused_for_staging(copy: Path, tasks: concourse.TaskCatalogue) -> None:
    edit(
        copy / PIPELINE,
        lambda d: candidate_get(d, "deploy-staging").update(passed=["deploy-dev1", "deploy-dev2"]),
    )
    (line,) = problems_of(copy, tasks)
    assert line.startswith("pipeline/pipeline.yml: jobs[deploy-staging].plan[0].in_parallel[0].passed: ")
    assert "stricter than staging/env.yml accepts.succeeded_in: {any_of: ['dev1', 'dev2']}" in line


def test_production_without_passed_staging_is_refused(copy: Path, tasks: concourse.TaskCatalogue) -> None:
    edit(copy / PIPELINE, lambda d: candidate_get(d, "deploy-production").pop("passed"))
    (line,) = problems_of(copy, tasks)
    assert "must name the jobs that deploy ['staging']" in line


def test_changing_env_yml_rules_makes_the_pipeline_disagree(
    copy: Path, tasks: concourse.TaskCatalogue
) -> None:
    env_yml = copy / "staging" / "env.yml"
    env_yml.write_text(env_yml.read_text().replace("{any_of: [dev1, dev2]}", "{all_of: [dev1, dev2]}"))
    (line,) = problems_of(copy, tasks)
    assert line.startswith("pipeline/pipeline.yml: jobs[deploy-staging].plan[0].in_parallel[0].passed: ")
    assert "must name the jobs that deploy ['dev1', 'dev2']" in line


# -- invoke introspection: new tasks and flags are seen without editing the checker ---------------


def _catalogue() -> concourse.TaskCatalogue:
    @task(help={"env": "an env", "fancy_flag": "new"}, aliases=["bn"])
    def brand_new(c: Any, env: str, fancy_flag: bool = False, count: int = 1, verify: bool = True) -> None:
        """A task the checker has never heard of."""

    return concourse.TaskCatalogue(Collection(brand_new))


def test_catalogue_follows_the_collection() -> None:
    catalogue = _catalogue()
    assert catalogue.names == ["brand-new"]
    calls, errors = catalogue.parse(["brand-new", "--env", "dev1", "--fancy-flag", "--count", "3"])
    assert errors == []
    assert calls[0].task == "brand-new"
    assert calls[0].values == {"env": "dev1", "fancy-flag": True, "count": 3, "verify": True}
    calls, errors = catalogue.parse(["bn", "-e", "dev1", "--no-verify"])
    assert calls[0].task == "brand-new"
    assert errors == [] and calls[0].values["verify"] is False
    assert catalogue.parse(["brand-new", "--envv", "x"])[1] == [
        "task 'brand-new' has no flag --envv; it accepts --count, --env, --fancy-flag, --no-verify, --verify"
    ]
    assert catalogue.parse(["brand-new"])[1] == [
        "invoke would refuse it: 'brand-new' did not receive required positional arguments: 'env'"
    ]
    assert catalogue.parse(["brand-new", "--env"])[1][0].startswith("invoke would refuse it:")


def test_real_catalogue_knows_the_pipeline_tasks(tasks: concourse.TaskCatalogue) -> None:
    assert "pipeline.check" in tasks.names
    assert tasks.parse(["deploy", "--env", "dev1", "--candidate", "3"])[1] == []
    assert tasks.parse(["pipeline.set", "--target", "ci", "--image"])[1] == []


def test_shell_commands_split_like_a_shell() -> None:
    script = 'cd repo && FOO=1 invoke deploy --env "$ENV" --candidate "$(cat ../c/version)"; invoke status\n'
    assert concourse.shell_commands(script) == [
        ["cd", "repo"],
        ["invoke", "deploy", "--env", "$ENV", "--candidate", "$(...)"],
        ["invoke", "status"],
    ]


# -- fly ------------------------------------------------------------------------------------------


def _path_without_fly(tmp_path: Path) -> str:
    empty = tmp_path / "bin"
    empty.mkdir(exist_ok=True)
    return str(empty)


def test_set_pipeline_says_when_fly_is_missing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", _path_without_fly(tmp_path))
    with pytest.raises(ConfigError, match=r"^fly not found on PATH: ") as err:
        concourse.set_pipeline("ci", "p", REPO / PIPELINE, tmp_path / "credentials.yml")
    assert "\n" not in str(err.value)


def test_set_pipeline_runs_fly_with_the_credentials(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    record = tmp_path / "argv"
    fly = bin_dir / "fly"
    fly.write_text(f'#!/bin/sh\nprintf "%s\\n" "$@" > {record}\n')
    fly.chmod(fly.stat().st_mode | stat.S_IXUSR)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    credentials = tmp_path / "credentials.yml"
    with pytest.raises(ConfigError, match=r"copy credentials\.example\.yml to it"):
        concourse.set_pipeline("ci", "redis-pipeline", REPO / PIPELINE, credentials)
    credentials.write_text("{}\n")
    concourse.set_pipeline("ci", "redis-pipeline", REPO / PIPELINE, credentials)
    expected = f"-t ci set-pipeline -p redis-pipeline -c {REPO / PIPELINE} -l {credentials}"
    assert record.read_text().splitlines() == expected.split()


def test_invoke_pipeline_set_without_fly_is_one_line(tmp_path: Path) -> None:
    env = {**os.environ, "PATH": _path_without_fly(tmp_path)}
    run = subprocess.run(
        [*INVOKE, "pipeline.set", "--target", "ci"],
        cwd=REPO,
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert run.returncode == 1
    assert run.stderr.strip().splitlines() == [run.stderr.strip()]
    assert run.stderr.startswith("error: fly not found on PATH")
