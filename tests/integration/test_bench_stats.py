"""bench/stats.py in its quick mode, on SQLite and PostgreSQL: the fill, the summaries and
the timed requests run end to end, and the dashboard counts every record it filled."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.conftest import REPO_ROOT


@pytest.mark.parametrize("database", ["sqlite", "postgres"])
def test_bench_stats_quick(database, pg_admin):
    result = subprocess.run(
        [sys.executable, "bench/stats.py", "--quick", "--database", database],
        cwd=REPO_ROOT, env={"PYTHONPATH": str(REPO_ROOT), "PATH": "/usr/bin:/bin"},
        capture_output=True, text=True, timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    line = result.stdout.strip().splitlines()[-1]
    assert line.startswith("stats records=2000 dashboard_p95_ms="), line
    fields = dict(part.split("=") for part in line.split()[1:])
    assert float(fields["dashboard_p95_ms"]) > 0 and float(fields["fairness_p95_ms"]) > 0
