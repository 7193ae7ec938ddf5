"""An executable reading of the reference spiff's merge algorithm, used as a test oracle.

The engine (``boshpipe.spiff.flow``) is built for speed: identity instead of tree comparison,
settled subtrees skipped, references that wait instead of failing. This module is the opposite:
a slow, literal model of how spiff develop @ 9c50f79 merges, written from reading its Go sources
(``flow/flow.go``, ``flow/environment.go``, ``flow/cascade.go``, ``yaml/node.go``,
``yaml/find.go``, ``dynaml/merge.go``, ``or.go``, ``prefer.go``, ``reference.go``,
``unresolved_check.go``), so that generated templates can be merged by both and compared
(``test_audit_flow.py``). It covers the part of dynaml that drives merging: literals,
references, every ``merge`` form, ``||`` and ``prefer``.

What the model keeps from spiff and the engine deliberately does not (docs/architecture.md):
a reference that steps through a map or list whose ``<<`` merge is not resolved yet *fails*
("not found") here, so ``||`` falls back early; the engine waits. Tests that compare the two
avoid ``||`` with a reference on its left for that reason.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

#: spiff's node annotations; ``merged()`` is node.go's ``Merged()``: a replaced or redirected
#: node counts as merged (so the stub is never consulted for it again)


class MNode:
    """node.go's AnnotatedNode: a value, its source name and the merge annotations."""

    __slots__ = ("issue", "key_name", "merged", "preferred", "redirect", "replace", "source", "value")

    def __init__(
        self,
        value: Any,
        source: str,
        *,
        redirect: tuple[str, ...] | None = None,
        replace: bool = False,
        preferred: bool = False,
        merged: bool = False,
        key_name: str = "",
        issue: str = "",
    ) -> None:
        self.value = value
        self.source = source
        self.redirect = redirect
        self.replace = replace
        self.preferred = preferred
        self.merged = merged
        self.key_name = key_name
        self.issue = issue

    def is_merged(self) -> bool:
        return self.merged or self.replace or bool(self.redirect)

    def copy(self, value: Any = ..., **flags: Any) -> MNode:
        node = MNode(
            self.value if value is ... else value,
            self.source,
            redirect=self.redirect,
            replace=self.replace,
            preferred=self.preferred,
            merged=self.merged,
            key_name=self.key_name,
            issue=self.issue,
        )
        for name, flag in flags.items():
            setattr(node, name, flag)
        return node

    def __eq__(self, other: object) -> bool:  # reflect.DeepEqual
        if not isinstance(other, MNode):
            return NotImplemented
        return (
            type(self.value) is type(other.value)
            and self.value == other.value
            and self.source == other.source
            and self.redirect == other.redirect
            and self.replace == other.replace
            and self.preferred == other.preferred
            and self.merged == other.merged
            and self.key_name == other.key_name
            and self.issue == other.issue
        )

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"MNode({self.value!r})"


# -- dynaml subset ----------------------------------------------------------------------------
class Expr:
    def evaluate(self, env: Env) -> tuple[MNode | None, Info, bool]:
        raise NotImplementedError


@dataclass
class Info:
    redirect: tuple[str, ...] | None = None
    replace: bool = False
    merged: bool = False
    preferred: bool = False
    key_name: str = ""
    issue: str = ""

    def join(self, other: Info) -> Info:
        """expression.go's EvaluationInfo.Join."""
        joined = Info(self.redirect, other.replace, self.merged or other.merged, self.preferred or other.preferred)
        if other.redirect is not None:
            joined.redirect = other.redirect
        joined.key_name = other.key_name or self.key_name
        joined.issue = other.issue or self.issue
        return joined


@dataclass(frozen=True)
class Literal(Expr):
    value: Any

    def evaluate(self, env: Env) -> tuple[MNode | None, Info, bool]:
        return MNode(self.value, "dynaml"), Info(), True


