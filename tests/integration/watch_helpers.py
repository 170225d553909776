"""Helpers for the watch tests (issue 13, section 3): real clips with a helper composed
beside the pensioner, their second-face evidence, and assisted attempts recorded as the
worker records them."""

from __future__ import annotations

import datetime as dt
import uuid
from pathlib import Path

from certify import VideoLimits, decode_video, probe_video
from certify.bystanders import Bystanders, find_bystanders
from certify.tracking import track_faces
from models import Attempt, CertificationSession
from service.certification import Outcome, record_outcome
from service.pensioners import get_pensioner
from service.records import current_window
from service.watch import WatchRules, watch_outcome
from tests.media import ffmpeg

__all__ = ["composed_clip", "second_face_of", "assisted_attempt"]


def composed_clip(
    shared_data: Path, clip: str, helper: str, out: Path, *, height_share: float = 0.5, seconds: float | None = 6.0,
) -> Path:
    """A real selfie clip with a real photo of another person beside it, bottom-aligned
    (a helper leaning in), encoded by ffmpeg (the first `seconds`, or all of it)."""
    info = probe_video(shared_data / clip, limits=VideoLimits(max_duration_s=40.0))
    height, length = info.height // 2 * 2, str(seconds or info.duration_ms / 1000)
    helper_h = int(height * height_share) // 2 * 2
    ffmpeg(  # both streams to 30 fps from 0: a phone clip's own time base would make hstack run away
        "-t", length, "-i", str(shared_data / clip), "-loop", "1", "-framerate", "30", "-t", length,
        "-i", str(shared_data / helper), "-filter_complex",
        f"[0:v]fps=30,scale=-2:{height},setpts=PTS-STARTPTS[v];"
        f"[1:v]fps=30,scale=-2:{helper_h},pad=iw:{height}:0:{height - helper_h},setpts=PTS-STARTPTS[h];"
        "[v][h]hstack=shortest=1,format=yuv420p",
        "-c:v", "libx264", "-preset", "ultrafast", "-c:a", "aac", str(out),
    )
    return out


def second_face_of(face_backend, path: Path) -> Bystanders:
    frames = decode_video(path, limits=VideoLimits(max_duration_s=40.0)).frames
    return find_bystanders(frames, track_faces(frames, face_backend), backend=face_backend)


def assisted_attempt(
    services, pensioner_id: uuid.UUID, *, staff: str, device: str, at: dt.datetime, status: str = "passed",
    second_face: Bystanders | None = None, rules: WatchRules | None = None, user_agent: str = "Tablet/1.0",
) -> Outcome:
    """One assisted attempt decided by the engine as `status`, then watched and recorded
    as the worker does (workers/process.py `_record`)."""
    with services.sessions() as db:
        pensioner = get_pensioner(db, pensioner_id)
        session = CertificationSession(
            id=uuid.uuid4(), pensioner_id=pensioner_id, nonce=uuid.uuid4().hex,
            challenge={"actions": ["blink"], "digits": None}, channel="assisted", assisted_by=staff,
            device_id=device, created_at=at, expires_at=at + dt.timedelta(minutes=5), used_at=at,
        )
        attempt = Attempt(
            id=uuid.uuid4(), session_id=session.id, pensioner_id=pensioner_id,
            period=current_window(db, pensioner=pensioner, now=at).label, status="processing",
            channel="assisted", assisted_by=staff, device_id=device, user_agent=user_agent,
            video_key=None, video_sha256=uuid.uuid4().hex * 2, video_bytes=1000, video_content_type="video/mp4",
            reasons=[], key_frame_keys=[], processing_runs=1, created_at=at,
        )
        db.add_all([session, attempt])
        db.flush()
        engine = Outcome(status=status, reasons=[] if status == "passed" else ["no_blink"], result={"scores": {}},
                         thresholds_version="t", engine_version="e")
        outcome = watch_outcome(
            db, attempt=attempt, pensioner=pensioner, outcome=engine, bystanders=second_face,
            keyring=services.keyring, rules=rules or WatchRules.of(services.settings), now=at,
        )
        record_outcome(db, attempt=attempt, outcome=outcome, now=at,
                       validity_days=services.settings.period_validity_days, keyring=services.keyring)
        db.commit()
    return outcome
