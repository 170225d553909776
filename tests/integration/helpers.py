"""Small helpers shared by the integration tests."""

from __future__ import annotations

import datetime as dt
import itertools
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from service.rules.national_id import compose_national_id
from tests.media import ffmpeg

OPERATOR = {"Authorization": "Bearer test-operator-token"}

_sequence = itertools.count(1)


def new_national_id(region: str = "110105") -> str:
    """A valid national ID number of the region, different on every call in the run
    (the birth date and the sequence number both vary). The holder is born in the 1940s,
    so always well over pension age."""
    n = next(_sequence)
    return compose_national_id(region, dt.date(1940 + n % 10, 1 + n % 12, 1 + n % 28), n % 1000)


def create_pensioner(client: TestClient, **overrides: Any) -> dict[str, Any]:
    body = {
        "name": "张桂兰",
        "national_id": new_national_id(),
        "region_code": "110105",
        "phone": "13900001234",
        **overrides,
    }
    response = client.post("/v1/pensioners", json=body, headers=OPERATOR)
    assert response.status_code == 201, response.text
    return response.json()


def add_photo(client: TestClient, pensioner_id: str, photo: bytes, name: str = "p.jpg", **params: str):
    return client.post(
        f"/v1/pensioners/{pensioner_id}/references",
        files={"photo": (name, photo, "image/jpeg")},
        headers=OPERATOR,
        params=params,
    )


def open_session(client: TestClient, pensioner_id: str, **body: Any):
    return client.post(f"/v1/pensioners/{pensioner_id}/sessions", json=body, headers=OPERATOR)


def upload_video(
    client: TestClient, session: dict[str, Any], video: Path | bytes, *, raw: bool = False,
    content_type: str = "video/mp4", nonce: str | None = None,
):
    data = video if isinstance(video, bytes) else video.read_bytes()
    headers = {"X-Session-Nonce": session["nonce"] if nonce is None else nonce}
    if raw:
        return client.post(
            session["upload_url"], content=data, headers={**headers, "Content-Type": content_type}
        )
    return client.post(
        session["upload_url"], files={"video": ("clip", data, content_type)}, headers=headers
    )


def frame_as_jpeg(video: Path, at_s: float, out: Path) -> bytes:
    """One frame of a real clip, as a JPEG (a reference photo taken from the same person)."""
    ffmpeg("-ss", str(at_s), "-i", str(video), "-frames:v", "1", "-q:v", "2", str(out))
    return out.read_bytes()


def link_pass(client: TestClient, pensioner_id: str, device_id: str = "phone-1") -> dict[str, str]:
    """The pensioner's own phone: a one-time link made by the operator and opened, as
    the X-Link-Pass header its page sends."""
    link = client.post(f"/v1/pensioners/{pensioner_id}/links", headers=OPERATOR)
    assert link.status_code == 201, link.text
    opened = client.post("/v1/links/redeem", json={"token": link.json()["token"], "device_id": device_id})
    assert opened.status_code == 200, opened.text
    return {"X-Link-Pass": opened.json()["page_pass"]}
