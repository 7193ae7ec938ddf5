"""The shape of every settings file: ``boshpipe.yml`` and ``<env>/env.yml`` (and ``candidate.json``).

Why a schema: one typo (``acepts:``) used to be ignored, and a missing ``accepts:`` meant "open",
so a typo removed every production gate. Here every mapping refuses keys it does not know and
suggests the nearest known one, every value has a type, and every number a range.

Decision — pydantic v2 (``extra="forbid"``, ``strict=True``): it is the well-kept library that
reports *where* each problem is (a location tuple we turn into ``accepts.succeeded_in.any_of[0]``),
enforces ranges declaratively (``Field(ge=, le=)``), and lets the next key be one line of a model.
msgspec is faster but says less about where; hand-written checks are what let ``acepts`` slip
through. Strict mode keeps YAML's surprises visible (``yes`` is not a string, ``"1"`` not a number).
What pydantic does not give — the did-you-mean, the file:line prefix, one line only — is
:func:`explain`. Cross-field rules that need other files (env names, protected envs) stay in
``environments.py`` and ``project.py``.

To add a key: add a field to the model below (with a ``Field`` range for a number); nothing else
in this module changes.
"""

from __future__ import annotations

import difflib
import functools
import types
import typing
from typing import Annotated, Any, Literal, Union

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError, model_validator

from boshpipe.errors import BoshpipeError, ConfigError
from boshpipe.settings_path import render_path
from boshpipe.yamlsafe import Document

TestName = Literal["smoke", "acceptance", "integration"]
EnvName = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9_-]{0,62}$")]
"""An env name is a folder name and part of store keys: letters, digits, ``-`` and ``_``."""
Name = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")]
"""Deployment, release and candidate names: what BOSH and the store keys accept."""
Text = Annotated[str, StringConstraints(min_length=1, max_length=4096)]


class Strict(BaseModel):
    """Unknown keys refused, no type coercion, values frozen."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


# -- boshpipe.yml --------------------------------------------------------------------------------


class ProjectFile(Strict):
    candidate_name: Name
    environments: Annotated[list[EnvName], Field(min_length=1, max_length=32)]
    store: Text | None = None
    templates_dir: Text | None = None
    protected_envs: Annotated[list[EnvName], Field(max_length=32)] | None = None
    """Envs whose ``accepts:`` may not be ``open``; default: staging and production."""
    allow_open_protected_envs: bool = False
    """Lets a protected env say ``accepts: open`` (a test project, a lab); off by default."""
    freeze: dict[str, Any] | None = None
    """Project-wide freeze windows, read (unknown keys refused) by ``boshpipe.freeze``."""
    notify: dict[str, Any] | None = None
    """Webhooks, read (unknown keys refused) by ``boshpipe.notify``."""


# -- <env>/env.yml -------------------------------------------------------------------------------


class UpstreamPin(Strict):
    url: Text
    ref: Annotated[str, StringConstraints(min_length=1, max_length=256)]


class ReleaseEntry(Strict):
    name: Name
    version: Annotated[str, StringConstraints(min_length=1, max_length=64)] | Annotated[int, Field(ge=0)]
    url: Text | None = None
    sha1: Annotated[str, StringConstraints(min_length=1, max_length=128)] | None = None


class Stemcell(Strict):
    name: Text | None = None
    os: Text | None = None
    alias: Text | None = None
    version: Annotated[str, StringConstraints(min_length=1, max_length=64)] | Annotated[int, Field(ge=0)] | None = None


class SucceededIn(Strict):
    any_of: Annotated[list[EnvName], Field(min_length=1, max_length=32)] | None = None
    all_of: Annotated[list[EnvName], Field(min_length=1, max_length=32)] | None = None

    @model_validator(mode="after")
    def _one_mode(self) -> SucceededIn:
        if (self.any_of is None) == (self.all_of is None):
            raise ValueError("give exactly one of any_of or all_of")
        return self


class Approvals(Strict):
    """``accepts.approvals``: how many people must approve (``invoke approve``) before this env takes it."""

    count: Annotated[int, Field(ge=1, le=100)]
    distinct_from_builder: bool = False


class Soak(Strict):
    """``accepts.soak``: ``{in: <env>, for: <duration such as 2h>}``."""

    in_: Annotated[EnvName, Field(alias="in")]
    for_: Annotated[str, StringConstraints(min_length=1, max_length=32), Field(alias="for")]


class Accepts(Strict):
    """Promotion rules (``accepts:`` when it is not ``open``)."""

    succeeded_in: SucceededIn | None = None
    tests: Annotated[list[TestName], Field(max_length=3)] = []
    final_releases_only: bool = False
    started_from_current: bool = False
    reset_to: EnvName | None = None
    approvals: Approvals | None = None
    soak: Soak | None = None


class ExistingNames(Strict):
    """Names the operator's cloud-config already has, used instead of generating one."""

    vm_type: Text
    network: Text
    azs: Annotated[list[Text], Field(min_length=1, max_length=16)]
    disk_type: Text | None = None


