"""/metrics, request ids and readiness on the real stack."""

from __future__ import annotations

import io
import json
import logging

from pydantic import SecretStr

from service.infra.logs import configure_logging
from service.infra.metrics import record_job_metrics


def test_metrics_show_requests_queue_stages_and_decisions(client, services):
    assert client.get("/healthz").status_code == 200
    client.get("/v1/attempts/00000000-0000-4000-8000-000000000000")
    record_job_metrics(services.redis, timings_ms={"track": 420.0, "embed": 30.0}, status="failed",
                       reasons=["face_mismatch", "no_blink"])
    text = client.get("/metrics").text
    assert 'certify_http_requests_total{method="GET",route="/healthz",status="200"} 1.0' in text
    assert 'route="/v1/attempts/{attempt_id}",status="404"' in text  # templates, not raw paths
    for queue in ("certify", "certify-notify", "certify-bulk"):
        assert f'certify_queue_jobs{{queue="{queue}",state="queued"}} 0.0' in text
    assert 'certify_attempts{status="queued"} 0.0' in text
    assert 'certify_job_stage_duration_ms_bucket{le="500",stage="track"} 1.0' in text
    assert 'certify_job_stage_duration_ms_bucket{le="250",stage="track"} 0.0' in text
    assert 'certify_decisions_total{reason="face_mismatch",status="failed"} 1.0' in text


def test_request_ids_reach_the_response_and_the_json_logs(client, services):
    stream = io.StringIO()
    services_settings = services.settings.model_copy(update={"log_format": "json"})
    handler = configure_logging(services_settings, stream=stream)
    try:
        response = client.get("/v1/attempts/not-a-uuid", headers={"X-Request-ID": "req-123"})
        assert response.headers["X-Request-ID"] == "req-123"
        logging.getLogger("certify.test").info("inside")  # outside any request
        fresh = client.get("/healthz").headers["X-Request-ID"]
        assert len(fresh) == 32
    finally:
        logging.getLogger().removeHandler(handler)
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    assert lines and all({"ts", "level", "logger", "message", "request_id", "attempt_id"} <= set(x) for x in lines)


def test_readiness_checks_database_redis_and_storage(client):
    body = client.get("/readyz").json()
    assert body == {"ready": True, "checks": {"database": "ok", "redis": "ok", "storage": "ok"},
                    "rate_limits": "redis"}


def test_metrics_can_require_a_token(services):
    from fastapi.testclient import TestClient

    from api import create_app

    guarded = services.settings.model_copy(update={"metrics_token": SecretStr("prom-scrape-token")})
    services.settings = guarded
    with TestClient(create_app(services=services)) as client:
        assert client.get("/metrics").status_code == 401
        assert client.get("/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 401
        scraped = client.get("/metrics", headers={"Authorization": "Bearer prom-scrape-token"})
        assert scraped.status_code == 200 and "certify_http_requests_total" in scraped.text
        assert client.get("/healthz").status_code == 200  # liveness stays open
