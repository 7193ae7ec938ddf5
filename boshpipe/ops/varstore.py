"""``--vars-store FILE``: values kept between runs, and generated when a definition asks for one.

The store is read on first use (a run that needs no variable never reads it) and consulted last,
after every other source, so a ``-v`` value is never generated nor stored. A name missing from it
whose definition has a ``type`` is generated (see :mod:`boshpipe.ops.generate`) and kept, so the
next run prints the same document.

Unlike the CLI, which rewrites the file after each generated value, the new values are written
once, atomically, when the whole run succeeded (:meth:`VarsStore.save`): a failing run leaves the
store as it was.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

from yaml.nodes import MappingNode, ScalarNode

from boshpipe.ops import yamlio
from boshpipe.ops.errors import InputError, OpsError, VariableError
from boshpipe.ops.files import read_text, write_atomically
from boshpipe.ops.variables import Definition, StaticVariables, Variables

if TYPE_CHECKING:
    from boshpipe.ops.generate import Generators


def read_static(text: str, target: str) -> dict[str, Any]:
    """A YAML map of name to value (``template.StaticVariables``); other documents are refused."""
    data = yamlio.load(text)
    if data is None:
        return {}
    if type(data) is dict and all(type(k) is str for k in data):
        return data
    root = yamlio.compose(text)
    if root is None or yamlio.is_null(root):
        return {}
    if type(root) is not MappingNode:
        raise InputError(yamlio.unmarshal_errors([yamlio.unmarshal_error(root, target)]))
    values: dict[str, Any] = {}
    for key_node, value_node in yamlio.mapping_pairs(root):
        if type(key_node) is not ScalarNode:
            raise InputError(yamlio.unmarshal_errors([yamlio.unmarshal_error(key_node, "string")]))
        values["" if yamlio.is_null(key_node) else key_node.value] = yamlio.build(value_node)
    return values


class VarsStore:
    """The vars store file: its values, and the ones generated during this run."""

    def __init__(self, path: str, generators: Generators | None = None) -> None:
        self.path = path
        self.generators = generators
        self._values: StaticVariables | None = None
        self.generated: list[str] = []

    def load(self) -> StaticVariables:
        if self._values is None:
            values: dict[str, Any] = {}
            if os.path.exists(self.path):
                try:
                    values = read_static(read_text(self.path), "template.StaticVariables")
                except OpsError as err:
                    raise InputError(f"Deserializing variables file store '{self.path}': {err.message}") from None
            self._values = StaticVariables(values)
        return self._values

    def get(self, definition: Definition) -> tuple[Any, bool]:
        values = self.load()
        value, found = values.get(definition)
        if found or not definition.type:
            return value, found
        if self.generators is None:
            raise VariableError(f"Generating variable '{definition.name}': no generators configured")
        try:
            value = self.generators.generate(definition.type, definition.options)
        except OpsError as err:
            raise err.wrap(f"Generating variable '{definition.name}'") from None
        values.set(definition.name, value)
        self.generated.append(definition.name)
        return value, True

    def names(self) -> list[str]:
        return self.load().names()

    def save(self) -> None:
        """Write the store if this run generated anything (atomically, mode 0600)."""
        if self.generated and self._values is not None:
            write_atomically(self.path, yamlio.dump(self._values.values))


def with_cert_loader(store: VarsStore, variables: Variables) -> VarsStore:
    """Let the store's certificate generator find CAs through all sources (the store included)."""
    from boshpipe.ops.generate import Generators

    store.generators = Generators(variables)
    return store
