"""Helpers for the agency-side integration tests: pensioners, decided attempts, keys.

Attempts are written through the same data functions the worker uses
(`record_outcome`), with the engine's outcome given: the engine itself is exercised by
test_full_path.py; these tests are about what happens to records afterwards.
"""

from __future__ import annotations

import datetime as dt
import io
import uuid
from collections.abc import Sequence

from models import Attempt, AttemptStatus, CertificationSession, Channel
from service.accounts import create_api_key, create_staff
from service.actors import OPERATOR
from service.certification import Outcome, record_outcome
from service.context import Services
from service.pensioners import create_pensioner
from service.records import current_window

from .helpers import new_national_id

ALL_SCOPES = ("results:read", "export:read", "records:write", "evidence:read", "pensioners:write", "webhooks:manage")
PASSWORD = "correct horse battery"


def make_pensioner(
    services: Services,
    *,
    region: str = "110105",
    schemes: Sequence[str] = ("basic_pension",),
    residence: str | None = None,
    now: dt.datetime | None = None,
    external_ref: str | None = None,
    name: str = "测试 老人",
) -> uuid.UUID:
    with services.sessions() as db:
        pensioner = create_pensioner(
            db, keyring=services.keyring, secret=services.settings.secret_key.get_secret_value(),
            enrolled_by=OPERATOR, name=name, national_id=new_national_id(region), region_code=region,
            residence_region_code=residence, now=now or services.clock(), schemes=schemes,
            external_ref=external_ref,
        )
        db.commit()
        return pensioner.id


def decided_attempt(
    services: Services,
    pensioner_id: uuid.UUID,
    *,
    status: str = AttemptStatus.PASSED,
    reasons: Sequence[str] = (),
    channel: str = Channel.SELF,
    assisted_by: str | None = None,
    key_frames: int = 0,
    now: dt.datetime | None = None,
    scores: dict[str, float] | None = None,
    key_frame_jpegs: Sequence[bytes] = (),
) -> uuid.UUID:
    """A session and an attempt with this outcome, recorded as the worker records it."""
    now = now or services.clock()
    attempt_id = uuid.uuid4()
    keys = []
    frames = list(key_frame_jpegs) or [_JPEG] * key_frames
    for index, jpeg in enumerate(frames):
        key = f"keyframes/{attempt_id}/{index}.jpg"
        services.store.put(key, io.BytesIO(jpeg))
        keys.append(key)
    with services.sessions() as db:
        from service.pensioners import get_pensioner

        pensioner = get_pensioner(db, pensioner_id)
        session = CertificationSession(
            id=uuid.uuid4(), pensioner_id=pensioner_id, nonce=uuid.uuid4().hex,
            challenge={"actions": ["blink", "turn_left"], "digits": None}, channel=channel,
            assisted_by=assisted_by, created_at=now, expires_at=now + dt.timedelta(minutes=5),
            used_at=now,
        )
        attempt = Attempt(
            id=attempt_id, session_id=session.id, pensioner_id=pensioner_id,
            period=current_window(db, pensioner=pensioner, now=now).label,
            status=AttemptStatus.PROCESSING, channel=channel, assisted_by=assisted_by,
            video_key=None, video_sha256=uuid.uuid4().hex * 2, video_bytes=1000,
            video_content_type="video/mp4", reasons=[], key_frame_keys=[], processing_runs=1,
            created_at=now,
        )
        db.add_all([session, attempt])
        db.flush()
        record_outcome(
            db, attempt=attempt,
            outcome=Outcome(
                status=status, reasons=list(reasons), match_distance=0.41,
                result={"scores": scores or {"match_distance": 0.41, "liveness": 0.62}, "actions": []},
                thresholds_version="t-test", engine_version="e-test", key_frame_keys=keys,
            ),
            now=now, validity_days=services.settings.period_validity_days, keyring=services.keyring,
        )
        db.commit()
    return attempt_id


def api_key(services: Services, *, regions: Sequence[str], scopes: Sequence[str] = ALL_SCOPES, agency: str = "社保局") -> dict[str, str]:
    with services.sessions() as db:
        _, key = create_api_key(db, agency=agency, scopes=list(scopes), regions=list(regions), now=services.clock())
        db.commit()
    return {"Authorization": f"Bearer {key}"}


def staff_account(
    services: Services, *, username: str, role: str = "staff", region: str = "110105",
    display_name: str | None = None,
) -> str:
    """A staff account with the password PASSWORD; returns its id."""
    with services.sessions() as db:
        user = create_staff(db, username=username, password=PASSWORD, display_name=display_name or username,
                            role=role, region_code=region, now=services.clock())
        db.commit()
        return str(user.id)


def login(client, username: str) -> dict[str, str]:
    response = client.post("/v1/auth/login", json={"username": username, "password": PASSWORD})
    assert response.status_code == 200, response.text
    return {"X-CSRF-Token": client.cookies["certify_csrf"]}


def _tiny_jpeg() -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (32, 32), (200, 150, 120)).save(out, format="JPEG")
    return out.getvalue()


_JPEG = _tiny_jpeg()
