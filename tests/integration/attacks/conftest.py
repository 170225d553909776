"""The target of the attack tests: the real app served over HTTP with production
settings, on SQLite and on PostgreSQL, with the machine's Redis server."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from service.context import Services
from tests.conftest import REPO_ROOT
from tests.integration.agency_helpers import PASSWORD, api_key, make_pensioner, staff_account
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
    _browsers: list[httpx.Client] = field(default_factory=list)

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

    def signed_in(self, username: str) -> httpx.Client:
        """A browser of this staff account: its session and CSRF cookies (Secure in
        production, so they are sent as a browser behind TLS would send them) and the
        CSRF header on every request."""
        browser = httpx.Client(base_url=self.url, timeout=60, headers=self.sign_in(username).headers())
        self._browsers.append(browser)
        return browser

    def key(self, *, regions: Sequence[str], scopes: Sequence[str]) -> dict[str, str]:
        """Headers of a new agency API key with these regions and scopes."""
        return api_key(self.services, regions=regions, scopes=scopes)

    def link_pass(self, pensioner_id: str) -> dict[str, str]:
        """Headers of the pensioner's own browser: a one-time link made by the operator
        and redeemed, so this pass is the one only that browser holds."""
        made = self.http.post(f"/v1/pensioners/{pensioner_id}/links", headers=OPERATOR)
        assert made.status_code == 201, made.text
        redeemed = self.http.post("/v1/links/redeem", json={"token": made.json()["token"]})
        assert redeemed.status_code == 200, redeemed.text
        return {"X-Link-Pass": redeemed.json()["page_pass"]}

    def close(self) -> None:
        for browser in self._browsers:
            browser.close()

    def operator_session(self, pensioner_id: str, **body: Any) -> dict[str, Any]:
        response = self.http.post(f"/v1/pensioners/{pensioner_id}/sessions", json=body, headers=OPERATOR)
        assert response.status_code == 201, response.text
        return response.json()

    def phone(self, pensioner_id: str) -> dict[str, str]:
        """The pensioner's own phone, past the consent: the X-Link-Pass its page sends."""
        headers = self.link_pass(pensioner_id)
        version = self.http.get("/v1/links/current", headers=headers).json()["consent_version"]
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

    def certify_clip(self, pensioner_id: str, video: str = "videos/frontal_mouth_open_m5.mp4") -> str:
        """Open an operator session and upload a real clip to it; returns the attempt id."""
        response = self.upload(self.operator_session(pensioner_id), self.clip(video))
        assert response.status_code == 202, response.text
        return response.json()["id"]

    def environment(self) -> dict[str, str]:
        """The environment of a `certify` process configured like this target."""
        s = self.services.settings
        return dict(
            os.environ,
            CERTIFY_ENVIRONMENT=s.environment,
            DATABASE_URL=s.database_url,
            REDIS_URL=s.redis_url or "",
            CERTIFY_VAR_DIR=str(s.var_dir),
            CERTIFY_QUEUE_NAME=s.queue_name,
            CERTIFY_SECRET_KEY=s.secret_key.get_secret_value(),
            CERTIFY_DATA_KEYS=s.data_keys.get_secret_value(),
            CERTIFY_API_TOKEN=s.api_token.get_secret_value(),
            CERTIFY_JOB_RETRY_INTERVALS_S=str(list(s.job_retry_intervals_s)),
            CERTIFY_METRICS_TOKEN=s.metrics_token.get_secret_value() if s.metrics_token else "",
            CERTIFY_METRICS_PUBLIC=str(s.metrics_public).lower(),
        )

    def cli(self, *args: str, timeout_s: float = 300) -> subprocess.CompletedProcess:
        """Run `certify ARGS...` as its own process (e.g. `worker --burst`), like a deployment."""
        return subprocess.run([sys.executable, "-m", "cli.main", *args], cwd=REPO_ROOT, env=self.environment(),
                              capture_output=True, text=True, timeout=timeout_s)


@pytest.fixture(params=["sqlite", "postgres"])
def target_factory(request, services_factory, shared_data) -> Iterator[Callable[..., Target]]:
    """Makes the target with production settings changed by the keyword arguments given
    (e.g. an opt-out an attack needs switched; `None` removes one of PRODUCTION's); one
    target per test."""
    with ExitStack() as stack:

        def make(**settings: Any) -> Target:
            values = {k: v for k, v in {**PRODUCTION, **settings}.items() if v is not None}
            services = services_factory(request.param, "server", **values)
            url = stack.enter_context(live_server(services))
            http = stack.enter_context(httpx.Client(base_url=url, timeout=60))
            target = Target(url=url, services=services, http=http, data=shared_data)
            stack.callback(target.close)
            return target

        yield make


@pytest.fixture
def target(target_factory) -> Target:
    return target_factory()
