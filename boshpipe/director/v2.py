"""The composed v1 document as a v2 deployment manifest plus a cloud-config (bosh.io's rules).

Directors since v270 refuse v1 manifests, and the 2015 upstream templates compose v1 documents
(``jobs``, ``networks``, ``resource_pools``, ``compilation``). The spiff composition stays as it is:
this module turns its output, deterministically, into the two documents a modern director takes.
It is pure (no director, no files) and shared: the chain converts before it deploys, the local
director and the checks read either shape through ``groups.py``. The rules, one per row, are the
``RULES`` table (docs/architecture.md prints the same table; a table-driven test walks it).

Names: with a *generated* cloud-config every name the cloud-config defines (azs, vm_types,
disk_types, networks) is prefixed with the deployment name, because a director merges named
configs and refuses two definitions of one name; with an *existing* cloud-config the operator's
names are used and no cloud-config is produced. Job properties are never renamed (the upstream
``network`` property is not in the job spec: a director ignores it).
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any

from boshpipe.director.groups import deep_merge
from boshpipe.errors import DirectorError

# (v1, v2, where): the conversion table, as docs/architecture.md shows it.
RULES: tuple[tuple[str, str, str], ...] = (
    ("jobs[]", "instance_groups[] (same order, same name)", "manifest"),
    ("jobs[].templates / template", "instance_groups[].jobs: [{name, release, properties}]", "manifest"),
    ("properties (global) + jobs[].properties", "each job's properties (global first, the group's win)", "manifest"),
    ("jobs[].resource_pool", "instance_groups[].vm_type + stemcell (alias of the pool's stemcell)", "manifest"),
    ("resource_pools[].stemcell", "stemcells[]: {alias, name, version} (one per distinct stemcell)", "manifest"),
    ("jobs[].persistent_disk: N", "instance_groups[].persistent_disk: N", "manifest"),
    ("jobs[].persistent_disk_pool: P", "instance_groups[].persistent_disk_type: P", "manifest"),
    ("(none)", "instance_groups[].azs: [<the env's az>]", "manifest"),
    ("jobs[].networks (static_ips, default)", "instance_groups[].networks, names mapped, IPs kept", "manifest"),
    ("jobs[].instances, lifecycle, update, env", "kept as they are", "manifest"),
    ("name, releases, update, tags, variables, features, addons", "kept as they are", "manifest"),
    ("director_uuid, meta", "dropped (the v2 CLI ignores the uuid; meta is spiff scratch)", "manifest"),
    ("resource_pools[] (name, cloud_properties)", "vm_types[] (size, network, stemcell dropped)", "cloud-config"),
    ("disk_pools[] (name, disk_size, cloud_properties)", "disk_types[]", "cloud-config"),
    ("networks[] (type, subnets: range, gateway, reserved, static, dns, cloud_properties)",
     "networks[], each subnet gaining azs: [<the env's az>]", "cloud-config"),
    ("compilation (workers, network, reuse_compilation_vms, cloud_properties)",
     "compilation, network mapped, az added", "cloud-config"),
    ("(none)", "azs: [{name: <deployment>-z1}]", "cloud-config"),
)  # fmt: skip

_KEPT_TOP = ("name", "releases", "update", "tags", "variables", "features", "addons")
_V1_TOP = ("jobs", "networks", "resource_pools", "disk_pools", "compilation", "properties", "director_uuid", "meta")
_KEPT_GROUP = ("name", "instances", "lifecycle", "update", "env", "migrated_from")
AZ_SUFFIX = "z1"


@dataclass(frozen=True)
class ExistingNames:
    """Names the operator's cloud-config already has (``cloud_config: {existing: ...}`` in env.yml)."""

    vm_type: str
    network: str
    azs: tuple[str, ...]
    disk_type: str | None = None


@dataclass(frozen=True)
class Converted:
    manifest: dict[str, Any]
    cloud_config: dict[str, Any] | None  # None: the operator's cloud-config is used as it is


def is_v2(document: dict[str, Any]) -> bool:
    return "instance_groups" in document


