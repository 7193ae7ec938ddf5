"""Checks that a deployed Redis cluster works, through the Director protocol only.

The smoke test talks to each instance at ``Instance.address`` (a loopback twin locally, the VM's IP
on a real director) with the manifest's properties, so the same check runs against either director.
It checks what the manifest promises: every instance answers with the manifest's password, plays
the role the manifest gives it, and a key written on a master reaches every replica in time.

Reports are data (``CheckReport``) so the chain can record them; only ``raise_for_failure`` turns a
failed report into an exception. The last line of a report always sums it up.
"""

from __future__ import annotations

import contextlib
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from boshpipe.director import Director, EventSink, Instance
from boshpipe.director.groups import JobSpec, bosh_dns_target, dns_label, read_jobs
from boshpipe.errors import CheckFailed

_POLL = 0.005
Figure = int | float | str


@dataclass
class CheckReport:
    name: str
    ok: bool
    lines: list[str] = field(default_factory=list)
    figures: dict[str, Figure] = field(default_factory=dict)
    deployment: str = ""

    @property
    def failures(self) -> list[str]:
        return [line for line in self.lines if line.startswith("FAIL ")]

    def raise_for_failure(self) -> None:
        if self.ok:
            return
        failures = self.failures
        first = failures[0][5:] if failures else (self.lines[-1] if self.lines else "no detail")
        more = f" (and {len(failures) - 1} more)" if len(failures) > 1 else ""
        raise CheckFailed(
            f"{self.name} of deployment '{self.deployment}' failed: {first}{more}; "
            "fix the deployment or its manifest and run the check again"
        )


@dataclass
class _Node:
    """A redis instance the manifest promises, matched with what the director reports."""

    job: JobSpec
    index: int
    instance: Instance | None
    port: int
    password: str | None
    master: _Node | None = None
    client: redis.Redis | None = None
    unresolved_master: bool = False

    @property
    def label(self) -> str:
        where = f" ({self.instance.address}:{self.port})" if self.instance else ""
        return f"{self.job.name}/{self.index}{where}"


def smoke_test(director: Director, deployment: str, manifest: dict[str, Any], *, timeout: float = 10) -> CheckReport:
    """PING with the password everywhere, roles as the manifest says, a key replicated to every replica."""
    started = time.monotonic()
    deadline = started + timeout
    report = CheckReport("smoke test", True, deployment=deployment)
    nodes = _nodes(director.instances(deployment), manifest, report)
    try:
        alive = [n for n in nodes if _ping(n, report)]
        good = [n for n in alive if _role(n, report, deadline)]
        lag = _replicate(good, report, deadline)
    finally:
        for node in nodes:
            if node.client is not None:
                node.client.close()
    replicas = sum(1 for n in nodes if n.master is not None)
    report.figures = {
        "instances": len(nodes),
        "masters": len(nodes) - replicas,
        "replicas": replicas,
        "replication_ms": round(lag * 1000, 1),
        "elapsed_ms": round((time.monotonic() - started) * 1000, 1),
    }
    report.ok = not report.failures
    if report.ok:
        report.lines.append(
            f"smoke test passed: {len(nodes)} instance(s), {replicas} replica(s) in sync (slowest {lag * 1000:.0f} ms)"
        )
    else:
        first = report.failures[0][5:]
        report.lines.append(f"smoke test failed: {first} ({len(report.failures)} problem(s))")
    return report


def acceptance(
    director: Director, deployment: str, on_event: EventSink, errand: str = "acceptance-tests"
) -> CheckReport:
    """The release's own test errand (``acceptance-tests``, v15's ``sanity-tests``); non-zero exit fails."""
    started = time.monotonic()
    result = director.run_errand(deployment, errand, on_event)
    lines = [line for line in (result.stdout + result.stderr).splitlines() if line.strip()]
    ok = result.exit_code == 0 and result.task.ok
    if ok:
        lines.append(f"{errand} errand passed (task {result.task.id})")
    else:
        lines.append(
            f"FAIL {errand} errand exited {result.exit_code} (task {result.task.id}, {result.task.state})"
        )
    figures: dict[str, Figure] = {
        "exit_code": result.exit_code,
        "task_id": result.task.id,
        "elapsed_ms": round((time.monotonic() - started) * 1000, 1),
    }
    return CheckReport("acceptance tests", ok, lines, figures, deployment)


def _nodes(instances: list[Instance], manifest: dict[str, Any], report: CheckReport) -> list[_Node]:
    by_key = {(i.job, i.index): i for i in instances}
    nodes: list[_Node] = []
    for job in read_jobs(manifest):
        if not job.runs_redis:
            continue
        props = job.redis()
        for index in range(job.instances):
            nodes.append(_Node(job, index, by_key.get((job.name, index)), props.port, props.password))
    for node in nodes:
        if node.job.bootstrap_master:
            _bootstrap_master(node, nodes, report)
            continue
        target = node.job.redis().master
        if target is None or (node.instance is not None and target in node.instance.ips):
            continue
        node.master = _find(target, nodes)
        if node.master is None:
            node.unresolved_master = True
            report.lines.append(f"FAIL {node.label}: redis.master '{target}' is not an instance of this deployment")
    return nodes


def _bootstrap_master(node: _Node, nodes: list[_Node], report: CheckReport) -> None:
    """v15: the director's bootstrap instance of the group is the master; the others replicate it."""
    group = [n for n in nodes if n.job.name == node.job.name]
    boot = next((n for n in group if n.instance is not None and n.instance.bootstrap), None)
    if boot is None:
        if node is group[0]:
            report.lines.append(f"FAIL {node.job.name}: the director reports no bootstrap instance (the master)")
        node.unresolved_master = True
    elif boot is not node:
        node.master = boot


