"""Where an expression is evaluated: its scope, its path, the stubs, and per-merge caches.

References are resolved like spiff does: the first name is looked up in the enclosing maps from
the innermost outwards (so ``(( foo ))`` inside ``hi:`` finds ``hi.foo`` first), a leading dot
starts at the document root, and ``map[...]`` lambdas add their parameters in front of both.
The stub path differs from the path once a ``merge other.path`` redirected a subtree.
"""

from __future__ import annotations

from typing import Any

from boshpipe.spiff.tree import Node, Path, find

_MISSING = object()


class Context:
    """State shared by every node of one merge: stubs, caches, options and the change flag."""

    def __init__(self, stubs: list[Node], *, allow_exec: bool = False) -> None:
        self.stubs = stubs
        self.allow_exec = allow_exec
        self.changed = False
        self.stub_cache: dict[Path, Node | None] = {}
        self.exec_cache: dict[tuple[str, ...], Any] = {}
        self.bad_strings: set[str] = set()
        self.waiting: list[Node] | None = None
        self.waits: dict[int, list[Node]] = {}

    def find_in_stubs(self, path: Path) -> Node | None:
        """The first stub holding ``path`` (stubs were cascaded, so that is the rightmost value)."""
        hit = self.stub_cache.get(path, _MISSING)
        if hit is _MISSING:
            hit = None
            for stub in self.stubs:
                hit = find(stub, path)
                if hit is not None:
                    break
            self.stub_cache[path] = hit
        return hit  # type: ignore[return-value]


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
        return Env(self.ctx, self.scope, (*self.path, step), (*self.stub_path, step), self.local)

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
