"""Rolling a plan out to redis-server processes, the way a director rolls out VMs.

Unneeded instances go first, then jobs in manifest order; within a job the instances that need a
change are updated canaries first, then in batches of ``max_in_flight``. A batch is stopped, started
and watched together (readiness polled every few ms up to the watch time), and the first instance
that does not become ready stops the rollout: what was not reached keeps running untouched.
"""

from __future__ import annotations

import dataclasses
import shutil
import time
from pathlib import Path
from typing import Any

from boshpipe.director.flags import DeployFlags
from boshpipe.director.groups import JobSpec
from boshpipe.director.local.plan import Plan, Planned
from boshpipe.director.local.redisproc import (
    POLL,
    Probe,
    Target,
    alive,
    failure_reason,
    processes_under,
    spawn,
    stop,
)
from boshpipe.director.local.state import StateDir, write_text
from boshpipe.director.local.task import Task
from boshpipe.director.protocol import TaskResult

Record = dict[str, Any]


class Rollout:
    def __init__(
        self, task: Task, state: StateDir, binary: str, plan: Plan, record: Record, text: str, flags: DeployFlags
    ):
        self.task = task
        self.flags = flags
        self.state = state
        self.binary = binary
        self.plan = plan
        self.record = record
        self.text = text
        self.instances: dict[str, Record] = record.setdefault("instances", {})
        self.updated = 0
        self.started = time.monotonic()

    def run(self, *, dry_run: bool) -> TaskResult:
        wanted = {p.key for p in self.plan.instances}
        unneeded = [key for key in self.instances if key not in wanted]
        changes = {
            job.name: [p for p in self.plan.instances if p.job == job.name and self._stale(p)] for job in self.plan.jobs
        }
        pending = sum(len(v) for v in changes.values())
        if dry_run:
            kept = len(self.plan.instances) - pending
            summary = f"{self.plan.name}: dry run, would update {pending}, delete {len(unneeded)}, keep {kept}"
            return self.task.end("done", "create deployment (dry run)", summary)
        self.record["attempted_manifest"] = self.text
        self.record["order"] = [p.key for p in self.plan.instances]
        if pending:
            self._stop_strays()
        self._delete(unneeded)
        self.record["assignments"] = self.plan.assignments
        self._save()
        for job in self.plan.jobs:
            if changes[job.name]:
                failure = self._update_job(job, changes[job.name])
                if failure is not None:
                    self._save()
                    outcome = f"rollout stopped at {failure.split(' ', 1)[0]}"
                    summary = self._summary(len(unneeded), outcome)
                    return self.task.end("error", "create deployment", f"{failure} ({summary})")
        self.record["manifest"] = self.text
        self._save()
        return self.task.end("done", "create deployment", self._summary(len(unneeded), "done"))

    def _stale(self, p: Planned) -> bool:
        """Needs a (re)start: new, changed config, left unhealthy by a failed rollout, dead, or --recreate."""
        rec = self.instances.get(p.key)
        return (
            self.flags.recreate
            or rec is None
            or rec.get("digest") != p.digest()
            or not rec.get("healthy")
            or not alive(rec.get("pid"), Path(rec["conf"]))
        )

    def _stop_strays(self) -> None:
        """Processes of this deployment the state does not know (a deploy killed between starting them
        and saving their pids) would hold the addresses the rollout is about to bind."""
        known = {int(r.get("pid") or 0) for r in self.instances.values()}
        home = self.state.deployment_dir(self.plan.name)
        strays = [pid for pid in processes_under(home) if pid not in known]
        stop([(pid, home, "", 0, None) for pid in strays], save=False)

    def _delete(self, keys: list[str]) -> None:
        if not keys:
            return
        stage = "Deleting unneeded instances"
        for i, key in enumerate(keys, 1):
            self.task.event(stage, key, tags=(key.split("/")[0],), index=i, total=len(keys))
        stop([target(self.instances[k]) for k in keys], save=False)
        for i, key in enumerate(keys, 1):
            rec = self.instances.pop(key)
            shutil.rmtree(rec["instance_dir"], ignore_errors=True)
            shutil.rmtree(rec["disk_dir"], ignore_errors=True)
            self.task.event(stage, key, tags=(rec["job"],), index=i, total=len(keys), state="finished")

    def _update_job(self, job: JobSpec, todo: list[Planned]) -> str | None:
        update = job.update
        if self.flags.canaries is not None:
            update = dataclasses.replace(update, canaries=self.flags.canaries)
        if self.flags.max_in_flight is not None:
            update = dataclasses.replace(update, max_in_flight=self.flags.max_in_flight)
        canaries = update.canary_count(len(todo))
        flight = update.in_flight(len(todo))
        batches = [(todo[i : min(i + flight, canaries)], True) for i in range(0, canaries, flight)]
        batches += [(todo[i : i + flight], False) for i in range(canaries, len(todo), flight)]
        done = 0
        for batch, canary in batches:
            failure = self._update_batch(job, batch, canary, done, len(todo))
            done += len(batch)
            if failure is not None:
                return failure
        return None

    def _update_batch(self, job: JobSpec, batch: list[Planned], canary: bool, done: int, total: int) -> str | None:
        stage, tags = "Updating instance", (job.name,)
        label = {p.key: f"{p.key} (canary)" if canary else p.key for p in batch}
        index = {p.key: done + i for i, p in enumerate(batch, 1)}
        for p in batch:
            self.task.event(stage, label[p.key], tags=tags, index=index[p.key], total=total)
        old = [self.instances[p.key] for p in batch if p.key in self.instances]
        for save in (True, False):
            stop([target(r) for r in old if bool(r.get("persistent")) is save], save=save)
        for p in batch:
            self.instances[p.key] = self._start(p)
        self._save()
        watch = job.update.canary_watch_seconds() if canary else job.update.update_watch_seconds()
        failures = self._watch(
            batch,
            watch,
            lambda p, state, error=None: self.task.event(
                stage, label[p.key], tags=tags, index=index[p.key], total=total, state=state, error=error
            ),
        )
        self.updated += len(batch) - len(failures)
        if not failures:
            return None
        p, why = failures[0]
        more = f" ({len(failures) - 1} more in the batch failed too)" if len(failures) > 1 else ""
        return f"{label[p.key]} {why}{more}; its log: {p.log}"

    def _start(self, p: Planned) -> Record:
        p.instance_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        if p.persistent:
            p.disk_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        else:
            shutil.rmtree(p.disk_dir, ignore_errors=True)  # the disk went away with persistent_disk
            (p.instance_dir / "dump.rdb").unlink(missing_ok=True)  # ephemeral data does not survive
        write_text(p.conf, p.rendered())
        write_text(p.log, "")
        return {
            "job": p.job,
            "index": p.index,
            "ips": list(p.ips),
            "address": p.address,
            "port": p.port,
            "password": p.password,
            "master": list(p.master) if p.master else None,
            "persistent": p.persistent,
            "instance_dir": str(p.instance_dir),
            "disk_dir": str(p.disk_dir),
            "conf": str(p.conf),
            "log": str(p.log),
            "digest": p.digest(),
            "healthy": False,
            "pid": spawn(self.binary, p.conf, p.log, sentinel=p.sentinel is not None),
        }

    def _watch(self, batch: list[Planned], watch: float, report: Any) -> list[tuple[Planned, str]]:
        probes = {p.key: Probe(p.address, p.port, p.password, p.master) for p in batch}
        deadline = time.monotonic() + watch
        pending, failures, last = list(batch), [], {p.key: "not answering yet" for p in batch}
        try:
            while pending:
                waiting = []
                for p in pending:
                    if not alive(self.instances[p.key]["pid"], p.conf):
                        why = f"exited: {failure_reason(p.log, p.password)}"
                        failures.append((p, why))
                        report(p, "failed", why)
                    elif (problem := probes[p.key].check()) is None:
                        self.instances[p.key]["healthy"] = True
                        report(p, "finished")
                    else:
                        last[p.key] = problem
                        waiting.append(p)
                pending = waiting
                if pending and time.monotonic() > deadline:
                    for p in pending:
                        why = f"not ready within the {watch:g} s watch time: {last[p.key]}"
                        failures.append((p, why))
                        report(p, "failed", why)
                    break
                if pending:
                    time.sleep(POLL)
        finally:
            for probe in probes.values():
                probe.close()
        return failures

    def _summary(self, deleted: int, outcome: str) -> str:
        total = len(self.plan.instances)
        took = time.monotonic() - self.started
        return (
            f"{self.plan.name}: {total} instance(s), {self.updated} updated, {deleted} deleted "
            f"in {took:.2f} s; {outcome}"
        )

    def _save(self) -> None:
        self.state.save(self.plan.name, self.record)


def target(rec: Record) -> Target:
    """How ``stop`` reaches an instance recorded in state."""
    return (
        int(rec.get("pid") or 0),
        Path(rec["conf"]),
        rec["address"],
        int(rec["port"]),
        rec.get("password"),
    )
