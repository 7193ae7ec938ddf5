"""dynaml's ``exec``: run a command and use what it prints (spiff's ``dynaml/exec.go``).

Refused unless the merge was started with ``allow_exec`` (see :mod:`functions`). The command
line is built as spiff builds it: strings and integers are their text, the command itself must be
one of them, other values are passed as YAML documents; a list as the only argument holds the
command and its arguments. Output and run time are bounded.
"""

from __future__ import annotations

import yaml

from boshpipe import yamlsafe
from boshpipe.errors import BoshpipeError
from boshpipe.spiff.nodes import Info, Result, fail, text_of, value_node
from boshpipe.spiff.tree import Node, unwrap, wrap

# typing only for the type checker (see boshpipe.spiff.tree)
TYPE_CHECKING = False
if TYPE_CHECKING:
    from boshpipe.spiff.binding import Env


def _argument_text(position: int, node: Node) -> str | None:
    """One command-line argument as spiff's exec.go makes it, or None when it cannot be one.

    Strings and integers are their text; the command itself (position 0) must be one of them.
    Any other argument but nil is passed as a YAML document (``---`` and the value).
    """
    value = node.value
    if type(value) is str or type(value) is int:
        return text_of(value)
    if position == 0 or value is None:
        return None
    body = yaml.safe_dump(unwrap(node), default_flow_style=False, sort_keys=True)
    if body.endswith("\n...\n"):  # PyYAML ends a lone scalar document with an end marker
        body = body[:-4]
    return "---\n" + body


def execute(args: list[Node], env: Env) -> Result:
    """Run a command and use its output: YAML when it is a list or map or starts with ``---``,
    else the text (without its final newline) or the integer it spells."""
    if not env.ctx.allow_exec:
        return fail("exec is disabled (enable it with --allow-exec or BOSHPIPE_SPIFF_EXEC=1)")
    entries = args
    if args and type(args[0].value) is list:
        # a list holds the command and its arguments, but only as the one argument
        if len(args) != 1 or not args[0].value:
            return fail("list not allowed for command argument")
        entries = args[0].value
    texts = [_argument_text(position, entry) for position, entry in enumerate(entries)]
    if not texts:
        return fail("exec needs a command")
    argv = tuple(text for text in texts if text is not None)
    if len(argv) != len(texts):
        return fail("command argument must be string")
    cache = env.ctx.exec_cache
    if argv not in cache:
        try:
            cache[argv] = _run(argv)
        except _ExecFailed as err:
            return fail(str(err))
    output: str = cache[argv]
    try:
        yamlsafe.check(output, f"exec {argv[0]!r} output")  # aliases and size bounded, as for any input
    except BoshpipeError as err:
        return fail(str(err))
    document = _yaml_document(output)
    if document is not None:
        return document, Info()
    if output.startswith("---\n"):
        # spiff reads output that starts a YAML document as YAML, scalars included
        from boshpipe.spiff.errors import InputError
        from boshpipe.spiff.yamlio import load_value

        try:
            scalar = load_value(output, "exec")
        except InputError:
            return fail(f"exec {argv[0]!r} printed invalid YAML")
        return value_node(scalar)
    text = output[:-1] if output.endswith("\n") else output
    try:
        return value_node(int(text))
    except ValueError:
        return value_node(text)


def _yaml_document(output: str) -> Node | None:
    """The command's output as a YAML list or map, read like a stub; None when it is not one.

    spiff parses what the command prints as YAML, so ``- a`` lines make a list. Scalar output
    keeps spiff's text rule (an integer when it is one, else the text without the final newline).
    """
    from boshpipe.spiff.errors import InputError
    from boshpipe.spiff.yamlio import load

    try:
        data = load(output, "exec")
    except InputError:
        return None
    return wrap(data, "exec")


EXEC_TIMEOUT = 60.0
"""Seconds an ``exec`` command may run; ``BOSHPIPE_SPIFF_EXEC_TIMEOUT`` (1 to 3600) changes it."""
EXEC_OUTPUT_BYTES = 1024 * 1024
"""Output an ``exec`` command may print: a value for a manifest, not a data set."""


class _ExecFailed(Exception):
    """Why a command gave no usable output (timeout, status, size, bytes); the merge fails with it."""


def _run(argv: tuple[str, ...]) -> str:
    """The command's output as text, or :class:`_ExecFailed`."""
    import os
    import subprocess  # here, not at the top: it is slow to import and exec is rare
    import tempfile

    timeout = _exec_timeout()
    if isinstance(timeout, str):
        raise _ExecFailed(timeout)
    with tempfile.TemporaryFile() as out:
        try:
            # stdout goes to a file the child may not grow past the limit (RLIMIT_FSIZE), so neither
            # memory nor disk is at the mercy of a command that prints without end
            done = subprocess.run(
                argv,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.DEVNULL,
                timeout=timeout,
                check=False,
                preexec_fn=_limit_output,
            )
        except subprocess.TimeoutExpired:
            why = f"did not finish within {timeout:g} s (BOSHPIPE_SPIFF_EXEC_TIMEOUT)"
            raise _ExecFailed(f"exec {argv[0]!r} {why}") from None
        except OSError as err:
            raise _ExecFailed(f"exec {argv[0]!r} failed: {err.strerror}") from None
        size = os.fstat(out.fileno()).st_size
        if size >= EXEC_OUTPUT_BYTES:
            raise _ExecFailed(f"exec {argv[0]!r} printed {EXEC_OUTPUT_BYTES:,} bytes or more: too much for a value")
        if done.returncode != 0:
            raise _ExecFailed(f"exec {argv[0]!r} exited with status {done.returncode}")
        out.seek(0)
        data = out.read(EXEC_OUTPUT_BYTES)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise _ExecFailed(f"exec {argv[0]!r} printed bytes that are not UTF-8 text") from None
    if "\0" in text:
        raise _ExecFailed(f"exec {argv[0]!r} printed a NUL byte: not text")
    return text


def _limit_output() -> None:
    import resource

    resource.setrlimit(resource.RLIMIT_FSIZE, (EXEC_OUTPUT_BYTES, EXEC_OUTPUT_BYTES))


def _exec_timeout() -> float | str:
    import math
    import os

    text = os.environ.get("BOSHPIPE_SPIFF_EXEC_TIMEOUT")
    if not text:
        return EXEC_TIMEOUT
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not 1 <= value <= 3600:
        return f"BOSHPIPE_SPIFF_EXEC_TIMEOUT={text!r} must be a number of seconds from 1 to 3600"
    return value
