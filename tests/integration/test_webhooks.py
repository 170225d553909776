"""Webhooks against a real local HTTP receiver: HMAC signatures, retries with backoff on
RQ's scheduler, the delivery log, region filtering, and giving up after the last retry."""

from __future__ import annotations

import hashlib
import hmac
import json
import time

import pytest
from rq import SimpleWorker
from rq.serializers import JSONSerializer

from service.notify import announce_changes
from workers.runtime import install_services

from .agency_helpers import api_key, decided_attempt, make_pensioner
from .receiver import Receiver


@pytest.fixture
def receiver():
    r = Receiver({"/flaky": [500, 503, 200], "/down": [500]})
    yield r
    r.close()


def _drain(services, done, timeout_s: float = 30.0) -> None:
    """Run burst workers (with RQ's scheduler, which re-enqueues retries when due)."""
    install_services(services)
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        worker = SimpleWorker(list(services.queues.values()), connection=services.redis, serializer=JSONSerializer)
        worker.work(burst=True, with_scheduler=True, logging_level="WARNING")
        if done():
            return
        time.sleep(0.3)
    raise AssertionError("deliveries did not settle in time")


def _signed_by(secret: str, request: dict) -> bool:
    header = request["headers"]["X-Certify-Signature"]
    parts = dict(p.split("=", 1) for p in header.split(","))
    expected = hmac.new(secret.encode(), f"{parts['t']}.".encode() + request["body"], hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, parts["v1"])


@pytest.mark.parametrize("db", ["sqlite", "postgres"])
def test_signed_deliveries_retried_with_backoff_and_logged(services_factory, receiver, db):
    from fastapi.testclient import TestClient

    from api import create_app

    services = services_factory(db, webhook_retry_intervals_s=(1, 1))
    key = api_key(services, regions=["110000"], scopes=["webhooks:manage", "results:read"])
    shanghai_key = api_key(services, regions=["310000"], scopes=["webhooks:manage"])
    with TestClient(create_app(services=services)) as client:
        flaky = client.post("/v1/webhooks", headers=key, json={"url": receiver.url + "/flaky", "region": "110000"})
        assert flaky.status_code == 201, flaky.text
        flaky = flaky.json()
        assert flaky["secret"].startswith("whsec_")
        down = client.post("/v1/webhooks", headers=key, json={
            "url": receiver.url + "/down", "region": "110105", "events": ["certified"]}).json()
        refused = client.post("/v1/webhooks", headers=key, json={"url": receiver.url + "/x", "region": "310000"})
        assert (refused.status_code, refused.json()["error"]["code"]) == (403, "region_forbidden")
        bad = client.post("/v1/webhooks", headers=key, json={"url": "ftp://example.org/hook", "region": "110000"})
        assert bad.json()["error"]["code"] == "url_invalid"
        assert client.get(f"/v1/webhooks/{flaky['id']}/deliveries", headers=shanghai_key).status_code == 404

        pid = make_pensioner(services, region="110105")
        make_pensioner(services, region="310104")
        other = make_pensioner(services, region="310104")
        decided_attempt(services, pid, status="failed", reasons=["too_dark"])
        decided_attempt(services, pid, status="passed")
        decided_attempt(services, other, status="passed")  # Shanghai: not Beijing's webhooks
        announce_changes(services)

        def settled() -> bool:
            logs = [client.get(f"/v1/webhooks/{w['id']}/deliveries", headers=key).json() for w in (flaky, down)]
            return all(d["status"] != "pending" for log in logs for d in log) and len(logs[0]) == 2

        _drain(services, settled)
        flaky_log = client.get(f"/v1/webhooks/{flaky['id']}/deliveries", headers=key).json()
        down_log = client.get(f"/v1/webhooks/{down['id']}/deliveries", headers=key).json()

    assert sorted(d["event"] for d in flaky_log) == ["certified", "failed"]
    assert {d["status"] for d in flaky_log} == {"delivered"}
    # the receiver answered 500, then 503, then 200 for good: four tries in all
    assert sum(d["tries"] for d in flaky_log) == 4
    assert all(d["last_status_code"] == 200 and d["last_error"] is None for d in flaky_log)
    assert [(d["event"], d["status"], d["tries"], d["last_status_code"]) for d in down_log] == [
        ("certified", "failed", 3, 500)]

    flaky_requests = [r for r in receiver.requests if r["path"] == "/flaky"]
    assert len(flaky_requests) == 4
    assert all(_signed_by(flaky["secret"], r) for r in flaky_requests)
    assert not _signed_by(down["secret"], flaky_requests[0])
    bodies = [json.loads(r["body"]) for r in flaky_requests]
    assert {b["record"]["pensioner_id"] for b in bodies} == {str(pid)}
    assert {b["event"] for b in bodies} == {"failed", "certified"}
    certified = [b for b in bodies if b["event"] == "certified"][0]
    assert certified["record"]["status"] == "certified" and certified["record"]["region_code"] == "110105"
    # a retry waited for its backoff on RQ's scheduler (a second here) before the next POST
    for delivery in flaky_log:
        tries = [r for r in flaky_requests if r["headers"]["X-Certify-Delivery"] == delivery["id"]]
        stamps = [int(r["headers"]["X-Certify-Signature"].split(",")[0][2:]) for r in tries]
        assert len(stamps) == delivery["tries"] and stamps == sorted(stamps)
        if len(stamps) > 1:
            assert stamps[-1] - stamps[0] >= 1


def test_webhooks_never_reach_the_services_own_network_in_production(services_factory, receiver):
    """With private addresses forbidden (production's default), a URL naming one is
    refused when the webhook is made, and a host name that resolves to one (here
    `localhost`) is never contacted: the delivery is logged as not sent."""
    from fastapi.testclient import TestClient

    from api import create_app

    services = services_factory("sqlite", webhook_retry_intervals_s=(), webhook_private_addresses=False)
    key = api_key(services, regions=["110000"], scopes=["webhooks:manage"])
    with TestClient(create_app(services=services)) as client:
        for url in ("http://127.0.0.1:6379/", "http://169.254.169.254/latest/meta-data", "http://[::1]/hook",
                    "http://10.0.0.8/hook"):
            refused = client.post("/v1/webhooks", headers=key, json={"url": url, "region": "110000"})
            assert (refused.status_code, refused.json()["error"]["code"]) == (422, "url_not_public"), url
        by_name = client.post("/v1/webhooks", headers=key, json={
            "url": receiver.url.replace("127.0.0.1", "localhost") + "/flaky", "region": "110000"})
        assert by_name.status_code == 201, by_name.text
        hook = by_name.json()

        decided_attempt(services, make_pensioner(services, region="110105"), status="passed")
        announce_changes(services)

        def settled() -> bool:
            log = client.get(f"/v1/webhooks/{hook['id']}/deliveries", headers=key).json()
            return bool(log) and all(d["status"] == "failed" for d in log)

        _drain(services, settled)
        log = client.get(f"/v1/webhooks/{hook['id']}/deliveries", headers=key).json()
    assert [(d["status"], d["last_status_code"]) for d in log] == [("failed", None)]
    assert log[0]["last_error"].startswith("not sent: localhost is not a public address")
    assert receiver.requests == []
