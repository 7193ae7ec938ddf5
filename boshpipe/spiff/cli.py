"""``python -m boshpipe.spiff merge TEMPLATE [STUB ...]``, shaped like the spiff command.

The merged manifest goes to stdout in spiff's format. On failure one line goes to stderr and the
exit status is 1 (2 for usage errors); ``--debug`` adds the traceback for bug reports.

Every merge is a fresh interpreter, so start-up counts: the plain ``merge FILE...`` form is read
without argparse (which with its help formatter and gettext costs several milliseconds), and
``traceback`` is imported only when ``--debug`` needs it. Anything else goes through argparse.
"""

from __future__ import annotations

import gc
import sys
from collections.abc import Sequence

from boshpipe.spiff import EXEC_ENV, SpiffError, merge_file_tree
from boshpipe.spiff.yamlio import dump_tree

TYPE_CHECKING = False  # see boshpipe.spiff.tree
if TYPE_CHECKING:
    import argparse


class Arguments:
    """The parsed command line (argparse's namespace, or the same fields for the plain form)."""

    def __init__(self, template: str, stubs: list[str]) -> None:
        self.command = "merge"
        self.template = template
        self.stubs = stubs
        self.allow_exec: bool | None = None
        self.debug = False


def parse_arguments(argv: Sequence[str]) -> Arguments:
    """``merge TEMPLATE [STUB ...]`` without options directly, all other forms with argparse."""
    if len(argv) >= 2 and argv[0] == "merge" and not any(arg.startswith("-") for arg in argv):
        return Arguments(argv[1], list(argv[2:]))
    return build_parser().parse_args(argv)  # type: ignore[return-value]


def build_parser() -> argparse.ArgumentParser:
    import argparse

    parser = argparse.ArgumentParser(
        prog="python -m boshpipe.spiff", description="spiff-compatible BOSH manifest merging"
    )
    commands = parser.add_subparsers(dest="command", required=True)
    merge = commands.add_parser(
        "merge",
        help="merge a template with stubs (rightmost stub wins)",
        description="Merge TEMPLATE with the STUBs and print the manifest.",
    )
    merge.add_argument("template", help="the template (its structure is the output's)")
    merge.add_argument("stubs", nargs="*", help="stubs providing values; the rightmost wins")
    merge.add_argument(
        "--allow-exec",
        action="store_true",
        default=None,
        help=f"let (( exec(...) )) run commands (off by default; or set {EXEC_ENV}=1)",
    )
    merge.add_argument("--debug", action="store_true", help="show a traceback on errors")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_arguments(sys.argv[1:] if argv is None else argv)
    if argv is None:
        # a one-shot process: the merge allocates a few hundred thousand small objects that form
        # no reference cycles and live until the output is written, so the cyclic collector would
        # only rescan them (about 7 % of a large merge). Not done when called as a library.
        gc.disable()
    try:
        result = merge_file_tree(args.template, *args.stubs, allow_exec=args.allow_exec)
        text = dump_tree(result)
    except SpiffError as err:
        if args.debug:
            import traceback

            traceback.print_exc()
        print(f"spiff merge: {err}", file=sys.stderr)
        return err.exit_code
    except RecursionError:  # pragma: no cover - the engine is iterative; kept as a last resort
        if args.debug:
            import traceback

            traceback.print_exc()
        print("spiff merge: input nested too deeply", file=sys.stderr)
        return 1
    sys.stdout.write(text)
    return 0
