"""The embedded default director: real redis-server processes on loopback twins of manifest IPs.

It exists so the whole chain can be watched working on one machine before a BOSH director is
involved, so it behaves like a director wherever the chain can tell: v1 and v2 manifests, named
cloud configs (merged, and v2 manifests checked against them in a v270 director's words), IP
reservations and conflicts, canaries and watch times, task ids, events, errands; a failed task's
``result`` carries the reason, as a director's does. Everything it knows
lives in ``state_dir`` so any later process (``smoke-test``, ``status``, ``destroy``) finds the
instances the deploying process started.

Modules: ``boshpipe.director.groups`` (manifest reading), ``net`` (addresses), ``plan`` (what to
run), ``cloud`` (named cloud configs), ``rollout`` (canaries/batches), ``redisproc`` (processes),
``state`` (files and locks), ``task`` (task ids and events), ``errand`` (the acceptance-tests errand).
"""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Any

import redis

from boshpipe.director.flags import DeployFlags
from boshpipe.director.groups import JobSpec, load_manifest, read_jobs
from boshpipe.director.local.cloud import ConfigStore, diff_lines, merge, parse, validate_v2
from boshpipe.director.local.errand import acceptance_tests
from boshpipe.director.local.migrate import migrated, move_disks
from boshpipe.director.local.net import Assignments, read_networks
from boshpipe.director.local.plan import BOOTSTRAP_INDEX, ERRAND_TEMPLATES, plan, resolve_address
from boshpipe.director.local.redisproc import alive, client, find_binary, processes_under, stop
from boshpipe.director.local.rollout import Record, Rollout, target
from boshpipe.director.local.state import StateDir
from boshpipe.director.local.task import Task
from boshpipe.director.protocol import (
    NO_SUCH_DEPLOYMENT,
    DirectorInfo,
    ErrandResult,
    EventSink,
    Instance,
    Stemcell,
    TaskResult,
)
from boshpipe.director.refusals import v1_refusal
from boshpipe.errors import DirectorError, Interrupted

# It validates and runs v2 manifests against named cloud configs as directors do since v270, so
# `manifest: auto` gives it v2; it still takes v1 manifests (`manifest: v1`).
VERSION = "270.0.0 (embedded local director)"


