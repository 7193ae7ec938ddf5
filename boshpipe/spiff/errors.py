"""Errors of the spiff engine.

Every failure a person can act on is a :class:`SpiffError`, a ``ManifestError`` so the rest of the
tool prints it as one line. The subclasses say *what kind* of input was wrong, because the fix is
different for each: a YAML typo, an expression typo (shown with a caret under the bad spot), a value
no stub provides, or references that wait on each other forever.
"""

from __future__ import annotations

from boshpipe.errors import ManifestError


class SpiffError(ManifestError):
    """A template or stub could not be merged; ``str(err)`` is one line naming file and path."""


class InputError(SpiffError):
    """A file is missing, unreadable, not YAML, or holds YAML spiff does not accept."""


class DynamlSyntaxError(SpiffError):
    """A ``(( ... ))`` expression does not parse.

    The message repeats the expression with a caret under the offending character, the way
    jmespath reports parse errors, so the typo is visible without counting columns.
    """

    def __init__(self, message: str, expression: str, offset: int) -> None:
        self.reason = message
        stripped = expression.strip()
        lead = len(expression) - len(expression.lstrip())
        self.offset = min(max(0, offset - lead), len(stripped))
        self.expression = stripped
        super().__init__(self.render())

    def render(self) -> str:
        """One line: the reason, the column, and the expression with ``^`` marking the spot."""
        marked = self.expression[: self.offset] + "^" + self.expression[self.offset :]
        return f"{self.reason} at column {self.offset + 1} of (( {self.expression} )): (( {marked} ))"

    def caret_lines(self) -> str:
        """jmespath's two-line form: the expression, and a caret under the offending character."""
        return f"(( {self.expression} ))\n{' ' * (self.offset + 3)}^"


class UnresolvedError(SpiffError):
    """Some nodes stayed unresolved after merging; one entry per node, each with its YAML path."""

    def __init__(self, entries: list[str], source: str | None = None) -> None:
        self.entries = entries
        self.source = source
        where = f"{source}: " if source else ""
        noun = "node" if len(entries) == 1 else "nodes"
        super().__init__(f"{where}{len(entries)} unresolved {noun}: " + "; ".join(entries))
