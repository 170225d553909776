"""Measures of one face from its 68 landmarks: eyes, mouth, size and head pose.

Landmark indices follow the iBUG 300-W layout that dlib's predictor uses. "Image-left"
means the left of the picture as stored (the pensioner's right eye when not mirrored).
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

__all__ = [
    "CHIN",
    "HeadPose",
    "IMAGE_LEFT_EYE",
    "IMAGE_RIGHT_EYE",
    "INNER_LIPS",
    "NOSE_TIP",
    "eye_aspect_ratio",
    "eye_aspect_ratios",
    "head_pose",
    "interocular_px",
    "landmark_box",
    "mouth_aspect_ratio",
    "mouth_width_ratio",
    "similarity_transform",
    "upper_lid_openings",
]

IMAGE_LEFT_EYE = slice(36, 42)
IMAGE_RIGHT_EYE = slice(42, 48)
INNER_LIPS = slice(60, 68)
NOSE_TIP = 30
CHIN = 8

# A generic adult head (millimetres; x to the face's left as seen in the image, y up,
# z out of the face toward the viewer), for the six landmarks that barely move with
# expressions. Proportions from anthropometric averages; only ratios matter.
_MODEL_POINTS_MM = np.array(
    [
        (0.0, 0.0, 0.0),  # 30 nose tip
        (0.0, -63.6, -12.5),  # 8 chin
        (-43.3, 32.7, -26.0),  # 36 outer corner of the image-left eye
        (43.3, 32.7, -26.0),  # 45 outer corner of the image-right eye
        (-28.9, -28.9, -24.1),  # 48 image-left mouth corner
        (28.9, -28.9, -24.1),  # 54 image-right mouth corner
    ],
    dtype=np.float64,
)
_MODEL_LANDMARKS = (30, 8, 36, 45, 48, 54)


@dataclass(frozen=True, slots=True)
class HeadPose:
    """Head orientation relative to the camera, in degrees."""

    yaw_deg: float
    """Positive when the nose points toward image-RIGHT."""
    pitch_deg: float
    """Positive when the nose points DOWN (chin toward the chest)."""
    roll_deg: float
    """Positive when the head tilts clockwise in the image."""


def _span(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.hypot(*(a - b)))


def eye_aspect_ratios(points: np.ndarray) -> tuple[float, float]:
    """Eye aspect ratio (Soukupova & Cech 2016) of the image-left and image-right eye.

    Height over width of the eye outline: about 0.25-0.35 open, under 0.15 closed.
    """
    ratios = []
    for eye in (points[IMAGE_LEFT_EYE], points[IMAGE_RIGHT_EYE]):
        width = _span(eye[0], eye[3])
        height = _span(eye[1], eye[5]) + _span(eye[2], eye[4])
        ratios.append(height / (2.0 * width) if width > 0 else 0.0)
    return ratios[0], ratios[1]


def eye_aspect_ratio(points: np.ndarray) -> float:
    """Mean eye aspect ratio of both eyes."""
    left, right = eye_aspect_ratios(points)
    return (left + right) / 2.0


def upper_lid_openings(points: np.ndarray) -> tuple[float, float]:
    """How far each upper eyelid sits above its eye-corner line, over the eye width.

    A blink brings the upper lid down to the corner line (opening -> 0); a smile or a
    squint narrows the eye from below and leaves the upper lid where it was, so this
    separates blinks from smiles where the eye aspect ratio cannot.
    """
    openings = []
    for corner_a, corner_b, upper in ((36, 39, (37, 38)), (42, 45, (43, 44))):
        a, b = points[corner_a].astype(np.float64), points[corner_b].astype(np.float64)
        axis = b - a
        width = float(np.hypot(*axis))
        if width <= 0:
            openings.append(0.0)
            continue
        down = np.array([-axis[1], axis[0]]) / width  # image y grows downward
        heights = [-float(np.dot(points[i] - a, down)) for i in upper]
        openings.append(float(np.mean(heights)) / width)
    return openings[0], openings[1]


def mouth_width_ratio(points: np.ndarray) -> float:
    """Mouth-corner distance over the eye distance (grows with a smile)."""
    iod = interocular_px(points)
    return _span(points[48], points[54]) / iod if iod > 0 else 0.0


def mouth_aspect_ratio(points: np.ndarray) -> float:
    """Inner-lip opening over mouth width: about 0 closed, 0.3 talking, 0.6+ wide open."""
    lips = points[INNER_LIPS]
    width = _span(lips[0], lips[4])
    height = _span(lips[1], lips[7]) + _span(lips[2], lips[6]) + _span(lips[3], lips[5])
    return height / (3.0 * width) if width > 0 else 0.0


def interocular_px(points: np.ndarray) -> float:
    """Distance between the two eye centres, the face's own unit of length."""
    return _span(points[IMAGE_LEFT_EYE].mean(axis=0), points[IMAGE_RIGHT_EYE].mean(axis=0))


