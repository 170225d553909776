"""Capture quality: is there exactly one usable face, large, lit, sharp and whole?

Measured here (`quality_scores`, numbers over the whole recording), judged in
certify.decide (`quality_reasons`): each failure is a reason code the pensioner can act
on ("move closer", "turn on a light"). Judged over the whole recording, not one frame: a
single dark or blurred frame while turning the head is normal.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from .reasons import Reason
from .thresholds import Thresholds
from .tracking import FaceObservation

__all__ = ["MIN_VIDEO_MS", "quality_scores", "quality_reasons", "is_frontal"]

MIN_VIDEO_MS = 2000
"""Shortest recording that can hold a challenge; shorter is video_too_short."""


def is_frontal(o: FaceObservation, th: Thresholds) -> bool:
    return o.has_face and abs(o.yaw_deg) <= th.max_frontal_yaw_deg


def quality_scores(
    observations: Sequence[FaceObservation], *, frame_scale: float, th: Thresholds
) -> dict[str, float]:
    """Face share, second faces, size (original pixels), light, sharpness, cut-off share
    and frontal frames (|yaw| within th.max_frontal_yaw_deg, the definition of frontal)."""
    total = len(observations)
    faces = [o for o in observations if o.has_face]
    detector_runs = [o for o in observations if o.detected]
    multi = [o for o in detector_runs if o.face_count >= 2]
    scores: dict[str, float] = {
        "face_fraction": len(faces) / total if total else 0.0,
        "multiple_faces_fraction": len(multi) / len(detector_runs) if detector_runs else 0.0,
    }
    if not faces:
        return scores
    scores.update(
        {
            "interocular_px": float(np.median([o.interocular_px for o in faces])) / max(frame_scale, 1e-6),
            "brightness": float(np.median([o.brightness for o in faces])),
            "overexposed_fraction": float(np.median([o.overexposed_fraction for o in faces])),
            "sharpness": float(np.percentile([o.sharpness for o in faces], 75)),
            "cut_off_fraction": float(np.mean([o.cut_off for o in faces])),
            "frontal_frames": float(sum(1 for o in faces if is_frontal(o, th))),
        }
    )
    return scores


def quality_reasons(scores: Mapping[str, float], *, duration_ms: int, th: Thresholds) -> tuple[Reason, ...]:
    """Reason codes for the recording as a whole, most actionable first."""
    reasons: list[Reason] = []
    if duration_ms < MIN_VIDEO_MS:
        reasons.append(Reason.VIDEO_TOO_SHORT)
    if scores.get("multiple_faces_fraction", 0.0) >= th.multiple_faces_min_fraction:
        reasons.append(Reason.MULTIPLE_FACES)
    if "interocular_px" not in scores or scores["face_fraction"] < th.min_face_fraction:
        reasons.append(Reason.NO_FACE)
        return tuple(reasons)
    if scores["interocular_px"] < th.min_interocular_px:
        reasons.append(Reason.FACE_TOO_SMALL)
    if scores["cut_off_fraction"] > th.max_cut_off_fraction:
        reasons.append(Reason.FACE_CUT_OFF)
    if scores["brightness"] < th.min_brightness:
        reasons.append(Reason.TOO_DARK)
    elif scores["brightness"] > th.max_brightness or scores["overexposed_fraction"] > th.max_overexposed_fraction:
        reasons.append(Reason.TOO_BRIGHT)
    elif scores["sharpness"] < th.min_sharpness:
        # judged only in usable light: sharpness is measured on pixel contrast, which a
        # dark or burnt-out face lacks however sharp it is, and light is the thing to fix
        reasons.append(Reason.BLURRY)
    if scores["frontal_frames"] < th.min_frontal_frames:
        reasons.append(Reason.NOT_FRONTAL)
    return tuple(reasons)
