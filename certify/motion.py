"""No motion: a frozen picture (a still encoded as a video, or a paused replay).

A frozen picture changes neither its landmarks nor its pixels beyond compression noise;
a live camera always has sensor noise and a live person always moves a little. Both
measures must be tiny for no_motion.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import cv2
import numpy as np

from .tracking import FaceObservation
from .video import Frame

__all__ = ["motion_scores", "MotionScores"]

_STABLE_POINTS = np.r_[0:17, 17:27, 27:36, 36:48]
"""Jaw, brows, nose and eyes: the mouth is left out of the motion measure (speech moves
it without moving the head)."""


@dataclass(frozen=True, slots=True)
class MotionScores:
    landmark_shift: float
    """90th percentile of consecutive-sample landmark motion, interocular units."""
    pixel_change: float
    """Median of consecutive-sample mean absolute luma change inside the face."""


def _face_crop(frame: Frame, o: FaceObservation, size: int = 64) -> np.ndarray | None:
    assert o.box is not None
    h, w = frame.gray.shape
    x0, y0 = int(max(0, o.box.left)), int(max(0, o.box.top))
    x1, y1 = int(min(w, o.box.right)), int(min(h, o.box.bottom))
    if x1 - x0 < 8 or y1 - y0 < 8:
        return None
    return cv2.resize(frame.gray[y0:y1, x0:x1], (size, size), interpolation=cv2.INTER_AREA)


def motion_scores(
    frames: Sequence[Frame], observations: Sequence[FaceObservation]
) -> MotionScores | None:
    """Landmark and pixel change between consecutive samples with a face."""
    shifts, changes = [], []
    prev: FaceObservation | None = None
    for o in observations:
        if not o.has_face:
            prev = None
            continue
        if prev is not None:
            unit = (prev.interocular_px + o.interocular_px) / 2.0
            a = prev.landmarks[_STABLE_POINTS]  # type: ignore[index]
            b = o.landmarks[_STABLE_POINTS]  # type: ignore[index]
            shifts.append(float(np.median(np.linalg.norm(b - a, axis=1))) / max(unit, 1.0))
            # the same face rectangle in both frames: only the picture may differ
            ca = _face_crop(frames[prev.index], o)
            cb = _face_crop(frames[o.index], o)
            if ca is not None and cb is not None:
                changes.append(float(np.mean(cv2.absdiff(ca, cb))))
        prev = o
    if not shifts:
        return None
    return MotionScores(
        landmark_shift=float(np.percentile(shifts, 90)),
        pixel_change=float(np.median(changes)) if changes else 0.0,
    )
