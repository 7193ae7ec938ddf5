"""Loads and validates ``<env>/env.yml``: one deployment's settings and its promotion rules.

Every problem names the file and the key (``dev1/env.yml: releases[0].version: ...``) so the person
editing it knows where to look. The rules part is read here, from the repository, at deploy time.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

from boshpipe.clock import parse_duration
from boshpipe.errors import ConfigError
from boshpipe.freeze import FreezeConfig, parse_env_freeze
from boshpipe.project import Project, read_yaml_mapping

TEMPLATE_SOURCES = ("upstream", "project", "env")
GENERATED = "generated"
TEST_NAMES = ("smoke", "acceptance", "integration")


@dataclass(frozen=True)
class TemplateRef:
    """One entry of the merge order: ``env:pipeline/x.yml``, ``generated``.

    Sources name where the file sits in a candidate; ``generated`` is the stub made from env.yml.
    """

    source: str
    path: str

    @property
    def is_generated(self) -> bool:
        return self.source == GENERATED

    def __str__(self) -> str:
        return GENERATED if self.is_generated else f"{self.source}:{self.path}"


@dataclass(frozen=True)
class Release:
    name: str
    version: str
    url: str | None = None
    sha1: str | None = None

    @property
    def final(self) -> bool:
        """bosh.io lists only final releases; a ``+dev.`` version is a dev release."""
        return "+dev." not in self.version and self.version != "latest"


@dataclass(frozen=True)
class Upstream:
    url: str
    ref: str


@dataclass(frozen=True)
class ApprovalRule:
    """``accepts.approvals``: ``count`` people approved the candidate for this env (``invoke approve``)."""

    count: int
    distinct_from_builder: bool = False  # the builder's own approval does not count


@dataclass(frozen=True)
class SoakRule:
    """``accepts.soak``: deployed in ``env`` for at least ``duration``, no failed test there since."""

    env: str
    duration: timedelta
    text: str  # as written in env.yml ("2h"), for messages


@dataclass(frozen=True)
class Rules:
    """What a candidate must have done before this env accepts it (all read from the repository)."""

    succeeded_in: tuple[str, ...] = ()
    mode: str = "any_of"  # any_of | all_of
    tests: tuple[str, ...] = ()
    final_releases_only: bool = False
    started_from_current: bool = False  # the run in succeeded_in must have started from this env's current
    reset_to: str | None = None  # before a new candidate, redeploy this env with that env's current
    approvals: ApprovalRule | None = None
    soak: SoakRule | None = None

    @property
    def open(self) -> bool:
        return not (
            self.succeeded_in or self.final_releases_only or self.started_from_current or self.approvals or self.soak
        )


MANIFEST_SHAPES = ("auto", "v2", "v1")
CLOUD_CONFIG_MODES = ("generate", "existing")


@dataclass(frozen=True)
class StemcellSource:
    """Where to get a stemcell the director lacks (``stemcells:`` in env.yml), like a release's url."""

    name: str
    version: str
    url: str | None = None
    sha1: str | None = None


@dataclass(frozen=True)
class ExistingCloudConfig:
    """Names in the operator's cloud-config the v2 manifest uses (``cloud_config: {existing: ...}``)."""

    vm_type: str
    network: str
    azs: tuple[str, ...]
    disk_type: str | None = None


@dataclass(frozen=True)
class ManifestShape:
    """How the composed manifest reaches the director (env.yml ``manifest``, ``cloud_config``, ``stemcells``).

    ``manifest``: ``auto`` (v2 when ``GET /info`` says v270 or later, else v1), ``v2`` or ``v1``.
    ``existing`` None means ``cloud_config: generate``: the env's part of the v1 document becomes a
    named cloud config of its own; else the operator's names are used and nothing is uploaded.
    """

    manifest: str = "auto"
    existing: ExistingCloudConfig | None = None
    stemcells: tuple[StemcellSource, ...] = ()

    @property
    def cloud_config(self) -> str:
        return "generate" if self.existing is None else "existing"


