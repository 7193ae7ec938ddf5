"""``python -m boshpipe.spiff merge TEMPLATE [STUB ...]``, shaped like the spiff command.

The merged manifest goes to stdout in spiff's format. On failure one line goes to stderr and the
exit status is 1 (2 for usage errors); ``--debug`` adds the traceback for bug reports.
"""

from __future__ import annotations

import argparse
import sys
import traceback
from collections.abc import Sequence

from boshpipe.spiff import EXEC_ENV, SpiffError, dump, merge_files


def build_parser() -> argparse.ArgumentParser:
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
    args = build_parser().parse_args(argv)
    try:
        result = merge_files(args.template, *args.stubs, allow_exec=args.allow_exec)
        text = dump(result)
    except SpiffError as err:
        if args.debug:
            traceback.print_exc()
        print(f"spiff merge: {err}", file=sys.stderr)
        return err.exit_code
    except RecursionError:  # pragma: no cover - the engine is iterative; kept as a last resort
        if args.debug:
            traceback.print_exc()
        print("spiff merge: input nested too deeply", file=sys.stderr)
        return 1
    sys.stdout.write(text)
    return 0
