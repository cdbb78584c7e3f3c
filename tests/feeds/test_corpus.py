"""A sample of the hostile corpus (the whole of it runs in bench/feeds_bench.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.feeds.corpus import corpus_files, ingest, unsafe

SAMPLE = corpus_files()[::15] + [p for p in corpus_files() if "sanitize" in p.parts][::3]


@pytest.mark.skipif(not SAMPLE, reason="the shared feed corpus is not here")
@pytest.mark.parametrize("path", SAMPLE, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_a_corpus_file_yields_only_safe_posts(path: Path) -> None:
    for post in ingest(path):
        assert unsafe(post) == [], (post.content, post.embed)
