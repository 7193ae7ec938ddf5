"""The document tree the merge works on: values wrapped in nodes that carry merge flags.

spiff's merge is driven by per-node attributes (came from a ``merge``, must be replaced as a whole,
redirected to another stub path, preferred over the stub, keyed by a field other than ``name``).
Plain dicts cannot carry them, so every value is held in a :class:`Node`. Nodes are never mutated
after construction: a pass that changes nothing returns the very same objects, which is how the
fixpoint loop notices it is done without comparing trees.
"""

from __future__ import annotations

import re

# typing is imported only for the type checker: the CLI starts a fresh interpreter per merge, and
# importing typing at run time is a measurable part of that start (mypy honours this constant).
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

Path = tuple[str, ...]

#: keys of :attr:`Node.cache` for derived facts. List field indexes are kept under the field's
#: name (a string, any string: ``merge on resolved`` is allowed), so every other fact has a key
#: that is no string; each merge's own facts get negative keys (``binding.Context``).
RESOLVED = 0
LOCALLY_RESOLVED = 1
STATIC_IPS = 2

_PLAIN = (str, int, float, bool, type(None))

#: integral floats below this print without an exponent in Go's shortest ``%g`` (``1000``), so
#: spiff's output reads them back as integers; from here on Go writes ``1e+06`` (a float)
GO_FLOAT_AS_INT = 1e6

#: spiff's test for "this string is an expression": the whole string, one line, in (( )).
DYNAML = re.compile(r"\A\(\((.*)\)\)\Z")


class Node:
    """One value of the tree plus the merge flags spiff attaches to it."""

    __slots__ = (
        "cache",
        "issue",
        "key_name",
        "merged",
        "preferred",
        "redirect",
        "replace",
        "source",
        "value",
    )

    def __init__(
        self,
        value: Any,
        source: str,
        *,
        replace: bool = False,
        redirect: Path | None = None,
        preferred: bool = False,
        merged: bool = False,
        key_name: str = "",
        issue: str | None = None,
    ) -> None:
        self.value = value
        self.source = source
        self.replace = replace
        self.redirect = redirect
        self.preferred = preferred
        self.merged = merged
        self.key_name = key_name
        self.issue = issue
        #: facts derived from the (immutable) value: list indexes by key, resolved-ness
        self.cache: dict[object, Any] | None = None

    def derive(self, value: Any, **flags: Any) -> Node:
        """A copy with another value and some flags changed (the rest inherited)."""
        node = Node(
            value,
            self.source,
            replace=self.replace,
            redirect=self.redirect,
            preferred=self.preferred,
            merged=self.merged,
            key_name=self.key_name,
            issue=self.issue,
        )
        for name, flag in flags.items():
            setattr(node, name, flag)
        return node

    def same_flags(self, other: Node) -> bool:
        return (
            self.replace == other.replace
            and self.redirect == other.redirect
            and self.preferred == other.preferred
            and self.merged == other.merged
            and self.key_name == other.key_name
        )

    def __repr__(self) -> str:  # pragma: no cover - debugging aid
        return f"Node({self.value!r})"


def wrap(data: Any, source: str) -> Node:
    """Turn loaded YAML data (dicts, lists, scalars) into nodes, iteratively (no depth limit)."""
    root = Node(None, source)
    stack: list[tuple[Node, Any]] = [(root, data)]
    while stack:
        node, value = stack.pop()
        if type(value) is dict:
            children: dict[str, Node] = {}
            for key, item in value.items():
                child = Node(None, source)
                children[key] = child
                stack.append((child, item))
            node.value = children
        elif type(value) is list:
            items: list[Node] = []
            for item in value:
                child = Node(None, source)
                items.append(child)
                stack.append((child, item))
            node.value = items
        elif type(value) in _PLAIN:
            node.value = value
        else:
            from boshpipe.spiff.errors import InputError

            raise InputError(
                f"{source}: unsupported value {value!r} (spiff handles strings, numbers, "
                "booleans, null, maps and lists)"
            )
    return root