def convert(document: dict[str, Any], existing: ExistingNames | None = None) -> Converted:
    """The v2 manifest and cloud-config of a composed v1 document (a v2 document is returned as is)."""
    if is_v2(document):
        return Converted(copy.deepcopy(document), None)
    name = str(document.get("name") or "")
    if not name:
        raise DirectorError("manifest has no deployment `name`: is this a merged deployment manifest?")
    names = _Names(name, existing)
    v1_networks = sorted({str(n.get("name")) for n in _list(document, "networks") if isinstance(n, dict)})
    if existing is not None and len(v1_networks) > 1:
        raise DirectorError(
            f"cloud_config: existing maps every network to '{existing.network}', and the manifest has"
            f" {len(v1_networks)} ({', '.join(v1_networks)}): use cloud_config: generate"
        )
    pools = {str(p.get("name")): p for p in _list(document, "resource_pools") if isinstance(p, dict)}
    stemcells, alias_of = _stemcells(pools)
    global_props = _map(document.get("properties"), "properties")
    releases = [str(r.get("name")) for r in _list(document, "releases") if isinstance(r, dict)]
    manifest: dict[str, Any] = {k: copy.deepcopy(document[k]) for k in _KEPT_TOP if k in document}
    for key, value in document.items():
        if key not in manifest and key not in _V1_TOP:
            manifest[key] = copy.deepcopy(value)  # whatever else the templates add goes through as it is
    manifest["stemcells"] = stemcells
    groups = [_group(j, names, alias_of, global_props, releases) for j in _list(document, "jobs")]
    manifest["instance_groups"] = groups
    cloud = None if existing is not None else _cloud_config(document, names, pools)
    return Converted(manifest, cloud)


def cloud_config_name(deployment: str) -> str:
    """The named cloud config of a deployment (``POST /configs`` type cloud)."""
    return deployment


def defined_names(cloud_config: dict[str, Any]) -> dict[str, set[str]]:
    """Every name a cloud-config defines, by section (what a director refuses to see twice)."""
    out: dict[str, set[str]] = {}
    for section in ("azs", "vm_types", "vm_extensions", "disk_types", "networks"):
        entries = cloud_config.get(section) or []
        out[section] = {str(e.get("name")) for e in entries if isinstance(e, dict) and e.get("name")}
    return out


class _Names:
    """How v1 names become cloud-config names: prefixed (generated) or the operator's (existing)."""

    def __init__(self, deployment: str, existing: ExistingNames | None) -> None:
        self.prefix = deployment
        self.existing = existing

    def azs(self) -> list[str]:
        return list(self.existing.azs) if self.existing else [f"{self.prefix}-{AZ_SUFFIX}"]

    def vm_type(self, pool: str) -> str:
        return self.existing.vm_type if self.existing else f"{self.prefix}-{pool}"

    def network(self, network: str) -> str:
        return self.existing.network if self.existing else f"{self.prefix}-{network}"

    def disk_type(self, pool: str, group: str) -> str:
        if self.existing is None:
            return f"{self.prefix}-{pool}"
        if not self.existing.disk_type:
            raise DirectorError(
                f"job '{group}' uses persistent_disk_pool '{pool}', and cloud_config: existing names no"
                " disk_type: add disk_type to cloud_config.existing in env.yml"
            )
        return self.existing.disk_type


def _group(
    raw: Any,
    names: _Names,
    alias_of: dict[str, str],
    global_props: dict[str, Any],
    releases: list[str],
) -> dict[str, Any]:
    job = _map(raw, "jobs entry")
    gname = str(job.get("name") or "")
    group: dict[str, Any] = {k: copy.deepcopy(job[k]) for k in _KEPT_GROUP if k in job}
    group["azs"] = names.azs()
    props = deep_merge(copy.deepcopy(global_props), copy.deepcopy(_map(job.get("properties"), gname)))
    group["jobs"] = [_job(t, gname, props, releases) for t in _templates(job)]
    pool = job.get("resource_pool")
    if pool is not None:
        group["vm_type"] = names.vm_type(str(pool))
        if str(pool) in alias_of:
            group["stemcell"] = alias_of[str(pool)]
    if job.get("persistent_disk"):
        group["persistent_disk"] = job["persistent_disk"]
    elif job.get("persistent_disk_pool"):
        group["persistent_disk_type"] = names.disk_type(str(job["persistent_disk_pool"]), gname)
    networks = []
    for net in job.get("networks") or []:
        ref = copy.deepcopy(_map(net, f"networks of job '{gname}'"))
        ref["name"] = names.network(str(ref.get("name")))
        if ref.get("static_ips") is None:
            ref.pop("static_ips", None)  # `static_ips: ~` is "none" in v1; a v2 director wants a list or nothing
        networks.append(ref)
    group["networks"] = networks
    return group