class ExistingCloudConfig(Strict):
    existing: ExistingNames


class StemcellUpload(Strict):
    """``stemcells:`` entries: a stemcell the director may lack, and where it can fetch it."""

    name: Text
    version: Annotated[str, StringConstraints(min_length=1, max_length=64)] | Annotated[int, Field(ge=0)] = "latest"
    url: Text | None = None
    sha1: Annotated[str, StringConstraints(min_length=1, max_length=128)] | None = None


class EnvFile(Strict):
    deployment: Name
    director: Text = "local"
    director_uuid: Text = "ignore"
    store: Text | None = None
    upstream: UpstreamPin
    composition: Literal["spiff", "ops"] = "spiff"
    """What a candidate built for this env holds: spiff templates (the 2015 path) or a v2 base + ops files."""
    templates: Annotated[list[Text], Field(max_length=64)] = []
    """spiff merge order; required when this env composes with spiff (or deploys spiff candidates)."""
    manifest_base: Text | None = None
    """composition ops: the base v2 manifest (``upstream:manifests/redis.yml``)."""
    ops: Annotated[list[Text], Field(max_length=64)] = []
    """composition ops: ops files applied in order (``upstream:``, ``project:ops/``, ``env:pipeline/``)."""
    vars: Annotated[dict[Name, str | bool | int], Field(max_length=256)] = {}
    """composition ops: plain ``-v`` values; secrets are never written here."""
    cloud_config_file: Text | None = None
    """composition ops with ``cloud_config: generate``: the env's named cloud config (``env:pipeline/...``)."""
    releases: Annotated[list[ReleaseEntry], Field(min_length=1, max_length=32)]
    tests: Annotated[list[TestName], Field(max_length=3)] = ["smoke", "acceptance"]
    accepts: Literal["open"] | Accepts
    """Required: ``open`` must be said, never implied by a missing or misspelt key."""
    stemcell: Stemcell | None = None
    manifest: Literal["auto", "v2", "v1"] = "auto"
    """How the composed manifest reaches the director: ``auto`` is v2 from director v270 on."""
    cloud_config: Literal["generate"] | ExistingCloudConfig = "generate"
    stemcells: Annotated[list[StemcellUpload], Field(max_length=16)] = []
    freeze: dict[str, Any] | None = None
    """Freeze windows and ``break_allowed``; their own reader (``boshpipe.freeze``) refuses unknown keys."""


# -- candidate.json ------------------------------------------------------------------------------


class CandidateRelease(BaseModel):
    """A release as a candidate records it; later keys are allowed (older readers ignore them)."""

    model_config = ConfigDict(extra="allow", strict=True, frozen=True)
    name: Name
    version: Annotated[str, StringConstraints(min_length=1, max_length=64)]
    url: Text | None = None
    sha1: Annotated[str, StringConstraints(min_length=1, max_length=128)] | None = None


class CandidateMetadata(BaseModel):
    model_config = ConfigDict(extra="allow", strict=True, frozen=True)
    files: Annotated[
        dict[Annotated[str, StringConstraints(min_length=1, max_length=1024)], Annotated[
            str, StringConstraints(pattern=r"^[0-9a-f]{64}$")
        ]],
        Field(max_length=10_000),
    ]
    releases: Annotated[list[CandidateRelease], Field(min_length=1, max_length=32)]
    composition: Literal["spiff", "ops"] = "spiff"


# -- validation and messages ---------------------------------------------------------------------

M = typing.TypeVar("M", bound=BaseModel)


def validate(
    model: type[M],
    data: Any,
    where: str,
    doc: Document | None = None,
    error: type[BoshpipeError] = ConfigError,
) -> M:
    """``data`` as ``model``, or one line: ``file[:line]: yaml.path: problem`` (the first problem)."""
    try:
        return model.model_validate(data)
    except ValidationError as err:
        raise error(explain(model, err, where, doc)) from None


def explain(model: type[BaseModel], err: ValidationError, where: str, doc: Document | None = None) -> str:
    """The first problem of ``err`` as one line; unknown keys get the nearest known key suggested."""
    problems = err.errors(include_url=False)
    first = _most_telling(problems)
    kind = first["type"]
    raw = tuple(first["loc"])
    # the last part of an unknown key's location is the key as written, whatever it looks like
    loc = _clean_loc(raw[:-1]) + raw[-1:] if kind == "extra_forbidden" and raw else _clean_loc(raw)
    line = None
    if doc is not None and kind != "missing":
        line = doc.key_line(loc) if kind == "extra_forbidden" else doc.line(loc)
    place = f"{where}:{line}" if line else where
    path = render_path(loc) or "(top level)"
    return f"{place}: {path}: {_problem(model, first, loc)}"




