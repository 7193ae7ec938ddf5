"""Reading inputs and writing the vars store, with the CLI's wording for failures.

Messages follow the bosh CLI (``Opening file nope.yml: open nope.yml: no such file or directory``)
so they read the same whichever tool printed them. The vars store is written atomically (a
temporary file in the same directory, then a rename): an interrupted or failed run never leaves a
half-written store behind.
"""

from __future__ import annotations

import contextlib
import errno
import os

from boshpipe.ops.errors import InputError

_REASONS = {
    errno.ENOENT: "no such file or directory",
    errno.EACCES: "permission denied",
    errno.EISDIR: "is a directory",
    errno.ENOTDIR: "not a directory",
}


def read_text(path: str) -> str:
    """The text of ``path``; failures raise :class:`InputError` worded like Go's ``os`` errors."""
    try:
        with open(path, "rb") as file:
            data = file.read()
    except IsADirectoryError:
        raise InputError(f"Reading file {path}: read {path}: is a directory") from None
    except OSError as err:
        reason = _REASONS.get(err.errno or 0, (err.strerror or str(err)).lower())
        raise InputError(f"Opening file {path}: open {path}: {reason}") from None
    return data.decode("utf-8", "replace")


def write_atomically(path: str, text: str) -> None:
    """Replace ``path`` with ``text`` in one rename (mode 0600: the store holds secrets)."""
    import tempfile

    directory = os.path.dirname(os.path.abspath(path))
    handle, temporary = tempfile.mkstemp(prefix=".vars-store-", dir=directory)
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as file:
            file.write(text)
        os.chmod(temporary, 0o600)
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise
