"""YAML safety in one place: every YAML document boshpipe reads passes here before it is built.

Why: a 14-byte file with a recursive alias (``a: &a {b: *a}``) or a "billion laughs" file (ten
aliases of ten aliases of ...) is tiny on disk and unbounded in memory once a loader expands it, and
PyYAML has no limit of its own. libyaml already refuses nesting deeper than 1000 levels; this module
adds the rest, cheaply enough for every loader (config files, spiff templates and stubs, manifests):

* a size limit on the document (checked before anything is parsed);
* text only: the bytes must be UTF-8 and hold no NUL or other C0 control character YAML forbids;
* aliases: at most :data:`MAX_ALIASES`, expanding to at most :data:`MAX_ALIAS_NODES` nodes in all,
  and never an alias of a node that contains it (a cycle that no data can hold).

The alias check streams libyaml's parser events and keeps one counter per open collection, so it
needs memory for the anchors only, and runs only when the text has an ``&`` (no anchor, no alias).
Every refusal is one line naming the file (and line when known) and what to do; its class is the
caller's (``ConfigError`` for settings, spiff's ``InputError`` for templates), so each tool reports
it as it reports its other input errors.
"""

from __future__ import annotations

import os
import re
import stat
from collections.abc import Callable

import yaml
from yaml.events import (
    AliasEvent,
    MappingEndEvent,
    MappingStartEvent,
    ScalarEvent,
    SequenceEndEvent,
    SequenceStartEvent,
)
from yaml.nodes import MappingNode, Node, SequenceNode

from boshpipe.errors import BoshpipeError, ConfigError

# typing and pathlib only for the type checker: the spiff command imports this module on every run,
# and its start-up is kept lean (see boshpipe.spiff.tree)
TYPE_CHECKING = False
if TYPE_CHECKING:
    from pathlib import Path
    from typing import Any

MAX_DOCUMENT_BYTES = 16 * 1024 * 1024
"""A template, stub or settings file is kilobytes; 16 MiB leaves room for generated ones."""
MAX_ALIASES = 10_000
"""Aliases in one document: hand-written YAML uses a handful."""
MAX_ALIAS_NODES = 1_000_000
"""Nodes reached through aliases, counted expanded: what a loader would build for them."""

Loader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

#: characters YAML 1.1 does not allow in a stream (tab, LF and CR are allowed)
_FORBIDDEN = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ufffe\uffff]")

ErrorFactory = Callable[[str], BoshpipeError]


def read_text(path: Path, *, max_bytes: int = MAX_DOCUMENT_BYTES, error: ErrorFactory = ConfigError) -> str:
    """The text of a YAML file: at most ``max_bytes``, UTF-8, no forbidden characters.

    A regular file's size is checked before it is read; anything else (a pipe, ``/dev/zero``) is
    read up to ``max_bytes + 1`` bytes only, so nothing is ever read without bound.
    """
    try:
        with open(path, "rb") as handle:
            info = os.fstat(handle.fileno())
            if stat.S_ISREG(info.st_mode) and info.st_size > max_bytes:
                raise error(_too_large(str(path), info.st_size, max_bytes))
            data = handle.read(max_bytes + 1)
    except FileNotFoundError:
        raise error(f"{path}: no such file") from None
    except IsADirectoryError:
        raise error(f"{path}: is a directory, not a YAML file") from None
    except OSError as err:
        raise error(f"{path}: cannot read: {err.strerror or err}") from None
    if len(data) > max_bytes:
        raise error(f"{path}: more than {max_bytes:,} bytes, the limit for a YAML document: is it the right file?")
    return decode(data, str(path), max_bytes=max_bytes, error=error)


def decode(data: bytes, where: str, *, max_bytes: int = MAX_DOCUMENT_BYTES, error: ErrorFactory = ConfigError) -> str:
    """UTF-8 text of a document's bytes (a BOM is dropped), size and characters checked."""
    if len(data) > max_bytes:
        raise error(_too_large(where, len(data), max_bytes))
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        line = data.count(b"\n", 0, err.start) + 1
        raise error(
            f"{where}:{line}: not UTF-8 text (byte 0x{data[err.start]:02x} at offset {err.start}): "
            "save the file as UTF-8"
        ) from None
    check(text, where, max_bytes=max_bytes, error=error)
    return text


def check(text: str, where: str, *, max_bytes: int = MAX_DOCUMENT_BYTES, error: ErrorFactory = ConfigError) -> None:
    """Refuse a document that is too large, holds forbidden characters, or abuses aliases."""
    if len(text) > max_bytes:
        raise error(_too_large(where, len(text), max_bytes))
    bad = _FORBIDDEN.search(text)
    if bad is not None:
        line = text.count("\n", 0, bad.start()) + 1
        name = "a NUL byte" if bad.group() == "\x00" else f"control character U+{ord(bad.group()):04X}"
        raise error(f"{where}:{line}: {name} is not allowed in YAML: remove it (is this a binary file?)")
    if "&" in text:
        _check_aliases(text, where, error)


