"""Which manifest shape a director gets, and what must be on the director before a v2 deploy.

One candidate, two shapes: the spiff composition (a v1 document, as the 2015 templates make it) is
deployed as it is (``manifest: v1``), or converted by ``director/v2.py`` into a v2 manifest plus a
cloud-config (``manifest: v2``; ``auto`` asks ``GET /info`` and takes v2 from v270 on). Before a
v2 deploy the env's named cloud config is uploaded when it changed (``cloud_config: generate``), or
the operator's cloud-config is checked for the names env.yml gives (``existing``); stemcells the
director lacks are uploaded from ``stemcells:``. This module sits between the steps and the
director: it never records anything (the steps do), and it never asks which director it has.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

import yaml

from boshpipe import spiff
from boshpipe.director import Director, Stemcell, TaskResult
from boshpipe.director.redact import redact_yaml_lines
from boshpipe.director.v2 import ExistingNames, cloud_config_name, convert, defined_names
from boshpipe.environments import EnvConfig
from boshpipe.errors import ConfigError, DirectorError
from boshpipe.manifest import Manifest
from boshpipe.ui import Reporter

V2_FROM = 270  # directors since v270 (2019) refuse v1 manifests
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_SINGULAR = {"azs": "az", "vm_types": "vm_type", "vm_extensions": "vm_extension", "disk_types": "disk_type",
             "networks": "network"}  # fmt: skip


_SETTING = {"vm_types": "vm_type", "networks": "network", "azs": "azs", "disk_types": "disk_type"}


@dataclass(frozen=True)
class Shaped:
    """What is sent to the director: the manifest (v1 or v2) and, for v2, the cloud config and stemcells."""

    version: str  # v1 | v2
    manifest: Manifest
    cloud_config: Manifest | None = None  # the named cloud config (generate), None otherwise
    cloud_config_name: str | None = None
    stemcells: tuple[Stemcell, ...] = ()

    def details(self) -> dict[str, Any]:
        """What a deploy record says about the shape (names and digests, never content)."""
        out: dict[str, Any] = {"shape": self.version}
        if self.cloud_config is not None:
            out["cloud_config"] = {"name": self.cloud_config_name, "sha256": self.cloud_config.sha256}
        return out


def choose(env: EnvConfig, director: Director) -> str:
    """``v1`` or ``v2`` for this env on this director (``auto`` reads the director's version)."""
    if env.shape.manifest != "auto":
        return env.shape.manifest
    return "v2" if director.info().major >= V2_FROM else "v1"


def shape(env: EnvConfig, composed: Manifest, version: str) -> Shaped:
    """The composed manifest in the given shape (pure: same inputs, same bytes)."""
    if version == "v1":
        return Shaped("v1", composed)
    existing = env.shape.existing
    names = None
    if existing is not None:
        names = ExistingNames(existing.vm_type, existing.network, existing.azs, existing.disk_type)
    try:
        converted = convert(composed.doc, names)
    except DirectorError as err:
        raise ConfigError(f"{env.path}: converting the manifest to v2: {err}") from None
    manifest = Manifest(converted.manifest, spiff.dump(converted.manifest))
    cloud = None
    if converted.cloud_config is not None:
        cloud = Manifest(converted.cloud_config, spiff.dump(converted.cloud_config))
    return Shaped(
        "v2",
        manifest,
        cloud,
        cloud_config_name(env.deployment) if cloud is not None else None,
        _stemcells(env, converted.manifest),
    )


def shape_ops(env: EnvConfig, manifest: Manifest, cloud: Manifest | None, version: str) -> Shaped:
    """An ops composition is a v2 manifest already: it only goes to a director that takes v2.

    Its cloud config (``cloud_config_file``) is the env's named config, as ``generate`` makes one
    from a spiff composition; with ``cloud_config: existing`` the manifest names the operator's.
    """
    if version != "v2":
        raise ConfigError(
            f"{env.path}: an ops composition is a v2 manifest but this env deploys v1 (manifest: {env.shape.manifest},"
            " or a director older than v270): set manifest: auto or v2, or deploy a spiff candidate"
        )
    name = cloud_config_name(env.deployment) if cloud is not None else None
    return Shaped("v2", manifest, cloud, name, _stemcells(env, manifest.doc))


def prepare(env: EnvConfig, director: Director, shaped: Shaped, out: Reporter) -> TaskResult | None:
    """Everything a v2 deploy needs on the director first; a failed upload task is returned."""
    if shaped.version != "v2":
        return None
    if shaped.cloud_config is not None:
        publish(env, director, shaped, out)
    elif env.shape.existing is not None:
        check_existing(env, director)
    return director.prepare_stemcells(shaped.stemcells, out.event)


def publish(env: EnvConfig, director: Director, shaped: Shaped, out: Reporter, *, diff_only: bool = False) -> bool:
    """Upload the env's named cloud config when it changed (the diff shown first); True if it changed.

    With ``diff_only`` nothing is uploaded: True then says an upload is pending.

    Named configs are merged by the director: a name another config defines already is refused
    here with one line, and ``compilation`` (one config only) is left out when another config has it.
    """
    assert shaped.cloud_config is not None and shaped.cloud_config_name is not None
    name = shaped.cloud_config_name
    others = {k: _load(k, v) for k, v in director.cloud_configs().items() if k != name}
    ours = dict(shaped.cloud_config.doc)
    for section, mine in defined_names(ours).items():
        for other, doc in sorted(others.items()):
            clash = sorted(mine & defined_names(doc).get(section, set()))
            if clash:
                raise ConfigError(
                    f"{env.path}: cloud config '{name}' defines {_SINGULAR[section]} '{clash[0]}', which cloud"
                    f" config '{other}' on {director.describe()} defines already: named configs are merged,"
                    f" so give '{env.deployment}' a deployment name of its own or rename it in '{other}'"
                )
    compilation_elsewhere = sorted(k for k, doc in others.items() if doc.get("compilation") is not None)
    if compilation_elsewhere and "compilation" in ours:
        del ours["compilation"]
        out.line(f"cloud config {name}: compilation left to cloud config '{compilation_elsewhere[0]}' (one only)")
    content = spiff.dump(ours)
    lines = director.diff_cloud_config(name, content)
    if not lines:
        out.line(f"cloud config {name}: unchanged on {director.describe()}")
        return False
    for line in redact_yaml_lines(lines):
        out.line(f"  {line}")
    if diff_only:
        out.line(f"cloud config {name}: {_changes(lines)} (not uploaded: --diff)")
        return True
    director.update_cloud_config(name, content)
    digest = hashlib.sha256(content.encode()).hexdigest()
    out.line(f"cloud config {name}: uploaded to {director.describe()} ({_changes(lines)}, sha256 {digest[:12]})")
    return True


def check_existing(env: EnvConfig, director: Director) -> None:
    """``cloud_config: existing``: the operator's cloud configs must define every name env.yml gives."""
    existing = env.shape.existing
    assert existing is not None
    have: dict[str, set[str]] = {}
    for config, content in sorted(director.cloud_configs().items()):
        for section, names in defined_names(_load(config, content)).items():
            have.setdefault(section, set()).update(names)
    wanted = [("vm_types", existing.vm_type), ("networks", existing.network)]
    wanted += [("azs", az) for az in existing.azs]
    if existing.disk_type:
        wanted.append(("disk_types", existing.disk_type))
    for section, wanted_name in wanted:
        known = have.get(section, set())
        if wanted_name not in known:
            listed = ", ".join(sorted(known)) or "none"
            raise ConfigError(
                f"{env.path}: cloud_config.existing.{_SETTING[section]}: {director.describe()}"
                f" has no {_SINGULAR[section]} '{wanted_name}' in its cloud configs (it has: {listed}):"
                " use one of those names, or cloud_config: generate"
            )


def _stemcells(env: EnvConfig, manifest: dict[str, Any]) -> tuple[Stemcell, ...]:
    sources = {(s.name, s.version): s for s in env.shape.stemcells}
    by_name = {s.name: s for s in env.shape.stemcells}
    out = []
    for entry in manifest.get("stemcells") or []:
        name = str(entry.get("name") or "")
        os = str(entry.get("os") or "")
        version = str(entry.get("version", "latest"))
        source = sources.get((name or os, version)) or by_name.get(name or os)
        out.append(
            Stemcell(
                name=name,
                os=os,
                version=version,
                url=source.url if source else None,
                sha1=source.sha1 if source else None,
            )
        )
    return tuple(out)


def _load(name: str, content: str) -> dict[str, Any]:
    try:
        doc = yaml.load(content, Loader=_LOADER)
    except yaml.YAMLError:
        raise DirectorError(f"cloud config '{name}' on the director is not valid YAML") from None
    return doc if isinstance(doc, dict) else {}


def _changes(lines: list[str]) -> str:
    added = sum(1 for line in lines if line.startswith("+ "))
    removed = sum(1 for line in lines if line.startswith("- "))
    return f"{added} line(s) added, {removed} removed"
