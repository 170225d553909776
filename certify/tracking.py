"""Following the face through the sampled frames: detect now and then, track in between.

Detection (dlib HOG) is the expensive step, so it runs on a downscaled copy of a frame
every DETECT_INTERVAL_MS, or when the track is lost. In between, the face box for the
next frame is predicted from the previous frame's landmarks, and the landmark predictor
runs on every sampled frame. This also follows the head through turns that the frontal
detector cannot see.

Each sampled frame yields one `FaceObservation`: where the face is, its 68 landmarks,
and the per-frame measures the rest of the engine uses (eyes, mouth, pose, light,
sharpness). Pure functions of the frames and the backend; no state survives a call.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import cv2
import numpy as np

from .backend import FaceBackend, FaceBox
from .exposure import brightened_around, exposure_gain
from .geometry import (
    eye_aspect_ratios,
    head_pose,
    interocular_px,
    landmark_box,
    mouth_aspect_ratio,
    upper_lid_openings,
)
from .video import Frame

__all__ = [
    "DETECT_INTERVAL_MS",
    "DETECT_MAX_SIDE_PX",
    "FAR_FACE_INTERVAL_MS",
    "FaceObservation",
    "QUALITY_CROP_PX",
    "SECOND_FACE_MIN_RELATIVE_SIZE",
    "TRACK_MAX_SIZE_CHANGE",
    "TRACK_MAX_UNDETECTED_MS",
    "track_faces",
]

DETECT_INTERVAL_MS = 500
"""Run the detector at least this often (ms of video): it notices a second face, and it
re-anchors the landmark track, whose box otherwise drifts with the landmarks during
turns and mouth openings (measured: at 1000 ms, nods and turns were misread in 3 of
the clips of bench/evaluate.py)."""

DETECT_MAX_SIDE_PX = 320
"""Frames are downscaled to this longer side for detection (HOG finds faces >= 80 px)."""

FAR_FACE_INTERVAL_MS = 1000
"""While no face is followed, the detector also looks, at most this often, at the frame
upsampled twice (faces down to ~40 px, e.g. a pensioner sitting far from the phone),
so that a small face is reported as face_too_small ("move closer") and not as no_face.
Upsampled detection costs ~4x a normal one, hence not on every frame."""

SECOND_FACE_MIN_RELATIVE_SIZE = 0.5
"""Another detected face counts as a second person when at least this wide relative to
the main face: a face in a poster far behind the pensioner does not."""

TRACK_MAX_UNDETECTED_MS = 4000
"""Landmarks are followed without a confirming detection for at most this long: a head
turn (which the frontal detector cannot see) lasts 1-3 s; longer means the face left."""

TRACK_MAX_SIZE_CHANGE = 1.4
"""Between two sampled frames the face may grow or shrink by at most this factor;
more means the landmarks slipped off the face, so the track is dropped."""

QUALITY_CROP_PX = 128
"""Face crops are resized to this width before measuring sharpness, so that sharpness
does not depend on how large the face is in the frame. Sharpness is measured as if the
exposure gain for landmarks (certify.exposure.DIM_FACE_MEAN) had been applied: focus is a property of
the optics, and a dim face's small grey-level differences are not blur (measured: clips
darkened to 35% light were refused `blurry` without it, bench/robustness.py)."""

_DEFAULT_BOX_FROM_LANDMARKS = (0.0, 0.08, 1.05, 0.95)
"""(dx, dy, width, height) of a detector box relative to the landmark box, used until
the first detection in a video teaches the real relation."""


@dataclass(frozen=True, slots=True)
class FaceObservation:
    """The main face in one sampled frame (or its absence), in working-frame pixels."""

    index: int
    t_ms: int
    box: FaceBox | None = None
    landmarks: np.ndarray | None = field(default=None, repr=False)
    detected: bool = False
    """True when the detector ran on this frame (face_count is then meaningful)."""
    face_count: int = 0
    """Faces the detector found in this frame (0 when it did not run)."""
    ear_left: float = 0.0
    ear_right: float = 0.0
    lid_left: float = 0.0
    """Upper-eyelid opening of the image-left eye (see geometry.upper_lid_openings)."""
    lid_right: float = 0.0
    mar: float = 0.0
    yaw_deg: float = 0.0
    pitch_deg: float = 0.0
    roll_deg: float = 0.0
    interocular_px: float = 0.0
    face_width_px: float = 0.0
    brightness: float = 0.0
    """Mean luma (0-255) inside the face."""
    overexposed_fraction: float = 0.0
    """Share of face pixels at or above 250 (burnt out)."""
    sharpness: float = 0.0
    """Variance of the Laplacian of the face, resized to QUALITY_CROP_PX wide."""
    cut_off: bool = False
    """Landmarks fall outside the frame: part of the face is not in the picture."""

    @property
    def has_face(self) -> bool:
        return self.landmarks is not None

    @property
    def ear(self) -> float:
        return (self.ear_left + self.ear_right) / 2.0

    @property
    def lid(self) -> float:
        return (self.lid_left + self.lid_right) / 2.0


def _detect(gray: np.ndarray, backend: FaceBackend) -> list[FaceBox]:
    """Faces in working-frame pixels; tries a finer scale when the coarse one finds none."""
    h, w = gray.shape
    factor = min(1.0, DETECT_MAX_SIDE_PX / max(h, w))
    if factor < 1.0:
        small = cv2.resize(gray, (int(w * factor), int(h * factor)), interpolation=cv2.INTER_AREA)
        boxes = backend.detector.detect(small)
        if boxes:
            return [b.scaled(1.0 / factor) for b in boxes]
    return backend.detector.detect(gray)


def _box_from_landmarks(points: np.ndarray, relation: tuple[float, float, float, float]) -> FaceBox:
    left, top, right, bottom = landmark_box(points)
    lw, lh = right - left, bottom - top
    cx, cy = (left + right) / 2.0, (top + bottom) / 2.0
    dx, dy, sw, sh = relation
    cx, cy = cx + dx * lw, cy + dy * lh
    half_w, half_h = sw * lw / 2.0, sh * lh / 2.0
    return FaceBox(cx - half_w, cy - half_h, cx + half_w, cy + half_h, score=0.0)


def _relation(box: FaceBox, points: np.ndarray) -> tuple[float, float, float, float]:
    left, top, right, bottom = landmark_box(points)
    lw, lh = max(right - left, 1.0), max(bottom - top, 1.0)
    cx, cy = (left + right) / 2.0, (top + bottom) / 2.0
    bx, by = box.center
    return ((bx - cx) / lw, (by - cy) / lh, box.width / lw, box.height / lh)


def _measure(
    index: int, frame: Frame, box: FaceBox, points: np.ndarray, detected: bool, count: int
) -> FaceObservation:
    gray = frame.gray
    h, w = gray.shape
    ear_l, ear_r = eye_aspect_ratios(points)
    lid_l, lid_r = upper_lid_openings(points)
    pose = head_pose(points, w, h)
    left, top, right, bottom = landmark_box(points)
    face_w = right - left
    margin = 0.02 * max(face_w, 1.0)
    cut = bool(left < -margin or top < -margin or right > w + margin or bottom > h + margin)
    # the skin between brows and chin: light and focus are judged there
    x0, x1 = int(max(0, left)), int(min(w, right))
    y0 = int(max(0, points[19:25, 1].min()))
    y1 = int(min(h, bottom))
    crop = gray[y0:y1, x0:x1]
    if crop.size < 16:
        brightness, over, sharp = 0.0, 0.0, 0.0
    else:
        brightness = float(crop.mean())
        over = float((crop >= 250).mean())
        scale = QUALITY_CROP_PX / crop.shape[1]
        norm = cv2.resize(
            crop, (QUALITY_CROP_PX, max(8, int(crop.shape[0] * scale))),
            interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR,
        )
        sharp = float(cv2.Laplacian(norm, cv2.CV_32F).var()) * exposure_gain(brightness) ** 2
    return FaceObservation(
        index=index,
        t_ms=frame.t_ms,
        box=box,
        landmarks=points,
        detected=detected,
        face_count=count,
        ear_left=ear_l,
        ear_right=ear_r,
        lid_left=lid_l,
        lid_right=lid_r,
        mar=mouth_aspect_ratio(points),
        yaw_deg=pose.yaw_deg,
        pitch_deg=pose.pitch_deg,
        roll_deg=pose.roll_deg,
        interocular_px=interocular_px(points),
        face_width_px=float(face_w),
        brightness=brightness,
        overexposed_fraction=over,
        sharpness=sharp,
        cut_off=cut,
    )


def _face_count(boxes: Sequence[FaceBox], main: FaceBox) -> int:
    return sum(1 for b in boxes if b.width >= SECOND_FACE_MIN_RELATIVE_SIZE * main.width)


def track_faces(frames: Sequence[Frame], backend: FaceBackend) -> tuple[FaceObservation, ...]:
    """One observation per sampled frame, following the largest face of the video."""
    observations: list[FaceObservation] = []
    previous: np.ndarray | None = None
    relation = _DEFAULT_BOX_FROM_LANDMARKS
    last_detect_ms: float | None = None
    last_found_ms: float = 0.0
    last_far_ms: float | None = None
    for index, frame in enumerate(frames):
        due = (
            previous is None
            or last_detect_ms is None
            or frame.t_ms - last_detect_ms >= DETECT_INTERVAL_MS
        )
        box: FaceBox | None = None
        detected = False
        count = 0
        if due:
            boxes = _detect(frame.gray, backend)
            last_detect_ms = frame.t_ms
            detected = True
            if not boxes and previous is None and (
                last_far_ms is None or frame.t_ms - last_far_ms >= FAR_FACE_INTERVAL_MS
            ):
                boxes = backend.detector.detect(frame.gray, upsample=1)
                last_far_ms = frame.t_ms
            if boxes:
                if previous is not None:
                    tracked = _box_from_landmarks(previous, relation)
                    box = max(boxes, key=lambda b: (b.iou(tracked), b.width))
                    if box.iou(tracked) < 0.3:
                        box = max(boxes, key=lambda b: b.width)
                else:
                    box = max(boxes, key=lambda b: b.width)
                count = _face_count(boxes, box)
                last_found_ms = frame.t_ms
        if box is None and previous is not None:
            if frame.t_ms - last_found_ms <= TRACK_MAX_UNDETECTED_MS:
                box = _box_from_landmarks(previous, relation)
        if box is None:
            observations.append(
                FaceObservation(index=index, t_ms=frame.t_ms, detected=detected, face_count=0)
            )
            previous = None
            continue
        points = backend.landmarker.landmarks(
            brightened_around(frame.gray, box.left, box.top, box.right, box.bottom), box)
        if previous is not None and not (detected and count):
            old_w = landmark_box(previous)[2] - landmark_box(previous)[0]
            new_w = landmark_box(points)[2] - landmark_box(points)[0]
            ratio = new_w / max(old_w, 1.0)
            if not (1.0 / TRACK_MAX_SIZE_CHANGE <= ratio <= TRACK_MAX_SIZE_CHANGE):
                observations.append(
                    FaceObservation(index=index, t_ms=frame.t_ms, detected=detected)
                )
                previous = None
                last_detect_ms = None
                continue
        if detected and count:
            relation = _relation(box, points)
        observations.append(_measure(index, frame, box, points, detected, count))
        previous = points
    return tuple(observations)