def errand_name(manifest: dict[str, Any]) -> str:
    """The release's test errand: v15's ``sanity-tests`` when the manifest has it, else ``acceptance-tests``."""
    for job in read_jobs(manifest):
        if job.errand and "sanity-tests" in job.templates:
            return "sanity-tests"
    return "acceptance-tests"


def _find(target: str, nodes: list[_Node]) -> _Node | None:
    dns = bosh_dns_target(target)
    for node in nodes:
        if node.instance is None:
            continue
        if target in node.instance.ips or target == node.instance.address:
            return node
        if dns is not None and dns == (node.index, dns_label(node.job.name)):
            return node
    return None


def _ping(node: _Node, report: CheckReport) -> bool:
    if node.instance is None:
        report.lines.append(f"FAIL {node.label}: the director reports no such instance")
        return False
    node.client = _connect(node, node.password)
    try:
        node.client.ping()
    except redis.AuthenticationError:
        report.lines.append(f"FAIL {node.label}: refused the manifest's redis.password")
        return False
    except redis.RedisError as err:
        state = node.instance.state
        report.lines.append(f"FAIL {node.label}: does not answer PING ({_clean(err, node)}); director says {state}")
        return False
    report.lines.append(f"ok   {node.label}: PONG with the manifest's password")
    return _refuses_strangers(node, report)


def _connect(node: _Node, password: str | None) -> redis.Redis:
    """A client of the node's instance that fails fast: 2 s timeouts, no silent retries."""
    assert node.instance is not None
    return redis.Redis(
        host=node.instance.address,
        port=node.port,
        password=password,
        socket_timeout=2,
        socket_connect_timeout=2,
        retry=Retry(NoBackoff(), 0),
        decode_responses=True,
    )


def _refuses_strangers(node: _Node, report: CheckReport) -> bool:
    """A client without the password must get NOAUTH: an instance answering it is open to anyone."""
    stranger = _connect(node, None)
    try:
        stranger.ping()
    except redis.AuthenticationError:
        report.lines.append(f"ok   {node.label}: refuses clients without the password")
        return True
    except redis.RedisError as err:
        problem = f"unauthenticated PING got neither NOAUTH nor PONG ({_clean(err, node)})"
        report.lines.append(f"FAIL {node.label}: {problem}")
        return False
    finally:
        stranger.close()
    report.lines.append(f"FAIL {node.label}: answers PING without a password: anyone can read and write it")
    return False


def _role(node: _Node, report: CheckReport, deadline: float) -> bool:
    """Master where the manifest sets no redis.master, else a replica of that master with its link up."""
    assert node.client is not None
    if node.unresolved_master:
        return False  # already reported
    while True:
        try:
            info = node.client.info("replication")
        except redis.RedisError as err:
            report.lines.append(f"FAIL {node.label}: INFO replication failed ({_clean(err, node)})")
            return False
        problem = _role_problem(node, info)
        if problem is None:
            role = "master" if node.master is None else f"replica of {node.master.label}, link up"
            report.lines.append(f"ok   {node.label}: {role}")
            return True
        if time.monotonic() > deadline or not problem.startswith("link"):
            report.lines.append(f"FAIL {node.label}: {problem}")
            return False
        time.sleep(_POLL)


def _role_problem(node: _Node, info: dict[str, Any]) -> str | None:
    role = info.get("role")
    if node.master is None:
        return None if role == "master" else f"is a {role}, but the manifest makes it a master"
    master = node.master
    if role != "slave":
        return f"is a {role}, but the manifest makes it a replica of {master.label}"
    assert master.instance is not None
    host, port = str(info.get("master_host")), int(info.get("master_port") or 0)
    if host not in (master.instance.address, *master.instance.ips) or port != master.port:
        return f"replicates {host}:{port}, but the manifest says {master.label}"
    status = info.get("master_link_status")
    return None if status == "up" else f"link to master {master.label} is {status}"


def _replicate(nodes: list[_Node], report: CheckReport, deadline: float) -> float:
    """Write a key on each master, poll it on each of its replicas; the slowest arrival in seconds."""
    slowest = 0.0
    for master in [n for n in nodes if n.master is None]:
        replicas = [n for n in nodes if n.master is master]
        if not replicas:
            continue
        key, value = f"boshpipe:smoke:{uuid.uuid4().hex[:12]}", uuid.uuid4().hex
        assert master.client is not None
        try:
            master.client.set(key, value, ex=300)
        except redis.RedisError as err:
            report.lines.append(f"FAIL {master.label}: cannot write a key ({_clean(err, master)})")
            continue
        written = time.monotonic()
        for replica in replicas:
            arrived = _await_key(replica, key, value, deadline)
            if arrived is None:
                report.lines.append(f"FAIL {replica.label}: key written on {master.label} did not arrive in time")
            else:
                slowest = max(slowest, arrived - written)
                report.lines.append(f"ok   {replica.label}: has the key written on {master.label}")
        with contextlib.suppress(redis.RedisError):  # else the key expires by itself
            master.client.delete(key)
    return slowest


def _await_key(node: _Node, key: str, value: str, deadline: float) -> float | None:
    assert node.client is not None
    while True:
        try:
            if node.client.get(key) == value:
                return time.monotonic()
        except redis.RedisError:
            pass  # a replica mid-sync answers LOADING; keep polling until the deadline
        if time.monotonic() > deadline:
            return None
        time.sleep(_POLL)


def _clean(err: Exception, node: _Node) -> str:
    text = str(err)
    return text.replace(node.password, "***") if node.password else text
