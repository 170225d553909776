"""The table of job kinds and the queues by priority (service/jobs.py)."""

from __future__ import annotations

import importlib
import re

import pytest

from service.jobs import (
    CERTIFICATION,
    JOB_KINDS,
    LANES,
    Lane,
    embedded_worker_lanes,
    parse_lanes,
    queue_name,
    queue_names,
)
from service.settings import Settings
from tests.conftest import REPO_ROOT


def test_certifications_come_first_then_webhooks_then_bulk_jobs():
    assert LANES == (Lane.CERTIFY, Lane.NOTIFY, Lane.BULK)
    assert queue_names("certify") == ["certify", "certify-notify", "certify-bulk"]
    # a deployment (or test) that names its queue keeps its certification queue under that name
    assert queue_name("certify-test", Lane.CERTIFY) == "certify-test"
    assert queue_name("certify-test", Lane.BULK) == "certify-test-bulk"
    lanes = {kind.name: kind.lane for kind in JOB_KINDS}
    assert lanes == {
        "certify-attempt": Lane.CERTIFY, "webhook-fan-out": Lane.NOTIFY, "webhook": Lane.NOTIFY,
        "export": Lane.BULK, "enrolment": Lane.BULK, "death-reports": Lane.BULK, "records-sweep": Lane.BULK,
    }


def test_every_job_function_and_callback_exists():
    for kind in JOB_KINDS:
        for path in filter(None, (kind.function, kind.on_failure)):
            module, _, name = path.rpartition(".")
            assert callable(getattr(importlib.import_module(module), name)), path


def test_settings_give_the_certification_timeout_and_retries():
    settings = Settings(job_timeout_s=77, job_retry_intervals_s=(0, 5), webhook_retry_intervals_s=(1, 2, 3))
    assert (CERTIFICATION.timeout(settings), CERTIFICATION.retry_intervals(settings)) == (77, (0, 5))
    by_name = {kind.name: kind for kind in JOB_KINDS}
    assert by_name["webhook"].retry_intervals(settings) == (1, 2, 3)
    assert by_name["export"].timeout(settings) == 4 * 3600
    assert CERTIFICATION.job_id("a1") == "certify-attempt-a1"


def test_lanes_are_parsed_into_priority_order_and_unknown_names_are_refused():
    assert parse_lanes(["certify"]) == (Lane.CERTIFY,)
    assert parse_lanes(["bulk,certify"]) == (Lane.CERTIFY, Lane.BULK)
    assert parse_lanes(["bulk", "notify"]) == (Lane.NOTIFY, Lane.BULK)
    with pytest.raises(ValueError, match="unknown queue 'exports'"):
        parse_lanes(["certify,exports"])
    with pytest.raises(ValueError):
        parse_lanes([" , "])


def test_serve_keeps_one_of_several_workers_for_certifications():
    assert embedded_worker_lanes(0) == []
    assert embedded_worker_lanes(1) == [LANES]
    assert embedded_worker_lanes(3) == [(Lane.CERTIFY,), LANES, LANES]


def test_nothing_enqueues_around_the_table():
    """Every enqueue goes through service/jobs.py (one place for queue, timeout, TTL, retry)."""
    direct = re.compile(r"\.(enqueue_call|enqueue_at|enqueue_in|enqueue)\(")
    offenders = []
    for folder in ("api", "service", "workers", "cli"):
        for path in (REPO_ROOT / folder).rglob("*.py"):
            if path.name == "jobs.py" and path.parent.name == "service":
                continue
            for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
                if direct.search(line):
                    offenders.append(f"{path.relative_to(REPO_ROOT)}:{number}: {line.strip()}")
    assert offenders == []