@dataclass(frozen=True)
class EnvConfig:
    name: str
    path: Path
    deployment: str
    director: str
    store: str | None
    upstream: Upstream
    templates: tuple[TemplateRef, ...]
    releases: tuple[Release, ...]
    rules: Rules
    tests: tuple[str, ...]  # tests run after a deploy here
    director_uuid: str = "ignore"
    stemcell: dict[str, Any] = field(default_factory=dict)
    freeze: FreezeConfig = field(default_factory=FreezeConfig)
    shape: ManifestShape = field(default_factory=ManifestShape)


def load_env(project: Project, env: str) -> EnvConfig:
    folder = project.env_dir(env)
    path = folder / "env.yml"
    if not path.is_file():
        raise ConfigError(f"{path}: file not found: every env folder needs an env.yml")
    return parse_env(env, path, read_yaml_mapping(path), project.environments)


def parse_env(env: str, path: Path, data: dict[str, Any], known_envs: tuple[str, ...]) -> EnvConfig:
    at = _Locator(path)
    deployment = at.string(data, "deployment")
    director = at.string(data, "director", default="local")
    store = at.optional_string(data, "store")
    up = at.mapping(data, "upstream")
    upstream = Upstream(url=at.string(up, "url", "upstream."), ref=at.string(up, "ref", "upstream."))
    templates = tuple(_template(at, i, t) for i, t in enumerate(at.list(data, "templates")))
    if not templates or templates[0].is_generated:
        raise ConfigError(f"{path}: templates: the first entry must be a template file, not 'generated'")
    releases = tuple(_release(at, i, r) for i, r in enumerate(at.list(data, "releases")))
    if not releases:
        raise ConfigError(f"{path}: releases: at least one release is needed")
    tests = tuple(at.list(data, "tests", default=["smoke", "acceptance"]))
    for i, test in enumerate(tests):
        if test not in TEST_NAMES:
            raise ConfigError(f"{path}: tests[{i}]: unknown test {test!r}; known: {', '.join(TEST_NAMES)}")
    rules = _rules(at, data.get("accepts") or {}, known_envs, env)
    stemcell = data.get("stemcell") or {}
    if not isinstance(stemcell, dict):
        raise ConfigError(f"{path}: stemcell: expected a mapping with name and version")
    return EnvConfig(
        name=env,
        path=path,
        deployment=deployment,
        director=director,
        store=store,
        upstream=upstream,
        templates=templates,
        releases=releases,
        rules=rules,
        tests=tests,
        director_uuid=at.string(data, "director_uuid", default="ignore"),
        stemcell=stemcell,
        freeze=parse_env_freeze(data.get("freeze"), f"{path}: freeze"),
        shape=_shape(at, data),
    )


