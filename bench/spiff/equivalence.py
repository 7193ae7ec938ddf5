"""Check that the fast YAML paths give exactly what the plain PyYAML paths give.

* ``load_tree(text)`` against ``wrap(load(text))`` (same tree, same types, same errors) on every
  ``.yml`` file under the given directories (default: ``../shared``) and a few tricky documents;
* ``dump_tree(tree)`` against ``dump(unwrap(tree))`` (same bytes) on random documents, many of them
  built to sit at the edge of the plain-scalar rules (indicators, YAML 1.1 booleans, long texts
  with spaces near column 80).

Run after touching ``boshpipe/spiff/yamlio.py``: python bench/spiff/equivalence.py [DIR ...] [--docs N]
"""

from __future__ import annotations

import argparse
import random
import sys
from pathlib import Path
from typing import Any

from boshpipe.spiff import InputError, tree, yamlio

REPO = Path(__file__).resolve().parents[2]

TRICKY_DOCUMENTS = [
    "",
    "~",
    "a",
    "1: x",
    "a: &x [1]\nb: *x",
    "<<: (( merge ))",
    "a: <<",
    "=: 1",
    "a: 2001-01-01",
    "a: !!binary aGk=",
    "a: 0777\nb: 0x1f\nc: 1_000\nd: 1e3\ne: .inf\nf: y\ng: n\nh: 1:30",
    "a: &x {b: 1}\nc:\n  <<: *x\n  d: 2",
    "--- a\n--- b",
    "a: !custom 1",
    "? [a]\n: 1",
    "a: !!str 12",
    "a: ! 12",
]

WORDS = [
    *("yes", "no", "on", "off", "y", "n", "null", "~", "true", "1", "0777", "1.5", "1e3", "<<", "="),
    *("...", "---", "-", "-a", ":", "a:", "a:b", "a: b", "a b", "a  b", " a", "a ", "", "a #b"),
    *("A" * 130, "x " * 45, "é", "a\nb", "a\tb", "http://x:80/y", ".inf", "0x1F", "1_000", "12:30"),
    *("2001-01-01", "a,b", "a#b", "@a", "=a", "+a", ".a", "..a", "'q'", "{a}", "[a]", "?a", "!a"),
]
CHARS = "abZ09 _./+=:,-#'\"{}[]!?@%&*|>~\t\n\u00e9"


def same_tree(a: tree.Node, b: tree.Node) -> bool:
    stack = [(a, b)]
    while stack:
        x, y = stack.pop()
        if type(x.value) is not type(y.value) or x.source != y.source:
            return False
        if type(x.value) is dict:
            if list(x.value) != list(y.value):
                return False
            stack.extend((x.value[k], y.value[k]) for k in x.value)
        elif type(x.value) is list:
            if len(x.value) != len(y.value):
                return False
            stack.extend(zip(x.value, y.value, strict=True))
        elif x.value != y.value and x.value == x.value:  # NaN equals NaN here
            return False
    return True


def outcome(load: Any, text: str, name: str) -> Any:
    try:
        return load(text, name)
    except InputError as err:
        return ("error", str(err))


def slow_load(text: str, name: str) -> tree.Node:
    return tree.wrap(yamlio.load(text, name), name)


def check_loading(directories: list[Path]) -> int:
    cases = [(f"tricky{i}", text) for i, text in enumerate(TRICKY_DOCUMENTS)]
    for directory in directories:
        for path in sorted(directory.rglob("*.yml")):
            cases.append((str(path), path.read_text(encoding="utf-8", errors="replace")))
    bad = 0
    for name, text in cases:
        slow = outcome(slow_load, text, name)
        fast = outcome(yamlio.load_tree, text, name)
        both = isinstance(slow, tree.Node) and isinstance(fast, tree.Node)
        if not (same_tree(slow, fast) if both else slow == fast):
            bad += 1
            print(f"load differs: {name}")
    print(f"loading: {len(cases)} documents, {bad} differ")
    return bad


def random_text(rng: random.Random, plainish: bool) -> str:
    roll = rng.random()
    if roll < (0.1 if plainish else 0.5):
        return rng.choice(WORDS)
    if roll < 0.8:
        chars = "abZ09 _./+=:,-" if plainish else CHARS
        return "".join(rng.choice(chars) for _ in range(rng.randint(0, 8)))
    words = (("".join(rng.choice("abcdefghij") for _ in range(rng.randint(1, 9)))) for _ in range(rng.randint(1, 14)))
    return " ".join(words)


def random_data(rng: random.Random, plainish: bool, depth: int = 0) -> Any:
    roll = rng.random()
    if depth > 4 or roll < 0.4:
        pick = rng.random()
        if pick < 0.6:
            return random_text(rng, plainish)
        if pick < 0.75:
            return rng.randint(-(10**6), 10**6)
        if pick < 0.85:
            return rng.choice([True, False, None])
        return rng.choice([1.5, -0.25, 1e-7, 3.0, 1e22, float("inf"), 123456789.123, 2.5e-300])
    if roll < 0.7:
        size = rng.randint(0, 5)
        return {
            (random_text(rng, plainish) if rng.random() < 0.3 else rng.choice("abcdefgh") * rng.randint(1, 12)): (
                random_data(rng, plainish, depth + 1)
            )
            for _ in range(size)
        }
    return [random_data(rng, plainish, depth + 1) for _ in range(rng.randint(0, 5))]


def check_dumping(count: int) -> int:
    rng = random.Random(0)
    fast = bad = 0
    for index in range(count):
        data = random_data(rng, plainish=index % 2 == 0)
        node = tree.wrap({"k": data} if rng.random() < 0.8 else [data], "x")
        try:
            written = yamlio._write(node)
        except yamlio._NotPlain:
            continue
        fast += 1
        if written != yamlio.dump(tree.unwrap(node)):
            bad += 1
            print(f"dump differs: {data!r:.200}")
    print(f"dumping: {count} documents, {fast} written directly, {bad} differ")
    return bad


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("directories", nargs="*", type=Path, default=[REPO.parent / "shared"])
    parser.add_argument("--docs", type=int, default=20_000, help="random documents to dump")
    args = parser.parse_args()
    bad = check_loading(args.directories) + check_dumping(args.docs)
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
