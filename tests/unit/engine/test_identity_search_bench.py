"""`bench/identity_search.py --quick` (CI): real embeddings of people/ among 100,000
protected templates; one summary line, and the two-stage search finds what exact search
finds. (The full run: `python bench/identity_search.py --vectors 1000000`.)"""

from __future__ import annotations

import os
import re
import subprocess
import sys

import pytest

from tests.conftest import REPO_ROOT

pytestmark = [pytest.mark.data, pytest.mark.slow]

LINE = re.compile(
    r"^identity_search vectors=(\d+) p95_ms=([0-9.]+) recall_at_1=([0-9.]+) rss_mib=(\d+)$"
)


def test_identity_search_quick_prints_one_line_with_full_recall(shared_data):
    done = subprocess.run(
        [sys.executable, "bench/identity_search.py", "--quick", "--data", str(shared_data)],
        cwd=REPO_ROOT, env=dict(os.environ, PYTHONPATH=str(REPO_ROOT)),
        capture_output=True, text=True, timeout=900,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    lines = done.stdout.splitlines()
    assert len(lines) == 1, done.stdout
    match = LINE.match(lines[0])
    assert match, lines[0]
    vectors, p95_ms, recall, rss_mib = match.groups()
    assert int(vectors) == 100_000
    assert float(recall) >= 0.99
    assert float(p95_ms) > 0 and int(rss_mib) > 50
    assert "real_second_photos_found=" in done.stderr


COMPARE = re.compile(
    r"^index=(\w+) build_s=[0-9.]+ p50_ms=[0-9.]+ p95_ms=([0-9.]+) recall_at_1=([0-9.]+) added_mib=-?\d+$"
)


def test_index_comparison_short_run(shared_data):
    """`bench/identity_index_compare.py` on 20,000 templates: the NumPy index's line (exact
    at this size, so recall 1) and one line or a "skipped" note per graph library."""
    done = subprocess.run(
        [sys.executable, "bench/identity_index_compare.py", "--vectors", "20000", "--queries", "60",
         "--data", str(shared_data)],
        cwd=REPO_ROOT, env=dict(os.environ, PYTHONPATH=str(REPO_ROOT)),
        capture_output=True, text=True, timeout=900,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    lines = {m.group(1): m for m in map(COMPARE.match, done.stdout.splitlines()) if m}
    assert float(lines["numpy_two_stage"].group(3)) == 1.0, done.stdout
    for library in ("faiss_hnsw", "usearch_hnsw", "hnswlib"):
        assert library in lines or f"index={library} skipped" in done.stderr, (library, done.stdout, done.stderr)
