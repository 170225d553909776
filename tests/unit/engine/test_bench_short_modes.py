"""The evaluation and robustness benchmarks in their short modes (CI): they run on the
real data end to end and their summary lines hold the figures the README quotes.
(The full runs: `python bench/evaluate.py`, `python bench/robustness.py`.)"""

from __future__ import annotations

import os
import re
import subprocess
import sys

import pytest

from tests.conftest import REPO_ROOT

pytestmark = [pytest.mark.data, pytest.mark.slow]


def _run(script: str, shared_data) -> str:
    done = subprocess.run(
        [sys.executable, f"bench/{script}", "--quick", "--data", str(shared_data)],
        cwd=REPO_ROOT, env=dict(os.environ, PYTHONPATH=str(REPO_ROOT)),
        capture_output=True, text=True, timeout=900,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout


def _figures(line: str) -> dict[str, float]:
    return {k: float(v) for k, v in re.findall(r"(\w+)=([0-9.]+|nan)", line)}


def test_evaluate_quick_accepts_id_card_references_and_no_wrong_challenge(shared_data):
    out = _run("evaluate.py", shared_data)
    rows = {line.split()[0]: line.split() for line in out.splitlines() if line.startswith("  id_102x126")}
    id_row = rows["id_102x126_q60"]
    assert id_row[1] == "0"  # no ID-card-size reference refused at enrolment
    summary = _figures(next(line for line in out.splitlines() if line.startswith("evaluate ")))
    assert summary["apcer_max"] == 0.0 and summary["bpcer"] == 0.0
    # every clip against a frame of its own recording made into an ID-size reference: the
    # owner is not refused, and no one else's clip is accepted against it
    own = out.split("Videos against a reference photo made from their own recording")[1]
    own_id = next(line.split() for line in own.splitlines() if line.startswith("  id_102x126"))
    assert own_id[1] == "0" and int(own_id[2]) >= 3 and own_id[5] == "0.000"  # refused, genuine, reject
    assert int(own_id[6]) > 0 and own_id[7] == "0"  # impostor pairs, impostors accepted


def test_robustness_quick_accepts_no_attack(shared_data):
    out = _run("robustness.py", shared_data)
    summary = _figures(next(line for line in out.splitlines() if line.startswith("robustness ")))
    assert summary["apcer_max"] == 0.0
    assert "hand_over_face" in out and "rotation_90" in out
