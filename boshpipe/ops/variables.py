"""``((variables))``: where values come from, and how they replace the placeholders.

Placeholders are ``((name))``, ``((name.key.0))`` (a path into a map or list value) and
``((!name))`` (the same as ``((name))``); ``(( name ))`` with one space each side counts too. A
whole-node placeholder keeps the value's type (a map stays a map, also as a key); inside a string
only strings and integers may be put (anything else is an error, as in the CLI). Values are not
interpolated again. A placeholder without a value stays as it is, for the director's config
server, unless ``--var-errs`` asks for every one to be found.

Sources, first match wins: ``-v`` > ``--var-file`` > ``-l`` > ``--vars-env`` > ``--vars-store``
(whatever their order on the command line; later ``-v``/``-l`` of the same name win). A name with
dots given to ``-v``/``-l`` (``-v a.b=1``) becomes a nested map.

The ``variables:`` section: typed definitions are generated into the vars store in order (when
there is one), their ``options`` interpolated first (``((x))`` in options is how one variable
depends on another; a cycle is an error). Definitions whose value was found are removed from the
section. The bookkeeping (which names were asked for, found, missing) follows the CLI's
``varsTracker``, including its quirks: names used only inside definition options do not count as
used for ``--var-errs-unused``, and a definition whose options lack a variable is just "not found".
"""

from __future__ import annotations

import re
from typing import Any, Protocol

from boshpipe.ops import yamlio
from boshpipe.ops.errors import OpsError, PatchError, VariableError, name_list
from boshpipe.ops.patch import find, remove
from boshpipe.ops.pointer import Index, Key, Match, Pointer, parse
from boshpipe.ops.values import clone, go_text, go_type

_PLACEHOLDER = re.compile(r"\(\( ?(!?[-/.\w]+) ?\)\)")


class Definition:
    """One entry of the ``variables:`` section (or just a name, for a plain lookup)."""

    __slots__ = ("name", "options", "type")

    def __init__(self, name: str, type: str = "", options: Any = None) -> None:
        self.name = name
        self.type = type
        self.options = options

    def __repr__(self) -> str:
        return f"Definition({self.name!r}, {self.type!r}, {self.options!r})"


class Variables(Protocol):
    """A source of values (the CLI's ``Variables`` interface)."""

    def get(self, definition: Definition) -> tuple[Any, bool]: ...

    def names(self) -> list[str]: ...


class StaticVariables:
    """Values given up front (``-v``, ``-l``, ``--var-file``, ``--vars-env``, the store's contents).

    Dotted names are spread into nested maps (``a.b=1`` is ``a: {b: 1}``), as the CLI's
    ``StaticVariables`` does on every lookup.
    """

    def __init__(self, values: dict[str, Any] | None = None) -> None:
        self.values: dict[str, Any] = dict(values or {})
        self._processed: dict[str, Any] | None = None

    def set(self, name: str, value: Any) -> None:
        self.values[name] = value
        self._processed = None

    def processed(self) -> dict[str, Any]:
        if self._processed is None:
            processed: dict[str, Any] = {}
            for name, value in self.values.items():
                pieces = name.split(".")
                if len(pieces) == 1:
                    processed[name] = value
                    continue
                ref: dict[Any, Any] = processed
                for piece in pieces[:-1]:
                    if piece not in processed or type(ref.get(piece)) is not dict:
                        ref[piece] = {}
                    ref = ref[piece]
                ref[pieces[-1]] = value
            self._processed = processed
        return self._processed

    def get(self, definition: Definition) -> tuple[Any, bool]:
        processed = self.processed()
        if definition.name in processed:
            return processed[definition.name], True
        return None, False

    def names(self) -> list[str]:
        return list(self.processed())


class MultiVariables:
    """Sources in precedence order: the first that has a name answers."""

    def __init__(self, sources: list[Variables]) -> None:
        self.sources = sources

    def get(self, definition: Definition) -> tuple[Any, bool]:
        for source in self.sources:
            value, found = source.get(definition)
            if found:
                return value, True
        return None, False

    def names(self) -> list[str]:
        return [name for source in self.sources for name in source.names()]


# ------------------------------------------------------------------------------------------------
# placeholders


def _go_name(name: str) -> bool:
    """Go's ``[-/.\\w\\pL]``: ASCII word characters and letters (Python's ``\\w`` is wider)."""
    return name.isascii() or all(char.isascii() or char.isalpha() for char in name)


def placeholders(text: str) -> list[tuple[str, str]]:
    """``(name, placeholder text)`` for each ``((name))`` in ``text``, in order (``!`` dropped)."""
    found = []
    for match in _PLACEHOLDER.finditer(text):
        name = match.group(1)
        if not _go_name(name):
            continue
        found.append((name[1:] if name.startswith("!") else name, match.group(0)))
    return found