def _check_aliases(text: str, where: str, error: ErrorFactory) -> None:
    sizes: dict[str, int] = {}  # anchor -> expanded node count of the node it names
    open_anchors: set[str] = set()  # anchors of collections still being parsed
    stack: list[tuple[str | None, list[int]]] = [(None, [0])]
    aliases = through = 0
    try:
        for event in yaml.parse(text, Loader=Loader):
            kind = type(event)
            name: str | None = getattr(event, "anchor", None)
            if kind is ScalarEvent:
                if name:
                    sizes[name] = 1
                    open_anchors.discard(name)
                stack[-1][1][0] += 1
            elif kind is MappingStartEvent or kind is SequenceStartEvent:
                if name:
                    open_anchors.add(name)
                stack.append((name, [1]))
            elif kind is MappingEndEvent or kind is SequenceEndEvent:
                anchor, (count,) = stack.pop()
                if anchor:
                    sizes[anchor] = count
                    open_anchors.discard(anchor)
                stack[-1][1][0] += count
            elif kind is AliasEvent:
                aliases += 1
                line = event.start_mark.line + 1 if event.start_mark else 0
                if name in open_anchors:
                    raise error(
                        f"{where}:{line}: alias *{name} refers to a node that contains it "
                        "(a recursive alias): YAML data cannot hold a cycle; write the values out"
                    )
                if aliases > MAX_ALIASES:
                    raise error(f"{where}:{line}: more than {MAX_ALIASES} aliases: write the values out")
                size = sizes.get(name or "")
                if size is None:
                    return  # an undefined alias: the loader reports it in its own words
                through += size
                if through > MAX_ALIAS_NODES:
                    raise error(
                        f"{where}:{line}: aliases expand to more than {MAX_ALIAS_NODES:,} nodes "
                        "(an alias bomb?): write the values out or use fewer nested aliases"
                    )
                stack[-1][1][0] += size
    except yaml.YAMLError:
        return  # a syntax error: the loader reports it, with its position


def one_line(err: yaml.YAMLError) -> str:
    """A PyYAML error as one line: problem, context and position (PyYAML's own text spans lines)."""
    mark = getattr(err, "problem_mark", None)
    problem = getattr(err, "problem", None) or str(err)
    context = getattr(err, "context", None)
    where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
    text = f"{context}, {problem}" if context else problem
    return " ".join(f"{text}{where}".split())


class Document:
    """A loaded settings file: its data and where each YAML path sits (for messages).

    A plain class rather than a dataclass: ``dataclasses`` costs start-up time on every spiff run.
    """

    __slots__ = ("data", "path", "root", "text")

    def __init__(self, path: Path, data: Any, root: Node | None, text: str | None = None) -> None:
        self.path = path
        self.data = data
        self.root = root
        self.text = text
        """What ``data`` was loaded from (the key of :mod:`boshpipe.validated`'s records)."""

    def _node_at(self, loc: tuple[str | int, ...]) -> Node | None:
        """The YAML node at ``loc`` (keys and list indexes), None if not there."""
        node = self.root
        for part in loc:
            if isinstance(node, MappingNode) and isinstance(part, str):
                node = next((v for k, v in node.value if getattr(k, "value", None) == part), None)
            elif isinstance(node, SequenceNode) and isinstance(part, int) and 0 <= part < len(node.value):
                node = node.value[part]
            else:
                return None
        return node

    def line(self, loc: tuple[str | int, ...]) -> int | None:
        """The 1-based line of the node at ``loc`` (keys and list indexes), None if not there."""
        node = self._node_at(loc)
        return int(node.start_mark.line) + 1 if node is not None and node.start_mark else None

    def key_line(self, loc: tuple[str | int, ...]) -> int | None:
        """The line of the key ``loc[-1]`` inside the mapping at ``loc[:-1]`` (for unknown keys)."""
        if not loc:
            return None
        parent = self._node_at(loc[:-1])
        if isinstance(parent, MappingNode):
            for key, _ in parent.value:
                if getattr(key, "value", None) == loc[-1]:
                    return int(key.start_mark.line) + 1
        return None


def load_file(path: Path, *, max_bytes: int = MAX_DOCUMENT_BYTES, error: ErrorFactory = ConfigError) -> Document:
    """Read, check and load a YAML file with the safe loader; every failure is one line naming it."""
    return load_text(read_text(path, max_bytes=max_bytes, error=error), path, error=error)


def load_text(text: str, path: Path, *, error: ErrorFactory = ConfigError) -> Document:
    """Load checked text (see :func:`check`); keeps the node graph so messages can give lines."""
    check(text, str(path), error=error)
    loader = Loader(text)
    try:
        root = loader.get_single_node()
        data = loader.construct_document(root) if root is not None else None
    except yaml.MarkedYAMLError as err:
        mark = err.problem_mark
        where = f"{path}:{mark.line + 1}" if mark else str(path)
        raise error(f"{where}: invalid YAML: {' '.join(str(err.problem).split())}") from None
    except yaml.YAMLError as err:
        raise error(f"{path}: invalid YAML: {one_line(err)}") from None
    except (ValueError, OverflowError, TypeError) as err:  # e.g. a timestamp out of range
        raise error(f"{path}: invalid YAML value: {' '.join(str(err).split())}") from None
    finally:
        loader.dispose()
    return Document(path, data, root, text)


def safe_load(text: str, where: str, *, error: ErrorFactory = ConfigError) -> Any:
    """Plain data of a checked document (manifests a director hands back, for instance)."""
    from pathlib import Path

    return load_text(text, Path(where), error=error).data


def _too_large(where: str, size: int, limit: int) -> str:
    return f"{where}: {size:,} bytes is larger than the {limit:,}-byte limit for a YAML document: is it the right file?"
