"""``check``: every problem of the pipeline files against what the repository holds.

The invoke tasks (``catalogue``), the envs and their gate rules (``boshpipe.yml``, ``<env>/env.yml``)
and the credentials people may supply (``credentials.example.yml``); one ``Problem`` per line.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from boshpipe.concourse.catalogue import InvokeCall, TaskCatalogue, load_tasks
from boshpipe.concourse.pipeline import (
    CORE_RESOURCE_TYPES,
    CREDENTIALS_EXAMPLE,
    HOOKS,
    JOB_KEYS,
    MODIFIERS,
    STEP_KEYS,
    TASK_CONFIG_KEYS,
    TOP_LEVEL_KEYS,
    Job,
    Problem,
    Step,
    named,
    read_yaml,
    resource_of,
)
from boshpipe.concourse.shell import expand, invoke_commands
from boshpipe.environments import EnvConfig, load_env
from boshpipe.errors import ConfigError
from boshpipe.project import Project

# Tasks that never change a deployment, so their jobs need no env serial group. Every other task,
# including any added to tasks.py later, counts as changing the env its --env names: a new task is
# serialised until someone lists it here on purpose.
READ_ONLY_TASKS = frozenset(
    [
        "fetch-upstream", "spiff-merge", "ops-interpolate", "tarball", "upload",
        "status", "history", "gates", "drift", "report",
    ]
)
SECRET_NAME = re.compile(r"secret|passw|token|credential|private|access_key|api_key|(^|_)key$", re.I)
SECRET_TEXT = re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----|\bAKIA[0-9A-Z]{16}\b")
VAR = re.compile(r"\(\(\s*([^()]+?)\s*\)\)")
ONLY_VAR = re.compile(r"^\s*\(\(\s*[^()]+?\s*\)\)\s*$")


@dataclass
class _Repo:
    """What the repository holds that a pipeline must agree with."""

    root: Path
    tasks: TaskCatalogue
    project: Project
    envs: dict[str, EnvConfig]
    credentials: dict[str, Any]


def check(
    paths: Sequence[Path], root: Path | None = None, tasks: TaskCatalogue | None = None
) -> list[Problem]:
    """Every problem of the given pipeline files, sorted; empty when they are all fine.

    ``root`` is the repository (default: the project holding the first file); ``tasks`` the
    invoke collection to check commands against (default: ``root/tasks.py``).
    Raises ConfigError only when the repository itself cannot be read (tasks.py, boshpipe.yml).
    """
    root = (root or Project.discover(Path(paths[0]).resolve().parent if paths else None).root).resolve()
    project = Project.load(root)
    problems: list[Problem] = []
    envs: dict[str, EnvConfig] = {}
    for env in project.environments:
        try:
            envs[env] = load_env(project, env)
        except ConfigError as err:
            problems.append(Problem(relative(root, project.env_dir(env) / "env.yml"), "", str(err)))
    credentials: dict[str, Any] = {}
    example = root / CREDENTIALS_EXAMPLE
    try:
        loaded = read_yaml(example)
        credentials = loaded if isinstance(loaded, dict) else {}
        if not isinstance(loaded, dict):
            problems.append(Problem(CREDENTIALS_EXAMPLE, "", "expected a mapping of var name to placeholder"))
    except FileNotFoundError:
        problems.append(
            Problem(CREDENTIALS_EXAMPLE, "", "file not found: it lists every ((var)) of the pipelines")
        )
    except yaml.YAMLError as err:
        problems.append(Problem(CREDENTIALS_EXAMPLE, "", f"invalid YAML: {err}"))
    repo = _Repo(root, tasks or load_tasks(root), project, envs, credentials)
    for path in paths:
        problems.extend(_PipelineCheck(repo, Path(path)).run())
    return sorted(set(problems))


def relative(root: Path, path: Path) -> str:
    try:
        return path.resolve().relative_to(root).as_posix()
    except ValueError:
        return str(path)


class _PipelineCheck:
    """The checks of one pipeline file; collects problems instead of stopping at the first."""

    def __init__(self, repo: _Repo, path: Path) -> None:
        self.repo = repo
        self.path = path
        self.file = relative(repo.root, path)
        self.problems: list[Problem] = []
        self.resources: dict[str, dict[str, Any]] = {}
        self.jobs: dict[str, Job] = {}

    def add(self, where: str, message: str, file: str | None = None) -> None:
        self.problems.append(Problem(file or self.file, where, message))

    def run(self) -> list[Problem]:
        try:
            data = read_yaml(self.path)
        except FileNotFoundError:
            self.add("", "file not found")
            return self.problems
        except yaml.YAMLError as err:
            self.add("", f"invalid YAML: {err}".replace("\n", " "))
            return self.problems
        if not isinstance(data, dict):
            self.add("", "expected a mapping with resources and jobs")
            return self.problems
        for key in data:
            if key not in TOP_LEVEL_KEYS:
                self.add(
                    str(key), f"unknown top-level key; Concourse knows {', '.join(sorted(TOP_LEVEL_KEYS))}"
                )
        self._vars(data, "", self.file, interpolated=True)
        self._secrets(data, "")
        self._resources(data)
        self._jobs(data)
        self._groups(data)
        self._serial_groups()
        self._gates()
        return self.problems

    # -- ((vars)) and secrets ------------------------------------------------------------------

    def _vars(self, node: Any, where: str, file: str, *, interpolated: bool) -> None:
        """Every ((var)) must be listed in credentials.example.yml (or, in a task file, absent)."""
        for path, text in _strings(node, where):
            for match in VAR.finditer(text):
                name = match.group(1)
                if not interpolated:
                    self.add(
                        path,
                        f"(({name})) in a task file is not filled in by `fly set-pipeline -l`: "
                        "pass the value as a step param in the pipeline instead",
                        file,
                    )
                elif not _listed(self.repo.credentials, name):
                    self.add(path, f"(({name})) is not listed in {CREDENTIALS_EXAMPLE}", file)

    def _secrets(self, node: Any, where: str, file: str | None = None) -> None:
        """A secret-looking key must get its value from a ((var)); secret-looking text never appears."""
        for path, key, value in _items(node, where):
            if isinstance(value, str) and SECRET_TEXT.search(value):
                self.add(path, "looks like a private key or an AWS access key: use a ((var))", file)
            elif (
                SECRET_NAME.search(key)
                and isinstance(value, str | int | float)
                and not isinstance(value, bool)
                and str(value).strip()
                and not ONLY_VAR.match(str(value))
            ):
                self.add(
                    path,
                    f"{key} holds a literal value: secrets come from credentials as (({_var_name(key)}))",
                    file,
                )

    # -- resources, jobs, steps -----------------------------------------------------------------

    def _resources(self, data: dict[str, Any]) -> None:
        messages: list[tuple[str, str]] = []
        types = named(data.get("resource_types"), "resource_types", "resource_types", messages)
        self.resources = named(data.get("resources"), "resources", "resources", messages)
        for where, message in messages:
            self.add(where, message)
        for name, resource in self.resources.items():
            kind = resource.get("type")
            if kind not in CORE_RESOURCE_TYPES and kind not in types:
                self.add(
                    f"resources[{name}].type", f"unknown resource type {kind!r}: declare it in resource_types"
                )
            self._upstream_pin(name, resource)
            self._candidate_regexp(name, resource)

    def _upstream_pin(self, name: str, resource: dict[str, Any]) -> None:
        """A git resource of an env's upstream URL must be pinned at that env's ref."""
        source = resource.get("source") or {}
        if resource.get("type") != "git" or not isinstance(source, dict):
            return
        version = resource.get("version")
        pin = version.get("ref") if isinstance(version, dict) else None
        for env in self.repo.envs.values():
            if source.get("uri") == env.upstream.url and pin != env.upstream.ref:
                self.add(
                    f"resources[{name}].version.ref",
                    f"{env.name}/env.yml pins upstream at {env.upstream.ref}; the resource has {pin!r}",
                )

    def _candidate_regexp(self, name: str, resource: dict[str, Any]) -> None:
        """The s3 resource of candidates must see exactly the store's candidate names."""
        source = resource.get("source") or {}
        regexp = source.get("regexp") if isinstance(source, dict) else None
        if resource.get("type") != "s3" or not isinstance(regexp, str) or "candidates/" not in regexp:
            return
        wanted = re.escape(self.repo.project.candidate_name)
        # after the bucket's prefix: nothing, a slash, or a ((var)) holding one
        if not re.search(rf"(^|/|\)\))candidates/{wanted}-\(\.\*\)\\?\.tgz$", regexp):
            self.add(
                f"resources[{name}].source.regexp",
                f"expected candidates/{self.repo.project.candidate_name}-(.*).tgz (the store's names; "
                "the version is the first capture group)",
            )

    def _jobs(self, data: dict[str, Any]) -> None:
        messages: list[tuple[str, str]] = []
        bodies = named(data.get("jobs"), "jobs", "jobs", messages)
        for where, message in messages:
            self.add(where, message)
        for name, body in bodies.items():
            job = Job(name, f"jobs[{name}]", body)
            for key in body:
                if key not in JOB_KEYS:
                    self.add(f"{job.path}.{key}", "unknown job key")
            self.jobs[name] = job
        for job in self.jobs.values():
            plan = job.body.get("plan")
            if not isinstance(plan, list):
                self.add(f"{job.path}.plan", "expected a list of steps")
                continue
            available = self._plan(job, plan, f"{job.path}.plan", frozenset())
            for hook in HOOKS:
                if hook in job.body:
                    self._step(job, job.body[hook], f"{job.path}.{hook}", available)
        for job in self.jobs.values():
            for step in job.steps:
                if step.kind == "get":
                    self._passed(job, step)

    def _plan(self, job: Job, steps: list[Any], where: str, available: frozenset[str]) -> frozenset[str]:
        for index, step in enumerate(steps):
            available = self._step(job, step, f"{where}[{index}]", available)
        return available

    def _step(self, job: Job, body: Any, where: str, available: frozenset[str]) -> frozenset[str]:
        """Checks one step; returns the artifacts visible after it."""
        if not isinstance(body, dict):
            self.add(where, "expected a step mapping")
            return available
        kinds = [k for k in STEP_KEYS if k in body]
        if len(kinds) != 1:
            self.add(where, f"a step needs exactly one of {', '.join(STEP_KEYS)}")
            return available
        kind = kinds[0]
        for key in body:
            if key not in STEP_KEYS[kind] and key not in MODIFIERS:
                self.add(f"{where}.{key}", f"unknown key for a {kind} step")
        step = Step(where, body, kind, available)
        job.steps.append(step)
        after = available
        if kind in ("get", "put"):
            resource = resource_of(step)
            if resource not in self.resources:
                self.add(f"{where}.{kind}", f"resource {resource!r} is not declared under resources")
            if kind == "get" or not body.get("no_get"):
                after = available | {str(body[kind])}
        elif kind == "task":
            after = available | self._task(job, step)
        elif kind in ("do", "in_parallel"):
            inner = body[kind]
            if kind == "in_parallel" and isinstance(inner, dict):
                inner = inner.get("steps")
            if not isinstance(inner, list):
                self.add(f"{where}.{kind}", "expected a list of steps")
            else:
                after = self._plan(job, inner, f"{where}.{kind}", available)
        elif kind == "try":
            after = self._step(job, body["try"], f"{where}.try", available)
        for hook in HOOKS:
            if hook in body:
                self._step(job, body[hook], f"{where}.{hook}", after)
        return after

    def _passed(self, job: Job, step: Step) -> None:
        passed = step.body.get("passed")
        if passed is None:
            return
        if not isinstance(passed, list):
            self.add(f"{step.path}.passed", "expected a list of job names")
            return
        resource = resource_of(step)
        for name in passed:
            other = self.jobs.get(name)
            if other is None:
                self.add(f"{step.path}.passed", f"job {name!r} does not exist")
            elif resource not in other.resources():
                self.add(f"{step.path}.passed", f"job {name!r} never gets or puts {resource!r}")

    # -- tasks ------------------------------------------------------------------------------------

    def _task(self, job: Job, step: Step) -> frozenset[str]:
        """Checks a task step (inline config or file); returns the outputs it adds."""
        body, where = step.body, step.path
        config: Any = body.get("config")
        file, config_where = self.file, f"{where}.config"
        if ("config" in body) == ("file" in body):
            self.add(where, "a task step needs exactly one of config or file")
            return frozenset()
        if "file" in body:
            config, file = self._task_file(where, body["file"])
            config_where = ""
            if config is None:
                return frozenset()
        if not isinstance(config, dict):
            self.add(config_where or "", "expected a task config mapping", file)
            return frozenset()

        def at(key: str) -> str:
            return f"{config_where}.{key}" if config_where else key

        for key in config:
            if key not in TASK_CONFIG_KEYS:
                self.add(at(key), "unknown task config key", file)
        if config.get("platform") not in ("linux", "darwin", "windows"):
            self.add(at("platform"), "expected linux, darwin or windows", file)
        image = body.get("image")
        if image is not None and image not in step.available:
            self.add(f"{where}.image", f"image {image!r} is not fetched by an earlier get in this job")
        if image is None and "image_resource" not in config and "rootfs_uri" not in config:
            self.add(where, "no image: set image_resource in the task config or image: on the step", file)
        if "file" in body:
            self._vars(config, "", file, interpolated=False)
            self._secrets(config, "", file)
        mapping = body.get("input_mapping") or {}
        for index, item in enumerate(config.get("inputs") or []):
            name = item.get("name") if isinstance(item, dict) else None
            if not isinstance(name, str):
                self.add(at(f"inputs[{index}]"), "every input needs a name", file)
                continue
            if not item.get("optional") and mapping.get(name, name) not in step.available:
                self.add(
                    f"{where}",
                    f"input {mapping.get(name, name)!r} is not provided by an earlier get or task output",
                )
        run = config.get("run")
        if not isinstance(run, dict) or not isinstance(run.get("path"), str):
            self.add(at("run"), "expected run.path (and run.args)", file)
            return frozenset()
        params = {**_strings_only(config.get("params")), **_strings_only(body.get("params"))}
        for argv in invoke_commands(run):
            resolved = [expand(token, params) for token in argv]
            calls, errors = self.repo.tasks.parse(resolved)
            command = "invoke " + " ".join(argv)
            for error in errors:
                self.add(f"{where}", f"`{command}`: {error}")
            for call in calls:
                self._env_flag(where, command, call)
                job.calls.append((where, call))
        outputs = {str(o.get("name")) for o in config.get("outputs") or [] if isinstance(o, dict)}
        out_map = body.get("output_mapping") or {}
        return frozenset(out_map.get(name, name) for name in outputs)

    def _task_file(self, where: str, value: Any) -> tuple[Any, str]:
        """The config of ``file: <artifact>/<path>``: the artifact is this repository."""
        if not isinstance(value, str) or "/" not in value:
            self.add(f"{where}.file", "expected <artifact>/<path to the task file>")
            return None, self.file
        local = self.repo.root / value.split("/", 1)[1]
        file = relative(self.repo.root, local)
        try:
            return read_yaml(local), file
        except FileNotFoundError:
            self.add(f"{where}.file", f"{file} does not exist in this repository")
        except yaml.YAMLError as err:
            self.add("", f"invalid YAML: {err}".replace("\n", " "), file)
        return None, file

    def _env_flag(self, where: str, command: str, call: InvokeCall) -> None:
        env = call.values.get("env")
        if "env" in call.values and env is not None and env not in self.repo.project.environments:
            known = ", ".join(self.repo.project.environments)
            self.add(where, f"`{command}`: --env {env!r} is not an env of this project ({known})")

    # -- groups, serialisation, gates ----------------------------------------------------------

    def _groups(self, data: dict[str, Any]) -> None:
        messages: list[tuple[str, str]] = []
        groups = named(data.get("groups"), "groups", "groups", messages)
        for where, message in messages:
            self.add(where, message)
        grouped: set[str] = set()
        for name, group in groups.items():
            for job in group.get("jobs") or []:
                grouped.add(job)
                if job not in self.jobs and "*" not in job:
                    self.add(f"groups[{name}].jobs", f"job {job!r} does not exist")
        if groups:
            for job in self.jobs:
                if job not in grouped and not any("*" in g for g in grouped):
                    self.add(f"jobs[{job}]", "job is in no group: Concourse would hide it")

    def _acting_on(self, env: str) -> list[Job]:
        """Jobs that change ``env``: they run a task other than a read-only one with --env env."""
        return [
            job
            for job in self.jobs.values()
            if any(c.values.get("env") == env and c.task not in READ_ONLY_TASKS for _, c in job.calls)
        ]

    def _serial_groups(self) -> None:
        """Two builds must never change one env at once: each env's jobs share its serial group."""
        for env in self.repo.project.environments:
            for job in self._acting_on(env):
                if env not in job.serial_groups:
                    self.add(
                        f"{job.path}.serial_groups",
                        f"the job changes {env} but is not in serial group {env!r} "
                        f"(every job that changes {env} must be, so their builds never overlap)",
                    )

    def _gates(self) -> None:
        """The candidate's ``passed:`` constraints must say what each env's gate rules say.

        ``passed:`` is an AND over jobs, so it can express ``all_of`` but not ``any_of`` over
        several envs: there the job must take any candidate and leave the choice to the gate in
        the task (the ledger). Stricter is as wrong as looser: it would refuse candidates the
        rules admit.
        """
        deploys = {env: {j.name for j in self._acting_on(env)} for env in self.repo.project.environments}
        for env, config in self.repo.envs.items():
            rules = config.rules
            # all_of (or a single env) becomes passed: [those jobs]; any_of cannot be a passed:
            required = set(rules.succeeded_in) if rules.mode == "all_of" or len(rules.succeeded_in) == 1 else set()
            for job in self.jobs.values():
                if job.name not in deploys[env]:
                    continue
                for step in job.steps:
                    if step.kind != "get" or not self._is_candidates(resource_of(step)):
                        continue
                    passed = step.body.get("passed") or []
                    if not isinstance(passed, list):
                        continue  # reported by _passed
                    covered = {e for e, jobs in deploys.items() if set(passed) & jobs and e != env}
                    rule = f"{env}/env.yml accepts.succeeded_in: {{{rules.mode}: {list(rules.succeeded_in)}}}"
                    if covered and not required:
                        self.add(
                            f"{step.path}.passed",
                            f"passed: is an AND over {sorted(passed)}, stricter than {rule}: "
                            "take any candidate here and let the task's gate decide",
                        )
                    elif covered != required:
                        self.add(
                            f"{step.path}.passed",
                            f"must name the jobs that deploy {sorted(required)} (and no other env) "
                            f"to match {rule}",
                        )

    def _is_candidates(self, name: str) -> bool:
        resource = self.resources.get(name) or {}
        source = resource.get("source") or {}
        return resource.get("type") == "s3" and "candidates/" in str(source.get("regexp", ""))