def _anchored(text: str) -> bool:
    match = _PLACEHOLDER.fullmatch(text)
    return match is not None and _go_name(match.group(1))


class Lookup(Protocol):
    def __call__(self, name: str) -> tuple[Any, bool]: ...


def interpolate(node: Any, lookup: Lookup) -> Any:
    """Replace placeholders in ``node`` (maps and lists are changed in place); returns the result."""
    kind = type(node)
    if kind is str:
        return _interpolate_string(node, lookup) if "((" in node else node
    if kind is dict:
        changes = None
        for key, value in node.items():
            kind = type(value)
            if kind is str:
                if "((" in value:
                    new_value = _interpolate_string(value, lookup)
                    if new_value is not value:
                        changes = changes or []
                        changes.append((key, key, new_value))
            elif kind is dict or kind is list:
                interpolate(value, lookup)  # in place
            if type(key) is str and "((" in key:
                new_key = _interpolate_string(key, lookup)
                if new_key is not key:
                    if type(new_key) in (dict, list):
                        raise VariableError(f"Invalid map key: variable in key '{key}' is a {go_type(new_key)}")
                    changes = changes or []
                    changes.append((key, new_key, _CURRENT))
        for key, new_key, new_value in changes or ():
            value = node.pop(key) if new_value is _CURRENT else new_value
            if new_value is _CURRENT:
                node[new_key] = value
            else:
                node[key] = new_value
        return node
    if kind is list:
        for position, item in enumerate(node):
            kind = type(item)
            if kind is str:
                if "((" in item:
                    node[position] = _interpolate_string(item, lookup)
            elif kind is dict or kind is list:
                interpolate(item, lookup)
        return node
    return node


_CURRENT = object()  # "the key's value as it is now": a key renamed after its value changed


def _interpolate_string(text: str, lookup: Lookup) -> Any:
    for name, _ in placeholders(text):
        try:
            value, found = lookup(name)
        except OpsError as err:
            raise err.wrap(f"Finding variable '{name}'") from None
        if not found:
            continue
        if _anchored(text):
            return value
        kind = type(value)
        if kind is str or kind is int:
            replacement = value if kind is str else str(value)
            text = text.replace(f"(({name}))", replacement).replace(f"((!{name}))", replacement)
            if "(( " in text or " ))" in text:
                spaced = re.compile(r"\(\( ?!?" + re.escape(name) + r" ?\)\)")
                text = spaced.sub(replacement.replace("\\", "\\\\"), text)
        else:
            raise VariableError(
                f"Invalid type '{go_type(value)}' for value '{go_text(value)}' and variable '{name}'. "
                "Supported types for interpolation within a string are integers and strings."
            )
    return text


# ------------------------------------------------------------------------------------------------
# the tracker (the CLI's varsTracker)


