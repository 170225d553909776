"""The target of the attack tests: the real app served over HTTP with production
settings, on SQLite and on PostgreSQL, with the machine's Redis server."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from service.context import Services
from tests.integration.agency_helpers import make_pensioner, staff_account
from tests.integration.live_server import live_server

OPERATOR_TOKEN = "test-operator-token"
OPERATOR = {"Authorization": f"Bearer {OPERATOR_TOKEN}"}
METRICS_TOKEN = "test-metrics-token-0123456789"
PRODUCTION = {"environment": "production", "metrics_token": METRICS_TOKEN}
"""Settings of the probed instance (the other secrets come from make_test_settings)."""


@dataclass
class Target:
    url: str
    services: Services
    http: httpx.Client
    data: Path

    def pensioner(self, *, region: str = "110105", residence: str | None = None, photo: str | None = "people/barack_obama/1.jpg") -> str:
        """A pensioner of `region` with an active reference photo (operator enrolment)."""
        pensioner_id = str(make_pensioner(self.services, region=region, residence=residence))
        if photo is not None:
            response = self.http.post(
                f"/v1/pensioners/{pensioner_id}/references",
                files={"photo": ("p.jpg", (self.data / photo).read_bytes(), "image/jpeg")},
                headers=OPERATOR,
            )
            assert response.status_code == 201, response.text
        return pensioner_id

    def staff(self, username: str, *, region: str = "110105", role: str = "staff") -> None:
        staff_account(self.services, username=username, role=role, region=region)

    def operator_session(self, pensioner_id: str, **body: Any) -> dict[str, Any]:
        response = self.http.post(f"/v1/pensioners/{pensioner_id}/sessions", json=body, headers=OPERATOR)
        assert response.status_code == 201, response.text
        return response.json()

    def phone(self, pensioner_id: str) -> dict[str, str]:
        """The pensioner's own phone: a link made by the operator, opened, consented to;
        returns the X-Link-Pass header its page sends."""
        link = self.http.post(f"/v1/pensioners/{pensioner_id}/links", headers=OPERATOR)
        assert link.status_code == 201, link.text
        opened = self.http.post("/v1/links/redeem", json={"token": link.json()["token"], "device_id": "phone"})
        assert opened.status_code == 200, opened.text
        headers = {"X-Link-Pass": opened.json()["page_pass"]}
        version = opened.json()["link"]["consent_version"]
        agreed = self.http.post("/v1/links/current/consent", json={"version": version, "agree": True}, headers=headers)
        assert agreed.status_code == 200, agreed.text
        return headers

    def upload(self, session: dict[str, Any], data: bytes, *, nonce: str | None = None) -> httpx.Response:
        """The direct (one request) upload of a recording for a session."""
        return self.http.post(
            session["upload_url"], content=data,
            headers={"X-Session-Nonce": session["nonce"] if nonce is None else nonce, "Content-Type": "video/mp4"},
        )

    def clip(self, name: str = "videos/frontal_mouth_open_m5.mp4") -> bytes:
        return (self.data / name).read_bytes()


@pytest.fixture(params=["sqlite", "postgres"])
def target_with(request, services_factory, shared_data) -> Iterator[Callable[..., Target]]:
    """Starts the target with some settings changed (for example smaller limits)."""
    with ExitStack() as stack:

        def start(**settings: Any) -> Target:
            services = services_factory(request.param, "server", **{**PRODUCTION, **settings})
            url = stack.enter_context(live_server(services))
            http = stack.enter_context(httpx.Client(base_url=url, timeout=60))
            return Target(url=url, services=services, http=http, data=shared_data)

        yield start


@pytest.fixture
def target(target_with) -> Target:
    return target_with()
