"""One function per link of the chain; ``tasks.py`` only parses flags and calls these.

Each step works on a ``Context`` (project, env settings, reporter) whose store, director and ledger
are opened lazily, so a step that needs no S3 or director never touches them.

Steps are the links (fetch, compose, pack, store, deploy one candidate, run tests, delete); what
strings them together behind the gates is ``promotion`` and ``chain``, which sit above this module.
So ``steps`` never imports ``promotion`` or ``chain`` (a test in tests/test_layout.py keeps it so).
"""

from __future__ import annotations

import dataclasses
import json
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

from boshpipe import candidate as cand
from boshpipe import spiff, yamlsafe
from boshpipe.director import NO_SUCH_DEPLOYMENT, Director, TaskResult, open_director
from boshpipe.director.flags import DeployFlags
from boshpipe.director.redact import Scrubber, one_line, redact_document, secret_values
from boshpipe.director.variables import resolve as resolve_variables
from boshpipe.environments import EnvConfig, load_env
from boshpipe.errors import (
    BoshpipeError,
    CandidateError,
    ConfigError,
    DirectorError,
    Interrupted,
    ManifestError,
    StoreError,
    TaskFailed,
)
from boshpipe.ledger import Ledger, Record, current_who, now_iso
from boshpipe.manifest import Manifest, render
from boshpipe.project import Project
from boshpipe.secrets import redis_password
from boshpipe.shape import Shaped, choose, prepare, publish, shape, shape_ops
from boshpipe.store import ArtifactStore, open_store
from boshpipe.store.candidates import (
    StoredCandidate,
    candidate_key,
    damage,
    load_candidate,
    store_candidate,
)
from boshpipe.store.candidates import replace_damaged as replace_candidate
from boshpipe.ui import Reporter

if TYPE_CHECKING:
    from boshpipe.checks import CheckReport
from boshpipe.upstream import ENV_OVERRIDE, OPS_ENV_OVERRIDE, UpstreamTree, fetch_upstream, materialize


@dataclass
class Context:
    project: Project
    env: EnvConfig
    out: Reporter
    flags: DeployFlags = field(default_factory=DeployFlags)
    """Deploy flags for every deploy this command makes (``--recreate``, ``--max-in-flight``...)."""
    break_freeze: str | None = None
    """``--break-freeze --reason TEXT``: the reason, when the person chose to break a freeze."""

    @classmethod
    def open(cls, env: str, out: Reporter | None = None, project: Project | None = None) -> Context:
        project = project or Project.discover()
        return cls(project=project, env=load_env(project, env), out=out or Reporter())

    @cached_property
    def store(self) -> ArtifactStore:
        return open_store(self.env.store or self.project.store, self.project.workdir)

    @cached_property
    def ledger(self) -> Ledger:
        """The env's ledger; every record appended through it is offered to ``notify:`` webhooks."""
        from boshpipe import notify

        config = notify.from_project(self.project)
        return Ledger(self.store, observer=notify.Notifier(config, self.out.line) if config.webhooks else None)

    @cached_property
    def director(self) -> Director:
        return open_director(self.env.director, self.project.workdir)

    @property
    def password(self) -> str:
        return redis_password(self.project.workdir, self.env.name)


# -- composition -------------------------------------------------------------------------------


def fetch(ctx: Context, source: str | None = None, *, keep: bool = False) -> UpstreamTree:
    env_var = OPS_ENV_OVERRIDE if ctx.env.composition == "ops" else ENV_OVERRIDE
    tree = fetch_upstream(ctx.env.upstream, ctx.project.workdir / "upstream", source, env_var)
    pin = f"commit {tree.commit}" if tree.commit else f"tree {tree.tree_sha256[:12]} (local directory)"
    ctx.out.line(f"upstream: {tree.source} at {pin}, {len(tree.files)} files")
    if keep:
        target = ctx.project.workdir / "upstream" / ctx.env.name
        materialize(tree, target / "tree")
        resolved = {
            "source": tree.source,
            "ref": tree.ref,
            "commit": tree.commit,
            "tree_sha256": tree.tree_sha256,
        }
        _write_atomic(target / "resolved.json", (json.dumps(resolved, indent=2) + "\n").encode())
        ctx.out.line(f"upstream: files in {target / 'tree'}, resolution in {target / 'resolved.json'}")
    return tree


