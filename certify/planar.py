"""Planar motion: is the "face" a flat picture (a print or a photo on a screen) moved
in front of the camera?

Every point of a flat picture moves by one plane-to-plane mapping (a homography) from
one frame to another, however the picture is tilted, turned or brought closer. A live
head is not flat: when it turns or nods, the nose moves across the cheeks (parallax),
and eyes, lips and cheeks change shape on their own. So:

1. windows of WINDOW_MS are chosen where the landmarks claim the head pose changed
   most (that is what a tilted photo uses to fake a head turn or a nod);
2. in each window, texture points of the face (corners inside the landmark hull) are
   tracked from the first to the last frame with pyramidal Lucas-Kanade optical flow
   (forward-backward checked);
3. one homography is fitted to the point pairs with RANSAC; the share of points it
   cannot explain to within PLANAR_INLIER_TOLERANCE (interocular units) is the
   window's non-planar fraction.

Optical flow on skin texture follows the picture itself, unlike the landmark model,
which "sees" a 3D head in a tilted photo and moves its points accordingly (which is why
a landmark-only homography test cannot separate a tilted photo from a small head turn).

Only windows with real motion and a claimed pose change count: with the camera (or a
trembling hand) moving and the head still, a live face is also explained by a
homography (a camera rotation maps every depth the same way), and such windows carry
no evidence either way. The claimed change is therefore counted beyond what the face
sliding, rolling and scaling across the picture explains (`claimed_pose_change`): the
head pose is read in the camera's frame, and a shaking phone alone "turns" a still face
by several degrees; nor does what an open mouth does to the chin and the mouth corners count
(three of the six points the pose is read from).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import cv2
import numpy as np

from .geometry import CHIN, head_pose, similarity_transform
from .tracking import FaceObservation
from .video import Frame

__all__ = [
    "EXPRESSION_LANDMARKS",
    "HULL_SHRINK",
    "MAX_TRACKED_POINTS",
    "MIN_TRACKED_POINTS",
    "PLANAR_INLIER_TOLERANCE",
    "PLANAR_MIN_MOTION",
    "PLANAR_MIN_POSE_CHANGE_DEG",
    "PLANAR_WINDOWS",
    "PlanarScores",
    "RIGID_LANDMARKS",
    "UPPER_FACE",
    "claimed_pose_change",
    "WINDOW_MS",
    "planar_scores",
]

WINDOW_MS = 400
"""Length of a window: long enough for a head turn to show parallax (a comfortable turn
moves 20-60 degrees per second), short enough for optical flow to follow the skin."""

PLANAR_WINDOWS = 5
"""Windows examined (those with the largest landmark pose change, not overlapping)."""

PLANAR_MIN_POSE_CHANGE_DEG = 5.0
"""A window is evidence only when the landmarks claim the head turned or nodded at
least this much (yaw + pitch change) in it, both as read and beyond what the face's
sliding across the picture explains (`claimed_pose_change`): hand shake is not a turn.
Low enough that a print tilted slowly (12.5 degrees per second) is still judged; at 8
degrees, a print tilted over 6 s left only one or two windows."""

PLANAR_MIN_MOTION = 0.08
"""... and the tracked points moved at least this far (median, interocular units)."""

PLANAR_INLIER_TOLERANCE = 0.02
"""A point is explained by the homography when within this distance (interocular
units, ~1 px at a 60 px eye distance). Geometry: a 5-degree turn moves the nose tip
across the cheeks by ~0.6 x sin(5 deg) = 0.05 interocular units, well above it, while
optical-flow error on compressed video stays under ~0.5 px."""

RIGID_LANDMARKS = (*range(0, 5), *range(12, 17), *range(27, 36), 36, 39, 42, 45)
"""Landmarks that neither a blink nor an open mouth moves: the upper jaw line, the nose,
the eye corners. How they moved as a whole (shift, in-plane turn, scale) is what a
moving camera does to a still face."""

UPPER_FACE = (0, 1, 2, 14, 15, 16, *range(27, 36), 36, 39, 42, 45)
"""Landmarks above the mouth: the temples, the nose and the eye corners."""

EXPRESSION_LANDMARKS = (CHIN, 48, 54)
"""Landmarks of the head-pose model (certify.geometry.head_pose) that an open mouth or a
smile moves: the chin and the mouth corners."""

MAX_TRACKED_POINTS = 60
"""Corners tracked per window (the RANSAC fit needs a few dozen)."""

MIN_TRACKED_POINTS = 12
"""Fewer surviving tracks than this and a window is not judged."""

HULL_SHRINK = 0.9
"""The landmark hull is shrunk by this factor before picking points, so that points on
the face's outline (where the background shows through) are left out."""