def known_keys(model: type[BaseModel], loc: tuple[str | int, ...]) -> list[str]:
    """The keys the mapping at ``loc`` accepts (used for did-you-mean)."""
    current: Any = model
    for part in loc:
        current = _inner_model(current)
        if current is None:
            return []
        if isinstance(part, str):
            field = current.model_fields.get(part)
            if field is None:
                return []
            current = field.annotation
        # an int indexes a list: _inner_model looks through list[...] on the next step
    current = _inner_model(current)
    return list(current.model_fields) if current is not None else []


def _inner_model(annotation: Any) -> type[BaseModel] | None:
    """The model class inside ``annotation`` (through Optional, list, Annotated, unions)."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    origin = typing.get_origin(annotation)
    if origin is Annotated:
        return _inner_model(typing.get_args(annotation)[0])
    if origin in (list, Union, types.UnionType):
        for arg in typing.get_args(annotation):
            found = _inner_model(arg)
            if found is not None:
                return found
    return None


_TYPE_ERRORS = ("string_type", "int_type", "bool_type", "list_type", "dict_type", "model_type", "model_attributes_type")
_UNION_TAGS = {"str", "int", "bool", "none", "list", "dict"}


@functools.cache
def _model_names() -> frozenset[str]:
    """Names of this module's models: pydantic puts the chosen union branch's class name in a location."""
    return frozenset(
        name for name, value in globals().items() if isinstance(value, type) and issubclass(value, BaseModel)
    )


def _clean_loc(loc: tuple[str | int, ...]) -> tuple[str | int, ...]:
    """Drop pydantic's union-branch labels (``literal['open']``, ``Accepts``, ``constrained-str``)."""
    out: list[str | int] = []
    for part in loc:
        if isinstance(part, str) and (
            part.startswith(("literal[", "constrained-", "function-"))
            or part in _UNION_TAGS
            or part in _model_names()
        ):
            continue
        out.append(part)
    return tuple(out)


def _most_telling(problems: list[Any]) -> Any:
    """The problem to show: an unknown key first (its suggestion often explains a missing one),
    else the one that got furthest into the data; of a union's alternatives (``open`` or rules),
    the literal's when a string was given, the mapping's otherwise."""

    def rank(problem: Any) -> tuple[bool, int, bool]:
        literal_fits = (problem["type"] == "literal_error") == isinstance(problem.get("input"), str)
        return (problem["type"] == "extra_forbidden", len(_clean_loc(problem["loc"])), literal_fits)

    return max(problems, key=rank)


def _problem(model: type[BaseModel], problem: Any, loc: tuple[str | int, ...]) -> str:
    kind, value, ctx = problem["type"], problem.get("input"), problem.get("ctx") or {}
    if kind == "extra_forbidden":
        known = known_keys(model, loc[:-1])
        near = difflib.get_close_matches(str(loc[-1]), known, n=1, cutoff=0.6)
        if near:
            return f"unknown key; did you mean {near[0]}?"
        return f"unknown key; known keys here: {', '.join(known)}" if known else "unknown key"
    if kind == "missing":
        return "missing (required)"
    if kind == "literal_error":
        also = " or a mapping" if known_keys(model, loc) else ""  # e.g. accepts: open, or rules
        return f"{_show(value)} is not allowed; use {ctx.get('expected', '')}{also}"
    if kind in _TYPE_ERRORS:
        wanted = {
            "string_type": "a string",
            "int_type": "a whole number",
            "bool_type": "true or false",
            "list_type": "a list",
        }.get(kind, "a mapping")
        return f"expected {wanted}, got {_type_name(value)}"
    if kind in ("greater_than_equal", "less_than_equal", "greater_than", "less_than"):
        return f"{_show(value)} is out of range: {problem['msg'].lower()}"
    if kind == "too_short":
        need = ctx.get("min_length", 1)
        return f"at least {need} entr{'y' if need == 1 else 'ies'} needed"
    if kind == "too_long":
        return f"at most {ctx.get('max_length')} entries allowed, got {ctx.get('actual_length')}"
    if kind == "string_pattern_mismatch":
        return f"{_show(value)} is not a valid name: use letters, digits, '.', '_' and '-' (at most 100)"
    if kind == "string_too_short":
        return "expected a non-empty string"
    if kind == "string_too_long":
        return f"longer than {ctx.get('max_length')} characters"
    if kind == "value_error":
        return str(ctx.get("error") or problem["msg"])
    return " ".join(str(problem["msg"]).split())


def _type_name(value: Any) -> str:
    if value is None:
        return "nothing (null)"
    return {dict: "a mapping", list: "a list", str: "a string", bool: "a boolean", int: "a number"}.get(
        type(value), type(value).__name__
    )


def _show(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."
