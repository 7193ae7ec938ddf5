"""go-patch operations on plain data: ``replace``, ``remove``, ``test`` and the ``find`` behind them.

Each operation walks the path token by token as go-patch v0.2.0 does, and fails with its message
(path up to the failing token, what was found there, the keys that were there). Notable rules:

* a missing key is an error unless an earlier piece had ``?``; with it, ``replace`` creates maps
  (or lists, when the next piece is ``-`` or ``name=x``) along the way;
* ``name=x?`` that matches nothing appends ``{name: x}`` (or the value itself, when last);
* ``:before``/``:after`` on the last piece insert instead of replacing; ``:prev``/``:next`` move
  the index (``0:prev`` is the last item); modifiers after ``before``/``after`` are refused;
* values are copied through go-patch's YAML round trip (``1.0`` becomes ``1``), and ``null``
  cannot be set (an op without a value is refused when the ops file is read).

Lists that change length are replaced in their parent through a setter, like go-patch's
``PrevUpdate``; a list reached through ``name=x`` keeps the setter of the list above it, which is
go-patch's behaviour too.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from boshpipe.ops.errors import MissingIndexError, MissingKeyError, PatchError
from boshpipe.ops.pointer import AFTER, BEFORE, MODIFIER_TYPES, NEXT, PREV, AfterLast, Index, Key, Match, Pointer
from boshpipe.ops.values import clone, deep_equal, go_type

Setter = Callable[[Any], None]


def _array_mismatch(pointer: Pointer, count: int, obj: Any) -> PatchError:
    return PatchError(f"Expected to find an array at path '{pointer.prefix(count)}' but found '{go_type(obj)}'")


def _map_mismatch(pointer: Pointer, count: int, obj: Any) -> PatchError:
    return PatchError(f"Expected to find a map at path '{pointer.prefix(count)}' but found '{go_type(obj)}'")


def _missing_key(key: str, pointer: Pointer, count: int, obj: dict[Any, Any]) -> MissingKeyError:
    path = pointer.prefix(count)
    if obj:
        names = sorted(k for k in obj if type(k) is str)
        siblings = "found map keys: '" + "', '".join(names) + "'"
    else:
        siblings = "found no other map keys"
    return MissingKeyError(f"Expected to find a map key '{key}' for path '{path}' ({siblings})", path)


def _matches(items: list[Any], token: Match) -> list[int]:
    key, value = token.key, token.value
    return [
        position
        for position, item in enumerate(items)
        if type(item) is dict and item.get(key) == value and type(item.get(key)) is str
    ]


def _too_many(pointer: Pointer, count: int, found: list[int]) -> PatchError:
    return PatchError(
        f"Expected to find exactly one matching array item for path '{pointer.prefix(count)}' but found {len(found)}"
    )


def concrete_index(index: int, modifiers: tuple[str, ...], items: list[Any], path: str) -> int:
    """go-patch's ``ArrayIndex.Concrete``: apply ``prev``/``next``, wrap negatives, check range."""
    result = index
    for modifier in modifiers:
        if modifier == PREV:
            result -= 1
        elif modifier == NEXT:
            result += 1
        else:
            raise PatchError(
                "Expected to find one of the following modifiers: 'prev', 'next', but found modifier "
                f"'{MODIFIER_TYPES[modifier]}'"
            )
    if result >= len(items) or -result - 1 >= len(items):
        raise MissingIndexError(
            f"Expected to find array index '{result}' but found array of length '{len(items)}' for path '{path}'",
            path,
        )
    return result + len(items) if result < 0 else result


def _insertion(index: int, modifiers: tuple[str, ...], items: list[Any], path: str) -> tuple[int, bool]:
    """go-patch's ``ArrayInsertion.Concrete``: the position, and whether to insert there."""
    before = after = False
    moves: list[str] = []
    for modifier in modifiers:
        if before or after:
            which = "before" if before else "after"
            raise PatchError(
                f"Expected to not find any modifiers after '{which}' modifier, but found modifier "
                f"'{MODIFIER_TYPES[modifier]}'"
            )
        if modifier == BEFORE:
            before = True
        elif modifier == AFTER:
            after = True
        else:
            moves.append(modifier)
    number = concrete_index(index, tuple(moves), items, path)
    if after and number != len(items):
        number += 1
    return number, before or after