@dataclass(frozen=True)
class Ref(Expr):
    path: tuple[str, ...]  # ("", "a") for ".a"

    def evaluate(self, env: Env) -> tuple[MNode | None, Info, bool]:
        info = Info()
        from_root = self.path[0] == ""
        step: MNode | None = None
        for i in range(len(self.path)):
            step = env.find_from_root(self.path[1 : i + 1]) if from_root else env.find_reference(self.path[: i + 1])
            if step is None:
                info.issue = f"'{'.'.join(self.path)}' not found"
                return None, info, False
            if not locally_resolved(step):
                return MNode(self, "dynaml"), info, True
        assert step is not None
        if not is_resolved(step):
            return MNode(self, "dynaml"), info, True
        return MNode(step.value, step.source, key_name=step.key_name, issue=step.issue), info, True


@dataclass(frozen=True)
class Merge(Expr):
    path: tuple[str, ...]
    redirect: bool
    replace: bool
    required: bool
    key_name: str

    def evaluate(self, env: Env) -> tuple[MNode | None, Info, bool]:
        info = Info()
        if self.redirect:
            info.redirect = self.path
        info.key_name = self.key_name
        found = env.find_in_stubs(self.path)
        if found is None:
            info.issue = f"'{'.'.join(self.path)}' not found in any stub"
            return None, info, False
        info.replace = self.replace
        info.merged = True
        return found, info, True


@dataclass(frozen=True)
class Or(Expr):
    left: Expr
    right: Expr

    def evaluate(self, env: Env) -> tuple[MNode | None, Info, bool]:
        a, info_a, ok = self.left.evaluate(env)
        if ok:
            assert a is not None
            if a.value == self.left:  # the left side only evaluated to itself: not yet
                return None, info_a, False
            return a, info_a, True
        b, info_b, ok = self.right.evaluate(env)
        return b, info_a.join(info_b), ok


@dataclass(frozen=True)
class Prefer(Expr):
    expr: Expr

    def evaluate(self, env: Env) -> tuple[MNode | None, Info, bool]:
        node, info, ok = self.expr.evaluate(env)
        info.preferred = True
        return node, info, ok


#: names as spiff's grammar has them: a letter or ``_`` first (``0a`` and ``-x`` are no names)
_NAME = r"[A-Za-z_][\w-]*(?::[A-Za-z0-9_][\w-]*)?"
_TOKEN = re.compile(rf"\s*(\|\||\"[^\"]*\"|-?\d+|\.?{_NAME}(?:\.(?:\[\d+\]|{_NAME}))*)")


def parse(text: str, path: tuple[str, ...], stub_path: tuple[str, ...]) -> Expr:
    """The subset of dynaml the generated templates use; anything else raises ValueError."""
    tokens = _TOKEN.findall(text)
    if "".join(tokens).replace(" ", "") != text.replace(" ", ""):
        raise ValueError(text)
    pos = 0

    def primary() -> Expr:
        nonlocal pos
        word = tokens[pos]
        pos += 1
        if word == "merge":
            replace = required = False
            key = ""
            nxt = tokens[pos] if pos < len(tokens) else ""
            if nxt == "replace":
                replace = True
                pos += 1
            elif nxt == "required":
                required = True
                pos += 1
            elif nxt == "on":
                key = tokens[pos + 1]
                pos += 2
            nxt = tokens[pos] if pos < len(tokens) else ""
            if nxt and nxt != "||" and not required:
                pos += 1
                return Merge(tuple(nxt.split(".")), True, replace, True, key)
            redirect = path != stub_path
            return Merge(stub_path, redirect, replace, replace or required or redirect, key)
        if word == "auto":
            raise ValueError("auto is not modelled")
        if word == "prefer":
            return Prefer(primary())
        if word == "nil":
            return Literal(None)
        if word in ("true", "false"):
            return Literal(word == "true")
        if word.startswith('"'):
            return Literal(word[1:-1])
        if word.lstrip("-").isdigit():
            return Literal(int(word))
        return Ref(tuple(word.split(".")))

    expr = primary()
    while pos < len(tokens) and tokens[pos] == "||":
        pos += 1
        expr = Or(expr, primary())
    if pos != len(tokens):
        raise ValueError(text)
    return expr


