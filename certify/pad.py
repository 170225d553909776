"""Passive presentation-attack detection over the whole video.

Four independent, explainable signals:
- planar motion: a photo (printed or on a screen) moved or tilted in front of the camera
  moves its landmarks by one plane-to-plane mapping (a homography). A live face turning,
  blinking or speaking deforms in ways no homography explains.
- no motion: a frozen picture (a still encoded as a video) changes neither its landmarks
  nor its pixels beyond compression noise; a live camera always has sensor noise and a
  live person always moves a little.
- discontinuity: a cut, splice or face swap makes the face jump (position, size, the
  whole picture) between consecutive samples, or changes who it is (embeddings of the
  start, middle and end of the recording disagree).
- screen replay: see `certify.screen`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import cv2
import numpy as np

from .tracking import FaceObservation
from .video import Frame

__all__ = [
    "planar_motion_scores",
    "motion_scores",
    "jump_scores",
    "PlanarScores",
    "MotionScores",
    "JumpScores",
]

PLANAR_MAX_PAIRS = 200
"""Frames compared with the reference frame in the planar test (evenly spread); each
comparison costs ~0.1 ms, and a blink lasts only one or two samples, so all are used."""

PLANAR_POINT_PERCENTILE = 75.0
"""Per frame, this percentile of the 68 point errors: the non-rigid parts of a live
face (lids, lips) are a minority of the points, so the median would hide them."""

CUT_MIN_FRAME_CHANGE = 45.0
"""Mean absolute change (0-255) of a 32x32 thumbnail of the whole frame between two
consecutive samples that means a cut: hand shake and head motion stay well below."""

_STABLE_POINTS = np.r_[0:17, 17:27, 27:36, 36:48]
"""Jaw, brows, nose and eyes: the mouth is left out of the motion measure (speech moves
it without moving the head)."""


@dataclass(frozen=True, slots=True)
class PlanarScores:
    residual: float
    """90th percentile over frames of the (75th percentile) landmark error, in interocular units, left
    by the best homography from the reference frame: the face's non-planar change."""
    motion: float
    """90th percentile of landmark displacement from the reference frame (same unit)."""


@dataclass(frozen=True, slots=True)
class MotionScores:
    landmark_shift: float
    """90th percentile of consecutive-sample landmark motion, interocular units."""
    pixel_change: float
    """Median of consecutive-sample mean absolute luma change inside the face."""


@dataclass(frozen=True, slots=True)
class JumpScores:
    max_jump: float
    """Largest consecutive-sample move of the face centre, in face widths."""
    max_size_ratio: float
    """Largest consecutive-sample change of face size (>= 1)."""
    cuts: int
    """Consecutive samples whose whole picture changed like a cut."""
    jump_t_ms: int | None
    """When the largest jump happened."""


def _faces(observations: Sequence[FaceObservation]) -> list[FaceObservation]:
    return [o for o in observations if o.has_face and o.interocular_px > 0]


def planar_motion_scores(
    observations: Sequence[FaceObservation], reference_index: int | None = None
) -> PlanarScores | None:
    """How much of the face's motion a single homography leaves unexplained."""
    faces = _faces(observations)
    if len(faces) < 3:
        return None
    ref = next((o for o in faces if o.index == reference_index), faces[len(faces) // 2])
    picks = np.linspace(0, len(faces) - 1, min(PLANAR_MAX_PAIRS, len(faces))).astype(int)
    residuals, motions = [], []
    src = ref.landmarks.astype(np.float32)  # type: ignore[union-attr]
    for i in picks:
        o = faces[i]
        if o.index == ref.index:
            continue
        dst = o.landmarks.astype(np.float32)  # type: ignore[union-attr]
        unit = (ref.interocular_px + o.interocular_px) / 2.0
        homography, _ = cv2.findHomography(src, dst, 0)
        if homography is None:
            continue
        mapped = cv2.perspectiveTransform(src.reshape(-1, 1, 2), homography).reshape(-1, 2)
        errors = np.linalg.norm(mapped - dst, axis=1)
        residuals.append(float(np.percentile(errors, PLANAR_POINT_PERCENTILE)) / unit)
        motions.append(float(np.median(np.linalg.norm(dst - src, axis=1))) / unit)
    if not residuals:
        return None
    return PlanarScores(
        residual=float(np.percentile(residuals, 90)), motion=float(np.percentile(motions, 90))
    )


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


def _thumbnail(frame: Frame) -> np.ndarray:
    return cv2.resize(frame.gray, (32, 32), interpolation=cv2.INTER_AREA).astype(np.float32)


def jump_scores(
    frames: Sequence[Frame],
    observations: Sequence[FaceObservation],
    *,
    max_gap_ms: int = 250,
) -> JumpScores:
    """Face jumps and picture cuts between consecutive samples."""
    max_jump, max_ratio, jump_t = 0.0, 1.0, None
    prev: FaceObservation | None = None
    for o in observations:
        if not o.has_face:
            continue
        if prev is not None and o.t_ms - prev.t_ms <= max_gap_ms:
            (ax, ay), (bx, by) = prev.box.center, o.box.center  # type: ignore[union-attr]
            width = (prev.face_width_px + o.face_width_px) / 2.0
            jump = float(np.hypot(bx - ax, by - ay)) / max(width, 1.0)
            ratio = max(o.face_width_px, prev.face_width_px) / max(
                1.0, min(o.face_width_px, prev.face_width_px)
            )
            if jump > max_jump:
                max_jump, jump_t = jump, o.t_ms
            max_ratio = max(max_ratio, ratio)
        prev = o
    cuts = 0
    for a, b in zip(frames, frames[1:], strict=False):
        if b.t_ms - a.t_ms <= max_gap_ms:
            change = float(np.mean(np.abs(_thumbnail(a) - _thumbnail(b))))
            cuts += change >= CUT_MIN_FRAME_CHANGE
    return JumpScores(max_jump=max_jump, max_size_ratio=max_ratio, cuts=cuts, jump_t_ms=jump_t)
