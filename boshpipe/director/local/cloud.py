"""Named cloud configs on the local director, merged and checked against v2 manifests as a director does.

A v270+ director keeps cloud configs by name (``POST /configs``, type ``cloud``), merges the latest
version of each (lists concatenated; a name defined twice, or ``compilation`` in two configs, is an
error) and validates a v2 manifest against the result before anything changes. The local director
does the same, in the director's own words (texts from cloudfoundry/bosh's instance group parser and
placement planner), so ``invoke deploy`` on the embedded default meets the errors a real one gives.
"""

from __future__ import annotations

import difflib
import hashlib
import ipaddress
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from boshpipe.director.local.net import IP, expand, read_networks
from boshpipe.director.local.state import write_json
from boshpipe.errors import DirectorError

_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
SECTIONS = ("azs", "vm_types", "vm_extensions", "disk_types", "networks")
_SINGULAR = {"azs": "az", "vm_types": "vm type", "vm_extensions": "vm extension", "disk_types": "disk type",
             "networks": "network"}  # fmt: skip


class ConfigStore:
    """``<state>/configs/cloud/<name>.json``: ``{id, content}`` of the latest version of each config."""

    def __init__(self, root: Path) -> None:
        self.root = root / "configs" / "cloud"

    def latest(self) -> dict[str, str]:
        if not self.root.is_dir():
            return {}
        out: dict[str, str] = {}
        for path in sorted(self.root.glob("*.json")):
            try:
                out[path.stem] = str(json.loads(path.read_text())["content"])
            except (OSError, ValueError, KeyError) as err:
                raise DirectorError(f"local director config {path} is unreadable ({err}): delete it by hand") from err
        return out

    def update(self, name: str, content: str) -> None:
        if not _NAME.match(name):
            raise DirectorError(f"config name '{name}' is not usable: use letters, digits, '.', '_' and '-' only")
        self.root.mkdir(parents=True, exist_ok=True, mode=0o700)
        config_id = hashlib.sha256(content.encode()).hexdigest()[:12]
        write_json(self.root / f"{name}.json", {"id": config_id, "name": name, "content": content})


@dataclass(frozen=True)
class CloudConfig:
    """The merged cloud config: what a v2 manifest's names must refer to."""

    doc: dict[str, Any]

    def names(self, section: str) -> set[str]:
        return {str(e.get("name")) for e in self.doc.get(section) or [] if isinstance(e, dict)}


def parse(name: str, content: str) -> dict[str, Any]:
    try:
        doc = yaml.load(content, Loader=_LOADER)
    except yaml.YAMLError:
        raise DirectorError(f"cloud config '{name}' is not valid YAML") from None
    if doc is None:
        return {}
    if not isinstance(doc, dict):
        raise DirectorError(f"cloud config '{name}' must be a mapping")
    return doc


def merge(configs: dict[str, str]) -> CloudConfig:
    """Latest versions merged: lists concatenated in name order; duplicate names refused."""
    merged: dict[str, Any] = {section: [] for section in SECTIONS}
    seen: dict[tuple[str, str], str] = {}
    compilation_from: str | None = None
    for config_name in sorted(configs):
        doc = parse(config_name, configs[config_name])
        for section in SECTIONS:
            for entry in doc.get(section) or []:
                if not isinstance(entry, dict):
                    continue
                key = (section, str(entry.get("name")))
                if key in seen:
                    raise DirectorError(
                        f"Duplicate {_SINGULAR[section]} name '{key[1]}' in cloud configs"
                        f" '{seen[key]}' and '{config_name}'"
                    )
                seen[key] = config_name
                merged[section].append(entry)
        if doc.get("compilation") is not None:
            if compilation_from is not None:
                raise DirectorError(
                    f"Cloud configs '{compilation_from}' and '{config_name}' both define 'compilation':"
                    " only one config may"
                )
            compilation_from = config_name
            merged["compilation"] = doc["compilation"]
    return CloudConfig(merged)


