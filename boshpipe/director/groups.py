"""A deployment manifest's jobs, as a director reads them.

The 2015 upstream templates produce v1 manifests (``jobs`` with ``templates``, global ``properties``,
``networks`` and ``resource_pools``); newer ones are v2 (``instance_groups`` whose ``jobs`` carry
their own properties). Both are read into the same ``JobSpec`` so the local director and the checks
never branch on the manifest version. Only what a director needs is read; the rest is ignored.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import Any

import yaml

from boshpipe import yamlsafe
from boshpipe.errors import DirectorError

_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml when present: manifests can be large
_DEFAULT_PORT = 6379  # redis.port default in the upstream job spec
MAX_INSTANCES = 1000
"""Instances of one job (and canaries, max_in_flight): beyond this a count is a typo, not a plan."""
MAX_WATCH_MS = 24 * 3600 * 1000
_BOSH_DNS = re.compile(r"^(\d+)\.([a-z0-9-]+)\.([a-z0-9-]+)\.([a-z0-9-]+)\.[a-z0-9.-]+$")


@dataclass(frozen=True)
class NetworkRef:
    """A job's use of a network: its static IPs (expanded later) and default roles."""

    name: str
    static_ips: tuple[str, ...] = ()
    default: tuple[str, ...] = ()


@dataclass(frozen=True)
class UpdatePolicy:
    """The ``update`` block of a job, global values overridden by the job's own."""

    canaries: int | str = 1
    max_in_flight: int | str = 1
    canary_watch_time: int | str = 30000
    update_watch_time: int | str = 30000

    def canary_count(self, size: int) -> int:
        return min(size, _count(self.canaries, size, floor=0))

    def in_flight(self, size: int) -> int:
        return max(1, _count(self.max_in_flight, size, floor=1))

    def canary_watch_seconds(self) -> float:
        return _watch_ms(self.canary_watch_time) / 1000.0

    def update_watch_seconds(self) -> float:
        return _watch_ms(self.update_watch_time) / 1000.0


@dataclass(frozen=True)
class JobSpec:
    """One v1 job or v2 instance group, with properties already merged (job wins over global)."""

    name: str
    templates: tuple[str, ...]
    instances: int
    networks: tuple[NetworkRef, ...]
    properties: dict[str, Any] = field(default_factory=dict)
    persistent_disk: int = 0
    update: UpdatePolicy = field(default_factory=UpdatePolicy)
    errand: bool = False
    sentinel: SentinelProps | None = None
    """v15's ``redis-sentinel`` job in this group: one sentinel process per instance."""
    modern: bool = False
    """The job comes from release v13+ (v15): properties ``port``/``password`` (read here into the
    ``redis.*`` shape), and the group's bootstrap instance is the master (``redis.replication``)."""

    @property
    def runs_redis(self) -> bool:
        return not self.errand and "redis" in self.templates

    @property
    def bootstrap_master(self) -> bool:
        """v15: the bootstrap instance is the master and every other instance replicates it."""
        return self.modern and self.redis().replication

    def redis(self) -> RedisProps:
        return RedisProps.of(self.properties)


@dataclass(frozen=True)
class SentinelProps:
    """The ``redis-sentinel`` job's properties (spec defaults: port 26379, quorum 2)."""

    port: int = 26379
    redis_port: int = _DEFAULT_PORT
    quorum: int = 2


@dataclass(frozen=True)
class RedisProps:
    """The ``redis.*`` properties the redis and acceptance-tests job specs define."""

    port: int
    password: str | None
    master: str | None
    slave: str | None
    replication: bool = True  # v15's redis.replication: false makes every instance standalone

    @classmethod
    def of(cls, properties: dict[str, Any]) -> RedisProps:
        redis = properties.get("redis") or {}
        if not isinstance(redis, dict):
            redis = {}
        port = redis.get("port", _DEFAULT_PORT)
        password = redis.get("password")
        return cls(
            port=int(port) if port is not None else _DEFAULT_PORT,
            password=None if password is None else str(password),
            master=_opt_str(redis.get("master")),
            slave=_opt_str(redis.get("slave")),
            replication=redis.get("replication", True) is not False,
        )


