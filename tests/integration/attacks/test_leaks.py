"""Issue 10, item 14: small leaks.

The probe got Python object reprs (and the server's file paths) back in photo and
video errors, read the whole API schema and an interactive console from /docs on a
production instance, found API and evidence responses without `nosniff` and
`Cache-Control: no-store`, and a production instance could run with /metrics open to
anyone because nobody had set a token.
"""

from __future__ import annotations

import base64
import hashlib
import os
import re
import subprocess
import sys
import uuid
from pathlib import Path

import httpx
import pytest
from pydantic import ValidationError

from bench.harness import free_port
from tests.integration.agency_helpers import decided_attempt
from tests.integration.conftest import make_test_settings

from .conftest import METRICS_TOKEN, OPERATOR

REPO = Path(__file__).resolve().parents[3]
_INTERNALS = re.compile(r"[<>/\\]|0x[0-9a-f]{4,}|object at|errno|_io\.|tmp", re.IGNORECASE)
"""What a message written for people never contains: reprs, addresses, paths."""


def _clean(response: httpx.Response, status: int, code: str) -> str:
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert error["code"] == code
    assert not _INTERNALS.search(error["message"]), error["message"]
    return error["message"]


@pytest.mark.parametrize("photo", [b"GIF89a" + b"\0" * 64, b"\x89PNG\r\n\x1a\n" + b"\0" * 64, b"%PDF-1.4 not a photo"])
def test_an_unreadable_photo_gets_a_clean_error(target, photo):
    pensioner_id = target.pensioner(photo=None)
    response = target.http.post(
        f"/v1/pensioners/{pensioner_id}/references",
        files={"photo": ("p.jpg", photo, "image/jpeg")}, headers=OPERATOR,
    )
    _clean(response, 422, "unreadable_image")


def test_an_unreadable_video_gets_a_clean_error(target):
    pensioner_id = target.pensioner()
    session = target.operator_session(pensioner_id)
    response = target.http.post(
        f"/v1/pensioners/{pensioner_id}/sessions/{session['id']}/video",
        files={"video": ("v.webm", os.urandom(4096), "video/webm")},
        headers={"X-Session-Nonce": session["nonce"]},
    )
    _clean(response, 422, "unreadable_video")


def test_api_docs_and_schema_are_off_in_production(target):
    for path in ("/docs", "/redoc", "/openapi.json", "/docs/oauth2-redirect"):
        assert target.http.get(path).status_code == 404, path


def test_api_docs_when_enabled_run_under_a_content_security_policy(target_factory):
    assets = "https://docs-assets.example.internal/swagger-ui-dist@5"
    target = target_factory(api_docs=True, api_docs_assets_url=assets)
    assert target.http.get("/openapi.json").json()["info"]["title"] == "certify"
    page = target.http.get("/docs")
    assert page.status_code == 200
    policy = dict(
        part.strip().split(" ", 1) for part in page.headers["content-security-policy"].split(";")
    )
    assert policy["default-src"] == "'none'" and policy["frame-ancestors"] == "'none'"
    # the page's own inline script runs by its hash; scripts come from the assets origin only
    inline = re.findall(r"<script>(.*?)</script>", page.text, re.DOTALL)
    assert inline
    for script in inline:
        digest = base64.b64encode(hashlib.sha256(script.encode()).digest()).decode()
        assert f"'sha256-{digest}'" in policy["script-src"].split()
    assert set(policy["script-src"].split()) == {"https://docs-assets.example.internal"} | {
        f"'sha256-{base64.b64encode(hashlib.sha256(s.encode()).digest()).decode()}'" for s in inline
    }
    assert "'unsafe-inline'" not in page.headers["content-security-policy"]
    assert "cdn.jsdelivr.net" not in page.text and "fastapi.tiangolo.com" not in page.text
    assert f'src="{assets}/swagger-ui-bundle.js"' in page.text


def _api_headers_ok(response: httpx.Response) -> None:
    assert response.headers.get("x-content-type-options") == "nosniff", response.request.url
    assert "no-store" in response.headers.get("cache-control", ""), response.request.url


def test_api_and_evidence_responses_are_neither_sniffed_nor_cached(target):
    pensioner_id = target.pensioner()
    attempt_id = decided_attempt(target.services, uuid.UUID(pensioner_id), key_frames=1)
    reason = {"reason": "probe of issue 10"}
    evidence = target.http.get(f"/v1/attempts/{attempt_id}/evidence", params=reason, headers=OPERATOR)
    assert evidence.status_code == 200, evidence.text
    photo_url = evidence.json()["reference_photo_urls"][0]
    responses = [
        target.http.get(f"/v1/pensioners/{pensioner_id}", headers=OPERATOR),  # JSON
        evidence,
        target.http.get(f"/v1/attempts/{attempt_id}/key-frames/0", params=reason, headers=OPERATOR),
        target.http.get(photo_url, params=reason, headers=OPERATOR),  # reference photo
        target.http.get(f"/v1/attempts/{attempt_id}/certificates", headers=OPERATOR),
        target.http.get("/v1/results/export.csv", params={"region": "110000"}, headers=OPERATOR),
        target.http.get("/v1/auth/me"),  # 401
        target.http.get("/v1/no-such-thing"),  # 404
        target.http.post("/v1/pensioners", json={}, headers=OPERATOR),  # 422
        target.http.get("/readyz"),
    ]
    assert [r.status_code for r in responses[:6]] == [200] * 6
    assert responses[2].headers["content-type"] == "image/jpeg"
    for response in responses:
        _api_headers_ok(response)


def test_metrics_are_open_in_production_only_when_asked_for(target_factory, tmp_path):
    base = {"environment": "production", "metrics_token": None}
    for refused in (base, {**base, "metrics_token": ""}):
        with pytest.raises(ValidationError) as caught:
            make_test_settings(tmp_path, "sqlite:///unused.db", "redis://unused", **refused)
        assert "CERTIFY_METRICS_TOKEN" in str(caught.value) and "CERTIFY_METRICS_PUBLIC" in str(caught.value)

    public = target_factory(metrics_token=None, metrics_public=True)
    assert public.http.get("/metrics").status_code == 200
    private = target_factory()
    assert private.http.get("/metrics").status_code == 401
    assert private.http.get("/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"}).status_code == 200


def test_certify_serve_refuses_to_start_in_production_with_metrics_open(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("CERTIFY_") and k not in ("REDIS_URL", "DATABASE_URL")}
    env.update(
        CERTIFY_ENVIRONMENT="production", CERTIFY_SECRET_KEY="s" * 32, CERTIFY_API_TOKEN="t" * 32,
        CERTIFY_DATA_KEYS="p1:" + "A" * 43 + "=", DATABASE_URL=f"sqlite:///{tmp_path}/certify.db",
        CERTIFY_VAR_DIR=str(tmp_path / "var"),
    )
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "cli.main", "serve", "--workers", "0", "--no-demo", "--port", str(port)],
        cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    try:
        output, _ = process.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        process.terminate()
        output, _ = process.communicate(timeout=30)
        pytest.fail(f"certify serve started with /metrics open: {output[-2000:]}")
    assert process.returncode != 0
    assert "CERTIFY_METRICS_TOKEN" in output and "CERTIFY_METRICS_PUBLIC" in output