def build_candidate(ctx: Context, source: str | None = None) -> bytes:
    """The candidate of the working tree: upstream + project templates and ops files + every env's files."""
    tree = fetch(ctx, source)
    project_files = _tree_files(ctx.project.templates_dir, f"project/{ctx.project.templates_dir.name}")
    project_files.update(_tree_files(ctx.project.root / "ops", "project/ops"))
    env_files: dict[str, bytes] = {}
    for env in ctx.project.environments:
        env_files.update(_tree_files(ctx.project.root / env / "pipeline", f"envs/{env}/pipeline"))
    return cand.build(
        tree,
        project_files,
        env_files,
        list(ctx.env.releases),
        built_for=ctx.env.name,
        built_by=current_who(),
        composition=ctx.env.composition,
    )


def tarball(ctx: Context, source: str | None = None, output: Path | None = None) -> Path:
    data = build_candidate(ctx, source)
    digest = cand.sha256(data)
    path = output or ctx.project.workdir / "candidates" / f"{ctx.project.candidate_name}-{digest[:12]}.tgz"
    _write_atomic(path, data)
    ctx.out.line(f"candidate: {path} ({len(data)} bytes, sha256 {digest})")
    return path


def upload(
    ctx: Context, path: Path | None = None, source: str | None = None, *, replace_damaged: bool = False
) -> StoredCandidate:
    """Store a candidate; ``replace_damaged`` puts back the stored copy of these bytes, once its damage is seen.

    Without the flag, content already stored is checked: a damaged stored copy is an error that
    says how to replace it (a plain "already stored" would leave deploys failing as tampered).
    """
    if path is not None:
        data = cand.read_file(path)
        cand.read(data, None, label=str(path))  # refuse a broken or unsafe archive before storing it
    else:
        data = build_candidate(ctx, source)
    if replace_damaged:
        stored, why = replace_candidate(ctx.store, ctx.project.candidate_name, data)
        ctx.out.line(f"candidate: {stored.key} was damaged ({why}); replaced with these bytes (sha256 {stored.sha256})")
        return stored
    stored = store_candidate(ctx.store, ctx.project.candidate_name, data)
    damaged = None if stored.created else damage(ctx.store, stored)
    if damaged is not None:
        flag = f" --file {path}" if path is not None else ""
        raise CandidateError(
            f"candidate {stored.ref} in {ctx.store.describe()} holds this content but its stored copy is damaged"
            f" ({damaged}): `invoke upload --env {ctx.env.name}{flag} --replace-damaged` puts these bytes back"
        )
    verb = "stored" if stored.created else "already stored (same sha256)"
    ctx.out.line(f"candidate: {stored.key} {verb} in {ctx.store.describe()}")
    return stored


def fetch_candidate(ctx: Context, number: int) -> tuple[StoredCandidate, cand.Candidate]:
    """A stored candidate, verified twice: the store's recorded sha256, then every file inside."""
    name = ctx.project.candidate_name
    data = load_candidate(ctx.store, name, number)
    stored = StoredCandidate(name, number, candidate_key(name, number), cand.sha256(data))
    return stored, cand.read(data, stored.sha256, label=stored.ref)


def compose(ctx: Context, candidate: cand.Candidate) -> Manifest:
    return render(ctx.env, candidate, ctx.password)


def vars_store(ctx: Context) -> Path | None:
    """The embedded director's vars store for this env; None on a real director (its config server)."""
    if ctx.env.director != "local":
        return None
    from boshpipe.opscompose import vars_store_path  # the ops engine is imported only by ops envs

    return vars_store_path(ctx.project.workdir, ctx.env.name)


def compose_ops(ctx: Context, candidate: cand.Candidate, version: str) -> Shaped:
    """An ops candidate composed for this env (generated values saved to the vars store, never shown)."""
    from boshpipe import opscompose

    composed = opscompose.compose(ctx.env, candidate, vars_store(ctx))
    for name in composed.generated:
        ctx.out.line(f"variable {name}: generated into {vars_store(ctx)} (mode 0600)")
    return shape_ops(ctx.env, composed.manifest, composed.cloud_config, version)


