"""Where an expression is evaluated: its scope, its path, the stubs, and per-merge caches.

References are resolved like spiff does: the first name is looked up in the enclosing maps from
the innermost outwards (so ``(( foo ))`` inside ``hi:`` finds ``hi.foo`` first), a leading dot
starts at the document root, and ``map[...]`` lambdas add their parameters in front of both.
The stub path differs from the path once a ``merge other.path`` redirected a subtree.
"""

from __future__ import annotations

import itertools

from boshpipe.spiff.tree import Node, Path, find, step_into

# typing only for the type checker (see boshpipe.spiff.tree)
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any


#: numbers the contexts of a process, so that each merge keeps its own per-node facts
_contexts = itertools.count()


class Context:
    """State shared by every node of one merge: stubs, caches, options and the change flag."""

    def __init__(self, stubs: list[Node], *, allow_exec: bool = False) -> None:
        self.stubs = stubs
        # Node caches remember what a pass of *this* merge found (a settled container, the
        # pending keys of a map). A stub's nodes are flowed again in the next merge of the
        # cascade, against other stubs: there the facts do not hold, so the keys are per merge.
        number = next(_contexts)
        self.settled_key = -2 * number - 1
        self.map_key = -2 * number - 2
        self.allow_exec = allow_exec
        self.changed = False
        #: set while an expression is evaluated when an ``||`` found its left side not resolved yet
        #: (spiff counts that as a failure: the stub value at the node's path wins)
        self.or_pending = False
        #: for each stub path looked up, the node at that path in each stub (None: absent)
        self.stub_nodes: dict[Path, list[Node | None]] = {(): list(stubs)}
        self.exec_cache: dict[tuple[str, ...], Any] = {}
        self.bad_strings: set[str] = set()
        self.waiting: list[Node] | None = None
        self.waits: dict[int, list[Node]] = {}

    def find_in_stubs(self, path: Path) -> Node | None:
        """The first stub holding ``path`` (stubs were cascaded, so that is the rightmost value)."""
        for hit in self._stub_nodes(path):
            if hit is not None:
                return hit
        return None

    def _stub_nodes(self, path: Path) -> list[Node | None]:
        """The nodes at ``path`` in every stub, stepped from the cached parent path's nodes.

        Every node of a document is looked up in the stubs once per merge, so walking each stub
        from its root every time (depth times stubs steps) was a hot spot; this takes one step
        per stub and path.
        """
        nodes = self.stub_nodes.get(path)
        if nodes is None:
            step = path[-1]
            nodes = [None if parent is None else step_into(parent, step) for parent in self._stub_nodes(path[:-1])]
            self.stub_nodes[path] = nodes
        return nodes


class Env:
    """An immutable evaluation environment; ``with_*`` return extended copies."""

    __slots__ = ("ctx", "local", "path", "scope", "stub_path")

    def __init__(
        self,
        ctx: Context,
        scope: tuple[dict[str, Node], ...] = (),
        path: Path = (),
        stub_path: Path = (),
        local: dict[str, Node] | None = None,
    ) -> None:
        self.ctx = ctx
        self.scope = scope
        self.path = path
        self.stub_path = stub_path
        self.local = local

    def with_scope(self, mapping: dict[str, Node]) -> Env:
        return Env(self.ctx, (*self.scope, mapping), self.path, self.stub_path, self.local)

    def with_path(self, step: str) -> Env:
        path = (*self.path, step)
        # until a merge redirects, both paths are the same tuple: build it once
        stub_path = path if self.stub_path is self.path else (*self.stub_path, step)
        return Env(self.ctx, self.scope, path, stub_path, self.local)

    def redirected(self, stub_path: Path) -> Env:
        return Env(self.ctx, self.scope, self.path, stub_path, self.local)

    def with_locals(self, names: dict[str, Node]) -> Env:
        merged = dict(self.local or {})
        merged.update(names)
        return Env(self.ctx, self.scope, self.path, self.stub_path, merged)

    def find_reference(self, path: Path) -> Node | None:
        """Resolve a relative reference: lambda parameters, then enclosing maps inside out."""
        head = path[0]
        if self.local is not None and head in self.local:
            return find(self.local[head], path[1:])
        for mapping in reversed(self.scope):
            node = mapping.get(head)
            if node is not None:
                return find(node, path[1:])
        return None

    def find_from_root(self, path: Path) -> Node | None:
        if not self.scope:
            return None
        return find(Node(self.scope[0], "scope"), path)

    def find_in_stubs(self, path: Path) -> Node | None:
        return self.ctx.find_in_stubs(path)
