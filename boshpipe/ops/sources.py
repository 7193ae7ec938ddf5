"""The variable flags of ``bosh interpolate``: ``-v``, ``-l``, ``--var-file``, ``--vars-env``.

Each flag value is read when the flag is parsed, with the CLI's checks and messages:

* ``-v name=value``: the value is YAML (``-v x=0777`` is 511, ``-v x=yes`` true, ``-v 'x=k: v'``
  a map); when it reads as a string (or is not YAML), the text is kept as given, minus wrapping
  quotes (``-v 'x="123"'`` is the string ``123``; a multi-line value keeps its newlines);
* ``--var-file name=path``: the file's text, never parsed;
* ``-l file``: a YAML map of names to values;
* ``--vars-env PREFIX``: every ``PREFIX_name`` environment variable, its value read as YAML.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from boshpipe.ops import yamlio
from boshpipe.ops.errors import InputError, OpsError
from boshpipe.ops.files import read_text
from boshpipe.ops.varstore import read_static

V_FLAG = "invalid argument for flag `-v, --var' (expected []template.VarKV)"
L_FLAG = "invalid argument for flag `-l, --vars-file' (expected []template.VarsFileArg)"
VAR_FILE_FLAG = "invalid argument for flag `--var-file' (expected []template.VarFileArg)"
ENV_FLAG = "invalid argument for flag `--vars-env' (expected []template.VarsEnvArg)"


def _split(text: str, flag: str, what: str) -> tuple[str, str]:
    name, equals, value = text.partition("=")
    if not equals:
        raise InputError(f"{flag}: Expected var '{text}' to be in format 'name={what}'")
    if not name:
        raise InputError(f"{flag}: Expected var '{text}' to specify non-empty name")
    if not value:
        raise InputError(f"{flag}: Expected var '{text}' to specify non-empty {what}")
    return name, value


def _trim_quotes(text: str) -> str:
    """Strip matching outer quotes, repeatedly (the CLI's ``trimWrappingQuotes``)."""
    while len(text) >= 2 and text[0] == text[-1] and text[0] in "\"'":
        text = text[1:-1]
    return text


def parse_var(text: str) -> tuple[str, Any]:
    """``-v name=value``: YAML, except that strings keep their text (minus wrapping quotes).

    A value that is not valid YAML is taken as a string too, as the CLI does.
    """
    name, raw = _split(text, V_FLAG, "value")
    try:
        value = yamlio.load(raw)
    except OpsError:
        value = raw
    return name, _trim_quotes(raw) if type(value) is str else value


def read_var_file(text: str) -> tuple[str, str]:
    """``--var-file name=path``."""
    name, path = _split(text, VAR_FILE_FLAG, "path")
    try:
        return name, read_text(path)
    except OpsError as err:
        raise InputError(f"{VAR_FILE_FLAG}: Reading variable from file '{path}': {err.message}") from None


def read_vars_file(path: str) -> dict[str, Any]:
    """``-l file``."""
    try:
        text = read_text(path)
    except OpsError as err:
        raise InputError(f"{L_FLAG}: Reading variables file '{path}': {err.message}") from None
    try:
        return read_static(text, "template.StaticVariables")
    except OpsError as err:
        raise InputError(f"{L_FLAG}: Deserializing variables file '{path}': {err.message}") from None


def read_vars_env(prefix: str, environ: Mapping[str, str]) -> dict[str, Any]:
    """``--vars-env PREFIX``."""
    if not prefix:
        raise InputError(f"{ENV_FLAG}: Expected environment variable prefix to be non-empty")
    values: dict[str, Any] = {}
    start = prefix + "_"
    for name, raw in environ.items():
        if not name.startswith(start):
            continue
        try:
            values[name[len(start) :]] = yamlio.load(raw)
        except OpsError as err:
            raise InputError(
                f"{ENV_FLAG}: Deserializing YAML from environment variable '{name}': {err.message}"
            ) from None
    return values
