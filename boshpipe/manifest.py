"""Composes an env's manifest: which files, in which order, from a candidate, through spiff.

The files come from the candidate (what is promoted); the order and the generated stub's settings
come from the repository's env.yml (how this env is composed). Rendering from the working tree goes
through an in-memory candidate too, so there is one composition path.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

from boshpipe import spiff, yamlsafe
from boshpipe.candidate import Candidate
from boshpipe.environments import EnvConfig, TemplateRef
from boshpipe.errors import ManifestError


@dataclass(frozen=True)
class Manifest:
    doc: dict[str, Any]
    text: str

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.text.encode()).hexdigest()


def archive_path(ref: TemplateRef, env: str) -> str:
    """Where a template of the merge order sits inside a candidate."""
    if ref.source == "upstream":
        return f"upstream/{ref.path}"
    if ref.source == "project":
        return f"project/{ref.path}"
    return f"envs/{env}/{ref.path}"


def generated_stub(env: EnvConfig, candidate: Candidate, password: str) -> dict[str, Any]:
    """The stub made from settings: what upstream's example stub.yml asks a person to fill in."""
    meta: dict[str, Any] = {
        "environment": env.deployment,
        "password": password,
        "job_templates": [{"name": "redis", "release": "redis"}],
    }
    if env.stemcell:
        meta["stemcell"] = env.stemcell
    releases = []
    for release in candidate.releases:
        entry = {"name": release.name, "version": release.version}
        if release.url:
            entry["url"] = release.url
        if release.sha1:
            entry["sha1"] = release.sha1
        releases.append(entry)
    return {
        "meta": meta,
        "director_uuid": env.director_uuid,
        "releases": releases,
        "properties": {"redis": {}},
    }


def render(env: EnvConfig, candidate: Candidate, password: str) -> Manifest:
    documents: list[dict[str, Any]] = []
    names: list[str] = []  # errors name the file (`env:pipeline/scaling-dev1.yml`), never "stub2"
    for ref in env.templates:
        names.append(str(ref))
        if ref.is_generated:
            documents.append(generated_stub(env, candidate, password))
            continue
        path = archive_path(ref, env.name)
        data = candidate.files.get(path)
        if data is None:
            raise ManifestError(
                f"{env.path}: templates: {ref} is not in the candidate (no {path}); "
                "rebuild the candidate or fix the templates list"
            )
        text = yamlsafe.decode(data, f"{ref} ({path} in the candidate)", error=ManifestError)
        documents.append(spiff.load(text, name=str(ref)))
    doc = spiff.merge(documents[0], *documents[1:], names=names)
    if not isinstance(doc.get("name"), str):
        raise ManifestError(f"{env.path}: the merged manifest has no deployment name (meta.environment)")
    return Manifest(doc=doc, text=spiff.dump(doc))
