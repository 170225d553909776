"""A digital exposure gain for dim faces: what the landmark model and the embedder see.

Both models were trained on well-exposed faces and read grey-level differences, which a
dim face (a room short of light, a window behind the pensioner) makes small. A face
whose mean luma is below DIM_FACE_MEAN is brightened, around its box, before either model
sees it; light and focus are still judged on the original pixels.
"""

from __future__ import annotations

import cv2
import numpy as np

__all__ = [
    "DIM_FACE_MEAN",
    "LANDMARK_MAX_GAIN",
    "LANDMARK_TARGET_MEAN",
    "UNDEREXPOSED_HIGHLIGHT",
    "brightened_around",
    "exposure_gain",
]

DIM_FACE_MEAN = 90.0
"""A face whose mean luma is below this is brightened (a digital exposure gain up to
LANDMARK_TARGET_MEAN). The landmark predictor's features are raw grey-level differences,
learned on well-exposed faces: measured on real clips darkened to 55% (face luma ~65), it
missed every open mouth of frontal_mouth_open_m5 and the blink of
talking_speech_man_suit_vr1, and found them all again with the gain. The embedder gets the
same gain when the picture is underexposed (UNDEREXPOSED_HIGHLIGHT; engine 0.6.6): on the 18
bona fide clips of bench/robustness.py darkened to 35% (face luma 35-68), the fused probe's
distance to the clip's own probe as recorded fell from 0.14-0.26 (mean 0.19) to 0.09-0.23
(mean 0.14); 17 of 18 came closer. Faces at or above this level are left exactly as they
are. A contrast stretch of flat faces (luma std < 24, as back light leaves them) was tried
and left out (2026-12-06): it found the open mouths of two back-lit clips
(bench/robustness.py back light 3 -> 1 wrong of 11), but the stretched noise of a back-lit
photo made its landmarks fake nods and turns, and an animated photo passed the challenge."""

UNDEREXPOSED_HIGHLIGHT = 100.0
"""The embedder gets the gain only when even the face's highlights (98th percentile of its
luma) are below this: a picture short of light, not a dark skin in good light. The
embedder, unlike the landmark model, reads the skin's shade as part of the face: measured
(2026-12-07), the 17 photos of people/ with face luma under 100 (a dark-skinned man's 10
among them) have highlights at 159-244, and giving them the gain moved photo-pair verdicts
the wrong way (bench/evaluate.py --quick: accepted 82.2% -> 81.5% with original photos,
74.6% -> 73.5% greyscale). Faces of clips darkened to 35% light have highlights at 50-87,
every clip of videos/ as recorded 92-221 (the 92: a webcam in a dim room, which gets the
gain)."""

LANDMARK_TARGET_MEAN = 128.0
"""Mean face luma that the exposure gain restores."""

LANDMARK_MAX_GAIN = 4.0
"""Largest exposure gain: darker than 1/4 of the target is too_dark anyway, and more
gain only amplifies noise."""


def exposure_gain(face_mean: float) -> float:
    """The digital exposure gain a face of this mean luma gets (1.0 when not dim)."""
    if face_mean >= DIM_FACE_MEAN or face_mean <= 0:
        return 1.0
    return min(LANDMARK_MAX_GAIN, LANDMARK_TARGET_MEAN / face_mean)


def brightened_around(
    image: np.ndarray, left: float, top: float, right: float, bottom: float,
    *, highlights_below: float | None = None,
) -> np.ndarray:
    """`image` (grey or RGB) with a dim face brightened: the face box's exposure gain applied
    to the box and half its size around it. The same array when the face is not dim, or,
    with `highlights_below`, when the 98th percentile of its luma is not below that."""
    h, w = image.shape[:2]
    x0, y0 = int(max(0, left)), int(max(0, top))
    x1, y1 = int(min(w, right)), int(min(h, bottom))
    if x1 - x0 < 8 or y1 - y0 < 8:
        return image
    face = image[y0:y1, x0:x1]
    luma = face if face.ndim == 2 else cv2.cvtColor(np.ascontiguousarray(face), cv2.COLOR_RGB2GRAY)
    gain = exposure_gain(float(luma.mean()))
    if gain == 1.0:
        return image
    if highlights_below is not None and float(np.percentile(luma, 98)) >= highlights_below:
        return image
    margin_x, margin_y = int(0.5 * (x1 - x0)), int(0.5 * (y1 - y0))
    ax0, ay0 = max(0, x0 - margin_x), max(0, y0 - margin_y)
    ax1, ay1 = min(w, x1 + margin_x), min(h, y1 + margin_y)
    brightened = image.copy()
    region = image[ay0:ay1, ax0:ax1].astype(np.float32) * gain
    brightened[ay0:ay1, ax0:ax1] = np.clip(region, 0, 255).astype(np.uint8)
    return brightened
