"""Keeping secrets out of everything the director client shows.

Two complementary rules, because neither alone is enough:

* structural: in a manifest, the value of any key whose name contains ``password``, ``secret``,
  ``token``, ``key``, ``credential`` or ``passphrase`` is replaced by ``<redacted>`` before the document is shown
  (diffs). The director's own diff endpoint redacts too (``redact=true``); we do it again so an old
  or misconfigured director cannot leak through us.
* textual: a ``Scrubber`` knows the secret *values* in play (client secret, tokens, the manifest's
  secret properties) and removes them from any free text the director sends back (error
  descriptions, event lines, task results) before it reaches an event, a result or an exception.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterable
from typing import Any

REDACTED = "<redacted>"
SECRET_WORDS = ("password", "secret", "token", "key", "credential", "passphrase")
# Values shorter than this are not scrubbed from free text: replacing "1" or "no" everywhere would
# mangle messages without protecting anything (the structural rule still hides them in manifests).
MIN_SCRUB_LENGTH = 4

_KEY_LINE = re.compile(r"^(?P<lead>[\s-]*)(?P<key>[^\s:#'\"-][^:#]*?)\s*:(?:\s.*)?$")


def is_secret_key(key: object) -> bool:
    """Whether a mapping key names a secret (case-insensitive substring match)."""
    name = str(key).lower()
    return any(word in name for word in SECRET_WORDS)


def redact_document(node: Any) -> Any:
    """A copy of a parsed YAML document with every secret-keyed value replaced by ``<redacted>``."""
    if isinstance(node, dict):
        return {k: (REDACTED if is_secret_key(k) else redact_document(v)) for k, v in node.items()}
    if isinstance(node, list):
        return [redact_document(item) for item in node]
    return node


def secret_values(node: Any) -> list[str]:
    """Every scalar found under a secret-keyed entry of a parsed document (to scrub from text)."""
    found: list[str] = []

    def walk(value: Any, under_secret: bool) -> None:
        if isinstance(value, dict):
            for k, v in value.items():
                walk(v, under_secret or is_secret_key(k))
        elif isinstance(value, list):
            for item in value:
                walk(item, under_secret)
        elif under_secret and isinstance(value, str | int | float) and not isinstance(value, bool):
            found.append(str(value))

    walk(node, False)
    return found


def redact_yaml_lines(lines: Iterable[str]) -> list[str]:
    """Redact YAML text shown line by line (diff lines, optionally prefixed ``+ ``/``- ``/``  ``).

    ``<secret key>: <value>`` becomes ``<secret key>: <redacted>``, and every deeper-indented line
    after a secret key is dropped: it is the rest of a block scalar (``private_key: |`` and a PEM)
    or a mapping nested under the secret. ``@@`` hunk headers end such a region.
    """
    shown: list[str] = []
    hide_deeper_than: int | None = None
    for line in lines:
        if line.startswith("@@"):
            hide_deeper_than = None
            shown.append(line)
            continue
        marker, body = (line[:2], line[2:]) if line[:2] in ("+ ", "- ", "  ") else ("", line)
        column = len(body) - len(body.lstrip(" -"))
        if hide_deeper_than is not None:
            if not body.strip() or column > hide_deeper_than:
                continue
            hide_deeper_than = None
        match = _KEY_LINE.match(body)
        if match is not None and is_secret_key(match.group("key")):
            shown.append(f"{marker}{match.group('lead')}{match.group('key')}: {REDACTED}")
            hide_deeper_than = column
            continue
        shown.append(line)
    return shown


class Scrubber:
    """Removes known secret values from text. Thread-safe; values are only ever added."""

    def __init__(self, values: Iterable[str] = ()) -> None:
        self._lock = threading.Lock()
        self._values: set[str] = set()
        self.add(*values)

    def add(self, *values: str | None) -> None:
        with self._lock:
            for value in values:
                if value and len(value) >= MIN_SCRUB_LENGTH:
                    self._values.add(value)

    def __call__(self, text: str) -> str:
        with self._lock:
            values = sorted(self._values, key=len, reverse=True)  # longest first: no partial leaks
        for value in values:
            if value in text:
                text = text.replace(value, REDACTED)
        return text

    def __repr__(self) -> str:
        return f"Scrubber({len(self._values)} values)"


def one_line(text: str, limit: int = 400) -> str:
    """Collapse whitespace so a director message fits the one line a user sees; cut long ones."""
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 3] + "..."