def _shape(at: _Locator, data: dict[str, Any]) -> ManifestShape:
    """``manifest``, ``cloud_config`` and ``stemcells``: the settings of the v2 + cloud-config path."""
    manifest = data.get("manifest", "auto")
    if manifest not in MANIFEST_SHAPES:
        raise at.error("manifest", f"{manifest!r} is not one of {', '.join(MANIFEST_SHAPES)}")
    raw = data.get("cloud_config", "generate")
    existing = None
    if isinstance(raw, dict) and set(raw) == {"existing"}:
        names = raw["existing"]
        if not isinstance(names, dict):
            raise at.error("cloud_config.existing", "expected a mapping with vm_type, network, azs (and disk_type)")
        unknown = sorted(set(names) - {"vm_type", "network", "azs", "disk_type"})
        if unknown:
            known = "unknown key; known: vm_type, network, azs, disk_type"
            raise at.error(f"cloud_config.existing.{unknown[0]}", known)
        azs = names.get("azs")
        if not isinstance(azs, list) or not azs or not all(isinstance(a, str) and a for a in azs):
            raise at.error("cloud_config.existing.azs", "expected a non-empty list of az names")
        existing = ExistingCloudConfig(
            vm_type=at.string(names, "vm_type", "cloud_config.existing."),
            network=at.string(names, "network", "cloud_config.existing."),
            azs=tuple(azs),
            disk_type=at.optional_string(names, "disk_type", "cloud_config.existing."),
        )
    elif raw == "existing":
        raise at.error("cloud_config", "existing needs the names to use: {existing: {vm_type, network, azs}}")
    elif raw != "generate":
        raise at.error("cloud_config", "expected generate, or {existing: {vm_type, network, azs, disk_type}}")
    stemcells = []
    for i, entry in enumerate(at.list(data, "stemcells", default=[])):
        prefix = f"stemcells[{i}]."
        if not isinstance(entry, dict):
            raise at.error(f"stemcells[{i}]", "expected a mapping with name, version, url (and sha1)")
        unknown = sorted(set(entry) - {"name", "version", "url", "sha1"})
        if unknown:
            raise at.error(prefix + unknown[0], "unknown key; known: name, version, url, sha1")
        version = entry.get("version", "latest")
        stemcells.append(
            StemcellSource(
                name=at.string(entry, "name", prefix),
                version=str(version),
                url=at.optional_string(entry, "url", prefix),
                sha1=at.optional_string(entry, "sha1", prefix),
            )
        )
    return ManifestShape(manifest=str(manifest), existing=existing, stemcells=tuple(stemcells))


def _template(at: _Locator, index: int, entry: Any) -> TemplateRef:
    where = f"templates[{index}]"
    if entry == GENERATED:
        return TemplateRef(GENERATED, "")
    if not isinstance(entry, str) or ":" not in entry:
        raise at.error(where, "expected 'upstream:<path>', 'project:<path>', 'env:<path>' or 'generated'")
    source, _, rel = entry.partition(":")
    if source not in TEMPLATE_SOURCES:
        raise at.error(where, f"unknown source {source!r}; use one of {', '.join(TEMPLATE_SOURCES)}")
    if not rel or rel.startswith("/") or ".." in Path(rel).parts:
        raise at.error(where, f"{rel!r} must be a relative path inside its source")
    return TemplateRef(source, rel)


def _release(at: _Locator, index: int, entry: Any) -> Release:
    prefix = f"releases[{index}]."
    if not isinstance(entry, dict):
        raise at.error(f"releases[{index}]", "expected a mapping with name and version")
    version = entry.get("version")
    if isinstance(version, int | float) and not isinstance(version, bool):
        version = str(version)
    if not isinstance(version, str) or not version:
        raise at.error(prefix + "version", "expected a version such as '12' or '12+dev.3'")
    return Release(
        name=at.string(entry, "name", prefix),
        version=version,
        url=at.optional_string(entry, "url", prefix),
        sha1=at.optional_string(entry, "sha1", prefix),
    )


def _rules(at: _Locator, data: Any, known_envs: tuple[str, ...], env: str) -> Rules:
    if not isinstance(data, dict):
        raise at.error("accepts", "expected a mapping")
    succeeded = data.get("succeeded_in") or {}
    if not isinstance(succeeded, dict) or len(succeeded) > 1:
        raise at.error("accepts.succeeded_in", "expected {any_of: [envs]} or {all_of: [envs]}")
    mode, envs = next(iter(succeeded.items()), ("any_of", []))
    if mode not in ("any_of", "all_of"):
        raise at.error("accepts.succeeded_in", f"unknown mode {mode!r}; use any_of or all_of")
    if not isinstance(envs, list):
        raise at.error(f"accepts.succeeded_in.{mode}", "expected a list of env names")
    for name in envs:
        if name not in known_envs or name == env:
            raise at.error(f"accepts.succeeded_in.{mode}", f"{name!r} is not another env of this project")
    tests = data.get("tests") or []
    if not isinstance(tests, list) or any(t not in TEST_NAMES for t in tests):
        raise at.error("accepts.tests", f"expected a list of test names from {', '.join(TEST_NAMES)}")
    flags = {}
    for key in ("final_releases_only", "started_from_current"):
        flags[key] = data.get(key, False)
        if not isinstance(flags[key], bool):
            raise at.error(f"accepts.{key}", "expected true or false")
    reset_to = data.get("reset_to")
    if reset_to is not None and (reset_to not in known_envs or reset_to == env):
        raise at.error("accepts.reset_to", f"{reset_to!r} is not another env of this project")
    return Rules(
        succeeded_in=tuple(envs),
        mode=mode,
        tests=tuple(tests),
        final_releases_only=flags["final_releases_only"],
        started_from_current=flags["started_from_current"],
        reset_to=reset_to,
        approvals=_approvals(at, data.get("approvals")),
        soak=_soak(at, data.get("soak"), known_envs),
    )