def _place(items: list[Any], position: tuple[int, bool], value: Any) -> list[Any]:
    number, insert = position
    if insert:
        return [*items[:number], value, *items[number:]]
    items[number] = value
    return items


def find(doc: Any, pointer: Pointer) -> Any:
    """go-patch's ``FindOp``: the value at ``pointer`` (``--path``, ``test`` and ``((a.b))``)."""
    tokens = pointer.tokens
    obj = doc
    last = len(tokens) - 1
    for i, token in enumerate(tokens):
        count = i + 1
        kind = type(token)
        if kind is Key:
            assert isinstance(token, Key)
            if type(obj) is not dict:
                raise _map_mismatch(pointer, count, obj)
            found = token.key in obj
            if not found and not token.optional:
                raise _missing_key(token.key, pointer, count, obj)
            if i == last:
                return obj.get(token.key)
            if found:
                obj = obj[token.key]
            else:
                following = tokens[i + 1]
                if type(following) is Match:
                    obj = []
                elif type(following) is Key:
                    obj = {}
                else:
                    raise PatchError(f"Expected to find key or matching index token at path '{pointer.prefix(i + 2)}'")
        elif kind is Index:
            assert isinstance(token, Index)
            if type(obj) is not list:
                raise _array_mismatch(pointer, count, obj)
            idx = concrete_index(token.index, token.modifiers, obj, pointer.prefix(count))
            obj = obj[idx]
            if i == last:
                return obj
        elif kind is Match:
            assert isinstance(token, Match)
            if type(obj) is not list:
                raise _array_mismatch(pointer, count, obj)
            hits = _matches(obj, token)
            if token.optional and not hits:
                obj = {token.key: token.value}
                if i == last:
                    return obj
                continue
            if len(hits) != 1:
                raise _too_many(pointer, count, hits)
            idx = concrete_index(hits[0], token.modifiers, obj, pointer.prefix(count))
            obj = obj[idx]
            if i == last:
                return obj
        else:
            raise PatchError(
                f"Expected not to find after last index token in path '{pointer}' (not supported in find operations)"
            )
    return doc


def replace(doc: Any, pointer: Pointer, value: Any) -> Any:
    """go-patch's ``ReplaceOp``; returns the new document (the root may be replaced)."""
    tokens = pointer.tokens
    if not tokens:
        return clone(value)
    result = [doc]

    def set_root(new: Any) -> None:
        result[0] = new

    obj: Any = doc
    update: Setter = set_root
    last = len(tokens) - 1
    for i, token in enumerate(tokens):
        count = i + 1
        is_last = i == last
        kind = type(token)
        if kind is Key:
            assert isinstance(token, Key)
            if type(obj) is not dict:
                raise _map_mismatch(pointer, count, obj)
            key = token.key
            found = key in obj
            if not found and not token.optional:
                raise _missing_key(key, pointer, count, obj)
            if is_last:
                obj[key] = clone(value)
                break
            if found:
                child = obj[key]
            else:
                following = tokens[i + 1]
                if type(following) in (AfterLast, Match):
                    child = []
                elif type(following) is Key:
                    child = {}
                else:
                    raise PatchError(
                        "Expected to find key, matching index or after last index token at path "
                        f"'{pointer.prefix(i + 2)}'"
                    )
                obj[key] = child
            update = _dict_setter(obj, key)
            obj = child
        elif kind is Index:
            assert isinstance(token, Index)
            if type(obj) is not list:
                raise _array_mismatch(pointer, count, obj)
            path = pointer.prefix(count)
            if is_last:
                position = _insertion(token.index, token.modifiers, obj, path)
                update(_place(obj, position, clone(value)))
                break
            idx = concrete_index(token.index, token.modifiers, obj, path)
            update = _list_setter(obj, idx)
            obj = obj[idx]
        elif kind is AfterLast:
            if type(obj) is not list:
                raise _array_mismatch(pointer, count, obj)
            if not is_last:
                raise PatchError(f"Expected after last index token to be last in path '{pointer}'")
            update([*obj, clone(value)])
        else:
            assert isinstance(token, Match)
            if type(obj) is not list:
                raise _array_mismatch(pointer, count, obj)
            hits = _matches(obj, token)
            if token.optional and not hits:
                if is_last:
                    update([*obj, clone(value)])
                    break
                created: dict[Any, Any] = {token.key: token.value}
                update([*obj, created])
                obj = created
                continue
            if len(hits) != 1:
                raise _too_many(pointer, count, hits)
            path = pointer.prefix(count)
            if is_last:
                position = _insertion(hits[0], token.modifiers, obj, path)
                update(_place(obj, position, clone(value)))
                break
            idx = concrete_index(hits[0], token.modifiers, obj, path)
            obj = obj[idx]  # the setter stays the list's: go-patch's PrevUpdate is not changed here
    return result[0]


