"""What the local director will run for a manifest: one planned redis-server per instance.

Planning is pure (no process is touched) so a refused manifest, an IP conflict or a dry run leaves
everything as it was. The rendered config text is the instance's identity: when it is unchanged and
the process is alive, the rollout leaves the instance alone, as BOSH does when no template changed.
"""

from __future__ import annotations

import hashlib
import ipaddress
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Protocol

from boshpipe.director.groups import JobSpec, bosh_dns_target, dns_label, read_jobs
from boshpipe.director.local.net import Assignments, Network, allocate, loopback, read_networks
from boshpipe.director.local.redisproc import ServerConfig
from boshpipe.errors import DirectorError

SERVICE_TEMPLATES = frozenset({"redis"})
ERRAND_TEMPLATES = frozenset({"acceptance-tests", "sanity-tests"})
ADDON_JOBS = frozenset({"bpm"})
"""Addon jobs accepted and not run: bpm only isolates processes on a VM; here each is a process already."""
BOOTSTRAP_INDEX = 0
"""The instance a group's bootstrap flag goes to (decision: the lowest index, so it never moves)."""
MAX_LOCAL_INSTANCES = 64
"""Instances of one local deployment: each is a process on this machine."""


@dataclass(frozen=True)
class Planned:
    job: str
    index: int
    ips: tuple[str, ...]
    address: str  # loopback twin of the primary IP: where this machine reaches the instance
    port: int
    password: str | None
    master: tuple[str, int] | None
    persistent: bool
    instance_dir: Path
    disk_dir: Path
    sentinel: tuple[str, int, int] | None = None  # a redis-sentinel process: (master address, port, quorum)

    @property
    def key(self) -> str:
        return f"{self.job}/{self.index}"

    @property
    def conf(self) -> Path:
        return self.instance_dir / "redis.conf"

    @property
    def log(self) -> Path:
        return self.instance_dir / "redis.log"

    def config(self) -> ServerConfig:
        return ServerConfig(
            binds=tuple(loopback(ip) for ip in self.ips),
            port=self.port,
            password=self.password,
            master=self.master,
            data_dir=self.disk_dir if self.persistent else self.instance_dir,
            persistent=self.persistent,
            sentinel=self.sentinel,
        )

    def rendered(self) -> str:
        return self.config().render(self.key)

    def digest(self) -> str:
        return hashlib.sha256(self.rendered().encode()).hexdigest()


@dataclass(frozen=True)
class Plan:
    name: str
    jobs: list[JobSpec]
    instances: list[Planned]  # manifest order: jobs in order, then index
    assignments: Assignments


def plan(
    manifest: dict[str, Any],
    deployment_dir: Path,
    previous: Assignments,
    others: dict[str, Assignments],
    networks: dict[str, Network] | None = None,
) -> Plan:
    """Validate the manifest and place every redis instance, or raise DirectorError saying why not.

    ``networks`` come from the merged cloud config for a v2 manifest, else from the v1 manifest.
    """
    name = str(manifest["name"])
    jobs = read_jobs(manifest)
    _check_templates(jobs)
    _check_addons(manifest)
    total = sum(job.instances for job in jobs if not job.errand)
    if total > MAX_LOCAL_INSTANCES:
        raise DirectorError(
            f"{total} instances: the local director runs at most {MAX_LOCAL_INSTANCES} redis-server processes "
            "per deployment (one per instance): lower meta.slaves/meta.test_slaves, or use a BOSH director"
        )
    assignments = allocate(jobs, read_networks(manifest) if networks is None else networks, previous)
    _check_conflicts(name, assignments, others)
    base: list[Planned] = []
    for job in jobs:
        if not job.runs_redis:
            continue
        props = job.redis()
        if not props.password and job.instances > 0:
            raise DirectorError(
                f"job '{job.name}': no redis.password: the local director never runs Redis without a password "
                "(meta.password in the generated stub sets it)"
            )
        for index in range(job.instances):
            ips = tuple(_ordered_ips(job, assignments[f"{job.name}/{index}"]))
            slot = f"{job.name}-{index}"
            base.append(
                Planned(
                    job=job.name,
                    index=index,
                    ips=ips,
                    address=loopback(ips[0]),
                    port=props.port,
                    password=props.password,
                    master=None,
                    persistent=job.persistent_disk > 0,
                    instance_dir=deployment_dir / "instances" / slot,
                    disk_dir=deployment_dir / "disks" / slot,
                )
            )
    by_job = {job.name: job for job in jobs}
    placed = [_with_master(p, by_job[p.job], base) for p in base]
    jobs, sentinels = _sentinels(jobs, placed, deployment_dir)
    return Plan(name, jobs, placed + sentinels, assignments)


SENTINEL_SUFFIX = ":redis-sentinel"
"""A group's sentinels are listed as ``<group>:redis-sentinel/<index>``: on a VM they are a second
process of the same instance; here each is a process of its own, updated after the group's redis."""


