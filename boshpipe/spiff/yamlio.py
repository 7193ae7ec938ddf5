"""YAML in and out, the way spiff reads and writes it.

spiff parses YAML 1.1 with candiedyaml, which differs from PyYAML's safe loader in ways templates
depend on:

* ``<<`` is an ordinary key (``<<: (( merge ))``); only real merge keys with a mapping or alias
  value (``<<: *base``) are YAML merges;
* ``y``/``n`` are booleans like ``yes``/``no``/``on``/``off``, and ``1e3`` is a number;
* map keys must be strings (``on: 1`` fails), timestamps are refused, and an empty document is an
  error rather than ``null``.

libyaml's C parser and emitter are used when PyYAML was built with them: loading and dumping are
most of the time of a large merge.
"""

from __future__ import annotations

import re
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode

from boshpipe.spiff.errors import InputError

try:
    from yaml import CSafeDumper as _BaseDumper
    from yaml import CSafeLoader as _BaseLoader
except ImportError:  # pragma: no cover - PyYAML without libyaml
    from yaml import SafeDumper as _BaseDumper  # type: ignore[assignment]
    from yaml import SafeLoader as _BaseLoader  # type: ignore[assignment]

_MERGE_TAG = "tag:yaml.org,2002:merge"
_STR_TAG = "tag:yaml.org,2002:str"


class _Refused(Exception):
    """Raised inside the constructor for input spiff refuses; turned into an InputError."""


class SpiffLoader(_BaseLoader):
    """PyYAML safe loader with spiff's YAML 1.1 reading (see the module docstring)."""

    bool_values = {**_BaseLoader.bool_values, "y": True, "n": False}

    def flatten_mapping(self, node: MappingNode) -> None:
        for key_node, value_node in node.value:
            if key_node.tag == _MERGE_TAG and isinstance(value_node, ScalarNode):
                key_node.tag = _STR_TAG
        super().flatten_mapping(node)

    def construct_mapping(self, node: Node, deep: bool = False) -> dict[Any, Any]:
        mapping = super().construct_mapping(node, deep=deep)  # type: ignore[arg-type]
        for key in mapping:
            if type(key) is not str:
                raise _Refused(f"map key must be a string: {_go_text(key)}")
        return mapping

    def refuse_timestamp(self, node: Node) -> Any:
        value = self.construct_scalar(node)  # type: ignore[arg-type]
        raise _Refused(f"timestamps are not supported (quote it to keep it as text): {value}")


SpiffLoader.add_implicit_resolver("tag:yaml.org,2002:bool", re.compile(r"^(?:y|Y|n|N)$"), list("yYnN"))
SpiffLoader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(r"^[-+]?[0-9][0-9_]*[eE][-+]?[0-9]+$"),
    list("-+0123456789"),
)
SpiffLoader.add_constructor("tag:yaml.org,2002:timestamp", SpiffLoader.refuse_timestamp)


def _go_text(value: Any) -> str:
    if value is True:
        return "true"
    if value is False:
        return "false"
    if value is None:
        return "null"
    return str(value)


def load(text: str, name: str = "<string>") -> Any:
    """Parse one spiff input document; raises :class:`InputError` naming ``name``."""
    try:
        data = yaml.load(text, Loader=SpiffLoader)  # a SafeLoader subclass
    except _Refused as err:
        raise InputError(f"{name}: {err}") from None
    except yaml.YAMLError as err:
        raise InputError(f"{name}: invalid YAML: {_one_line(err)}") from None
    if data is None:
        raise InputError(f"{name}: empty document (spiff needs a YAML mapping)")
    if type(data) not in (dict, list):
        raise InputError(
            f"{name}: the document is a {type(data).__name__}, not a mapping: a template or stub "
            "must be a YAML mapping (or a list)"
        )
    return data


def _one_line(err: yaml.YAMLError) -> str:
    mark = getattr(err, "problem_mark", None)
    problem = getattr(err, "problem", None) or str(err)
    context = getattr(err, "context", None)
    where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
    text = f"{context}, {problem}" if context else problem
    return " ".join(f"{text}{where}".split())


def dump(data: Any) -> str:
    """spiff's output format: block style, keys sorted, followed by an empty line."""
    return (
        yaml.dump(data, Dumper=_BaseDumper, default_flow_style=False, sort_keys=True, allow_unicode=True)
        + "\n"
    )
