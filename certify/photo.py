"""Checking a reference photo for enrolment: one face, whole, large, lit, frontal.

A bad reference makes every later certification of that pensioner fail or go to review,
so the photo is refused at enrolment with a reason the staff member can act on.
"""

from __future__ import annotations

import cv2
import numpy as np

from .backend import FaceBackend
from .evidence import PhotoCheck
from .geometry import head_pose, interocular_px, landmark_box
from .reasons import Reason
from .references import ReferenceClass, reference_class
from .thresholds import CURRENT_THRESHOLDS, Thresholds
from .tracking import QUALITY_CROP_PX, SECOND_FACE_MIN_RELATIVE_SIZE

__all__ = [
    "check_reference_photo",
    "photo_quality_score",
    "is_greyscale",
    "PHOTO_DETECT_MAX_SIDE_PX",
    "PHOTO_MAX_YAW_DEG",
    "PHOTO_SMALL_SIDE_PX",
    "PHOTO_BOX_OUTSIDE_MAX",
    "PHOTO_CUT_OFF_MARGIN",
    "GREYSCALE_MAX_CHANNEL_SPREAD",
]

PHOTO_DETECT_MAX_SIDE_PX = 640
"""Photos are searched for faces at this longer side, upsampled once (faces >= 40 px)."""

PHOTO_SMALL_SIDE_PX = 320
"""Photos this small (cropped face chips, ID-card photos of 102 x 126 px) are upsampled
twice for detection: HOG then finds faces down to ~20 px wide."""

GREYSCALE_MAX_CHANNEL_SPREAD = 3.0
"""A photo whose red, green and blue differ by less than this on average (0-255) is
greyscale (a black-and-white scan): it is matched in the `card` class."""

PHOTO_BOX_OUTSIDE_MAX = 0.15
"""The detector's face box may reach this far (fraction of its width) past the photo's
edge; a half face cut by the edge reaches ~0.25 (people/_hard/obama_partial_face.jpg)."""

PHOTO_MAX_YAW_DEG = 40.0
"""A reference must show the face roughly from the front: more yaw than this is
not_frontal (the embedding degrades beyond a three-quarter view)."""

PHOTO_CUT_OFF_MARGIN = 0.08
"""Landmarks may lie this far (fraction of face width) outside the photo before the face
counts as cut off: tightly cropped face chips end just under the chin."""