def _approvals(at: _Locator, data: Any) -> ApprovalRule | None:
    if data is None:
        return None
    where = "accepts.approvals"
    if not isinstance(data, dict):
        raise at.error(where, "expected {count: N, distinct_from_builder: true|false}")
    unknown = sorted(set(data) - {"count", "distinct_from_builder"})
    if unknown:
        raise at.error(f"{where}.{unknown[0]}", "unknown key; known: count, distinct_from_builder")
    count = data.get("count")
    if not isinstance(count, int) or isinstance(count, bool) or count < 1:
        raise at.error(f"{where}.count", "expected a whole number of approvals, 1 or more")
    distinct = data.get("distinct_from_builder", False)
    if not isinstance(distinct, bool):
        raise at.error(f"{where}.distinct_from_builder", "expected true or false")
    return ApprovalRule(count=count, distinct_from_builder=distinct)


def _soak(at: _Locator, data: Any, known_envs: tuple[str, ...]) -> SoakRule | None:
    if data is None:
        return None
    where = "accepts.soak"
    if not isinstance(data, dict):
        raise at.error(where, "expected {in: <env>, for: <duration such as 2h>}")
    unknown = sorted(set(data) - {"in", "for"})
    if unknown:
        raise at.error(f"{where}.{unknown[0]}", "unknown key; known: in, for")
    env = data.get("in")
    if env not in known_envs:
        raise at.error(f"{where}.in", f"{env!r} is not an env of this project")
    text = data.get("for")
    if not isinstance(text, str):
        raise at.error(f"{where}.for", "expected a duration such as 2h, 90m or 1d")
    return SoakRule(env=str(env), duration=parse_duration(text, f"{at.path}: {where}.for"), text=text)


class _Locator:
    """Builds ``file: key: problem`` messages while reading nested settings."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def error(self, key: str, problem: str) -> ConfigError:
        return ConfigError(f"{self.path}: {key}: {problem}")

    def string(self, data: dict[str, Any], key: str, prefix: str = "", default: str | None = None) -> str:
        value = data.get(key, default)
        if value is None:
            raise self.error(prefix + key, "missing (required)")
        if not isinstance(value, str) or not value:
            raise self.error(prefix + key, f"expected a non-empty string, got {type(value).__name__}")
        return value

    def optional_string(self, data: dict[str, Any], key: str, prefix: str = "") -> str | None:
        value = data.get(key)
        if value is None:
            return None
        if not isinstance(value, str):
            raise self.error(prefix + key, f"expected a string, got {type(value).__name__}")
        return value

    def mapping(self, data: dict[str, Any], key: str) -> dict[str, Any]:
        value = data.get(key)
        if not isinstance(value, dict):
            raise self.error(key, "missing or not a mapping")
        return value

    def list(self, data: dict[str, Any], key: str, default: list[Any] | None = None) -> list[Any]:
        value = data.get(key, default)
        if not isinstance(value, list):
            raise self.error(key, "missing or not a list")
        return value