DYNAML = re.compile(r"\A\(\((.*)\)\)\Z")


# -- find.go ----------------------------------------------------------------------------------
_LIST_INDEX = re.compile(r"\A\[(\d+)\]\Z", re.ASCII)


def map_resolved(value: dict[str, MNode]) -> bool:
    return "<<" not in value


def list_entry_merge(node: MNode) -> MNode | None:
    value = node.value
    if type(value) is dict and len(value) == 1 and "<<" in value:
        return value["<<"]
    return None


def list_resolved(value: list[MNode]) -> bool:
    return all(list_entry_merge(entry) is None for entry in value)


def find(root: MNode | None, path: tuple[str, ...], raw: bool = False) -> MNode | None:
    here = root
    for step in path:
        if here is None:
            return None
        value = here.value
        if type(value) is dict:
            if not raw and not map_resolved(value):
                return None
            here = value.get(step)
        elif type(value) is list:
            if not raw and not list_resolved(value):
                return None
            here = through_list(value, step, here.key_name, raw)
        else:
            return None
    return here


def through_list(items: list[MNode], step: str, key: str, raw: bool) -> MNode | None:
    match = _LIST_INDEX.match(step)
    if match:
        index = int(match.group(1))
        return items[index] if index < len(items) else None
    key = key or "name"
    if step.find(":") > 0:
        key, step = step.split(":", 1)
    for sub in items:
        if type(sub.value) is not dict:
            continue
        name = find_string(sub, (key,), raw)
        if name is not None and name == step:
            return sub
    return None


def find_string(root: MNode, path: tuple[str, ...], raw: bool = False) -> str | None:
    node = find(root, path, raw)
    if node is None or type(node.value) is not str:
        return None
    return node.value


def locally_resolved(node: MNode) -> bool:
    value = node.value
    if isinstance(value, Expr):
        return False
    if type(value) is dict:
        return map_resolved(value)
    if type(value) is list:
        return list_resolved(value)
    return True


def is_resolved(node: MNode | None) -> bool:
    if node is None:
        return True
    value = node.value
    if isinstance(value, Expr):
        return False
    if type(value) is list:
        return all(is_resolved(n) for n in value)
    if type(value) is dict:
        return all(is_resolved(n) for n in value.values())
    if type(value) is str:
        return DYNAML.match(value) is None
    return True


# -- environment.go ---------------------------------------------------------------------------
@dataclass
class Env:
    stubs: list[MNode]
    scope: tuple[dict[str, MNode], ...] = ()
    path: tuple[str, ...] = ()
    stub_path: tuple[str, ...] = ()
    issues: list[str] = field(default_factory=list)

    def find_from_root(self, path: tuple[str, ...]) -> MNode | None:
        if not self.scope:
            return None
        return find(MNode(self.scope[0], "scope"), path)

    def find_reference(self, path: tuple[str, ...]) -> MNode | None:
        for mapping in reversed(self.scope):
            node = mapping.get(path[0])
            if node is not None:
                return find(node, path[1:])
        return None

    def find_in_stubs(self, path: tuple[str, ...]) -> MNode | None:
        for stub in self.stubs:
            found = find(stub, path)
            if found is not None:
                return found
        return None

    def with_scope(self, mapping: dict[str, MNode]) -> Env:
        return Env(self.stubs, (*self.scope, mapping), self.path, self.stub_path)

    def with_path(self, step: str) -> Env:
        return Env(self.stubs, self.scope, (*self.path, step), (*self.stub_path, step))

    def redirected(self, path: tuple[str, ...]) -> Env:
        return Env(self.stubs, self.scope, self.path, path)


