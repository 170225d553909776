"""Capture quality: is there exactly one usable face, large, lit, sharp and whole?

Each failure is a reason code the pensioner can act on ("move closer", "turn on a
light"). Judged over the whole recording, not one frame: a single dark or blurred frame
while turning the head is normal.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from .reasons import Reason
from .thresholds import Thresholds
from .tracking import FaceObservation

__all__ = [
    "MIN_VIDEO_MS",
    "QualitySummary",
    "is_frontal",
    "summarize_quality",
]

MIN_VIDEO_MS = 2000
"""Shortest recording that can hold a challenge; shorter is video_too_short."""


@dataclass(frozen=True, slots=True)
class QualitySummary:
    reasons: tuple[Reason, ...]
    scores: dict[str, float]


def is_frontal(o: FaceObservation, th: Thresholds) -> bool:
    return o.has_face and abs(o.yaw_deg) <= th.max_frontal_yaw_deg


def summarize_quality(
    observations: Sequence[FaceObservation],
    *,
    duration_ms: int,
    frame_scale: float,
    th: Thresholds,
) -> QualitySummary:
    """Reason codes for the recording as a whole, most actionable first."""
    reasons: list[Reason] = []
    total = len(observations)
    faces = [o for o in observations if o.has_face]
    detector_runs = [o for o in observations if o.detected]
    multi = [o for o in detector_runs if o.face_count >= 2]
    face_fraction = len(faces) / total if total else 0.0
    multi_fraction = len(multi) / len(detector_runs) if detector_runs else 0.0
    scores: dict[str, float] = {
        "face_fraction": face_fraction,
        "multiple_faces_fraction": multi_fraction,
    }
    if duration_ms < MIN_VIDEO_MS:
        reasons.append(Reason.VIDEO_TOO_SHORT)
    if multi_fraction >= th.multiple_faces_min_fraction:
        reasons.append(Reason.MULTIPLE_FACES)
    if not faces or face_fraction < th.min_face_fraction:
        reasons.append(Reason.NO_FACE)
        return QualitySummary(tuple(reasons), scores)
    iod_original = float(np.median([o.interocular_px for o in faces])) / max(frame_scale, 1e-6)
    brightness = float(np.median([o.brightness for o in faces]))
    overexposed = float(np.median([o.overexposed_fraction for o in faces]))
    sharpness = float(np.percentile([o.sharpness for o in faces], 75))
    cut_fraction = float(np.mean([o.cut_off for o in faces]))
    frontal = sum(1 for o in faces if is_frontal(o, th))
    scores.update(
        {
            "interocular_px": iod_original,
            "brightness": brightness,
            "overexposed_fraction": overexposed,
            "sharpness": sharpness,
            "cut_off_fraction": cut_fraction,
            "frontal_frames": float(frontal),
        }
    )
    if iod_original < th.min_interocular_px:
        reasons.append(Reason.FACE_TOO_SMALL)
    if cut_fraction > th.max_cut_off_fraction:
        reasons.append(Reason.FACE_CUT_OFF)
    if brightness < th.min_brightness:
        reasons.append(Reason.TOO_DARK)
    elif brightness > th.max_brightness or overexposed > th.max_overexposed_fraction:
        reasons.append(Reason.TOO_BRIGHT)
    elif sharpness < th.min_sharpness:
        # judged only in usable light: sharpness is measured on pixel contrast, which a
        # dark or burnt-out face lacks however sharp it is, and light is the thing to fix
        reasons.append(Reason.BLURRY)
    if frontal < th.min_frontal_frames:
        reasons.append(Reason.NOT_FRONTAL)
    return QualitySummary(tuple(reasons), scores)