class LocalDirector:
    def __init__(self, state_dir: Path) -> None:
        self.state_dir = Path(state_dir)
        self._state = StateDir(self.state_dir)
        self._configs = ConfigStore(self.state_dir)

    def describe(self) -> str:
        return f"local director at {self.state_dir}"

    def deploy(
        self, manifest: str, on_event: EventSink, *, dry_run: bool = False, flags: DeployFlags | None = None
    ) -> TaskResult:
        """Deploy; ``flags``: recreate restarts every instance, canaries/max_in_flight replace the
        manifest's ``update`` values; fix and skip_drain change nothing here (a dead instance is always
        restarted, and the redis job has no drain script)."""
        data = load_manifest(manifest)
        name = str(data["name"])
        deployment_dir = self._state.deployment_dir(name)
        binary = find_binary()  # before anything is written: a missing binary changes nothing
        task = Task(self._state, on_event, "deploy")
        record: Record | None = None
        try:
            with self._state.locked():
                record = self._state.load(name) or {"name": name, "instances": {}}
                task.event("Preparing deployment", "Binding deployment")
                try:
                    networks = None
                    if "instance_groups" in data:
                        refusal = v1_refusal(data)  # a v2 manifest with v1 parts: refused as v270+ does
                        if refusal is not None:
                            raise DirectorError(refusal[1])
                        cloud = merge(self._configs.latest())
                        validate_v2(data, cloud)
                        networks = read_networks(cloud.doc)
                    moved, moves = migrated(record, data, deployment_dir)  # v2 migrated_from, disks kept
                    previous = moved.get("assignments") or {}
                    placed = plan(data, deployment_dir, previous, self._others(name), networks)
                except DirectorError as err:
                    task.event("Preparing deployment", "Binding deployment", state="failed", error=str(err))
                    task.error_line(str(err))
                    return task.end("error", "create deployment", str(err))
                task.event("Preparing deployment", "Binding deployment", state="finished")
                if moves and not dry_run:
                    move_disks(moves)
                    record = moved
                rollout = Rollout(task, self._state, binary, placed, record, manifest, flags or DeployFlags())
                return rollout.run(dry_run=dry_run)
        except KeyboardInterrupt as err:
            # Ctrl-C or SIGTERM: keep what was started findable (pids saved) and mark the task, as a
            # director marks a cancelled task; what the rollout did not reach keeps running untouched.
            if record is not None and record.get("attempted_manifest"):
                with contextlib.suppress(DirectorError):
                    self._state.save(name, record)
            with contextlib.suppress(DirectorError):
                task.end("cancelled", "create deployment", f"{name}: interrupted, rollout stopped")
            raise Interrupted.of(err, task.id, "cancelled") from None

    def deployed_manifest(self, deployment: str) -> str | None:
        """The last successfully deployed manifest; after only failed deploys, the last attempted one
        (the deployment exists then: it has instances to delete)."""
        record = self._state.load(deployment)
        if record is None:
            return None
        text = record.get("manifest") or record.get("attempted_manifest")
        return str(text) if text else None

    def instances(self, deployment: str) -> list[Instance]:
        record = self._require(deployment)
        recs: dict[str, Record] = record.get("instances") or {}
        order = {key: i for i, key in enumerate(record.get("order") or [])}
        keys = sorted(recs, key=lambda k: (order.get(k, len(order)), recs[k]["job"], recs[k]["index"]))
        return [_instance(recs[k]) for k in keys]

    def variable(self, deployment: str, name: str) -> str | None:
        """None: manifests reach this director interpolated (the vars store), it has no config server."""
        return None

    def run_errand(self, deployment: str, errand: str, on_event: EventSink) -> ErrandResult:
        record = self._require(deployment)
        job = _errand_job(deployment, record, errand)
        task = Task(self._state, on_event, "errand")
        task.event("Running errand", f"{job.name}/0", tags=(job.name,))
        props = job.redis()
        endpoints = [_Endpoint(r) for r in (record.get("instances") or {}).values()]
        master = resolve_address(props.master, endpoints, props.port) if props.master else None
        slave = resolve_address(props.slave, endpoints, props.port) if props.slave else None
        code, lines = acceptance_tests(master, slave, props.password)
        task.event("Running errand", f"{job.name}/0", tags=(job.name,), state="finished")
        result = task.end("done", f"run errand {job.name}", f"errand {job.name} exited {code}")
        return ErrandResult(result, code, "\n".join(lines) + "\n", "")

    def delete_deployment(self, deployment: str, on_event: EventSink) -> TaskResult:
        deployment_dir = self._state.deployment_dir(deployment)
        task = Task(self._state, on_event, "delete")
        with self._state.locked():
            record = self._state.load(deployment)
            if record is None:
                # No state (never deployed, or the work dir was wiped under running instances): its
                # processes are still recognisable by the config path on their command line.
                return self._delete_strays(deployment, deployment_dir, task)
            recs: list[Record] = list((record.get("instances") or {}).values())
            stage, total = "Deleting instances", len(recs)
            for i, rec in enumerate(recs, 1):
                task.event(stage, f"{rec['job']}/{rec['index']}", tags=(rec["job"],), index=i, total=total)
            try:
                stop([target(r) for r in recs], save=False)
                # Processes whose pid never reached the state file (a deploy killed mid-way).
                stop(
                    [(pid, deployment_dir, "", 0, None) for pid in processes_under(deployment_dir)],
                    save=False,
                )
            except DirectorError as err:
                task.error_line(str(err))
                return task.end("error", "delete deployment", f"{err} ({deployment}: not deleted)")
            self._state.remove(deployment)
            for i, rec in enumerate(recs, 1):
                task.event(
                    stage,
                    f"{rec['job']}/{rec['index']}",
                    tags=(rec["job"],),
                    index=i,
                    total=total,
                    state="finished",
                )
            return task.end("done", "delete deployment", f"{deployment}: deleted {total} instance(s) and disks")

    def _delete_strays(self, deployment: str, deployment_dir: Path, task: Task) -> TaskResult:
        """Stop redis-servers of ``deployment`` this director has no state for; say what was found."""
        strays = processes_under(deployment_dir)
        stage, total = "Deleting instances", len(strays)
        for i, pid in enumerate(strays, 1):
            task.event(stage, f"pid {pid} (no state)", index=i, total=total)
        try:
            stop([(pid, deployment_dir, "", 0, None) for pid in strays], save=False)
        except DirectorError as err:
            task.error_line(str(err))
            return task.end("error", str(err), f"{deployment}: not deleted")
        self._state.remove(deployment)
        for i, pid in enumerate(strays, 1):
            task.event(stage, f"pid {pid} (no state)", index=i, total=total, state="finished")
        if not strays:
            return task.end("done", "delete deployment", f"{deployment}: {NO_SUCH_DEPLOYMENT}, nothing to delete")
        return task.end(
            "done",
            "delete deployment",
            f"{deployment}: the {self.describe()} had no state for it; stopped {len(strays)} redis-server"
            f" process(es) still running under {deployment_dir}",
        )

    def info(self) -> DirectorInfo:
        return DirectorInfo("local", VERSION)

    def cloud_configs(self) -> dict[str, str]:
        return self._configs.latest()

    def diff_cloud_config(self, name: str, content: str) -> list[str]:
        parse(name, content)
        return diff_lines(self._configs.latest().get(name), content)

    def update_cloud_config(self, name: str, content: str) -> None:
        parse(name, content)
        with self._state.locked():
            configs = self._configs.latest()
            merge({**configs, name: content})  # refused as a director refuses a clashing config
            self._configs.update(name, content)

    def prepare_stemcells(self, wanted: tuple[Stemcell, ...], on_event: EventSink) -> TaskResult | None:
        """Nothing to do: the local director runs processes, not VMs, so no stemcell is ever missing."""
        return None

    def _others(self, name: str) -> dict[str, Assignments]:
        out: dict[str, Assignments] = {}
        for other in self._state.names():
            if other != name:
                out[other] = (self._state.load(other) or {}).get("assignments") or {}
        return out

    def _require(self, deployment: str) -> Record:
        record = self._state.load(deployment)
        if record is None:
            raise DirectorError(f"deployment '{deployment}' does not exist on the {self.describe()}: deploy it first")
        return record


