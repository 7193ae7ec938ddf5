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

from boshpipe import yamlsafe
from boshpipe.spiff import yamlio
from boshpipe.spiff.binding import Context
from boshpipe.spiff.errors import DynamlSyntaxError, InputError, SpiffError, UnresolvedError
from boshpipe.spiff.flow import flow_document
from boshpipe.spiff.nodes import resolved
from boshpipe.spiff.tree import Node, unwrap, wrap
from boshpipe.spiff.yamlio import dump, load_tree

# typing only for the type checker (see boshpipe.spiff.tree)
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

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


def check(root: Node, ctx: Context, source: str | None = None) -> None:
    """Raise :class:`UnresolvedError` when something stayed unresolved.

    Resolved-ness is cached on the containers by the merge, so a successful merge answers at once;
    the module that explains failures (paths, cycles, reasons) is imported only after one.
    """
    if resolved(root):
        return
    from boshpipe.spiff import unresolved

    unresolved.check(root, ctx, source)


def _cascade(documents: Sequence[tuple[Node, str]], allow_exec: bool) -> Node:
    """spiff's Cascade: each stub is merged with the stubs after it, then the template with all."""
    template, stubs = documents[0][0], [node for node, _ in documents[1:]]
    for index in range(len(stubs) - 1, -1, -1):
        source = documents[index + 1][1]
        flowed, ctx = flow_document(stubs[index], stubs[index + 1 :], allow_exec=allow_exec, source=source)
        check(flowed, ctx, source)
        stubs[index] = flowed
    result, ctx = flow_document(template, stubs, allow_exec=allow_exec, source=documents[0][1])
    check(result, ctx)
    return result


def merge(template: Any, *stubs: Any, allow_exec: bool | None = None, names: Sequence[str] = ()) -> Any:
    """Merge already-loaded documents like ``spiff merge``; returns plain data.

    ``names`` label the documents in error messages (default ``template``, ``stub1``, ...).
    """
    labels = list(names) + ["template", *(f"stub{i}" for i in range(1, len(stubs) + 1))][len(names) :]
    documents = [(wrap(data, name), name) for data, name in zip([template, *stubs], labels, strict=False)]
    return unwrap(_cascade(documents, exec_allowed(allow_exec)))


def read_text(name: str) -> str:
    """The text of one file, through ``boshpipe.yamlsafe``: a regular file under the size limit,
    UTF-8, no control characters, bounded aliases; any failure is an :class:`InputError` naming it."""
    return yamlsafe.read_text(Path(name), error=InputError)


def load(text: str, name: str = "<string>") -> Any:
    """Parse one spiff document given as text (checked by ``boshpipe.yamlsafe`` first)."""
    yamlsafe.check(text, name, error=InputError)
    return yamlio.load(text, name)


def read(path: str | os.PathLike[str]) -> Any:
    """Load one file as plain data; errors name the file."""
    name = os.fspath(path)
    return load(read_text(name), name)


def merge_files(
    template_path: str | os.PathLike[str],
    *stub_paths: str | os.PathLike[str],
    allow_exec: bool | None = None,
) -> Any:
    """Load and merge files; errors name the file they come from."""
    return unwrap(merge_file_tree(template_path, *stub_paths, allow_exec=allow_exec))


def merge_file_tree(
    template_path: str | os.PathLike[str],
    *stub_paths: str | os.PathLike[str],
    allow_exec: bool | None = None,
) -> Node:
    """:func:`merge_files` without the conversion to plain data (the CLI prints the tree)."""
    names = [os.fspath(path) for path in (template_path, *stub_paths)]
    documents = [(load_tree(read_text(name), name), name) for name in names]
    return _cascade(documents, exec_allowed(allow_exec))