# -- flow.go ----------------------------------------------------------------------------------
def flow(root: MNode, env: Env, should_override: bool) -> MNode:
    replace = root.replace
    redirect = root.redirect
    preferred = root.preferred
    merged = root.is_merged()
    key_name = root.key_name
    if redirect is not None:
        env = env.redirected(redirect)
    if not replace:
        value = root.value
        if type(value) is dict:
            return flow_map(root, env)
        if type(value) is list:
            return flow_list(root, env)
        if isinstance(value, Expr):
            result, info, ok = value.evaluate(env)
            if not ok:
                root = root.copy(issue=info.issue or root.issue)
                if not should_override:
                    return root
                replace = replace or info.replace
            else:
                assert result is not None
                if type(result.value) is str:
                    result = flow_string(result, env)
                expr = isinstance(result.value, Expr)
                if preferred or info.preferred:
                    result = result.copy(preferred=True)
                if info.key_name:
                    key_name = info.key_name
                    result = result.copy(key_name=key_name)
                if info.redirect:
                    redirect = info.redirect
                if redirect:
                    result = result.copy(redirect=redirect)
                if replace or info.replace:
                    result = result.copy(replace=True, redirect=redirect)
                elif merged or info.merged:
                    result = result.copy(merged=True)
                if expr or result.is_merged() or not should_override or result.preferred:
                    return result
                replace = result.replace
                root = result
        elif type(value) is str:
            result = flow_string(root, env)
            if isinstance(result.value, Expr):
                return result
    if not merged and should_override:
        found = env.find_in_stubs(env.stub_path)
        if found is not None:
            root = found
            if key_name:
                root = root.copy(key_name=key_name)
            if replace:
                return root.copy(replace=True, redirect=redirect)
            if redirect is not None:
                return root.copy(redirect=redirect)
            if merged:
                return root.copy(merged=True)
    return root


def optional_merge(initial: bool, node: MNode) -> bool:
    """``<<: (( merge ))`` that found nothing is dropped, except on the pass that parsed it."""
    return not initial and isinstance(node.value, Merge) and not node.value.required


def flow_map(root: MNode, env: Env) -> MNode:
    processed = True
    mapping: dict[str, MNode] = root.value
    env = env.with_scope(mapping)
    redirect = root.redirect
    replace = root.replace
    result: dict[str, MNode] = {}
    for key in sorted(mapping):
        val = mapping[key]
        if key == "<<":
            initial = type(val.value) is str
            base = flow(val, env, False)
            if isinstance(base.value, Expr):
                if optional_merge(initial, base):
                    continue
                val = base
                processed = False
            else:
                if base.redirect is not None:
                    redirect = base.redirect
                    env = env.redirected(redirect)
                if type(base.value) is dict:
                    result.update(base.value)
                replace = base.replace
                if replace:
                    break
                continue
        elif processed:
            val = flow(val, env.with_path(key), True)
        result[key] = val
    if replace:
        return root.copy(result, replace=True, redirect=redirect)
    return root.copy(result, redirect=redirect)


def flow_list(root: MNode, env: Env) -> MNode:
    items, process, replaced, redirect, key_name = process_merges(root, root.value, env)
    if process:
        if redirect:
            env = env.redirected(redirect)
        items = [flow(val, env.with_path(step_name(i, val, key_name)), False) for i, val in enumerate(items)]
    if key_name:
        root = root.copy(key_name=key_name)
    if replaced:
        return root.copy(items, replace=True, redirect=redirect)
    if redirect:
        return root.copy(items, redirect=redirect)
    return root.copy(items)


def flow_string(root: MNode, env: Env) -> MNode:
    match = DYNAML.match(root.value)
    if match is None:
        return root
    try:
        expr = parse(match.group(1), env.path, env.stub_path)
    except (ValueError, IndexError):
        return root
    return root.copy(expr)


def step_name(index: int, value: MNode, key_name: str) -> str:
    key_name = key_name or "name"
    name = find_string(value, (key_name,))
    if name is not None:
        return f"{key_name}:{name}"
    return f"[{index}]"


