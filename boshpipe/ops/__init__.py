"""BOSH ops files (go-patch) and ``((variables))`` in pure Python: ``bosh interpolate``.

``python -m boshpipe.ops interpolate BASE -o OPS -v k=v -l vars.yml --vars-store creds.yml``
composes a manifest the way ``bosh int`` / ``bosh deploy`` do: go-patch ops applied in order,
then variables interpolated from the flags, the vars store and generated values (passwords,
certificates, RSA and SSH keys), and the result printed as the CLI prints it. Checked against a
corpus of cases whose expected outputs came from the real bosh CLI v7.9.13.

Public API: :func:`interpolate` (the CLI's output text), :func:`evaluate` (the document as data),
:class:`Inputs` (every flag), :func:`load`/:func:`dump` (YAML as the CLI reads and writes it),
:class:`OpsError` (a ``boshpipe.errors.ManifestError``).
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import Any

from boshpipe.ops.errors import OpsError
from boshpipe.ops.files import read_text
from boshpipe.ops.opsfile import load_ops_file
from boshpipe.ops.patch import Operation, apply_all, find
from boshpipe.ops.pointer import Pointer, parse
from boshpipe.ops.variables import MultiVariables, StaticVariables, Tracker, Variables
from boshpipe.ops.varstore import VarsStore, with_cert_loader
from boshpipe.ops.yamlio import dump, load

__all__ = ["Inputs", "OpsError", "dump", "evaluate", "interpolate", "load"]


class Inputs:
    """Everything ``bosh interpolate`` takes, already read (flag values are parsed by the CLI).

    ``vars`` are ``-v`` values (already typed), ``var_files`` ``--var-file`` contents,
    ``vars_files`` the maps of ``-l`` files in command-line order, ``vars_envs`` the maps of
    ``--vars-env`` prefixes in command-line order.
    """

    def __init__(
        self,
        manifest: Any,
        operations: list[Operation] | None = None,
        vars: dict[str, Any] | None = None,
        var_files: dict[str, Any] | None = None,
        vars_files: list[dict[str, Any]] | None = None,
        vars_envs: list[dict[str, Any]] | None = None,
        vars_store: str | None = None,
        var_errs: bool = False,
        var_errs_unused: bool = False,
        path: Pointer | None = None,
    ) -> None:
        self.manifest = manifest
        self.operations = operations if operations is not None else []
        self.vars = vars if vars is not None else {}
        self.var_files = var_files if var_files is not None else {}
        self.vars_files = vars_files if vars_files is not None else []
        self.vars_envs = vars_envs if vars_envs is not None else []
        self.vars_store = vars_store
        self.var_errs = var_errs
        self.var_errs_unused = var_errs_unused
        self.path = path

    def sources(self) -> tuple[MultiVariables, VarsStore | None]:
        """The variable sources in the CLI's precedence, and the store (consulted last)."""
        merged_files: dict[str, Any] = {}
        for values in self.vars_files:
            merged_files.update(values)
        chain: list[Variables] = [
            StaticVariables(self.vars),
            StaticVariables(self.var_files),
            StaticVariables(merged_files),
        ]
        chain.extend(StaticVariables(values) for values in reversed(self.vars_envs))
        variables = MultiVariables(chain)
        store = None
        if self.vars_store is not None:
            store = VarsStore(self.vars_store)
            variables.sources.append(store)
            with_cert_loader(store, variables)
        return variables, store


def evaluate(inputs: Inputs) -> tuple[Any, VarsStore | None]:
    """The composed document (after ``--path``), and the store holding this run's new values.

    The caller saves the store (``store.save()``) once the result is used: nothing is written
    when a later step fails.
    """
    doc = apply_all(inputs.manifest, inputs.operations)
    variables, store = inputs.sources()
    tracker = Tracker(variables, [], inputs.var_errs, inputs.var_errs_unused)
    tracker.extract_definitions(doc)
    from boshpipe.ops.variables import interpolate as substitute

    doc = substitute(doc, tracker.lookup)
    doc = tracker.remove_found(doc)
    tracker.check()
    if inputs.path is not None:
        doc = find(doc, inputs.path)
    return doc, store


def render(doc: Any, path_given: bool) -> str:
    """The CLI's output: YAML, or a bare string and a newline when ``--path`` picked a string."""
    if path_given and type(doc) is str:
        return doc + "\n"
    return dump(doc)


def interpolate(
    base: str | os.PathLike[str],
    ops: Sequence[str | os.PathLike[str]] = (),
    vars: Mapping[str, Any] | None = None,
    vars_files: Sequence[str | os.PathLike[str] | Mapping[str, Any]] = (),
    var_files: Mapping[str, str | os.PathLike[str]] | None = None,
    vars_env: Sequence[str] = (),
    vars_store: str | os.PathLike[str] | None = None,
    var_errs: bool = False,
    var_errs_unused: bool = False,
    path: str | None = None,
    environ: Mapping[str, str] | None = None,
) -> str:
    """``bosh int BASE -o OPS... -v ... -l ... --vars-store ...`` as a call; returns the printed text.

    ``vars`` are typed values (``-v`` after YAML parsing); ``vars_files`` are ``-l`` files (paths,
    or maps already read); ``var_files`` maps names to files whose text is the value
    (``--var-file``); ``vars_env`` are ``--vars-env`` prefixes looked up in ``environ`` (default
    ``os.environ``). The vars store is written only when everything succeeded. Raises
    :class:`OpsError` (one line, the CLI's wording).
    """
    from boshpipe.ops.sources import read_var_file, read_vars_env, read_vars_file

    texts = dict(read_var_file(f"{name}={os.fspath(file)}") for name, file in (var_files or {}).items())
    inputs = Inputs(
        manifest=load_manifest(os.fspath(base)),
        operations=[op for file in ops for op in load_ops_file(os.fspath(file))],
        vars=dict(vars or {}),
        var_files=texts,
        vars_files=[dict(f) if isinstance(f, Mapping) else read_vars_file(os.fspath(f)) for f in vars_files],
        vars_envs=[read_vars_env(prefix, os.environ if environ is None else environ) for prefix in vars_env],
        vars_store=os.fspath(vars_store) if vars_store is not None else None,
        var_errs=var_errs,
        var_errs_unused=var_errs_unused,
        path=parse(path) if path is not None else None,
    )
    doc, store = evaluate(inputs)
    text = render(doc, path is not None)
    if store is not None:
        store.save()
    return text


def load_manifest(path: str) -> Any:
    """The base manifest (its first YAML document)."""
    from boshpipe.ops.errors import InputError

    try:
        return load(read_text(path))
    except InputError as err:
        if err.message.startswith("yaml:"):
            raise
        raise InputError(f"Reading manifest '{path}': {err.message}") from None
