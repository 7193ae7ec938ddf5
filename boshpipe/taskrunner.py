"""What every invoke task shares: one-line errors instead of tracebacks.

It lives in the package (not in tasks.py) so that tasks.py and pipeline_tasks.py both use it
without importing each other.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable
from typing import Any, TypeVar

from invoke.exceptions import Exit

from boshpipe.errors import BoshpipeError

F = TypeVar("F", bound=Callable[..., Any])

DEBUG = "show a traceback instead of a one-line error"


def one_line_errors(body: F) -> F:
    """Turn user-facing failures into one line on stderr and a non-zero exit.

    ``--debug`` (or ``BOSHPIPE_DEBUG=1``) lets the exception through with its traceback.
    """

    @functools.wraps(body)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        debug = kwargs.get("debug") or os.environ.get("BOSHPIPE_DEBUG") == "1"
        try:
            return body(*args, **kwargs)
        except BoshpipeError as err:
            if debug:
                raise
            raise Exit(f"error: {err}", code=err.exit_code) from None
        except KeyboardInterrupt:
            if debug:
                raise
            raise Exit("interrupted", code=130) from None

    return wrapper  # type: ignore[return-value]