def process_merges(
    orig: MNode, items: list[MNode], env: Env
) -> tuple[list[MNode], bool, bool, tuple[str, ...] | None, str]:
    spliced: list[MNode] = []
    process = True
    key_name = orig.key_name
    replaced = orig.replace
    redirect = orig.redirect
    for val in items:
        inline = list_entry_merge(val)
        if inline is not None:
            initial = type(inline.value) is str
            result = flow(inline, env, False)
            if result.key_name:
                key_name = result.key_name
            if isinstance(result.value, Expr):
                if optional_merge(initial, inline):
                    continue
                val = orig.copy({"<<": result})
                process = False
            else:
                if type(result.value) is list:
                    added = new_entries(result.value, items, key_name)
                    replaced = result.replace
                    redirect = result.redirect
                    if replaced:
                        spliced = added
                        process = False
                        break
                    spliced.extend(added)
                continue
        val, tag = key_tag(val)
        if tag:
            key_name = tag
        spliced.append(val)
    return spliced, process, replaced, redirect, key_name


def key_tag(val: MNode) -> tuple[MNode, str]:
    if type(val.value) is not dict:
        return val, ""
    tag = ""
    found = False
    for key in val.value:
        colon = key.find(":")
        if colon > 0 and key[:colon] == "key":
            tag = key[colon + 1 :]
            found = True
    if not found:
        return val, ""
    renamed: dict[str, MNode] = {}
    for key, child in val.value.items():
        colon = key.find(":")
        if colon > 0 and key[:colon] == "key":
            key = key[colon + 1 :]
        renamed[key] = child
    return val.copy(renamed), tag


def new_entries(merged: list[MNode], template: list[MNode], key_name: str) -> list[MNode]:
    key_name = key_name or "name"
    old = MNode(template, "some map", key_name=key_name)
    added = []
    for val in merged:
        name = find_string(val, (key_name,), raw=True)
        if name is not None and find(old, (name,), raw=True) is not None:
            continue
        added.append(val)
    return added


# -- Flow, Cascade, unresolved check ----------------------------------------------------------
class ModelError(Exception):
    """spiff would stop with an error (unresolved nodes) or never finish."""


def unresolved(node: MNode) -> bool:
    value = node.value
    if isinstance(value, Expr):
        return True
    if type(value) is str:
        return DYNAML.match(value) is not None
    if type(value) is dict:
        return any(unresolved(child) for child in value.values())
    if type(value) is list:
        return any(unresolved(child) for child in value)
    return False


def flow_document(source: MNode, stubs: list[MNode], max_passes: int = 200) -> MNode:
    result = source
    for _ in range(max_passes):
        try:
            following = flow(result, Env(stubs), True)
            same = following == result
        except RecursionError:  # a tree that grows on every pass: spiff never finishes
            raise ModelError("does not settle") from None
        if same:
            if unresolved(result):
                raise ModelError("unresolved nodes")
            return result
        result = following
    raise ModelError("does not settle")


def wrap(data: Any, source: str) -> MNode:
    if type(data) is dict:
        return MNode({key: wrap(value, source) for key, value in data.items()}, source)
    if type(data) is list:
        return MNode([wrap(value, source) for value in data], source)
    return MNode(data, source)


def unwrap(node: MNode) -> Any:
    value = node.value
    if type(value) is dict:
        return {key: unwrap(child) for key, child in value.items()}
    if type(value) is list:
        return [unwrap(child) for child in value]
    return value


def cascade(template: Any, *stubs: Any) -> Any:
    """``spiff merge template stubs...`` on loaded data: the merged data, or ModelError."""
    nodes = [wrap(stub, f"stub{i}") for i, stub in enumerate(stubs, 1)]
    for index in range(len(nodes) - 1, -1, -1):
        nodes[index] = flow_document(nodes[index], nodes[index + 1 :])
    return unwrap(flow_document(wrap(template, "template"), nodes))


def check_expressions(doc: Any) -> None:
    """Raise ValueError when ``doc`` holds an expression outside the modelled subset."""
    if type(doc) is dict:
        for value in doc.values():
            check_expressions(value)
    elif type(doc) is list:
        for value in doc:
            check_expressions(value)
    elif type(doc) is str:
        match = DYNAML.match(doc)
        if match is not None:
            try:
                parse(match.group(1), (), ())
            except IndexError as err:
                raise ValueError(doc) from err