def unwrap(node: Node) -> Any:
    """Plain Python data of a fully resolved tree, iteratively.

    Integral floats below a million become ints: spiff prints floats in Go's shortest ``%g``
    form, so ``1e3`` comes out as ``1000`` (read back as an integer), while ``1e6`` comes out as
    ``1e+06``, which YAML 1.1 readers take for a float: those stay floats (see
    :data:`GO_FLOAT_AS_INT`).
    """
    result: list[Any] = [None]
    stack: list[tuple[Node, Any, Any]] = [(node, result, 0)]
    while stack:
        current, parent, slot = stack.pop()
        value = current.value
        if type(value) is dict:
            out: dict[str, Any] = {}
            parent[slot] = out
            for key, child in value.items():
                out[key] = None
                stack.append((child, out, key))
        elif type(value) is list:
            items: list[Any] = [None] * len(value)
            parent[slot] = items
            for index, child in enumerate(value):
                stack.append((child, items, index))
        elif type(value) is float and value.is_integer() and abs(value) < GO_FLOAT_AS_INT:
            parent[slot] = int(value)
        else:
            parent[slot] = value
    return result[0]


def list_step(node: Node, step: str, raw: bool = False) -> Node | None:
    """Step into a list node: ``[3]`` by index, ``key:value`` by a field, else by the key field.

    This is how spiff addresses list entries: ``jobs.redis_z1`` means the entry whose ``name`` is
    ``redis_z1`` (or whose key field is, after ``merge on key`` / ``key:field`` tags). Lookups by
    field use an index cached on the node (values never change), so a reference into a list of
    200 jobs does not scan it.

    As in spiff, an entry whose own ``<<`` merge is still pending has no name yet: it is found
    only by index, unless ``raw`` (spiff's "raw" lookup, used to tell which entries a spliced list
    adds). An index is ``[`` ASCII digits ``]``; any other step is a name, ``[-1]`` included.
    """
    nodes: list[Node] = node.value
    if step[:1] == "[" and step[-1:] == "]":
        digits = step[1:-1]
        if digits.isascii() and digits.isdigit():
            index = int(digits)
            return nodes[index] if index < len(nodes) else None
    field = node.key_name or "name"
    colon = step.find(":")
    if colon > 0:
        field, step = step[:colon], step[colon + 1 :]
    cache = node.cache
    if cache is None:
        cache = node.cache = {}
    slot: object = ("raw", field) if raw else field  # raw lookups are rare (splicing)
    by_field = cache.get(slot)
    if by_field is None:
        by_field = {}
        for entry in nodes:
            value = entry.value
            if type(value) is dict and (raw or "<<" not in value):
                named = value.get(field)
                if named is not None and type(named.value) is str:
                    by_field.setdefault(named.value, entry)
        cache[slot] = by_field
    return by_field.get(step)


def find(root: Node | None, path: Path) -> Node | None:
    """The node at ``path`` below ``root`` (maps by key, lists by index or name), or None."""
    node = root
    for step in path:
        if node is None:
            return None
        value = node.value
        if type(value) is dict:
            node = value.get(step)
        elif type(value) is list:
            node = list_step(node, step)
        else:
            return None
    return node


def step_into(node: Node, step: str) -> Node | None:
    """One step of :func:`find`."""
    value = node.value
    if type(value) is dict:
        return value.get(step)
    if type(value) is list:
        return list_step(node, step)
    return None


def display_path(path: Path) -> str:
    """A YAML path for messages: list steps ``name:x`` shown as ``x`` (``jobs.redis_z1.x``)."""
    parts = []
    for step in path:
        colon = step.find(":")
        parts.append(step[colon + 1 :] if colon > 0 and not step.startswith("[") else step)
    return ".".join(parts)
