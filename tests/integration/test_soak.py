"""The soak in its short mode: real workers, one SIGKILLed every 20 finished jobs;
nothing lost, nothing recorded twice. (The full run: `python bench/soak.py`.)"""

from __future__ import annotations

import pytest

from bench.soak import run_soak

pytestmark = [pytest.mark.data, pytest.mark.slow, pytest.mark.postgres, pytest.mark.redis_server]

SHORT_JOBS = 60
KILL_EVERY = 20


def test_short_soak_loses_and_duplicates_nothing(shared_data, tmp_path, pg_admin):
    report = run_soak(jobs=SHORT_JOBS, workers=2, kill_every=KILL_EVERY, data=shared_data,
                      workdir=tmp_path, timeout_s=1500, quiet=True)
    print(f"\nshort soak: {report}")
    assert report.done == SHORT_JOBS
    assert report.lost == 0 and report.duplicated == 0
    assert report.kills >= 2
    # the clip passes; a kill must not change an outcome
    assert report.passed == SHORT_JOBS, report.other_outcomes