def ops_interpolate(
    ctx: Context, source: str | None = None, number: int | None = None, output: Path | None = None
) -> Manifest:
    """Print an ops env's composed manifest with secrets redacted, or write it whole (0600) to ``output``.

    The env's cloud config (``cloud_config_file``) follows as a second YAML document. A spiff
    candidate is refused with a pointer to ``spiff-merge``.
    """
    candidate = _candidate_for(ctx, source, number)
    if candidate.composition != "ops":
        raise ConfigError(
            f"{ctx.env.name}: the candidate holds a spiff composition: use `invoke spiff-merge --env {ctx.env.name}`"
        )
    shaped = compose_ops(ctx, candidate, "v2")
    return _show(ctx, shaped, output)


def _candidate_for(ctx: Context, source: str | None, number: int | None) -> cand.Candidate:
    if number is not None:
        return fetch_candidate(ctx, number)[1]
    return cand.read(build_candidate(ctx, source), None)


def _show(ctx: Context, shaped: Shaped, output: Path | None) -> Manifest:
    manifest = shaped.manifest
    documents = [manifest]
    if shaped.cloud_config is not None:
        documents.append(shaped.cloud_config)
    if output is not None:
        _write_atomic(output, "---\n".join(d.text for d in documents).encode(), mode=0o600)
        ctx.out.line(f"manifest: {output} (sha256 {manifest.sha256})")
    else:
        ctx.out.line("---\n".join(spiff.dump(redact_document(d.doc)) for d in documents).rstrip("\n"))
    return manifest


def spiff_merge(
    ctx: Context,
    source: str | None = None,
    number: int | None = None,
    output: Path | None = None,
    shape_as: str = "v1",
) -> Manifest:
    """Print the env's manifest with secrets redacted, or write it whole (mode 0600) to ``output``.

    ``shape_as="v2"`` gives the v2 manifest, followed (as a second YAML document) by the env's
    cloud config when ``cloud_config: generate``. No director is asked: the shape is named here.
    """
    if shape_as not in ("v1", "v2"):
        raise ConfigError(f"--shape {shape_as!r}: use v1 (the spiff composition) or v2 (manifest + cloud config)")
    candidate = _candidate_for(ctx, source, number)
    if candidate.composition == "ops":
        raise ConfigError(
            f"{ctx.env.name}: the candidate holds an ops composition: use `invoke ops-interpolate --env {ctx.env.name}`"
        )
    return _show(ctx, shape(ctx.env, compose(ctx, candidate), shape_as), output)


def shaped_for(ctx: Context, candidate: cand.Candidate) -> Shaped:
    """The candidate composed for this env (as candidate.json says it composes), in the director's shape."""
    if candidate.composition == "ops":
        return compose_ops(ctx, candidate, choose(ctx.env, ctx.director))
    return shape(ctx.env, compose(ctx, candidate), choose(ctx.env, ctx.director))


def dry_run(ctx: Context, candidate: cand.Candidate) -> TaskResult:
    """What deploying ``candidate`` would change: the named cloud config's diff, then the director's."""
    shaped = shaped_for(ctx, candidate)
    if shaped.cloud_config is not None and publish(ctx.env, ctx.director, shaped, ctx.out, diff_only=True):
        # the director would check the manifest against the cloud config it has now, not this one
        return TaskResult(
            id="",
            state="done",
            description="dry run",
            result=f"the manifest diff needs the new cloud config first: `invoke cloud-config --env {ctx.env.name}`",
        )
    return ctx.director.deploy(shaped.manifest.text, ctx.out.event, dry_run=True)


def cloud_config(ctx: Context, source: str | None = None, *, diff_only: bool = False) -> bool:
    """Show the env's named cloud config change and upload it (``--diff``: show only); True if it changed."""
    candidate = cand.read(build_candidate(ctx, source), None)
    if candidate.composition == "ops":
        shaped = compose_ops(ctx, candidate, "v2")
    else:
        shaped = shape(ctx.env, compose(ctx, candidate), "v2")
    if shaped.cloud_config is None:
        ctx.out.line(f"{ctx.env.name} uses the director's own cloud-config (cloud_config: existing): nothing to upload")
        return False
    return publish(ctx.env, ctx.director, shaped, ctx.out, diff_only=diff_only)


# -- deployment --------------------------------------------------------------------------------


def append(ctx: Context, record: Record) -> Record:
    """Append a record; the ledger folds it into the env's and the (env, candidate) pointers."""
    return ctx.ledger.append(record)