def load_manifest(text: str) -> dict[str, Any]:
    """Parse manifest YAML; a director refuses anything that is not a named mapping."""
    yamlsafe.check(text, "manifest", error=DirectorError)  # size, characters, alias bombs
    try:
        data = yaml.load(text, Loader=_LOADER)
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        raise DirectorError(f"manifest is not valid YAML{where}: fix the templates and merge again") from err
    if not isinstance(data, dict) or not data.get("name"):
        raise DirectorError("manifest has no deployment `name`: is this a merged deployment manifest?")
    return data


def read_jobs(manifest: dict[str, Any]) -> list[JobSpec]:
    """The manifest's jobs in manifest order (the order a director updates them in)."""
    global_update = manifest.get("update") or {}
    global_props = manifest.get("properties") or {}
    if "instance_groups" in manifest:
        groups = manifest.get("instance_groups") or []
        modern = _modern_releases(manifest)
        return _link_errands([_v2_job(g, global_props, global_update, modern) for g in groups])
    return [_v1_job(j, global_props, global_update) for j in manifest.get("jobs") or []]


def deep_merge(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    """Merge ``override`` into a copy of ``base``; nested mappings merge, anything else replaces."""
    out = dict(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = deep_merge(out[key], value)
        else:
            out[key] = value
    return out


def bosh_dns_target(name: str) -> tuple[int, str] | None:
    """``0.redis-leader-z1.redis1.env.microbosh`` -> (0, "redis-leader-z1"); None if not such a name.

    The aws/openstack templates point ``redis.master`` at the director's DNS name of the leader;
    job names appear there with ``_`` turned into ``-``.
    """
    match = _BOSH_DNS.match(name.lower())
    return (int(match.group(1)), match.group(2)) if match else None


def dns_label(job: str) -> str:
    return job.replace("_", "-").lower()


def _v1_job(job: Any, global_props: dict[str, Any], global_update: dict[str, Any]) -> JobSpec:
    job = _mapping(job, "jobs entry")
    name = str(job.get("name") or "")
    raw = job.get("templates")
    if raw is None:
        raw = job.get("template")
    templates = _template_names(raw, name)
    props = deep_merge(_mapping(global_props, "properties"), _mapping(job.get("properties") or {}, name))
    disk = job.get("persistent_disk") or 0
    if not disk and job.get("persistent_disk_pool"):
        disk = 1
    return _spec(job, name, templates, props, int(disk), global_update)


def _v2_job(
    group: Any, global_props: dict[str, Any], global_update: dict[str, Any], modern: dict[str, bool | None]
) -> JobSpec:
    group = _mapping(group, "instance_groups entry")
    name = str(group.get("name") or "")
    jobs = group.get("jobs") or []
    templates = _template_names(jobs, name)
    if any(isinstance(j, dict) and _is_modern(j, modern) for j in jobs):
        return _modern_job(group, name, templates, jobs, global_update)
    props = deep_merge(_mapping(global_props, "properties"), _mapping(group.get("properties") or {}, name))
    for job in jobs:
        if isinstance(job, dict) and isinstance(job.get("properties"), dict):
            props = deep_merge(props, job["properties"])
    return _spec(group, name, templates, props, _disk(group), global_update)


MODERN_FROM = 13
"""redis-boshrelease v13 (2017) moved to v2 jobs: ``port``/``password``, master = bootstrap instance."""
_MODERN_PROPS = {"port", "password", "base_dir", "bind_static_ip", "redis"}
_MODERN_REDIS_PROPS = {"replication", "maxclients"}


def _modern_releases(manifest: dict[str, Any]) -> dict[str, bool | None]:
    """Release name → v13 or later; None when the version is not a number (``latest``, ``create``)."""
    out: dict[str, bool | None] = {}
    for release in manifest.get("releases") or []:
        if isinstance(release, dict) and isinstance(release.get("name"), str):
            match = re.match(r"^(\d+)", str(release.get("version", "")))
            out[release["name"]] = None if match is None else int(match.group(1)) >= MODERN_FROM
    return out


def _is_modern(job: dict[str, Any], releases: dict[str, bool | None]) -> bool:
    """By the release's version; for ``latest``/``create``, by the properties (v13+ has top-level ``password``)."""
    known = releases.get(str(job.get("release")))
    if known is not None:
        return known
    props = job.get("properties")
    return isinstance(props, dict) and ("password" in props or "port" in props)


def _modern_job(
    group: dict[str, Any], name: str, templates: tuple[str, ...], jobs: list[Any], global_update: dict[str, Any]
) -> JobSpec:
    """A v15 instance group: its ``redis`` job's properties read into the ``redis.*`` shape.

    A property the local director does not model is refused rather than ignored: a director that
    silently drops ``redis.raw_config`` would deploy something else than the manifest says.
    """
    redis: dict[str, Any] = {}
    sentinel = None
    for job in jobs:
        if isinstance(job, dict) and job.get("name") == "redis-sentinel":
            sentinel = _sentinel(name, job.get("properties") or {})
        if not isinstance(job, dict) or job.get("name") != "redis":
            continue
        props = _mapping(job.get("properties") or {}, f"properties of job 'redis' in '{name}'")
        for key in sorted(props):
            inner = props[key] if key == "redis" else None
            unknown = [key] if key not in _MODERN_PROPS else []
            if isinstance(inner, dict):
                unknown = [f"redis.{k}" for k in sorted(inner) if k not in _MODERN_REDIS_PROPS]
            if unknown:
                raise DirectorError(
                    f"instance group '{name}': job 'redis' property '{unknown[0]}' is not modelled by the local"
                    " director (it runs port, password, persistent_disk, redis.replication, redis.maxclients):"
                    " remove it, or use a BOSH director"
                )
        nested = props["redis"] if isinstance(props.get("redis"), dict) else {}
        redis = {"port": props.get("port", _DEFAULT_PORT), "password": props.get("password")}
        if nested.get("replication") is False:
            redis["replication"] = False
    spec = _spec(group, name, templates, {"redis": redis} if redis else {}, _disk(group), global_update)
    return JobSpec(**{**spec.__dict__, "modern": True, "sentinel": sentinel})


_SENTINEL_PROPS = {"port", "redis_port", "quorum"}


def _sentinel(group: str, props: Any) -> SentinelProps:
    """``redis-sentinel``'s ``sentinel.*`` properties; anything else is refused (not modelled)."""
    props = _mapping(props, f"properties of job 'redis-sentinel' in '{group}'")
    inner = props.get("sentinel") or {}
    unknown = [k for k in sorted(props) if k not in ("sentinel", "base_dir", "redis")]
    unknown += [f"sentinel.{k}" for k in sorted(_mapping(inner, "sentinel")) if k not in _SENTINEL_PROPS]
    if unknown:
        raise DirectorError(
            f"instance group '{group}': job 'redis-sentinel' property '{unknown[0]}' is not modelled by the local"
            " director (it runs sentinel.port, sentinel.redis_port, sentinel.quorum): remove it, or use a BOSH director"
        )
    try:
        return SentinelProps(
            int(inner.get("port", 26379)), int(inner.get("redis_port", _DEFAULT_PORT)), int(inner.get("quorum", 2))
        )
    except (TypeError, ValueError):
        raise DirectorError(f"instance group '{group}': redis-sentinel's sentinel.* values must be numbers") from None


def _link_errands(jobs: list[JobSpec]) -> list[JobSpec]:
    """v15's ``sanity-tests`` errand consumes the ``redis`` link: the first group running redis."""
    provider = next((j for j in jobs if j.modern and j.runs_redis), None)
    out = []
    for job in jobs:
        if job.modern and job.errand and "sanity-tests" in job.templates and provider is not None:
            props = provider.redis()
            label = dns_label(provider.name)
            link: dict[str, Any] = {"port": props.port, "password": props.password}
            link["master"] = f"0.{label}.default.link.bosh"
            if provider.instances > 1 and provider.bootstrap_master:
                link["slave"] = f"1.{label}.default.link.bosh"
            job = JobSpec(**{**job.__dict__, "properties": {"redis": link}})
        out.append(job)
    return out


def _disk(group: dict[str, Any]) -> int:
    disk = group.get("persistent_disk") or 0
    if not disk and (group.get("persistent_disk_type") or group.get("persistent_disk_pool")):
        disk = 1
    return int(disk)


def _spec(
    job: dict[str, Any],
    name: str,
    templates: tuple[str, ...],
    props: dict[str, Any],
    disk: int,
    global_update: dict[str, Any],
) -> JobSpec:
    if not name:
        raise DirectorError("a job in the manifest has no `name`: every job needs one")
    update = {**_mapping(global_update, "update"), **_mapping(job.get("update") or {}, name)}
    policy = UpdatePolicy(
        canaries=update.get("canaries", 1),
        max_in_flight=update.get("max_in_flight", 1),
        canary_watch_time=update.get("canary_watch_time", 30000),
        update_watch_time=update.get("update_watch_time", 30000),
    )
    networks = tuple(_network_ref(n, name) for n in job.get("networks") or [])
    instances = job.get("instances") or 0
    if type(instances) is not int or not 0 <= instances <= MAX_INSTANCES:
        raise DirectorError(
            f"job '{name}': `instances` is {instances!r}; it must be a whole number from 0 to {MAX_INSTANCES} "
            "(check meta.slaves and meta.test_slaves in the env's scaling stub)"
        )
    return JobSpec(
        name=name,
        templates=templates,
        instances=instances,
        networks=networks,
        properties=props,
        persistent_disk=disk,
        update=policy,
        errand=job.get("lifecycle") == "errand",
    )


def _network_ref(raw: Any, job: str) -> NetworkRef:
    net = _mapping(raw, f"networks of job '{job}'")
    statics = net.get("static_ips") or []
    if isinstance(statics, str):
        statics = [statics]
    return NetworkRef(
        name=str(net.get("name") or ""),
        static_ips=tuple(str(s) for s in statics),
        default=tuple(str(d) for d in net.get("default") or []),
    )


def _template_names(raw: Any, job: str) -> tuple[str, ...]:
    if raw is None:
        return ()
    if isinstance(raw, str):
        return (raw,)
    if not isinstance(raw, list):
        raise DirectorError(f"job '{job}': `templates`/`jobs` must be a list")
    names: list[str] = []
    for item in raw:
        names.append(str(item.get("name") if isinstance(item, dict) else item))
    return tuple(names)


def _mapping(value: Any, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise DirectorError(f"manifest: {where} must be a mapping, got {type(value).__name__}")
    return value


def _count(value: int | str, size: int, *, floor: int) -> int:
    """An int, or a percentage of ``size`` as a director computes ``canaries``/``max_in_flight``."""
    text = str(value).strip()
    try:
        if text.endswith("%"):
            percent = float(text[:-1])
            if not 0 <= percent <= 100:
                raise ValueError(text)
            return max(floor, math.floor(size * percent / 100.0))
        count = int(text)
    except ValueError:
        raise DirectorError(f"update: '{value}' is neither a number nor a percentage from 0% to 100%") from None
    if not 0 <= count <= MAX_INSTANCES:
        raise DirectorError(f"update: '{value}' must be from 0 to {MAX_INSTANCES}")
    return count


def _watch_ms(value: int | str) -> int:
    """``1000-100000`` or ``30000``: the director waits up to the upper bound (at most a day)."""
    text = str(value).strip()
    try:
        ms = int(text.rsplit("-", 1)[-1].strip())
    except ValueError:
        raise DirectorError(f"update: watch time '{value}' must be ms or a range like 1000-30000") from None
    if not 0 < ms <= MAX_WATCH_MS:
        raise DirectorError(f"update: watch time '{value}' must be from 1 to {MAX_WATCH_MS} ms (a day)")
    return ms


def _opt_str(value: Any) -> str | None:
    return None if value is None else str(value)
