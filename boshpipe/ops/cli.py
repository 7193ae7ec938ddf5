"""``python -m boshpipe.ops interpolate BASE [flags]``, shaped like ``bosh interpolate``.

Flags (long and short forms, ``--flag=value`` or ``--flag value``, before or after the manifest):

    -o, --ops-file FILE      an ops file (repeatable, applied in order)
    -v, --var NAME=VALUE     a variable, VALUE read as YAML (repeatable)
    -l, --vars-file FILE     a YAML map of variables (repeatable)
        --var-file NAME=FILE a variable holding FILE's text (repeatable)
        --vars-env PREFIX    variables from PREFIX_name environment variables (repeatable)
        --vars-store FILE    read variables from FILE, generate missing typed ones into it
        --path POINTER       print only this node (a string is printed bare)
        --var-errs           fail when a variable has no value
        --var-errs-unused    fail when a given variable is not used
        --debug              show a traceback on errors

Flag values are read as the flags are parsed, so errors come in command-line order, as the CLI's
do. The result goes to stdout; a failure prints its message on stderr and exits 1 (2 for a usage
error). The argument parsing is hand-written: argparse's import alone would be a noticeable part
of a run that otherwise takes a few tens of milliseconds.
"""

from __future__ import annotations

import gc
import os
import sys
from collections.abc import Sequence

from boshpipe.ops import Inputs, evaluate, load_manifest, render
from boshpipe.ops.errors import InputError, OpsError
from boshpipe.ops.opsfile import load_ops_file
from boshpipe.ops.pointer import parse
from boshpipe.ops.sources import parse_var, read_var_file, read_vars_env, read_vars_file

USAGE = (
    "usage: python -m boshpipe.ops interpolate BASE [-o OPS]... [-v K=V]... [-l FILE]... "
    "[--var-file K=PATH]... [--vars-env PREFIX] [--vars-store FILE] [--path P] [--var-errs] "
    "[--var-errs-unused] [--debug]"
)

_VALUE_FLAGS = {
    "-o": "ops",
    "--ops-file": "ops",
    "-v": "var",
    "--var": "var",
    "-l": "vars-file",
    "--vars-file": "vars-file",
    "--var-file": "var-file",
    "--vars-env": "vars-env",
    "--vars-store": "vars-store",
    "--path": "path",
}
_SWITCHES = {"--var-errs", "--var-errs-unused", "--debug"}


class UsageError(Exception):
    """The command line itself is wrong (unknown flag, missing value or manifest)."""


class Command:
    """The parsed command line; flag values are already read into :class:`Inputs`."""

    def __init__(self) -> None:
        self.inputs = Inputs(manifest=None)
        self.manifest: str | None = None
        self.path_given = False
        self.debug = False

    def take(self, kind: str, value: str) -> None:
        inputs = self.inputs
        if kind == "ops":
            inputs.operations.extend(load_ops_file(value))
        elif kind == "var":
            name, parsed = parse_var(value)
            inputs.vars[name] = parsed
        elif kind == "vars-file":
            inputs.vars_files.append(read_vars_file(value))
        elif kind == "var-file":
            name, text = read_var_file(value)
            inputs.var_files[name] = text
        elif kind == "vars-env":
            inputs.vars_envs.append(read_vars_env(value, os.environ))
        elif kind == "vars-store":
            if not value:
                raise InputError(
                    "invalid argument for flag `--vars-store' (expected opts.VarsFSStore): "
                    "Expected file path to be non-empty"
                )
            inputs.vars_store = value
        else:
            try:
                inputs.path = parse(value)
            except OpsError as err:
                flag = "invalid argument for flag `--path' (expected patch.Pointer)"
                raise InputError(f"{flag}: {err.message}") from None
            self.path_given = True


def parse_command(argv: Sequence[str]) -> Command:
    """Parse ``interpolate BASE [flags]``, reading each flag's value as it comes."""
    args = list(argv)
    if not args or args[0] not in ("interpolate", "int"):
        raise UsageError("expected the command 'interpolate'")
    command = Command()
    positional: list[str] = []
    i = 1
    only_positional = False
    while i < len(args):
        arg = args[i]
        i += 1
        if only_positional or arg == "-" or not arg.startswith("-"):
            positional.append(arg)
            continue
        if arg == "--":
            only_positional = True
            continue
        if arg in ("-h", "--help"):
            raise UsageError("help")
        if arg in _SWITCHES:
            if arg == "--debug":
                command.debug = True
            elif arg == "--var-errs":
                command.inputs.var_errs = True
            else:
                command.inputs.var_errs_unused = True
            continue
        name, equals, value = arg.partition("=") if arg.startswith("--") else (arg[:2], "", arg[2:])
        kind = _VALUE_FLAGS.get(name)
        if kind is None:
            raise UsageError(f"unknown flag `{name}'")
        if not equals and not value:
            if i >= len(args):
                raise UsageError(f"expected argument for flag `{name}'")
            value = args[i]
            i += 1
        command.take(kind, value)
    if len(positional) != 1:
        raise UsageError("expected exactly one manifest" if positional else "the manifest (BASE) is missing")
    command.manifest = positional[0]
    return command


def run(command: Command) -> str:
    """Compose the manifest; the vars store is written only after everything succeeded."""
    assert command.manifest is not None
    command.inputs.manifest = load_manifest(command.manifest)
    doc, store = evaluate(command.inputs)
    text = render(doc, command.path_given)
    if store is not None:
        store.save()
    return text


def main(argv: Sequence[str] | None = None) -> int:
    arguments = sys.argv[1:] if argv is None else list(argv)
    debug = "--debug" in arguments
    if argv is None:
        # a one-shot process whose data forms no reference cycles: the cyclic collector would only
        # rescan the document's objects. Not done when called as a library.
        gc.disable()
    try:
        text = run(parse_command(arguments))
    except UsageError as err:
        if str(err) == "help":
            print(__doc__.split("\n\n")[0] + "\n\n" + USAGE)
            return 0
        print(f"{err}\n{USAGE}", file=sys.stderr)
        return 2
    except OpsError as err:
        if debug:
            import traceback

            traceback.print_exc()
        print(err.message, file=sys.stderr)
        return 1
    except RecursionError:
        if debug:
            import traceback

            traceback.print_exc()
        print("input nested too deeply", file=sys.stderr)
        return 1
    sys.stdout.write(text)
    sys.stdout.flush()
    return 0