def landmark_box(points: np.ndarray) -> tuple[float, float, float, float]:
    """(left, top, right, bottom) of the landmarks."""
    left, top = points.min(axis=0)
    right, bottom = points.max(axis=0)
    return float(left), float(top), float(right), float(bottom)


def similarity_transform(points: np.ndarray, target: np.ndarray) -> np.ndarray:
    """The shift, in-plane turn and scale (2 x 3, applied as `x @ m[:, :2].T + m[:, 2]`)
    that best lays `points` on `target` (least squares, Umeyama): what a phone moving in
    front of a still face does to its landmarks."""
    mu_p, mu_t = points.mean(axis=0), target.mean(axis=0)
    p, q = points - mu_p, target - mu_t
    u, sigma, vt = np.linalg.svd(q.T @ p)
    d = np.sign(np.linalg.det(u @ vt))
    flip = np.diag([1.0, d])
    rotation = u @ flip @ vt
    var = float((p * p).sum())
    scale = float((sigma * np.diag(flip)).sum()) / var if var > 0 else 1.0
    linear = scale * rotation
    return np.hstack([linear, (mu_t - linear @ mu_p)[:, None]])


def head_pose(points: np.ndarray, image_width: int, image_height: int) -> HeadPose:
    """Head yaw, pitch and roll from six stable landmarks and a generic 3D head.

    Solves the perspective-n-point problem (cv2.solvePnP) with a pinhole camera whose
    focal length is the image width (a typical phone front camera's field of view) and
    reads the angles from where the face's forward axis points, which avoids the
    ambiguities of Euler angles. Absolute pitch depends on where the phone is held;
    the engine uses changes against the person's own baseline.
    """
    image_points = points[list(_MODEL_LANDMARKS)].astype(np.float64)
    focal = float(image_width)
    camera = np.array(
        [[focal, 0.0, image_width / 2.0], [0.0, focal, image_height / 2.0], [0.0, 0.0, 1.0]]
    )
    # model y is up, image y is down: flip the model so a frontal face needs no rotation
    model = _MODEL_POINTS_MM * np.array([1.0, -1.0, -1.0])
    # start from a frontal head at the distance its eye span implies, so that the
    # iterative solver stays away from the mirror-image solution (face seen from behind)
    eye_span_px = max(1.0, _span(points[36], points[45]))
    model_span = float(_MODEL_POINTS_MM[3, 0] - _MODEL_POINTS_MM[2, 0])
    rvec0 = np.zeros((3, 1))
    tvec0 = np.array([[0.0], [0.0], [focal * model_span / eye_span_px]])
    ok, rvec, _tvec = cv2.solvePnP(
        model, image_points, camera, None, rvec0, tvec0, True, cv2.SOLVEPNP_ITERATIVE
    )
    if not ok:
        return HeadPose(0.0, 0.0, 0.0)
    rotation, _ = cv2.Rodrigues(rvec)
    # in the flipped model the face looks along -z (toward the camera)
    forward = rotation @ np.array([0.0, 0.0, -1.0])
    up = rotation @ np.array([0.0, -1.0, 0.0])
    yaw = float(np.degrees(np.arctan2(forward[0], -forward[2])))
    pitch = float(np.degrees(np.arctan2(forward[1], -forward[2])))
    roll = float(np.degrees(np.arctan2(up[0], -up[1])))
    return HeadPose(yaw_deg=yaw, pitch_deg=pitch, roll_deg=roll)
