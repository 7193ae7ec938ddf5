"""A spiff-compatible merge engine in pure Python.

``spiff merge template.yml stub1.yml stub2.yml`` composes BOSH manifests: the template's
``(( dynaml ))`` expressions are evaluated and its values are overridden by the stubs, which are
themselves resolved right to left first (the rightmost stub wins; keys only a stub has are dropped:
the template's structure wins). This package does the same, checked against cases whose expected
output came from the real spiff binary (develop, 1.0.8dev).

Public API: :func:`merge` (documents already loaded), :func:`merge_files`, :func:`load`,
:func:`dump` and :class:`SpiffError` (a ``boshpipe.errors.ManifestError``).

``exec(...)`` runs commands and is disabled unless enabled explicitly: ``allow_exec=True``, the CLI's
``--allow-exec`` or ``BOSHPIPE_SPIFF_EXEC=1`` in the environment.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from boshpipe.spiff.errors import DynamlSyntaxError, InputError, SpiffError, UnresolvedError
from boshpipe.spiff.flow import flow_document
from boshpipe.spiff.tree import Node, unwrap, wrap
from boshpipe.spiff.unresolved import check
from boshpipe.spiff.yamlio import dump, load

__all__ = [
    "DynamlSyntaxError",
    "InputError",
    "SpiffError",
    "UnresolvedError",
    "dump",
    "load",
    "merge",
    "merge_files",
]

EXEC_ENV = "BOSHPIPE_SPIFF_EXEC"


def exec_allowed(allow_exec: bool | None) -> bool:
    """The explicit choice, else ``BOSHPIPE_SPIFF_EXEC`` (1/true/yes), else off."""
    if allow_exec is not None:
        return allow_exec
    return os.environ.get(EXEC_ENV, "").strip().lower() in ("1", "true", "yes", "on")


def _cascade(documents: Sequence[tuple[Any, str]], allow_exec: bool) -> Any:
    """spiff's Cascade: each stub is merged with the stubs after it, then the template with all."""
    nodes: list[Node] = [wrap(data, name) for data, name in documents]
    template, stubs = nodes[0], nodes[1:]
    for index in range(len(stubs) - 1, -1, -1):
        flowed, ctx = flow_document(stubs[index], stubs[index + 1 :], allow_exec=allow_exec)
        check(flowed, ctx, documents[index + 1][1])
        stubs[index] = flowed
    result, ctx = flow_document(template, stubs, allow_exec=allow_exec)
    check(result, ctx)
    return unwrap(result)


def merge(template: Any, *stubs: Any, allow_exec: bool | None = None, names: Sequence[str] = ()) -> Any:
    """Merge already-loaded documents like ``spiff merge``; returns plain data.

    ``names`` label the documents in error messages (default ``template``, ``stub1``, ...).
    """
    labels = list(names) + ["template", *(f"stub{i}" for i in range(1, len(stubs) + 1))][len(names) :]
    documents = list(zip([template, *stubs], labels, strict=False))
    return _cascade(documents, exec_allowed(allow_exec))


def read(path: str | os.PathLike[str]) -> Any:
    """Load one file; a missing or unreadable file is an :class:`InputError` naming it."""
    name = os.fspath(path)
    try:
        text = Path(name).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InputError(f"{name}: no such file") from None
    except IsADirectoryError:
        raise InputError(f"{name}: is a directory, not a YAML file") from None
    except (OSError, UnicodeDecodeError) as err:
        raise InputError(f"{name}: cannot read: {err}") from None
    return load(text, name)


def merge_files(
    template_path: str | os.PathLike[str],
    *stub_paths: str | os.PathLike[str],
    allow_exec: bool | None = None,
) -> Any:
    """Load and merge files; errors name the file they come from."""
    paths = [template_path, *stub_paths]
    documents = [(read(path), os.fspath(path)) for path in paths]
    return _cascade(documents, exec_allowed(allow_exec))
