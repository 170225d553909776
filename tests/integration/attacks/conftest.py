"""The target of the attack tests: the real app served over HTTP with production
settings, on SQLite and on PostgreSQL, with the machine's Redis server."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from service.context import Services
from tests.integration.agency_helpers import PASSWORD, make_pensioner, staff_account
from tests.integration.live_server import live_server

OPERATOR_TOKEN = "test-operator-token"
OPERATOR = {"Authorization": f"Bearer {OPERATOR_TOKEN}"}
METRICS_TOKEN = "test-metrics-token-0123456789"
PRODUCTION = {"environment": "production", "metrics_token": METRICS_TOKEN}
"""Settings of the probed instance (the other secrets come from make_test_settings)."""


@dataclass(frozen=True)
class StaffSignIn:
    """The cookies one staff sign-in was given. The probe sends them by hand: production
    cookies are Secure, and the probe speaks plain HTTP to the local port."""

    session: str
    csrf: str

    def headers(self, *, csrf: str | None = None) -> dict[str, str]:
        """Headers of a request made with this sign-in, with its CSRF header (or `csrf`)."""
        return {
            "Cookie": f"certify_session={self.session}; certify_csrf={self.csrf}",
            "X-CSRF-Token": self.csrf if csrf is None else csrf,
        }


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

    def sign_in(self, username: str, password: str = PASSWORD, **client: Any) -> StaffSignIn:
        """Sign in over the API (`client`: extra httpx.post arguments, e.g. headers)."""
        response = self.http.post("/v1/auth/login", json={"username": username, "password": password}, **client)
        assert response.status_code == 200, response.text
        return StaffSignIn(session=response.cookies["certify_session"], csrf=response.cookies["certify_csrf"])

    def client(self, *, local_address: str) -> httpx.Client:
        """Another client, connecting from `local_address` (any 127.x.y.z: another caller)."""
        transport = httpx.HTTPTransport(local_address=local_address)
        return httpx.Client(base_url=self.url, timeout=60, transport=transport)

    def advance_clock(self, seconds: float) -> None:
        """Move the service's clock forward (past expiries, backoffs and windows)."""
        earlier = self.services.clock
        self.services.clock = lambda: earlier() + dt.timedelta(seconds=seconds)

    def operator_session(self, pensioner_id: str, **body: Any) -> dict[str, Any]:
        response = self.http.post(f"/v1/pensioners/{pensioner_id}/sessions", json=body, headers=OPERATOR)
        assert response.status_code == 201, response.text
        return response.json()


@pytest.fixture(params=["sqlite", "postgres"])
def target_factory(request, services_factory, shared_data) -> Iterator[Callable[..., Target]]:
    """Makes targets with other settings (`None` removes one of PRODUCTION's)."""
    with ExitStack() as stack:

        def make(**settings: Any) -> Target:
            values = {k: v for k, v in {**PRODUCTION, **settings}.items() if v is not None}
            services = services_factory(request.param, "server", **values)
            url = stack.enter_context(live_server(services))
            http = stack.enter_context(httpx.Client(base_url=url, timeout=60))
            return Target(url=url, services=services, http=http, data=shared_data)

        yield make


@pytest.fixture
def target(target_factory) -> Target:
    return target_factory()