def _dict_setter(mapping: dict[Any, Any], key: Any) -> Setter:
    def update(new: Any) -> None:
        mapping[key] = new

    return update


def _list_setter(items: list[Any], idx: int) -> Setter:
    def update(new: Any) -> None:
        items[idx] = new

    return update


def remove(doc: Any, pointer: Pointer) -> Any:
    """go-patch's ``RemoveOp``; a ``?`` piece that finds nothing leaves the document as it is."""
    tokens = pointer.tokens
    if not tokens:
        raise PatchError("Cannot remove entire document")
    result = [doc]

    def set_root(new: Any) -> None:
        result[0] = new

    obj: Any = doc
    update: Setter = set_root
    last = len(tokens) - 1
    for i, token in enumerate(tokens):
        count = i + 1
        is_last = i == last
        kind = type(token)
        if kind is Key:
            assert isinstance(token, Key)
            if type(obj) is not dict:
                raise _map_mismatch(pointer, count, obj)
            if token.key not in obj:
                if token.optional:
                    return result[0]
                raise _missing_key(token.key, pointer, count, obj)
            if is_last:
                del obj[token.key]
                break
            update = _dict_setter(obj, token.key)
            obj = obj[token.key]
        elif kind is Index or kind is Match:
            if type(obj) is not list:
                raise _array_mismatch(pointer, count, obj)
            if kind is Index:
                assert isinstance(token, Index)
                idx = concrete_index(token.index, token.modifiers, obj, pointer.prefix(count))
            else:
                assert isinstance(token, Match)
                hits = _matches(obj, token)
                if token.optional and not hits:
                    return result[0]
                if len(hits) != 1:
                    raise _too_many(pointer, count, hits)
                idx = concrete_index(hits[0], token.modifiers, obj, pointer.prefix(count))
            if is_last:
                update([*obj[:idx], *obj[idx + 1 :]])
                break
            if kind is Index:
                update = _list_setter(obj, idx)
            obj = obj[idx]
        else:
            where = pointer.prefix(count)
            raise PatchError(f"Expected to not find token 'patch.AfterLastIndexToken' at path '{where}'")
    return result[0]


def verify(doc: Any, pointer: Pointer, value: Any, absent: bool) -> Any:
    """go-patch's ``TestOp``: the value at the path equals ``value`` (strictly), or is absent."""
    if absent:
        try:
            find(doc, pointer)
        except (MissingIndexError, MissingKeyError) as err:
            if err.path == str(pointer):
                return doc
            raise
        raise PatchError(f"Expected to not find '{pointer}'")
    if not deep_equal(find(doc, pointer), value):
        raise PatchError("Found value does not match expected value")
    return doc


class Operation:
    """One op of an ops file, with the name the CLI gives it in errors."""

    __slots__ = ("absent", "kind", "label", "pointer", "value")

    def __init__(self, kind: str, pointer: Pointer, value: Any = None, absent: bool = False, label: str = "") -> None:
        self.kind = kind  # replace, remove or test
        self.pointer = pointer
        self.value = value
        self.absent = absent
        self.label = label  # "operation [i] in FILE failed"

    def __repr__(self) -> str:
        return f"Operation({self.kind!r}, {str(self.pointer)!r}, {self.value!r}, absent={self.absent})"

    def apply(self, doc: Any) -> Any:
        try:
            if self.kind == "replace":
                return replace(doc, self.pointer, self.value)
            if self.kind == "remove":
                return remove(doc, self.pointer)
            return verify(doc, self.pointer, self.value, self.absent)
        except PatchError as err:
            if not self.label:
                raise
            raise PatchError(f"Error '{self.label}': {err.message}") from err


def apply_all(doc: Any, operations: list[Operation]) -> Any:
    """Apply operations in order; the first failure stops everything."""
    for operation in operations:
        doc = operation.apply(doc)
    return doc