def deploy_candidate(
    ctx: Context,
    stored: StoredCandidate,
    candidate: cand.Candidate,
    *,
    kind: str = "deploy",
    details: dict[str, Any] | None = None,
) -> Record:
    """Render ``candidate`` for this env and deploy it; the record is appended whatever the outcome.

    What the director needs first (the named cloud config, stemcells) is put there before; a bad
    setting found then raises before anything is recorded, since nothing was deployed.
    """
    shaped = _composed_or_recorded(ctx, kind, stored, candidate)
    manifest = shaped.manifest
    verb = "resetting" if kind == "reset" else "deploying"
    where = ctx.director.describe()
    ctx.out.line(f"{verb} {ctx.env.deployment} with {stored.ref} on {where} (manifest {shaped.version})")
    started = now_iso()
    current = ctx.ledger.state(ctx.env.name).deployed
    if ctx.flags.any:
        ctx.out.line(f"deploy flags: {', '.join(f'{k}={v}' for k, v in ctx.flags.as_record().items())}")
    task = prepare(ctx.env, ctx.director, shaped, ctx.out)
    opened = record_started(ctx, kind, stored, manifest, current, {**shaped.details(), **(details or {})})
    if task is None:
        try:
            task = ctx.director.deploy(manifest.text, ctx.out.event, flags=ctx.flags)
        except TaskFailed as err:
            task = TaskResult(id=err.task_id or "", state="error", description=str(err))
        except BaseException as err:
            close_started(ctx, opened, err)
            raise
    reason = _reason(ctx, manifest, task)
    record = append_final(
        ctx,
        opened,
        Record(
            kind=kind,
            env=ctx.env.name,
            outcome="succeeded" if task.ok else "failed",
            candidate=stored.ref,
            candidate_sha256=stored.sha256,
            from_candidate=current,
            manifest_sha256=manifest.sha256,
            task_id=task.id,
            started=started,
            finished=now_iso(),
            details={
                "description": task.description,
                **({"reason": reason} if reason else {}),
                "director": ctx.director.describe(),
                **shaped.details(),
                **({"flags": ctx.flags.as_record()} if ctx.flags.any else {}),
                **(details or {}),
            },
        ),
    )
    if not task.ok:
        because = f": {reason}" if reason else ""
        raise TaskFailed(
            f"{kind} of {ctx.env.name} with {stored.ref} failed (task {task.id}, {task.state}): "
            f"{task.description}{because} [record {record.id}]",
            task.id,
        )
    ctx.out.line(f"task {task.id} done: {task.result or task.description} [record {record.id}]")
    return record


def _composed_or_recorded(ctx: Context, kind: str, stored: StoredCandidate, candidate: cand.Candidate) -> Shaped:
    """The candidate composed for this env; a composition that fails is a failed deploy, recorded.

    An ops file that does not apply or a variable with no value is found before the director is
    touched: nothing is deployed, and the failed record says why (``details.stage: compose``).
    """
    started = now_iso()
    try:
        return shaped_for(ctx, candidate)
    except (ManifestError, ConfigError) as err:
        record = append(
            ctx,
            Record(
                kind=kind,
                env=ctx.env.name,
                outcome="failed",
                candidate=stored.ref,
                candidate_sha256=stored.sha256,
                from_candidate=ctx.ledger.state(ctx.env.name).deployed,
                started=started,
                finished=now_iso(),
                details={"stage": "compose", "reason": one_line(str(err), 400), "composition": candidate.composition},
            ),
        )
        cls = ConfigError if isinstance(err, ConfigError) else ManifestError
        raise cls(f"{one_line(str(err), 1000)} (nothing deployed) [record {record.id}]") from None


def record_started(
    ctx: Context,
    kind: str,
    stored: StoredCandidate,
    manifest: Manifest,
    current: str | None,
    details: dict[str, Any] | None,
) -> Record:
    """Append the ``started`` record of a deploy, before the director is touched.

    It names the deployment, the director and the instance groups the manifest asks for, so a run
    killed at any later point (SIGKILL, the OOM killer, a full disk when the final record is due)
    leaves evidence of what may be running, and ``status`` shows the env as unknown.
    """
    return append(
        ctx,
        Record(
            kind=kind,
            env=ctx.env.name,
            outcome="started",
            candidate=stored.ref,
            candidate_sha256=stored.sha256,
            from_candidate=current,
            manifest_sha256=manifest.sha256,
            details={
                "deployment": ctx.env.deployment,
                "director": ctx.director.describe(),
                "instance_groups": _instance_groups(manifest.doc),
                **(details or {}),
            },
        ),
    )


