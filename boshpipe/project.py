"""The project: where the repository's env folders are and where run-time state goes.

Gate rules and env settings are always read from here (the repository checked out at deploy time),
never from a candidate, so a candidate cannot change the rules that admit it.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from boshpipe.errors import ConfigError

MARKER = "boshpipe.yml"


@dataclass(frozen=True)
class Project:
    root: Path
    workdir: Path
    candidate_name: str
    environments: tuple[str, ...]
    store: str | None
    templates_dir: Path

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
        data = read_yaml_mapping(path)
        envs = data.get("environments")
        if not isinstance(envs, list) or not envs or not all(isinstance(e, str) for e in envs):
            raise ConfigError(f"{path}: 'environments' must be a non-empty list of env names")
        name = data.get("candidate_name")
        if not isinstance(name, str) or not name:
            raise ConfigError(f"{path}: 'candidate_name' must be a non-empty string")
        store = data.get("store")
        if store is not None and not isinstance(store, str):
            raise ConfigError(f"{path}: 'store' must be a path or s3://bucket/prefix")
        if store and not store.startswith("s3://"):
            store = str((root / store).resolve())
        workdir = Path(os.environ.get("BOSHPIPE_WORKDIR") or root / ".boshpipe").resolve()
        return cls(
            root=root,
            workdir=workdir,
            candidate_name=name,
            environments=tuple(envs),
            store=store,
            templates_dir=root / str(data.get("templates_dir") or "templates"),
        )

    def env_dir(self, env: str) -> Path:
        if env not in self.environments:
            known = ", ".join(self.environments)
            raise ConfigError(f"unknown env {env!r}: known envs are {known} (see {self.root / MARKER})")
        return self.root / env


def read_yaml_mapping(path: Path) -> dict[str, Any]:
    """A YAML file that must hold a mapping; every failure names the file (and line when known)."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"{path}: file not found") from None
    except OSError as err:
        raise ConfigError(f"{path}: cannot read: {err.strerror}") from None
    try:
        data = yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    except yaml.MarkedYAMLError as err:
        mark = err.problem_mark
        where = f"{path}:{mark.line + 1}" if mark else str(path)
        raise ConfigError(f"{where}: invalid YAML: {err.problem}") from None
    except yaml.YAMLError as err:
        raise ConfigError(f"{path}: invalid YAML: {err}") from None
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: expected a mapping at the top level")
    return data