def validate_v2(manifest: dict[str, Any], cloud: CloudConfig) -> None:
    """Refuse what a director refuses before any VM changes, with its words."""
    if manifest.get("update") is None:
        raise DirectorError("Required property 'update' was not specified in object (deployment manifest)")
    stemcells = {str(s.get("alias")) for s in manifest.get("stemcells") or [] if isinstance(s, dict)}
    releases = {str(r.get("name")) for r in manifest.get("releases") or [] if isinstance(r, dict)}
    networks = read_networks(cloud.doc)
    vm_types, disk_types, azs = cloud.names("vm_types"), cloud.names("disk_types"), cloud.names("azs")
    reserved: dict[IP, str] = {}
    for group in manifest.get("instance_groups") or []:
        if not isinstance(group, dict):
            raise DirectorError("Object in 'instance_groups' must be a hash")
        name = str(group.get("name"))
        for job in group.get("jobs") or []:
            release = str(job.get("release")) if isinstance(job, dict) else ""
            if release not in releases:
                raise DirectorError(
                    f"Job '{job.get('name') if isinstance(job, dict) else job}' (instance group '{name}')"
                    f" references an unknown release '{release}'"
                )
        disk_type = group.get("persistent_disk_type")
        if disk_type is not None and str(disk_type) not in disk_types:
            raise DirectorError(f"Instance group '{name}' references an unknown disk type '{disk_type}'")
        vm_type = group.get("vm_type")
        if vm_type is None and group.get("vm_resources") is None:
            raise DirectorError(f"Instance group '{name}' is missing either 'vm_type' or 'vm_resources' section.")
        if vm_type is not None and str(vm_type) not in vm_types:
            raise DirectorError(f"Instance group '{name}' references an unknown vm type '{vm_type}'")
        if str(group.get("stemcell")) not in stemcells:
            raise DirectorError(f"Instance group '{name}' references an unknown stemcell '{group.get('stemcell')}'")
        for ref in group.get("networks") or []:
            net = str(ref.get("name")) if isinstance(ref, dict) else str(ref)
            if net not in networks:
                raise DirectorError(f"Instance group '{name}' references an unknown network '{net}'")
        for az in group.get("azs") or []:
            if str(az) not in azs:
                raise DirectorError(f"Instance group '{name}' references unknown availability zone '{az}'")
        _check_static_ips(group, name, cloud, reserved)


def _check_static_ips(group: dict[str, Any], name: str, cloud: CloudConfig, reserved: dict[IP, str]) -> None:
    instances = int(group.get("instances") or 0)
    for ref in group.get("networks") or []:
        if not isinstance(ref, dict) or not ref.get("static_ips"):
            continue
        net_name = str(ref["name"])
        statics = expand(ref["static_ips"], f"instance group '{name}' network '{net_name}' static_ips")
        if len(statics) != instances:
            raise DirectorError(
                f"Instance group '{name}' has {instances} instances but was allocated {len(statics)}"
                f" static IPs in network '{net_name}'"
            )
        allowed = _static_ranges(cloud, net_name)
        for index, ip in enumerate(statics):
            if ip not in allowed:
                raise DirectorError(
                    f"Instance group '{name}' with network '{net_name}' declares static ip '{ip}',"
                    " which belongs to no subnet"
                )
            holder = f"{name}/{index}"
            if ip in reserved:
                raise DirectorError(
                    f"Failed to reserve IP '{ip}' for instance '{holder}': already reserved by"
                    f" instance '{reserved[ip]}' of this deployment"
                )
            reserved[ip] = holder


def _static_ranges(cloud: CloudConfig, network: str) -> set[IP]:
    for raw in cloud.doc.get("networks") or []:
        if isinstance(raw, dict) and str(raw.get("name")) == network:
            out: set[IP] = set()
            for subnet in raw.get("subnets") or []:
                if isinstance(subnet, dict) and subnet.get("range"):
                    try:
                        cidr = ipaddress.IPv4Network(str(subnet["range"]), strict=False)
                    except ValueError:
                        bad = subnet["range"]
                        raise DirectorError(f"network '{network}': subnet range '{bad}' is not a CIDR") from None
                    statics = expand(subnet.get("static") or [], f"network '{network}' static")
                    out.update(ip for ip in statics if ip in cidr)  # a static IP outside its range serves no one
            return out
    return set()


def diff_lines(old: str | None, new: str) -> list[str]:
    """``+ ``/``- `` lines between two configs (parsed and dumped sorted, so key order is no change).

    Equal documents are [] without dumping anything: an unchanged config is the common case.
    """
    after_doc = _parsed(new)
    if old is not None and _parsed(old) == after_doc:
        return []
    before = _sorted_lines(_parsed(old)) if old is not None else []
    out: list[str] = []
    for line in difflib.unified_diff(before, _sorted_lines(after_doc), lineterm="", n=0):
        if line.startswith(("---", "+++", "@@")):
            continue
        out.append(f"{line[:1]} {line[1:]}")
    return out


def _parsed(text: str) -> Any:
    try:
        return yaml.load(text, Loader=_LOADER)
    except yaml.YAMLError:
        return text


def _sorted_lines(doc: Any) -> list[str]:
    dumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
    return str(yaml.dump(doc, Dumper=dumper, sort_keys=True, default_flow_style=False)).splitlines()