_LK = {
    "winSize": (15, 15),
    "maxLevel": 3,
    "criteria": (cv2.TERM_CRITERIA_EPS | cv2.TERM_CRITERIA_COUNT, 20, 0.03),
}


@dataclass(frozen=True, slots=True)
class PlanarScores:
    nonplanar_fraction: float
    """Median over the judged windows of the share of face points one homography cannot
    explain: ~0-0.1 for a flat picture, 0.2-0.7 for a live head that turns or speaks."""
    windows: int
    """Windows judged (with enough claimed pose change and motion)."""
    motion: float
    """Median point motion of the judged windows (interocular units)."""
    window_t_ms: tuple[int, ...]
    """Start of each judged window."""


def claimed_pose_change(a: FaceObservation, b: FaceObservation, width: int, height: int) -> float:
    """How far (yaw + pitch, degrees) the landmarks claim the head turned between two
    frames, beyond what the face sliding, rolling and scaling across the picture explains.

    The head pose is read in the camera's frame (certify.geometry.head_pose), so a still
    face also "turns" when the phone moves: a trembling hand that shifts it across the
    picture by 5% of its width changes its yaw by about 2 degrees, and shakes it by 4-8
    degrees in 400 ms (bench/robustness.py hand_shake, a still selfie asked to blink). The
    pose change that the rigid landmarks' best similarity alone produces is taken off:
    what remains needs the face to change shape, as a turning head or a tilted picture
    does.

    An open mouth changes the face's shape too: the chin and the mouth corners are three
    of the six points the pose is read from, and a jaw that drops a little to one side
    read as a 20-degree turn on a still selfie (videos/frontal_mouth_open_m5). The pose
    change those three points make beyond following the upper face (its best affine
    map) is taken off as well: a turning head or a tilted picture moves the nose against
    the eyes and temples, which an open mouth does not.
    """
    assert a.landmarks is not None and b.landmarks is not None
    rigid = list(RIGID_LANDMARKS)
    points, later = a.landmarks.astype(np.float64), b.landmarks.astype(np.float64)
    moved = similarity_transform(points[rigid], later[rigid])
    slid = points @ moved[:, :2].T + moved[:, 2]
    # the same face with its chin and mouth corners where the upper face takes them
    upper = list(UPPER_FACE)
    shape = _affine(points[upper], later[upper])
    steady = later.copy()
    steady[list(EXPRESSION_LANDMARKS)] = points[list(EXPRESSION_LANDMARKS)] @ shape[:, :2].T + shape[:, 2]
    before, after = head_pose(points, width, height), head_pose(slid, width, height)
    read, calm = head_pose(later, width, height), head_pose(steady, width, height)
    yaw = (b.yaw_deg - a.yaw_deg) - (after.yaw_deg - before.yaw_deg) - (read.yaw_deg - calm.yaw_deg)
    pitch = (b.pitch_deg - a.pitch_deg) - (after.pitch_deg - before.pitch_deg) - (read.pitch_deg - calm.pitch_deg)
    return abs(yaw) + abs(pitch)


def _affine(points: np.ndarray, target: np.ndarray) -> np.ndarray:
    """The affine map (2 x 3) that best lays `points` on `target` (least squares)."""
    design = np.hstack([points, np.ones((len(points), 1))])
    solution, *_ = np.linalg.lstsq(design, target, rcond=None)
    return np.asarray(solution.T)


def _hull_mask(shape: tuple[int, int], points: np.ndarray) -> np.ndarray:
    centre = points.mean(axis=0)
    shrunk = ((points - centre) * HULL_SHRINK + centre).astype(np.int32)
    mask = np.zeros(shape, np.uint8)
    cv2.fillConvexPoly(mask, cv2.convexHull(shrunk), 255)
    return mask


