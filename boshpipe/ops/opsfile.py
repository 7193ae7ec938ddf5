"""Reading an ops file into :class:`~boshpipe.ops.patch.Operation` objects, as ``bosh -o`` does.

An ops file is a YAML list of ops (``type``, ``path``, ``value``, ``absent``, ``error``); an empty
file is no ops. Like the CLI (it decodes into ``[]patch.OpDefinition`` with yaml.v2):

* one op written as a map, or a scalar, is refused (``cannot unmarshal !!map into
  []patch.OpDefinition``);
* unknown fields are ignored, so a typo such as ``valeu:`` reads as "no value";
* ``value: null`` is no value (an op cannot set null);
* every op's ``error:`` is replaced by ``operation [i] in FILE failed``, the text failures show.

Every op is checked when the file is read: a wrong type, a missing path or value, a path that does
not parse. The message names the op by index and shows its fields (value redacted), like the CLI.
"""

from __future__ import annotations

from typing import Any

from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from boshpipe.ops import yamlio
from boshpipe.ops.errors import InputError, OpsError
from boshpipe.ops.files import read_text
from boshpipe.ops.patch import Operation
from boshpipe.ops.pointer import parse

FLAG = "invalid argument for flag `-o, --ops-file' (expected []opts.OpsFileArg)"

_UNSET = object()


class _Definition:
    """go-patch's ``OpDefinition``: which fields were given, and with what."""

    def __init__(
        self,
        type: str = "",
        path: str | None = None,
        value: Any = _UNSET,
        absent: bool | None = None,
        error: str | None = None,
    ) -> None:
        self.type = type
        self.path = path
        self.value = value
        self.absent = absent
        self.error = error

    def shown(self) -> str:
        """The op as the CLI prints it in errors (JSON, value redacted), on one line."""
        import json

        fields: dict[str, Any] = {}
        if self.type:
            fields["Type"] = self.type
        if self.path is not None:
            fields["Path"] = self.path
        if self.value is not _UNSET:
            fields["Value"] = "<redacted>"
        if self.absent is not None:
            fields["Absent"] = self.absent
        if self.error is not None:
            fields["Error"] = self.error
        return json.dumps(fields, ensure_ascii=False).replace("&", "\\u0026")


def _text(node: Node, errors: list[str], target: str = "string") -> str | None:
    """A scalar field decoded into a Go string: its text (null is empty), else an unmarshal error."""
    if type(node) is not ScalarNode:
        errors.append(yamlio.unmarshal_error(node, target))
        return None
    if yamlio.is_null(node):
        return None
    return node.value  # type: ignore[no-any-return]


def _definition(node: Node, errors: list[str]) -> _Definition:
    definition = _Definition()
    if type(node) is ScalarNode and yamlio.is_null(node):
        return definition
    if type(node) is not MappingNode:
        errors.append(yamlio.unmarshal_error(node, "patch.OpDefinition"))
        return definition
    for key_node, value_node in yamlio.mapping_pairs(node):
        if type(key_node) is not ScalarNode:
            continue
        field = key_node.value
        if field == "type":
            definition.type = _text(value_node, errors) or ""
        elif field == "path":
            definition.path = _text(value_node, errors)
        elif field == "value":
            definition.value = _UNSET if yamlio.is_null(value_node) else yamlio.build(value_node)
        elif field == "absent":
            if yamlio.is_null(value_node):
                definition.absent = None
                continue
            value = yamlio.build(value_node) if type(value_node) is ScalarNode else None
            quoted = type(value_node) is ScalarNode and value_node.tag == "tag:yaml.org,2002:str"
            if type(value) is bool and not quoted:
                definition.absent = value
            else:
                errors.append(yamlio.unmarshal_error(value_node, "bool"))
        elif field == "error":
            definition.error = _text(value_node, errors)
    return definition


_FIELDS = {"type", "path", "value", "absent", "error"}


def _fast_definitions(data: Any) -> list[_Definition] | None:
    """Definitions straight from plain data when every field has the expected type, else None.

    The node-based reading (:func:`parse_definitions`) is only needed to word yaml.v2's errors
    (it knows lines and the original text of scalars); well-formed files skip it.
    """
    if data is None:
        return []
    if type(data) is not list:
        return None
    definitions = []
    for item in data:
        if type(item) is not dict or not all(type(k) is str for k in item):
            return None
        kind, path, absent, error = item.get("type"), item.get("path"), item.get("absent"), item.get("error")
        if type(kind) is not str or (path is not None and type(path) is not str):
            return None
        if (absent is not None and type(absent) is not bool) or (error is not None and type(error) is not str):
            return None
        value = item.get("value", _UNSET)
        definitions.append(_Definition(kind, path, _UNSET if value is None else value, absent, error))
    return definitions


def parse_definitions(text: str, name: str) -> list[_Definition]:
    """The op definitions of an ops file's text; errors name the file."""
    try:
        fast = _fast_definitions(yamlio.load(text))
    except InputError:
        fast = None
    if fast is not None:
        return fast
    try:
        root = yamlio.compose(text)
    except InputError as err:
        raise InputError(f"{FLAG}: Deserializing ops file '{name}': {err.message}") from None
    if root is None or yamlio.is_null(root):
        return []
    errors: list[str] = []
    definitions: list[_Definition] = []
    if type(root) is SequenceNode:
        definitions = [_definition(item, errors) for item in root.value]
    else:
        errors.append(yamlio.unmarshal_error(root, "[]patch.OpDefinition"))
    if errors:
        raise InputError(f"{FLAG}: Deserializing ops file '{name}': {yamlio.unmarshal_errors(errors)}")
    return definitions


def build_operations(definitions: list[_Definition], name: str) -> list[Operation]:
    """Check each definition and turn it into an operation (go-patch's ``NewOpsFromDefinitions``)."""
    operations = []
    for index, definition in enumerate(definitions):
        definition.error = f"operation [{index}] in {name} failed"
        kind = definition.type
        title = {"replace": "Replace", "remove": "Remove", "test": "Test"}.get(kind)
        problem = None
        if title is None:
            problem = f"Unknown operation [{index}] with type '{kind}'"
        elif definition.path is None:
            problem = f"{title} operation [{index}]: Missing path"
        elif kind == "replace" and definition.value is _UNSET:
            problem = f"{title} operation [{index}]: Missing value"
        elif kind == "remove" and definition.value is not _UNSET:
            problem = f"{title} operation [{index}]: Cannot specify value"
        elif kind == "test" and definition.value is _UNSET and definition.absent is None:
            problem = f"{title} operation [{index}]: Missing value or absent"
        if problem is None:
            assert definition.path is not None
            try:
                pointer = parse(definition.path)
            except OpsError as err:
                problem = f"{title} operation [{index}]: Invalid path: {err.message}"
        if problem is not None:
            raise InputError(f"{FLAG}: Building ops: {problem} within {definition.shown()}")
        value = None if definition.value is _UNSET else definition.value
        operations.append(Operation(kind, pointer, value, bool(definition.absent), definition.error))
    return operations


def load_ops_text(text: str, name: str) -> list[Operation]:
    """The operations of an ops file given as text; ``name`` is how errors refer to it."""
    return build_operations(parse_definitions(text, name), name)


def load_ops_file(path: str) -> list[Operation]:
    """The operations of the ops file at ``path`` (as given on the command line)."""
    if not path:
        raise InputError(f"{FLAG}: Expected file path to be non-empty")
    try:
        text = read_text(path)
    except InputError as err:
        raise InputError(f"{FLAG}: Reading ops file '{path}': {err.message}") from None
    return load_ops_text(text, path)
