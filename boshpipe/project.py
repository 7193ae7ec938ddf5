"""The project: where the repository's env folders are and where run-time state goes.

Gate rules and env settings are always read from here (the repository checked out at deploy time),
never from a candidate, so a candidate cannot change the rules that admit it.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from boshpipe import validated
from boshpipe.errors import ConfigError
from boshpipe.yamlsafe import Document, load_file

if TYPE_CHECKING:
    from boshpipe.schema import ProjectFile

MARKER = "boshpipe.yml"
DEFAULT_PROTECTED = ("staging", "production")
"""Envs that must keep promotion rules unless boshpipe.yml says otherwise (``protected_envs``)."""


@dataclass(frozen=True)
class Project:
    root: Path
    workdir: Path
    candidate_name: str
    environments: tuple[str, ...]
    store: str | None
    templates_dir: Path
    protected_envs: tuple[str, ...] = ()
    """Envs whose ``accepts:`` may not be ``open`` (empty when boshpipe.yml allows it everywhere)."""
    freeze: dict[str, Any] | None = field(default=None, compare=False)
    """boshpipe.yml's ``freeze:`` as written; ``boshpipe.freeze.project_freeze`` reads it."""
    notify: dict[str, Any] | None = field(default=None, compare=False)
    """boshpipe.yml's ``notify:`` as written; ``boshpipe.notify.from_project`` reads it."""

    @property
    def settings_file(self) -> Path:
        return self.root / MARKER

    @classmethod
    def discover(cls, start: Path | None = None) -> Project:
        """The project containing ``start`` (default: cwd), or the one ``BOSHPIPE_PROJECT`` names."""
        explicit = os.environ.get("BOSHPIPE_PROJECT")
        if explicit:
            return cls.load(Path(explicit))
        here = (start or Path.cwd()).resolve()
        for folder in (here, *here.parents):
            if (folder / MARKER).is_file():
                return cls.load(folder)
        raise ConfigError(
            f"no {MARKER} in {here} or any parent: run from the boshpipe checkout or set BOSHPIPE_PROJECT"
        )

    @classmethod
    def load(cls, root: Path) -> Project:
        root = root.resolve()
        path = root / MARKER
        doc = read_yaml_document(path)
        workdir = Path(os.environ.get("BOSHPIPE_WORKDIR") or root / ".boshpipe").resolve()
        validated.use_cache(workdir / "cache" / "settings")
        settings: ProjectFile = validated.validated("ProjectFile", doc.data, doc.text, str(path), doc)
        envs = tuple(settings.environments)
        if len(set(envs)) != len(envs):
            raise ConfigError(f"{path}: environments: an env is listed twice: list each once, in promotion order")
        protected = tuple(settings.protected_envs) if settings.protected_envs is not None else DEFAULT_PROTECTED
        unknown = [e for e in settings.protected_envs or () if e not in envs]
        if unknown:
            raise ConfigError(f"{path}: protected_envs: {unknown[0]!r} is not one of the environments")
        store = settings.store
        if store and not store.startswith("s3://"):
            store = str((root / store).resolve())
        return cls(
            root=root,
            workdir=workdir,
            candidate_name=settings.candidate_name,
            environments=envs,
            store=store,
            templates_dir=root / (settings.templates_dir or "templates"),
            protected_envs=() if settings.allow_open_protected_envs else tuple(e for e in protected if e in envs),
            freeze=settings.freeze,
            notify=settings.notify,
        )

    def env_dir(self, env: str) -> Path:
        if env not in self.environments:
            known = ", ".join(self.environments)
            raise ConfigError(f"unknown env {env!r}: known envs are {known} (see {self.settings_file})")
        return self.root / env


def read_yaml_document(path: Path) -> Document:
    """A settings file that must hold a mapping, read through ``yamlsafe`` (size, text, aliases).

    Every failure is one line naming the file (and the line when known).
    """
    doc = load_file(path)
    if not isinstance(doc.data, dict):
        raise ConfigError(f"{path}: expected a mapping at the top level")
    return doc