def _sentinels(jobs: list[JobSpec], placed: list[Planned], deployment_dir: Path) -> tuple[list[JobSpec], list[Planned]]:
    """v15's ``redis-sentinel``: one sentinel per instance, beside its redis, watching the bootstrap master."""
    out_jobs: list[JobSpec] = []
    sentinels: list[Planned] = []
    for job in jobs:
        out_jobs.append(job)
        if job.sentinel is None or job.instances == 0:
            continue
        group = [p for p in placed if p.job == job.name]
        boot = next(p for p in group if p.index == BOOTSTRAP_INDEX)
        name = job.name + SENTINEL_SUFFIX
        out_jobs.append(replace(job, name=name, templates=("redis-sentinel",), sentinel=None, persistent_disk=0))
        for p in group:
            slot = f"{job.name}-{p.index}-sentinel"
            sentinels.append(
                replace(
                    p,
                    job=name,
                    port=job.sentinel.port,
                    master=None,
                    persistent=False,
                    instance_dir=deployment_dir / "instances" / slot,
                    disk_dir=deployment_dir / "disks" / slot,
                    sentinel=(boot.address, job.sentinel.redis_port, job.sentinel.quorum),
                )
            )
    return out_jobs, sentinels


class Endpoint(Protocol):
    """An instance as address resolution needs it (planned, or read back from state)."""

    @property
    def job(self) -> str: ...
    @property
    def index(self) -> int: ...
    @property
    def ips(self) -> tuple[str, ...]: ...
    @property
    def address(self) -> str: ...
    @property
    def port(self) -> int: ...


def resolve_address(target: str, instances: Sequence[Endpoint], default_port: int) -> tuple[str, int] | None:
    """Where this machine reaches ``target`` (a manifest IP or a BOSH DNS name), or None if unknown."""
    try:
        ipaddress.IPv4Address(target)
    except ValueError:
        dns = bosh_dns_target(target)
        for p in instances:
            if dns is not None and (p.index, dns_label(p.job)) == dns:
                return (p.address, p.port)
        return None
    for p in instances:
        if target in p.ips:
            return (p.address, p.port)
    return (loopback(target), default_port)


def _with_master(p: Planned, job: JobSpec, everyone: list[Planned]) -> Planned:
    if job.modern:
        # v15: the group's bootstrap instance (here always index 0, stable across deploys) is the
        # master; every other instance replicates it through the `redis` link, as redis.conf.erb does
        if not job.bootstrap_master or p.index == BOOTSTRAP_INDEX:
            return p
        boot = next(b for b in everyone if b.job == p.job and b.index == BOOTSTRAP_INDEX)
        return replace(p, master=(boot.address, boot.port))
    target = job.redis().master
    if target is None or target in p.ips:
        return p  # no master (or itself): this instance is a master
    where = resolve_address(target, everyone, p.port)
    if where is None:
        raise DirectorError(
            f"job '{job.name}': redis.master '{target}' is neither an IPv4 address nor the BOSH DNS name "
            "of an instance of this deployment: point it at the leader's IP"
        )
    return replace(p, master=where)


def _ordered_ips(job: JobSpec, ips: dict[str, str]) -> list[str]:
    """The primary network first: the one holding the default gateway, else the first listed."""
    refs = sorted(job.networks, key=lambda r: "gateway" not in r.default)
    return [ips[r.name] for r in refs if r.name in ips]


def _check_templates(jobs: list[JobSpec]) -> None:
    for job in jobs:
        allowed = ERRAND_TEMPLATES if job.errand else SERVICE_TEMPLATES
        for template in job.templates:
            if template in allowed or (template == "redis-sentinel" and job.modern and not job.errand):
                continue
            if template in ERRAND_TEMPLATES:
                raise DirectorError(
                    f"job '{job.name}' uses template '{template}' but is not `lifecycle: errand`: "
                    "the local director runs it only as an errand"
                )
            raise DirectorError(
                f"job '{job.name}' uses template '{template}', which the local director cannot run "
                "(it runs 'redis', and 'acceptance-tests' or 'sanity-tests' as an errand): remove it, "
                "or use a BOSH director"
            )
        if not job.errand and job.instances > 0 and not job.templates:
            raise DirectorError(f"job '{job.name}' has no templates: give it the 'redis' template")
        if not job.errand and job.instances > 0 and not job.networks:
            raise DirectorError(f"job '{job.name}' has no networks: every instance needs an address")


def _check_addons(manifest: dict[str, Any]) -> None:
    for addon in manifest.get("addons") or []:
        jobs = addon.get("jobs") if isinstance(addon, dict) else None
        for job in jobs if isinstance(jobs, list) else []:
            name = job.get("name") if isinstance(job, dict) else job
            if name not in ADDON_JOBS:
                raise DirectorError(
                    f"addon job '{name}' cannot run on the local director (it accepts the bpm addon only):"
                    " remove it with an ops file, or use a BOSH director"
                )


def _check_conflicts(name: str, mine: Assignments, others: dict[str, Assignments]) -> None:
    """Refuse addresses another deployment already holds, as a director refuses a taken IP."""
    taken: dict[str, tuple[str, str, str]] = {}
    for other, assignments in sorted(others.items()):
        for key, ips in assignments.items():
            for ip in ips.values():
                taken[loopback(ip)] = (other, key, ip)
    for key, ips in sorted(mine.items()):
        for ip in ips.values():
            hit = taken.get(loopback(ip))
            if hit is not None:
                other, other_key, other_ip = hit
                same = "" if other_ip == ip else f" (as {other_ip}, the same loopback address)"
                raise DirectorError(
                    f"IP {ip} for {key} is already used by deployment '{other}' ({other_key}){same}: "
                    f"give '{name}' an address range of its own"
                )
