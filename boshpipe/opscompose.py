"""The ops composition: a candidate's v2 base manifest + ops files + variables → a v2 manifest.

This is ``bosh deploy BASE -o OPS... -v k=v --vars-store FILE`` done by ``boshpipe.ops`` over the
files a candidate carries (what is promoted), in the order the repository's env.yml gives (how this
env composes). Two ops of our own come last, so the result always names the env's deployment and the
candidate's releases (the gates judge those): ``/name`` and ``/releases/name=<r>?`` per release.

Variables (decision): on the embedded director, ``((vars))`` without a value are generated from the
manifest's ``variables:`` into the env's vars store ``<workdir>/secrets/<env>.vars-store.yml``
(0600, created once and reused), and a variable with no value and no definition is an error. On a
real director they are left as ``((name))`` for its config server (CredHub), which generates and
keeps them: no value is then known to this tool at all.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from boshpipe import ops, yamlsafe
from boshpipe.candidate import Candidate
from boshpipe.environments import EnvConfig, OpsComposition, TemplateRef
from boshpipe.errors import ConfigError, ManifestError
from boshpipe.manifest import Manifest, archive_path
from boshpipe.ops.opsfile import load_ops_text
from boshpipe.ops.patch import Operation


@dataclass(frozen=True)
class OpsComposed:
    """The composed v2 manifest and, with ``cloud_config_file``, the env's cloud config."""

    manifest: Manifest
    cloud_config: Manifest | None
    generated: tuple[str, ...] = ()  # names of variables generated into the vars store by this run


def vars_store_path(workdir: Path, env: str) -> Path:
    """Where the embedded director's generated values for ``env`` live (git-ignored work dir)."""
    return workdir / "secrets" / f"{env}.vars-store.yml"


def settings(env: EnvConfig) -> OpsComposition:
    """The env's ops settings, or one line saying a candidate of this composition cannot be composed here."""
    if env.ops is None:
        raise ConfigError(
            f"{env.path}: the candidate holds an ops composition but this env has no manifest_base:"
            " add manifest_base and ops (see README, composition ops), or deploy a spiff candidate"
        )
    return env.ops


def compose(env: EnvConfig, candidate: Candidate, vars_store: Path | None) -> OpsComposed:
    """Compose ``candidate`` for ``env``; ``vars_store`` None leaves unknown ``((vars))`` to the director.

    With a vars store every variable must have a value (the embedded director has no config server);
    the store is written (0600) only when the whole composition succeeded.
    """
    conf = settings(env)
    base = ops.load(_text(env, candidate, conf.base))
    if not isinstance(base, dict):
        raise ManifestError(f"{env.path}: manifest_base: {conf.base} is not a YAML mapping (a v2 manifest)")
    operations: list[Operation] = []
    for ref in conf.ops:
        operations.extend(_ops(env, candidate, ref))
    operations.extend(load_ops_text(ops.dump(_own_ops(env, candidate)), "boshpipe (name, releases)"))
    inputs = ops.Inputs(
        base,
        operations,
        vars=dict(conf.vars),
        vars_store=str(vars_store) if vars_store is not None else None,
        var_errs=vars_store is not None,
    )
    try:
        doc, store = ops.evaluate(inputs)
    except ops.OpsError as err:
        because = " ".join(err.message.split())  # the CLI's text, variable lists folded into the line
        raise ManifestError(f"{env.path}: composing {env.name} with ops files: {because}") from None
    if not isinstance(doc, dict):
        raise ManifestError(f"{env.path}: the composed manifest is not a mapping")
    cloud = None
    if conf.cloud_config is not None and env.shape.existing is None:
        cloud_doc = ops.load(_text(env, candidate, conf.cloud_config))
        if not isinstance(cloud_doc, dict):
            raise ManifestError(f"{env.path}: cloud_config_file: {conf.cloud_config} is not a YAML mapping")
        cloud = Manifest(cloud_doc, ops.dump(cloud_doc))
    generated: tuple[str, ...] = ()
    if store is not None:
        generated = tuple(store.generated)
        if vars_store is not None:
            vars_store.parent.mkdir(parents=True, exist_ok=True)
        store.save()
    return OpsComposed(Manifest(doc, ops.dump(doc)), cloud, generated)


def _own_ops(env: EnvConfig, candidate: Candidate) -> list[dict[str, Any]]:
    """The deployment name from env.yml and the releases from the candidate, applied last."""
    out: list[dict[str, Any]] = [{"type": "replace", "path": "/name", "value": env.deployment}]
    for release in candidate.releases:
        entry: dict[str, Any] = {"name": release.name, "version": release.version}
        if release.url:
            entry["url"] = release.url
        if release.sha1:
            entry["sha1"] = release.sha1
        out.append({"type": "replace", "path": f"/releases/name={release.name}?", "value": entry})
    return out


def _ops(env: EnvConfig, candidate: Candidate, ref: TemplateRef) -> list[Operation]:
    return load_ops_text(_text(env, candidate, ref), str(ref))


def _text(env: EnvConfig, candidate: Candidate, ref: TemplateRef) -> str:
    path = archive_path(ref, env.name)
    data = candidate.files.get(path)
    if data is None:
        raise ManifestError(
            f"{env.path}: {ref} is not in the candidate (no {path}); rebuild the candidate or fix env.yml's ops keys"
        )
    return yamlsafe.decode(data, f"{ref} ({path} in the candidate)", error=ManifestError)