class _Endpoint:
    """A deployed instance as ``resolve_address`` sees it."""

    def __init__(self, rec: Record) -> None:
        self.job: str = rec["job"]
        self.index: int = int(rec["index"])
        self.ips: tuple[str, ...] = tuple(rec["ips"])
        self.address: str = rec["address"]
        self.port: int = int(rec["port"])


def _instance(rec: Record) -> Instance:
    state = "stopped"
    if alive(rec.get("pid"), Path(rec["conf"])):
        conn = client(rec["address"], int(rec["port"]), rec.get("password"), timeout=0.5)
        try:
            state = "running" if conn.ping() is True else "failing"
        except redis.RedisError:
            state = "failing"
        finally:
            conn.close()
    props: dict[str, Any] = {"redis": {"port": rec["port"]}}
    if rec.get("master"):
        props["redis"]["master"] = f"{rec['master'][0]}:{rec['master'][1]}"
    index = int(rec["index"])
    bootstrap = index == BOOTSTRAP_INDEX
    return Instance(rec["job"], index, tuple(rec["ips"]), rec["address"], state, props, bootstrap)


def _errand_job(deployment: str, record: Record, errand: str) -> JobSpec:
    text = record.get("manifest") or record.get("attempted_manifest") or ""
    errands = [j for j in read_jobs(load_manifest(text)) if j.errand] if text else []
    for job in errands:
        if errand == job.name or errand in job.templates:
            if not ERRAND_TEMPLATES.intersection(job.templates):
                break
            return job
    names = ", ".join(j.name for j in errands) or "none"
    raise DirectorError(
        f"deployment '{deployment}' has no errand '{errand}' the local director can run (its errands: {names})"
    )
