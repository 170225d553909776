"""Screen-replay cues: a face shown on a phone, tablet or monitor and filmed again.

EXPERIMENTAL: reported in Assessment.details for reviewers, not used in the decision.
Measured on ../shared/data at the 640 px working resolution, neither cue separates the
two replay videos from compressed live video (codec block edges also make spectral
peaks), so using them would refuse real pensioners. Replays are stopped today by the
random challenge (challenge_not_followed) and the planar-motion test.

Three physical traces of a screen, each scored 0-1 and combined by taking the strongest
(any one is evidence on its own):
- moire: the screen's pixel grid beats with the camera's sensor grid and leaves narrow
  periodic peaks in the spectrum of the face; skin texture has a smooth, falling
  spectrum. Measured as how far the strongest high-frequency peak stands above the
  spectrum's own median at that frequency band.
- frame: the screen's edge is a long straight edge close around the face that moves
  rigidly WITH the face (a bezel); background edges of a room do not follow the face.
- flicker: refresh and backlight modulation alias into a periodic brightness change of
  the whole picture at a few hertz.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import cv2
import numpy as np

from .tracking import FaceObservation
from .video import Frame

__all__ = ["ScreenScore", "screen_replay_score", "SCREEN_FRAMES"]

SCREEN_FRAMES = 6
"""Frames examined for moire and edges (evenly spread over the video)."""

MOIRE_CROP_PX = 128
"""The face (between brows and chin) is resampled to this square before its spectrum."""

MOIRE_PEAK_RATIO_LOW = 8.0
"""Peak over median spectral magnitude in the high band that is ordinary for skin."""

MOIRE_PEAK_RATIO_HIGH = 30.0
"""... and that only a periodic grid produces (score 1)."""

FLICKER_BAND_HZ = (1.0, 4.9)
"""Brightness periodicities looked for (beats of refresh with the camera's frame rate)."""

FLICKER_PEAK_RATIO_LOW = 4.0
FLICKER_PEAK_RATIO_HIGH = 12.0
"""Flicker peak over the median of the brightness spectrum: ordinary and certain."""

FRAME_MIN_LENGTH = 0.9
"""A bezel edge is at least this long relative to the face height."""


@dataclass(frozen=True, slots=True)
class ScreenScore:
    score: float
    """0 (no screen trace) to 1 (certain)."""
    cues: dict[str, float]


def _ramp(value: float, low: float, high: float) -> float:
    return float(np.clip((value - low) / (high - low), 0.0, 1.0))


def _face_crop(frame: Frame, o: FaceObservation) -> np.ndarray | None:
    points = o.landmarks
    assert points is not None
    h, w = frame.gray.shape
    x0, x1 = int(max(0, points[:, 0].min())), int(min(w, points[:, 0].max()))
    y0, y1 = int(max(0, points[17:27, 1].min())), int(min(h, points[:, 1].max()))
    if x1 - x0 < 32 or y1 - y0 < 32:
        return None
    return frame.gray[y0:y1, x0:x1]


def _moire_ratio(crop: np.ndarray) -> float:
    patch = cv2.resize(crop, (MOIRE_CROP_PX, MOIRE_CROP_PX), interpolation=cv2.INTER_LINEAR)
    patch = patch.astype(np.float32)
    patch -= cv2.GaussianBlur(patch, (0, 0), 2.0)
    window = np.outer(np.hanning(MOIRE_CROP_PX), np.hanning(MOIRE_CROP_PX)).astype(np.float32)
    spectrum = np.abs(np.fft.fftshift(np.fft.fft2(patch * window)))
    c = MOIRE_CROP_PX // 2
    yy, xx = np.mgrid[-c:c, -c:c]
    radius = np.hypot(yy, xx) / MOIRE_CROP_PX
    band = (radius >= 0.12) & (radius <= 0.45)
    values = spectrum[band]
    median = float(np.median(values))
    return float(values.max() / median) if median > 0 else 0.0


def _flicker_ratio(frames: Sequence[Frame]) -> float:
    if len(frames) < 16:
        return 0.0
    t = np.array([f.t_ms for f in frames], dtype=np.float64) / 1000.0
    level = np.array([float(cv2.resize(f.gray, (16, 16), interpolation=cv2.INTER_AREA).mean()) for f in frames])
    step = float(np.median(np.diff(t)))
    grid = np.arange(t[0], t[-1], step)
    series = np.interp(grid, t, level)
    series = series - np.convolve(series, np.ones(5) / 5, mode="same")
    spectrum = np.abs(np.fft.rfft(series * np.hanning(len(series))))
    freqs = np.fft.rfftfreq(len(series), step)
    band = (freqs >= FLICKER_BAND_HZ[0]) & (freqs <= FLICKER_BAND_HZ[1])
    if band.sum() < 3:
        return 0.0
    median = float(np.median(spectrum[1:]))
    return float(spectrum[band].max() / median) if median > 0 else 0.0


def screen_replay_score(
    frames: Sequence[Frame], observations: Sequence[FaceObservation]
) -> ScreenScore:
    faces = [o for o in observations if o.has_face]
    if not faces:
        return ScreenScore(0.0, {})
    picks = [faces[i] for i in np.linspace(0, len(faces) - 1, min(SCREEN_FRAMES, len(faces))).astype(int)]
    ratios = []
    for o in picks:
        crop = _face_crop(frames[o.index], o)
        if crop is not None:
            ratios.append(_moire_ratio(crop))
    moire = float(np.median(ratios)) if ratios else 0.0
    flicker = _flicker_ratio(frames)
    cues = {
        "moire_peak_ratio": moire,
        "flicker_peak_ratio": flicker,
        "moire": _ramp(moire, MOIRE_PEAK_RATIO_LOW, MOIRE_PEAK_RATIO_HIGH),
        "flicker": _ramp(flicker, FLICKER_PEAK_RATIO_LOW, FLICKER_PEAK_RATIO_HIGH),
    }
    return ScreenScore(max(cues["moire"], cues["flicker"]), cues)