def close_started(ctx: Context, opened: Record, err: BaseException) -> None:
    """A deploy stopped by ``err`` before it ended: record it as interrupted (a signal) or failed.

    Best effort: the record that cannot be written is added to ``err`` as a note, and ``err`` stays
    the error shown. The started record remains either way.
    """
    interrupted = isinstance(err, KeyboardInterrupt)
    task_id = err.task_id if isinstance(err, Interrupted | TaskFailed) else None
    task_state = err.task_state if isinstance(err, Interrupted) else None
    reason = err.signal_name if isinstance(err, Interrupted) else ("SIGINT" if interrupted else str(err))
    try:
        record = append(
            ctx,
            dataclasses.replace(
                opened,
                id="",
                outcome="interrupted" if interrupted else "failed",
                task_id=task_id,
                finished=now_iso(),
                details={
                    **opened.details,
                    "started_record": opened.id,
                    "description": f"interrupted by {reason}" if interrupted else reason,
                    **({"task_state": task_state} if task_state else {}),
                },
            ),
        )
    except (Exception, KeyboardInterrupt) as failure:
        err.add_note(
            f"the {opened.kind} could not be recorded as ended ({' '.join(str(failure).split())}); its started"
            f" record {opened.id} remains, so `invoke status` shows {ctx.env.name} as unknown"
        )
        return
    if interrupted:
        task = f"task {task_id} {task_state or 'left'}" if task_id else "no director task"
        err.add_note(
            f"{opened.kind} of {ctx.env.name} with {opened.candidate} recorded as interrupted ({task})"
            f" [record {record.id}]"
        )


def append_final(ctx: Context, opened: Record, record: Record) -> Record:
    """Append a deploy's final record; when that fails, say what ran and what the started record names."""
    try:
        return append(ctx, record)
    except BoshpipeError as err:
        raise StoreError(
            f"{record.kind} of {ctx.env.name} with {record.candidate} ended {record.outcome} (task {record.task_id})"
            f" but its record could not be written: {' '.join(str(err).split())}; the started record {opened.id}"
            f" names deployment {ctx.env.deployment}, so `invoke status` shows {ctx.env.name} as unknown:"
            f" deploy or destroy {ctx.env.name} once the store is writable"
        ) from err


def _instance_groups(doc: dict[str, Any]) -> dict[str, int]:
    """Instance group (v2) or job (v1) name → instance count, as the manifest asks."""
    groups = doc.get("instance_groups") or doc.get("jobs") or []
    found: dict[str, int] = {}
    for group in groups if isinstance(groups, list) else []:
        if isinstance(group, dict) and isinstance(group.get("name"), str):
            count = group.get("instances")
            found[group["name"]] = count if isinstance(count, int) and not isinstance(count, bool) else 0
    return found


def _reason(ctx: Context, manifest: Manifest, task: TaskResult) -> str:
    """The director's reason for a failed task (its ``result``), one line, secrets removed."""
    if task.ok or not task.result:
        return ""
    scrub = Scrubber([ctx.password, *secret_values(manifest.doc)])
    return one_line(scrub(task.result), 400)


def run_tests(ctx: Context, deployed: Record | None, names: tuple[str, ...]) -> list[CheckReport]:
    """Checks against what is deployed, each recorded against ``deployed``; the first failure stops."""
    from boshpipe.checks import acceptance, errand_name, smoke_test  # redis-py is imported only when checks run

    manifest = _deployed_manifest(ctx)
    state = ctx.ledger.state(ctx.env.name)
    checks: dict[str, Callable[[], CheckReport]] = {
        "smoke": lambda: smoke_test(ctx.director, ctx.env.deployment, manifest),
        "acceptance": lambda: acceptance(ctx.director, ctx.env.deployment, ctx.out.event, errand_name(manifest)),
    }
    reports = []
    for name in names:
        if name not in checks:
            raise ConfigError(f"{ctx.env.path}: tests: {name!r} runs only around an upgrade (integration-test)")
        started = now_iso()
        try:
            report = checks[name]()
        except DirectorError as err:  # the errand/listing task itself failed: a failed test, recorded
            report = _errored(name, ctx.env.deployment, err)
        for text in report.lines:
            ctx.out.line(f"  {name}: {text}")
        record = append(
            ctx,
            Record(
                kind="test",
                env=ctx.env.name,
                outcome="succeeded" if report.ok else "failed",
                candidate=deployed.candidate if deployed else state.deployed,
                candidate_sha256=deployed.candidate_sha256 if deployed else state.deployed_sha256,
                started=started,
                finished=now_iso(),
                details={
                    "test": name,
                    "deploy": deployed.id if deployed else state.last_good_deploy,
                    "figures": report.figures,
                },
            ),
        )
        reports.append(report)
        report.raise_for_failure()
        ctx.out.line(f"{name} test of {ctx.env.deployment}: passed [record {record.id}]")
    return reports


