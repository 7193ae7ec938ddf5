"""Errors of ``boshpipe.ops``, worded as the bosh CLI words them.

People search the CLI's messages and the conformance corpus checks their key phrases, so the text
is the CLI's (Go type names included: ``map[interface {}]interface {}``). What differs is the
layout: the CLI prints a chain of wrapped errors one cause per line; here a chain is one line,
``outer: inner: cause``. The one exception is the ``--var-errs``/``--var-errs-unused`` report,
which is a list of names and keeps the CLI's layout (``- Expected to find variables:`` then one
``    - name`` line per variable) where the CLI prints it; ``str()`` of any project error, this
one included, escapes line breaks so logs and records stay one line per error.
"""

from __future__ import annotations

from boshpipe.errors import ManifestError


class OpsError(ManifestError):
    """Interpolation failed; ``message`` is the CLI's text, ``str(err)`` its one-line form."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def wrap(self, context: str) -> OpsError:
        """The same failure seen from an outer step (the CLI's ``WrapError``): ``context: self``."""
        wrapped = type(self)(f"{context}: {self.message}")
        wrapped.__cause__ = self
        return wrapped


class InputError(OpsError):
    """A file or flag value is missing, unreadable, or not the YAML expected."""


class PatchError(OpsError):
    """An ops-file operation did not apply (path not found, wrong type, failed test)."""


class PointerError(OpsError):
    """A path (``/a/b?/name=x:before``) does not parse."""


class VariableError(OpsError):
    """A variable could not be found, generated, or put into a string."""


class MissingIndexError(PatchError):
    """An array index out of range; ``test`` with ``absent: true`` accepts it at its own path."""

    def __init__(self, message: str, path: str) -> None:
        super().__init__(message)
        self.path = path


class MissingKeyError(PatchError):
    """A map key not found; ``test`` with ``absent: true`` accepts it at its own path."""

    def __init__(self, message: str, path: str) -> None:
        super().__init__(message)
        self.path = path


def name_list(title: str, names: list[str]) -> str:
    """``- title:`` and the names under it, as the CLI lists missing or unused variables."""
    return "- " + title + ":" + "".join(f"\n    - {name}" for name in names)
