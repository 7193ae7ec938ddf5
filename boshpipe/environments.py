"""Loads and validates ``<env>/env.yml``: one deployment's settings and its promotion rules.

Every problem names the file and the key (``dev1/env.yml: releases[0].version: ...``) so the person
editing it knows where to look. The rules part is read here, from the repository, at deploy time.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from boshpipe.clock import parse_duration
from boshpipe.errors import ConfigError
from boshpipe.freeze import FreezeConfig, parse_env_freeze
from boshpipe.project import Project, read_yaml_document
from boshpipe.settings_path import render_path
from boshpipe.validated import validated
from boshpipe.yamlsafe import Document

if TYPE_CHECKING:
    from boshpipe.schema import Accepts, EnvFile

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
    declared_open: bool = False  # env.yml says `accepts: open` (the only way to have no rules)

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
    composition: str = "spiff"  # what a candidate built for this env holds: spiff | ops
    ops: OpsComposition | None = None  # the ops settings (manifest_base, ops, vars), when given


COMPOSITIONS = ("spiff", "ops")


@dataclass(frozen=True)
class OpsComposition:
    """``manifest_base``, ``ops``, ``vars``, ``cloud_config_file``: how this env composes an ops candidate.

    Entries name files in a candidate as ``templates:`` entries do (``upstream:``, ``project:``,
    ``env:``); ``vars`` are plain ``-v`` values. Secrets are never here: generated values come from
    the env's vars store (embedded director) or the director's config server.
    """

    base: TemplateRef
    ops: tuple[TemplateRef, ...]
    vars: dict[str, Any]
    cloud_config: TemplateRef | None


def load_env(project: Project, env: str) -> EnvConfig:
    folder = project.env_dir(env)
    path = folder / "env.yml"
    if not path.is_file():
        raise ConfigError(f"{path}: file not found: every env folder needs an env.yml")
    doc = read_yaml_document(path)
    return parse_env(env, path, doc.data, project.environments, protected=project.protected_envs, doc=doc)


def parse_env(
    env: str,
    path: Path,
    data: dict[str, Any],
    known_envs: tuple[str, ...],
    *,
    protected: tuple[str, ...] = (),
    doc: Document | None = None,
) -> EnvConfig:
    """Validate ``data`` against :class:`~boshpipe.schema.EnvFile`, then the rules that need the project.

    ``protected`` envs may not say ``accepts: open`` (see ``Project.protected_envs``).
    """
    text = doc.text if doc is not None and doc.data is data else None
    settings: EnvFile = validated("EnvFile", data, text, str(path), doc)
    at = _Locator(path, doc)
    templates = tuple(_template(at, i, t) for i, t in enumerate(settings.templates))
    if templates and templates[0].is_generated:
        raise at.error(("templates", 0), "the first entry must be a template file, not 'generated'")
    if settings.composition == "spiff" and not templates:
        raise at.error(("templates",), "composition spiff needs the merge order: list the templates")
    ops = _ops(at, settings)
    if settings.composition == "ops" and ops is None:
        raise at.error(("manifest_base",), "composition ops needs a base manifest: e.g. upstream:manifests/redis.yml")
    releases = tuple(
        Release(name=r.name, version=str(r.version), url=r.url, sha1=r.sha1) for r in settings.releases
    )
    if settings.accepts == "open":
        if env in protected:
            raise at.error(
                ("accepts",),
                f"{env} is a protected env and may not accept any candidate: give it rules, or set "
                "allow_open_protected_envs: true in boshpipe.yml",
            )
        rules = Rules(declared_open=True)
    else:
        rules = _rules(at, settings.accepts, known_envs, env)
    stemcell = {k: v for k, v in vars(settings.stemcell).items() if v is not None} if settings.stemcell else {}
    return EnvConfig(
        name=env,
        path=path,
        deployment=settings.deployment,
        director=settings.director,
        store=settings.store,
        upstream=Upstream(url=settings.upstream.url, ref=settings.upstream.ref),
        templates=templates,
        releases=releases,
        rules=rules,
        tests=tuple(settings.tests),
        director_uuid=settings.director_uuid,
        stemcell=stemcell,
        freeze=parse_env_freeze(settings.freeze, f"{path}: freeze"),
        shape=_shape(settings),
        composition=settings.composition,
        ops=ops,
    )


def _ops(at: _Locator, settings: EnvFile) -> OpsComposition | None:
    """The ops settings, or None when env.yml has no ``manifest_base`` (then ``ops``/``vars`` are refused)."""
    if settings.manifest_base is None:
        for key in ("ops", "vars", "cloud_config_file"):
            if getattr(settings, key):
                raise at.error((key,), "only means something with manifest_base (composition ops): add it or remove it")
        return None
    base = _file_ref(at, ("manifest_base",), settings.manifest_base)
    ops = tuple(_file_ref(at, ("ops", i), entry) for i, entry in enumerate(settings.ops))
    cloud = None
    if settings.cloud_config_file is not None:
        cloud = _file_ref(at, ("cloud_config_file",), settings.cloud_config_file)
    return OpsComposition(base, ops, dict(settings.vars), cloud)


def _file_ref(at: _Locator, where: tuple[str | int, ...], entry: str) -> TemplateRef:
    """An ``upstream:``/``project:``/``env:`` file entry (``generated`` has no meaning for ops)."""
    if entry == GENERATED:
        raise at.error(where, "'generated' is a spiff stub: name an ops file (upstream:, project: or env:)")
    return _template(at, where, entry)


def _shape(settings: EnvFile) -> ManifestShape:
    """``manifest``, ``cloud_config`` and ``stemcells``: the settings of the v2 + cloud-config path."""
    existing = None
    if not isinstance(settings.cloud_config, str):
        names = settings.cloud_config.existing
        existing = ExistingCloudConfig(names.vm_type, names.network, tuple(names.azs), names.disk_type)
    stemcells = tuple(
        StemcellSource(name=s.name, version=str(s.version), url=s.url, sha1=s.sha1) for s in settings.stemcells
    )
    return ManifestShape(manifest=settings.manifest, existing=existing, stemcells=stemcells)


def _template(at: _Locator, index: int | tuple[str | int, ...], entry: str) -> TemplateRef:
    where = ("templates", index) if isinstance(index, int) else index
    if entry == GENERATED:
        return TemplateRef(GENERATED, "")
    if ":" not in entry:
        raise at.error(where, "expected 'upstream:<path>', 'project:<path>', 'env:<path>' or 'generated'")
    source, _, rel = entry.partition(":")
    if source not in TEMPLATE_SOURCES:
        raise at.error(where, f"unknown source {source!r}; use one of {', '.join(TEMPLATE_SOURCES)}")
    if not rel or rel.startswith("/") or ".." in Path(rel).parts:
        raise at.error(where, f"{rel!r} must be a relative path inside its source")
    return TemplateRef(source, rel)


def _rules(at: _Locator, accepts: Accepts, known_envs: tuple[str, ...], env: str) -> Rules:
    mode, envs = "any_of", tuple[str, ...]()
    if accepts.succeeded_in is not None:
        mode = "any_of" if accepts.succeeded_in.any_of is not None else "all_of"
        envs = tuple(accepts.succeeded_in.any_of or accepts.succeeded_in.all_of or ())
    for i, name in enumerate(envs):
        if name not in known_envs or name == env:
            raise at.error(("accepts", "succeeded_in", mode, i), f"{name!r} is not another env of this project")
    if accepts.reset_to is not None and (accepts.reset_to not in known_envs or accepts.reset_to == env):
        raise at.error(("accepts", "reset_to"), f"{accepts.reset_to!r} is not another env of this project")
    if not envs and (accepts.tests or accepts.started_from_current):
        key = "tests" if accepts.tests else "started_from_current"
        raise at.error(("accepts", key), "only means something with succeeded_in: add succeeded_in or remove it")
    soak = None
    if accepts.soak is not None:
        if accepts.soak.in_ not in known_envs:
            raise at.error(("accepts", "soak", "in"), f"{accepts.soak.in_!r} is not an env of this project")
        where = f"{at.path}: accepts.soak.for"
        soak = SoakRule(env=accepts.soak.in_, duration=parse_duration(accepts.soak.for_, where), text=accepts.soak.for_)
    approvals = None
    if accepts.approvals is not None:
        approvals = ApprovalRule(accepts.approvals.count, accepts.approvals.distinct_from_builder)
    rules = Rules(
        succeeded_in=envs,
        mode=mode,
        tests=tuple(accepts.tests),
        final_releases_only=accepts.final_releases_only,
        started_from_current=accepts.started_from_current,
        reset_to=accepts.reset_to,
        approvals=approvals,
        soak=soak,
    )
    if rules.open:
        raise at.error(
            ("accepts",),
            "these rules admit any candidate: say `accepts: open` if that is meant, "
            "else add succeeded_in, final_releases_only, approvals or soak",
        )
    return rules


class _Locator:
    """Builds ``file[:line]: yaml.path: problem`` messages for checks beyond the schema."""

    def __init__(self, path: Path, doc: Document | None) -> None:
        self.path = path
        self.doc = doc

    def error(self, loc: tuple[str | int, ...], problem: str) -> ConfigError:
        line = self.doc.line(loc) if self.doc is not None else None
        place = f"{self.path}:{line}" if line else str(self.path)
        return ConfigError(f"{place}: {render_path(loc)}: {problem}")
