"""One function per link of the chain; ``tasks.py`` only parses flags and calls these.

Each step works on a ``Context`` (project, env settings, reporter) whose store, director and ledger
are opened lazily, so a step that needs no S3 or director never touches them.

Steps are the links (fetch, compose, pack, store, deploy one candidate, run tests, delete); what
strings them together behind the gates is ``promotion`` and ``chain``, which sit above this module.
So ``steps`` never imports ``promotion`` or ``chain`` (a test in tests/test_layout.py keeps it so).
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

from boshpipe import candidate as cand
from boshpipe import spiff, yamlsafe
from boshpipe.director import Director, TaskResult, open_director
from boshpipe.director.redact import redact_document
from boshpipe.environments import EnvConfig, load_env
from boshpipe.errors import ConfigError, DirectorError, TaskFailed
from boshpipe.ledger import Ledger, Record, current_who, now_iso
from boshpipe.manifest import Manifest, render
from boshpipe.project import Project
from boshpipe.secrets import redis_password
from boshpipe.store import ArtifactStore, open_store
from boshpipe.store.candidates import (
    StoredCandidate,
    candidate_key,
    load_candidate,
    store_candidate,
)
from boshpipe.ui import Reporter

if TYPE_CHECKING:
    from boshpipe.checks import CheckReport
from boshpipe.upstream import UpstreamTree, fetch_upstream, materialize


@dataclass
class Context:
    project: Project
    env: EnvConfig
    out: Reporter

    @classmethod
    def open(cls, env: str, out: Reporter | None = None, project: Project | None = None) -> Context:
        project = project or Project.discover()
        return cls(project=project, env=load_env(project, env), out=out or Reporter())

    @cached_property
    def store(self) -> ArtifactStore:
        return open_store(self.env.store or self.project.store, self.project.workdir)

    @cached_property
    def ledger(self) -> Ledger:
        return Ledger(self.store)

    @cached_property
    def director(self) -> Director:
        return open_director(self.env.director, self.project.workdir)

    @property
    def password(self) -> str:
        return redis_password(self.project.workdir, self.env.name)


# -- composition -------------------------------------------------------------------------------


def fetch(ctx: Context, source: str | None = None, *, keep: bool = False) -> UpstreamTree:
    tree = fetch_upstream(ctx.env.upstream, ctx.project.workdir / "upstream", source)
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
    """The candidate of the working tree: upstream + project templates + every env's stubs."""
    tree = fetch(ctx, source)
    project_files = _tree_files(ctx.project.templates_dir, f"project/{ctx.project.templates_dir.name}")
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
    )


def tarball(ctx: Context, source: str | None = None, output: Path | None = None) -> Path:
    data = build_candidate(ctx, source)
    digest = cand.sha256(data)
    path = output or ctx.project.workdir / "candidates" / f"{ctx.project.candidate_name}-{digest[:12]}.tgz"
    _write_atomic(path, data)
    ctx.out.line(f"candidate: {path} ({len(data)} bytes, sha256 {digest})")
    return path


def upload(ctx: Context, path: Path | None = None, source: str | None = None) -> StoredCandidate:
    if path is not None:
        data = cand.read_file(path)
        cand.read(data, None, label=str(path))  # refuse a broken or unsafe archive before storing it
    else:
        data = build_candidate(ctx, source)
    stored = store_candidate(ctx.store, ctx.project.candidate_name, data)
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


def spiff_merge(
    ctx: Context, source: str | None = None, number: int | None = None, output: Path | None = None
) -> Manifest:
    """Print the env's manifest with secrets redacted, or write it whole (mode 0600) to ``output``."""
    if number is not None:
        _, candidate = fetch_candidate(ctx, number)
    else:
        candidate = cand.read(build_candidate(ctx, source), None)
    manifest = compose(ctx, candidate)
    if output is not None:
        _write_atomic(output, manifest.text.encode(), mode=0o600)
        ctx.out.line(f"manifest: {output} (sha256 {manifest.sha256})")
    else:
        ctx.out.line(spiff.dump(redact_document(manifest.doc)).rstrip("\n"))
    return manifest


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
    """Render ``candidate`` for this env and deploy it; the record is appended whatever the outcome."""
    manifest = compose(ctx, candidate)
    verb = "resetting" if kind == "reset" else "deploying"
    ctx.out.line(f"{verb} {ctx.env.deployment} with {stored.ref} on {ctx.director.describe()}")
    started = now_iso()
    current = ctx.ledger.state(ctx.env.name).deployed
    try:
        task = ctx.director.deploy(manifest.text, ctx.out.event)
    except TaskFailed as err:
        task = TaskResult(id=err.task_id or "", state="error", description=str(err))
    record = append(
        ctx,
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
            details={"description": task.description, "director": ctx.director.describe(), **(details or {})},
        ),
    )
    if not task.ok:
        raise TaskFailed(
            f"{kind} of {ctx.env.name} with {stored.ref} failed (task {task.id}, {task.state}): "
            f"{task.description} [record {record.id}]",
            task.id,
        )
    ctx.out.line(f"task {task.id} done: {task.result or task.description} [record {record.id}]")
    return record


def run_tests(ctx: Context, deployed: Record | None, names: tuple[str, ...]) -> list[CheckReport]:
    """Checks against what is deployed, each recorded against ``deployed``; the first failure stops."""
    from boshpipe.checks import acceptance, smoke_test  # redis-py is only imported when checks run

    manifest = _deployed_manifest(ctx)
    state = ctx.ledger.state(ctx.env.name)
    checks: dict[str, Callable[[], CheckReport]] = {
        "smoke": lambda: smoke_test(ctx.director, ctx.env.deployment, manifest),
        "acceptance": lambda: acceptance(ctx.director, ctx.env.deployment, ctx.out.event),
    }
    reports = []
    for name in names:
        if name not in checks:
            raise ConfigError(f"{ctx.env.path}: tests: {name!r} runs only around an upgrade (integration-test)")
        started = now_iso()
        report = checks[name]()
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


def post_deploy_tests(ctx: Context) -> tuple[str, ...]:
    return tuple(t for t in ctx.env.tests if t != "integration")


def smoke(ctx: Context) -> list[CheckReport]:
    with ctx.ledger.lock(ctx.env.name, "smoke-test"):
        return run_tests(ctx, None, post_deploy_tests(ctx))


def destroy(ctx: Context) -> None:
    with ctx.ledger.lock(ctx.env.name, "destroy"):
        delete_deployment(ctx)
    ctx.out.line(f"{ctx.env.deployment} deleted")


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
            details=details or {},
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
    return doc


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