class Tracker:
    """Looks names up, generating and recording what was asked for, found and missing."""

    def __init__(
        self,
        variables: Variables,
        definitions: list[Definition],
        expect_found: bool = False,
        expect_used: bool = False,
        visited: frozenset[str] = frozenset(),
    ) -> None:
        self.variables = variables
        self.definitions = definitions
        self.expect_found = expect_found
        self.expect_used = expect_used
        self.visited = visited
        self.missing: set[str] = set()
        self.visited_all: set[str] = set()
        self._index: tuple[list[Definition], dict[str, Definition]] | None = None

    def find_definition(self, name: str) -> Definition:
        """The first definition of ``name``, or a bare one (indexed: manifests define hundreds)."""
        index = self._index
        if index is None or index[0] is not self.definitions:
            by_name: dict[str, Definition] = {}
            for definition in self.definitions:
                by_name.setdefault(definition.name, definition)
            index = self._index = (self.definitions, by_name)
        return index[1].get(name) or Definition(name)

    def get(self, name: str) -> tuple[Any, bool]:
        self.visited_all.add(name)
        if name in self.visited:
            raise VariableError("Detected recursion")
        definition = self.find_definition(name)
        if definition.options is not None:
            scoped = Tracker(
                self.variables, self.definitions, self.expect_found, self.expect_used, self.visited | {name}
            )
            scoped._index = self._index
            try:
                definition.options = interpolate(definition.options, scoped.lookup)
            except OpsError as err:
                raise err.wrap(f"Interpolating variable '{name}' definition options") from None
            if scoped.missing:
                return None, False
        value, found = self.variables.get(Definition(name, definition.type, definition.options))
        if not found:
            self.missing.add(name)
        return value, found

    def lookup(self, name: str) -> tuple[Any, bool]:
        """``((a.b.c))``: the value of ``a``, then the path ``/b/c`` inside it."""
        head, dot, rest = name.partition(".")
        value, found = self.get(head)
        if not found or not dot:
            return value, found
        pointer = parse("/" + rest.replace(".", "/"))
        try:
            return find(value, pointer), True
        except PatchError:
            as_keys = tuple(Key(str(t.index)) if type(t) is Index else t for t in pointer.tokens)
            return find(value, Pointer(as_keys)), True

    def extract_definitions(self, doc: Any) -> None:
        """Read the ``variables:`` section and generate its typed entries, in order."""
        if type(doc) is dict:
            self.definitions = read_definitions(doc)
        for definition in list(self.definitions):
            if definition.type:
                self._get_wrapped(definition.name)

    def _get_wrapped(self, name: str) -> tuple[Any, bool]:
        try:
            return self.get(name)
        except OpsError as err:
            raise err.wrap("Getting all variables from variable definitions sections") from None

    def remove_found(self, doc: Any) -> Any:
        """Drop the definitions that have a value from ``variables:`` (the CLI's ``FoundVars``)."""
        found = [d.name for d in list(self.definitions) if self._get_wrapped(d.name)[1]]
        section = doc.get("variables") if type(doc) is dict else None
        if type(section) is not list:
            for name in found:  # go-patch's remove op, one name at a time, with its errors
                doc = remove(doc, Pointer((Key("variables"), Match("name", name))))
            return doc
        # the same removals in one pass: a name must match exactly one entry, as the op requires
        positions: dict[str, list[int]] = {}
        for position, item in enumerate(section):
            if type(item) is dict and type(item.get("name")) is str:
                positions.setdefault(item["name"], []).append(position)
        dropped: set[int] = set()
        for name in found:
            hits = positions.get(name, [])
            if len(hits) != 1 or hits[0] in dropped:
                remove(doc, Pointer((Key("variables"), Match("name", name))))  # raises go-patch's error
            dropped.add(hits[0])
        doc["variables"] = [item for position, item in enumerate(section) if position not in dropped]
        return doc

    def check(self) -> None:
        """``--var-errs``/``--var-errs-unused``: the names missing and the names never used."""
        parts = []
        if self.expect_found and self.missing:
            parts.append(name_list("Expected to find variables", sorted(self.missing)))
        if self.expect_used:
            unused = sorted({name for name in self.variables.names() if name not in self.visited_all})
            if unused:
                parts.append(name_list("Expected to use variables", unused))
        if parts:
            raise VariableError("\n".join(parts))


def _field_text(value: Any) -> str | None:
    """A definition field decoded into a Go string (``None`` when it cannot be one): a scalar's
    plain text, but null decodes to the empty string."""
    if type(value) is str:
        return value
    return "" if value is None else yamlio.scalar_text(value)


def read_definitions(doc: dict[Any, Any]) -> list[Definition]:
    """The ``variables:`` section as definitions (the CLI's round trip into ``[]VariableDefinition``)."""
    section = doc.get("variables")
    if section is None:
        return []
    if type(section) is not list:
        raise VariableError(_definitions_error(doc))
    definitions = []
    for item in section:
        if item is None:
            definitions.append(Definition(""))
            continue
        if type(item) is not dict:
            raise VariableError(_definitions_error(doc))
        name, kind = _field_text(item.get("name")), _field_text(item.get("type"))
        if name is None or kind is None:
            raise VariableError(_definitions_error(doc))
        definitions.append(Definition(name, kind, clone(item.get("options"))))
    return definitions


def _definitions_error(doc: dict[Any, Any]) -> str:
    """yaml.v2's unmarshal errors for a ``variables:`` section of the wrong shape.

    The CLI decodes the section from the YAML text of the whole document, so line numbers refer
    to that text; it is produced here only when there is an error to report.
    """
    root = yamlio.compose(yamlio.dump(doc))
    errors: list[str] = []
    for key_node, value_node in getattr(root, "value", []):
        if key_node.value != "variables" or key_node.tag not in ("!plain", "tag:yaml.org,2002:str"):
            continue
        if type(value_node).__name__ != "SequenceNode":
            errors.append(yamlio.unmarshal_error(value_node, "[]template.VariableDefinition"))
            continue
        for item in value_node.value:
            if type(item).__name__ == "MappingNode":
                for field_node, field_value in item.value:
                    if field_node.value in ("name", "type") and type(field_value).__name__ != "ScalarNode":
                        errors.append(yamlio.unmarshal_error(field_value, "string"))
            elif not yamlio.is_null(item):
                errors.append(yamlio.unmarshal_error(item, "template.VariableDefinition"))
    return yamlio.unmarshal_errors(errors or ["cannot unmarshal variables"])
