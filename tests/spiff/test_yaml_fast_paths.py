"""The fast YAML paths (libyaml nodes → tree, line-by-line block output) give exactly what the
plain PyYAML paths give: same trees and errors on every corpus and upstream file, same bytes on
random documents built at the edge of the plain-scalar rules."""

from __future__ import annotations

from pathlib import Path

from bench.spiff.equivalence import check_dumping, check_loading


def test_loading_matches_on_tricky_documents_corpus_and_upstream(spiff_corpus: Path, upstream_dir: Path) -> None:
    assert check_loading([spiff_corpus, upstream_dir]) == 0


def test_dumping_matches_on_random_documents() -> None:
    assert check_dumping(3000) == 0