def check_reference_photo(
    rgb: np.ndarray, *, backend: FaceBackend, thresholds: Thresholds = CURRENT_THRESHOLDS
) -> PhotoCheck:
    """Whether an upright RGB photo can serve as a reference, and its embedding if so."""
    th = thresholds
    rgb = np.ascontiguousarray(rgb, dtype=np.uint8)
    gray = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
    h, w = gray.shape
    factor = min(1.0, PHOTO_DETECT_MAX_SIDE_PX / max(h, w))
    small = gray if factor == 1.0 else cv2.resize(
        gray, (int(w * factor), int(h * factor)), interpolation=cv2.INTER_AREA
    )
    upsample = 2 if max(h, w) <= PHOTO_SMALL_SIDE_PX else 1
    boxes = [b.scaled(1.0 / factor) for b in backend.detector.detect(small, upsample=upsample)]
    version = backend.model_version
    if not boxes:
        return PhotoCheck(reason=Reason.NO_FACE, model_version=version)
    main = max(boxes, key=lambda b: b.width)
    box_tuple = (int(main.top), int(main.right), int(main.bottom), int(main.left))
    others = [b for b in boxes if b is not main and b.width >= SECOND_FACE_MIN_RELATIVE_SIZE * main.width]
    if others:
        return PhotoCheck(reason=Reason.MULTIPLE_FACES, face_box=box_tuple, model_version=version)
    points = backend.landmarker.landmarks(gray, main)
    left, top, right, bottom = landmark_box(points)
    face_w = right - left
    margin = PHOTO_CUT_OFF_MARGIN * face_w
    iod = interocular_px(points)
    pose = head_pose(points, w, h)
    x0, x1 = int(max(0, left)), int(min(w, right))
    y0, y1 = int(max(0, points[19:25, 1].min())), int(min(h, bottom))
    crop = gray[y0:y1, x0:x1]
    brightness = float(crop.mean()) if crop.size else 0.0
    overexposed = float((crop >= 250).mean()) if crop.size else 0.0
    sharpness = 0.0
    if crop.size >= 16:
        scale = QUALITY_CROP_PX / crop.shape[1]
        norm = cv2.resize(
            crop, (QUALITY_CROP_PX, max(8, int(crop.shape[0] * scale))),
            interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR,
        )
        sharpness = float(cv2.Laplacian(norm, cv2.CV_32F).var())
    greyscale = is_greyscale(rgb)
    quality_class = reference_class(interocular_px=iod, greyscale=greyscale, th=th)
    quality = {
        "width_px": float(w),
        "height_px": float(h),
        "greyscale": float(greyscale),
        "interocular_px": iod,
        "yaw_deg": pose.yaw_deg,
        "brightness": brightness,
        "overexposed_fraction": overexposed,
        "sharpness": sharpness,
        "detector_score": main.score,
    }
    reason: Reason | None = None
    box_out = max(-main.left, -main.top, main.right - w, main.bottom - h) / max(main.width, 1.0)
    quality["box_outside_fraction"] = float(box_out)
    if (
        left < -margin or top < -margin or right > w + margin or bottom > h + margin
        or box_out > PHOTO_BOX_OUTSIDE_MAX
    ):
        reason = Reason.FACE_CUT_OFF
    elif iod < th.reference_min_interocular_px:
        reason = Reason.REFERENCE_TOO_SMALL
    elif brightness < th.min_brightness:
        reason = Reason.TOO_DARK
    elif brightness > th.max_brightness or overexposed > th.max_overexposed_fraction:
        reason = Reason.TOO_BRIGHT
    elif sharpness < th.min_sharpness and quality_class is ReferenceClass.FULL:
        # a small photo is blurred by nature once scaled to the embedder's 150 px chip;
        # its class band already allows for that, so only a large face must be sharp
        reason = Reason.BLURRY
    elif abs(pose.yaw_deg) > PHOTO_MAX_YAW_DEG:
        reason = Reason.NOT_FRONTAL
    quality["score"] = photo_quality_score(
        interocular_px=iod, sharpness=sharpness, yaw_deg=pose.yaw_deg, greyscale=greyscale
    )
    if reason is not None:
        return PhotoCheck(
            reason=reason, face_box=box_tuple, model_version=version, quality=quality,
            quality_class=quality_class.value,
        )
    embedding = backend.embedder.embed(rgb, points)
    return PhotoCheck(
        reason=None,
        embedding=embedding,
        face_box=box_tuple,
        model_version=version,
        quality=quality,
        quality_class=quality_class.value,
    )


def is_greyscale(rgb: np.ndarray) -> bool:
    """Whether the three colour channels carry (almost) the same picture."""
    small = rgb[:: max(1, rgb.shape[0] // 128), :: max(1, rgb.shape[1] // 128)].astype(np.int16)
    spread = np.abs(small[..., 0] - small[..., 1]) + np.abs(small[..., 1] - small[..., 2])
    return float(spread.mean()) / 2.0 < GREYSCALE_MAX_CHANNEL_SPREAD


def photo_quality_score(
    *, interocular_px: float, sharpness: float, yaw_deg: float, greyscale: bool
) -> float:
    """0-1, higher is a better reference: size (full marks from 60 px between the eyes),
    sharpness (from 40, as frames are scored for probes), a frontal pose, colour."""
    size = min(1.0, interocular_px / 60.0)
    sharp = min(1.0, sharpness / 40.0)
    frontal = max(0.0, 1.0 - (abs(yaw_deg) / PHOTO_MAX_YAW_DEG) ** 2)
    colour = 0.9 if greyscale else 1.0
    return round(size * (0.5 + 0.5 * sharp) * (0.5 + 0.5 * frontal) * colour, 4)