def _window(frame_a: Frame, frame_b: Frame, a: FaceObservation, b: FaceObservation
            ) -> tuple[float, float] | None:
    """(non-planar fraction, median motion) between two frames, or None."""
    unit = (a.interocular_px + b.interocular_px) / 2.0
    if unit <= 0:
        return None
    gray_a, gray_b = frame_a.gray, frame_b.gray
    points = cv2.goodFeaturesToTrack(
        gray_a,
        maxCorners=MAX_TRACKED_POINTS,
        qualityLevel=0.01,
        minDistance=max(3.0, unit / 8.0),
        mask=_hull_mask(gray_a.shape, a.landmarks),  # type: ignore[arg-type]
        blockSize=5,
    )
    if points is None or len(points) < MIN_TRACKED_POINTS:
        return None
    moved, status, _ = cv2.calcOpticalFlowPyrLK(gray_a, gray_b, points, None, **_LK)
    back, status_back, _ = cv2.calcOpticalFlowPyrLK(gray_b, gray_a, moved, None, **_LK)
    round_trip = np.linalg.norm((back - points).reshape(-1, 2), axis=1)
    good = (
        (status.reshape(-1) == 1)
        & (status_back.reshape(-1) == 1)
        & (round_trip < 0.3 + 0.01 * unit)
    )
    src, dst = points.reshape(-1, 2)[good], moved.reshape(-1, 2)[good]
    if len(src) < MIN_TRACKED_POINTS:
        return None
    homography, inliers = cv2.findHomography(src, dst, cv2.RANSAC, PLANAR_INLIER_TOLERANCE * unit)
    if homography is None or inliers is None:
        return None
    motion = float(np.median(np.linalg.norm(dst - src, axis=1))) / unit
    return 1.0 - float(inliers.mean()), motion


def planar_scores(
    frames: Sequence[Frame],
    observations: Sequence[FaceObservation],
    *,
    excluded_t_ms: Sequence[int] = (),
    focus_ms: Sequence[tuple[int, int]] | None = None,
) -> PlanarScores | None:
    """Non-planar share of the face's motion where the head is claimed to move most.

    None when no window qualifies (the face hardly moved or never claimed to turn):
    the test then has nothing to say and other checks decide. `excluded_t_ms` are
    times of picture cuts: a window spanning one compares two different shots.
    `focus_ms`: only windows overlapping one of these (start, end) spans are judged, the
    actions that answer the challenge: that is what a tilted picture fakes, while the
    small motions of a person talking prove nothing either way (a live person talking on
    a couch measured 0.11 away from the challenged blink).
    """
    if len(observations) < 2:
        return None
    t = np.array([o.t_ms for o in observations], dtype=np.float64)
    period = float(np.median(np.diff(t))) if len(t) > 1 else 100.0
    span = max(1, int(round(WINDOW_MS / max(period, 1.0))))
    candidates: list[tuple[float, int, int]] = []
    for i in range(len(observations) - span):
        a, b = observations[i], observations[i + span]
        if not (a.has_face and b.has_face):
            continue
        if any(a.t_ms < cut <= b.t_ms for cut in excluded_t_ms):
            continue
        if focus_ms is not None and not any(
            a.t_ms <= end and b.t_ms >= start for start, end in focus_ms
        ):
            continue
        change = abs(b.yaw_deg - a.yaw_deg) + abs(b.pitch_deg - a.pitch_deg)
        if change >= PLANAR_MIN_POSE_CHANGE_DEG:
            candidates.append((change, i, i + span))
    candidates.sort(reverse=True)
    judged: list[tuple[float, float, int]] = []
    starts: list[int] = []
    for _change, i, j in candidates:
        if len(judged) >= PLANAR_WINDOWS:
            break
        if any(abs(i - s) < span for s in starts):
            continue
        a, b = observations[i], observations[j]
        # the claimed change (four pose fits, ~3 ms) only for the windows that may be judged
        height, width = frames[a.index].gray.shape[:2]
        if claimed_pose_change(a, b, width, height) < PLANAR_MIN_POSE_CHANGE_DEG:
            continue
        starts.append(i)
        result = _window(frames[a.index], frames[b.index], a, b)
        if result is None or result[1] < PLANAR_MIN_MOTION:
            continue
        judged.append((result[0], result[1], a.t_ms))
    if not judged:
        return None
    fractions = [f for f, _, _ in judged]
    return PlanarScores(
        nonplanar_fraction=float(np.median(fractions)),
        windows=len(judged),
        motion=float(np.median([m for _, m, _ in judged])),
        window_t_ms=tuple(sorted(s for _, _, s in judged)),
    )