def _errored(name: str, deployment: str, err: DirectorError) -> CheckReport:
    from boshpipe.checks import CheckReport

    task_id = getattr(err, "task_id", None)
    figures: dict[str, Any] = {"task_id": task_id} if task_id else {}
    return CheckReport(f"{name} test", False, [f"FAIL {err}"], figures, deployment)


def post_deploy_tests(ctx: Context) -> tuple[str, ...]:
    return tuple(t for t in ctx.env.tests if t != "integration")


def smoke(ctx: Context) -> list[CheckReport]:
    with ctx.ledger.lock(ctx.env.name, "smoke-test"):
        return run_tests(ctx, None, post_deploy_tests(ctx))


def destroy(ctx: Context) -> None:
    """Delete the env's deployment; say "deleted" only when the director deleted something."""
    with ctx.ledger.lock(ctx.env.name, "destroy"):
        record = delete_deployment(ctx)
    result = str(record.details.get("result") or "")
    if NO_SUCH_DEPLOYMENT in result:
        ctx.out.line(f"{ctx.env.deployment}: nothing to delete ({result}) on {ctx.director.describe()}")
    else:
        ctx.out.line(f"{ctx.env.deployment} deleted ({result or 'done'}) [record {record.id}]")


def delete_deployment(ctx: Context, details: dict[str, Any] | None = None) -> Record:
    """Delete the env's deployment and record it as a destroy, whatever the outcome (caller holds the lock).

    A failed delete is recorded too, then raised, so the ledger never claims a deployment is gone
    when it is not.
    """
    started = now_iso()
    task = ctx.director.delete_deployment(ctx.env.deployment, ctx.out.event)
    record = append(
        ctx,
        Record(
            kind="destroy",
            env=ctx.env.name,
            outcome="succeeded" if task.ok else "failed",
            from_candidate=ctx.ledger.state(ctx.env.name).deployed,
            task_id=task.id,
            started=started,
            finished=now_iso(),
            details={**(details or {}), "result": task.result},
        ),
    )
    if not task.ok:
        raise TaskFailed(
            f"deleting {ctx.env.deployment} failed (task {task.id}): {task.description} [record {record.id}]", task.id
        )
    return record


def _deployed_manifest(ctx: Context) -> dict[str, Any]:
    text = ctx.director.deployed_manifest(ctx.env.deployment)
    if text is None:
        raise DirectorError(
            f"{ctx.env.deployment} is not deployed on {ctx.director.describe()}: "
            f"run `invoke deploy --env {ctx.env.name}`"
        )
    doc = yamlsafe.safe_load(text, f"the manifest of {ctx.env.deployment}", error=DirectorError)
    if not isinstance(doc, dict):
        raise DirectorError(f"{ctx.env.deployment}: the director returned a manifest that is not a mapping")
    resolved: dict[str, Any] = resolve_variables(doc, ctx.director, ctx.env.deployment)  # config server's ((vars))
    return resolved


def _tree_files(folder: Path, prefix: str) -> dict[str, bytes]:
    if not folder.is_dir():
        return {}
    return {
        f"{prefix}/{path.relative_to(folder).as_posix()}": path.read_bytes()
        for path in sorted(folder.rglob("*.yml"))
        if path.is_file() and not path.is_symlink()
    }


def _write_atomic(path: Path, data: bytes, mode: int = 0o644) -> None:
    """Write via a temp file and rename, so nobody ever sees half a file.

    Any failure (a directory named as the output, no permission, a full disk) is one line naming
    the path; the temp file is removed and whatever was at ``path`` stays as it was.
    """
    if path.is_dir():
        raise ConfigError(f"{path}: is a directory: give a file name to write to")
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{time.monotonic_ns()}.tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
            os.replace(tmp, path)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
    except OSError as err:
        raise ConfigError(f"{path}: cannot write ({err.strerror or err}): choose a writable file path") from None