# -- small helpers ------------------------------------------------------------------------------


def _strings(node: Any, where: str) -> Iterator[tuple[str, str]]:
    """Every string in a YAML tree (keys included), with its path."""
    if isinstance(node, str):
        yield where, node
    elif isinstance(node, dict):
        for key, value in node.items():
            path = _child(where, node, key)
            if isinstance(key, str):
                yield path, key
            yield from _strings(value, path)
    elif isinstance(node, list):
        for index, item in enumerate(node):
            yield from _strings(item, _child(where, node, index))


def _items(node: Any, where: str) -> Iterator[tuple[str, str, Any]]:
    """Every (path, key, value) of every mapping in a YAML tree."""
    if isinstance(node, dict):
        for key, value in node.items():
            path = _child(where, node, key)
            yield path, str(key), value
            yield from _items(value, path)
    elif isinstance(node, list):
        for index, item in enumerate(node):
            yield from _items(item, _child(where, node, index))


def _child(where: str, parent: Any, key: Any) -> str:
    if isinstance(parent, list):
        item = parent[key]
        label = item.get("name") if isinstance(item, dict) and isinstance(item.get("name"), str) else key
        return f"{where}[{label}]"
    return f"{where}.{key}" if where else str(key)


def _listed(credentials: Mapping[str, Any], name: str) -> bool:
    """``((name))`` or ``((name.field))`` resolvable from the example credentials."""
    if ":" in name:
        return True  # ((source:var)) comes from a var_source, not from credentials.yml
    head, *fields = name.split(".")
    node: Any = credentials
    for part in (head, *fields):
        if not isinstance(node, dict) or part not in node:
            return False
        node = node[part]
    return True


def _var_name(key: str) -> str:
    return key.lower().replace("_", "-")


def _strings_only(params: Any) -> dict[str, str]:
    if not isinstance(params, dict):
        return {}
    return {str(k): str(v) for k, v in params.items() if isinstance(v, str | int | float) and v != ""}