def _templates(job: dict[str, Any]) -> list[Any]:
    raw = job.get("templates")
    if raw is None:
        raw = job.get("template")
    if raw is None:
        return []
    return [raw] if isinstance(raw, str) else list(raw)


def _job(template: Any, group: str, props: dict[str, Any], releases: list[str]) -> dict[str, Any]:
    if isinstance(template, str):
        template = {"name": template}
    entry = _map(template, f"templates of job '{group}'")
    release = entry.get("release")
    if release is None:
        if len(releases) != 1:
            raise DirectorError(
                f"job '{group}': template '{entry.get('name')}' names no release and the manifest has"
                f" {len(releases)} releases: give the template its release"
            )
        release = releases[0]
    out: dict[str, Any] = {"name": str(entry.get("name")), "release": str(release)}
    out["properties"] = deep_merge(copy.deepcopy(props), copy.deepcopy(_map(entry.get("properties"), group)))
    return out


def _stemcells(pools: dict[str, dict[str, Any]]) -> tuple[list[dict[str, Any]], dict[str, str]]:
    """One stemcells entry per distinct stemcell; alias ``default`` when there is one, else the pool's name."""
    distinct: dict[tuple[str, str, str], str] = {}
    for pool_name, pool in pools.items():
        stemcell = _map(pool.get("stemcell"), f"resource pool '{pool_name}' stemcell")
        key = (str(stemcell.get("name") or ""), str(stemcell.get("os") or ""), str(stemcell.get("version", "latest")))
        distinct.setdefault(key, pool_name)
    single = len(distinct) == 1
    entries: list[dict[str, Any]] = []
    alias_by_key: dict[tuple[str, str, str], str] = {}
    for key, first_pool in distinct.items():
        alias = "default" if single else first_pool
        alias_by_key[key] = alias
        entry: dict[str, Any] = {"alias": alias}
        if key[0]:
            entry["name"] = key[0]
        else:
            entry["os"] = key[1]
        entry["version"] = key[2]
        entries.append(entry)
    alias_of = {}
    for pool_name, pool in pools.items():
        stemcell = _map(pool.get("stemcell"), pool_name)
        key = (str(stemcell.get("name") or ""), str(stemcell.get("os") or ""), str(stemcell.get("version", "latest")))
        alias_of[pool_name] = alias_by_key[key]
    return entries, alias_of


def _cloud_config(document: dict[str, Any], names: _Names, pools: dict[str, dict[str, Any]]) -> dict[str, Any]:
    azs = names.azs()
    cloud: dict[str, Any] = {"azs": [{"name": az, "cloud_properties": {}} for az in azs]}
    cloud["vm_types"] = [
        {"name": names.vm_type(pool_name), "cloud_properties": copy.deepcopy(pool.get("cloud_properties") or {})}
        for pool_name, pool in pools.items()
    ]
    disk_types = []
    for raw in _list(document, "disk_pools"):
        pool = _map(raw, "disk_pools entry")
        entry = {"name": f"{names.prefix}-{pool.get('name')}", "disk_size": pool.get("disk_size", 0)}
        entry["cloud_properties"] = copy.deepcopy(pool.get("cloud_properties") or {})
        disk_types.append(entry)
    cloud["disk_types"] = disk_types
    networks = []
    for raw in _list(document, "networks"):
        net = copy.deepcopy(_map(raw, "networks entry"))
        net["name"] = names.network(str(net.get("name")))
        if "subnets" in net:
            subnets = []
            for subnet in net.get("subnets") or []:
                subnet = dict(_map(subnet, f"subnets of network '{net['name']}'"))
                subnet["azs"] = list(azs)
                subnets.append(subnet)
            net["subnets"] = subnets
        else:
            net["azs"] = list(azs)  # vip/dynamic networks carry azs on the network itself
        networks.append(net)
    cloud["networks"] = networks
    if isinstance(document.get("compilation"), dict):
        compilation = copy.deepcopy(document["compilation"])
        if compilation.get("network") is not None:
            compilation["network"] = names.network(str(compilation["network"]))
        compilation["az"] = azs[0]
        compilation.setdefault("cloud_properties", {})
        cloud["compilation"] = compilation
    return cloud


def _list(document: dict[str, Any], key: str) -> list[Any]:
    value = document.get(key) or []
    if not isinstance(value, list):
        raise DirectorError(f"manifest: `{key}` must be a list, got {type(value).__name__}")
    return value


def _map(value: Any, where: str) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise DirectorError(f"manifest: {where} must be a mapping, got {type(value).__name__}")
    return value
