"""Cuts and splices: was the recording edited (two clips joined, a shot changed)?

A continuous recording changes smoothly: between two samples 100 ms apart the picture
changes by about as much as between the samples around them, whatever the motion. A cut
replaces the WHOLE picture at once, so the change between the two samples on either
side of it stands out as an isolated spike against its neighbours, in every part of the
picture. The change is therefore measured in the quietest quarter of the picture (the
25th percentile over a 4 x 4 grid of cells, CUT_CELL_PERCENTILE): a hand waved in front
of the face or a caption appearing changes a few cells, a cut changes them all. This
holds when both clips show look-alike people in look-alike rooms (where identity cannot
tell them apart), because lighting, framing and background never line up exactly.

A phone held in a shaking hand moves the whole picture between samples, so both measures
first undo the camera's own motion (an affine fit of one thumbnail onto the next, ECC).
The picture change is the smallest left by no motion or by a fitted one: one jerk of a
shaken phone changed the picture 7.0 times as much as its neighbours (a lip-sync selfie
under bench/robustness.py's hand shake), as much as a cut, and 1.8 once undone. A cut
into or out of a fast-moving clip still hides among large changes, so the second measure
asks how much of each cell's pattern survived the fit (1 - normalised correlation per
cell, quietest quarter): shake and a moving person leave most cells correlated after the
fit, a cut leaves none. Repeated frames (slow motion, a phone short of light) are left
out of the neighbours a change is compared with.
Face jumps (the face centre or size changing abruptly) are recorded as evidence too;
they are not used alone, because a track lost in a head turn jumps the same way.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import cv2
import numpy as np

from .tracking import FaceObservation
from .video import Frame, luma_thumbnail

__all__ = [
    "ALIGNED_CELL_VARIANCE_FLOOR",
    "ALIGNED_GAP_MS",
    "ALIGNED_MARGIN",
    "ALIGNED_NOISE_FLOOR",
    "ALIGNED_THUMBNAIL_PX",
    "CUT_CELL_PERCENTILE",
    "CUT_GRID",
    "CUT_MAX_GAP_MS",
    "CUT_NEIGHBOURS",
    "CUT_NOISE_FLOOR",
    "CUT_REPEATED_FRAME_CHANGE",
    "CutScores",
    "THUMBNAIL_CONTRAST",
    "THUMBNAIL_MIN_STD",
    "THUMBNAIL_PX",
    "cut_scores",
]

THUMBNAIL_PX = 32
"""Frames are compared as THUMBNAIL_PX square luma thumbnails: noise and compression
artefacts average out, and a shot change still changes every cell."""

CUT_NEIGHBOURS = 5
"""The change between two samples is compared with the median change of up to this many
sample pairs on each side."""

CUT_NOISE_FLOOR = 1.0
"""Added to the neighbours' median change (grey levels): a cut out of a perfectly still
picture must still change the picture visibly."""

CUT_REPEATED_FRAME_CHANGE = 0.1
"""A picture change below this (grey levels of the normalised thumbnails) is the same frame
sampled twice: slow motion, or a phone that repeats frames when the light is low or the
processor busy. Such pairs carry no motion and are left out of the neighbours whose
median a change is compared with (measured: repeated frames of a slowed-down clip change
by 0.00-0.05, the pairs between them by 0.14 and more; with the repeats counted, the
median halved and a talking head slowed x0.5 spiked 5.4)."""

CUT_GRID = 4
"""The thumbnail is divided into CUT_GRID x CUT_GRID cells whose changes are compared."""

CUT_CELL_PERCENTILE = 25.0
"""The picture change between two samples is this percentile of the cells' changes: a
cut changes even the quietest quarter of the picture. Measured (bench/evaluate.py
clips): with the whole-picture mean, a vlogger's hands gesturing near her face spiked
7.6 and a zoom jump 6.0 against spliced clips' 9.2-13.3; with the quietest quarter the
live clips peak at 4.5 (the zoom jump) and 3.0 (the hands), the splices at 10.6-23.4 and
the stage clip's shot change at 11.2."""

CUT_MAX_GAP_MS = 250
"""Only consecutive samples at most this far apart are compared."""

THUMBNAIL_CONTRAST = 50.0
"""Thumbnails are normalised to zero mean and this standard deviation (grey levels)
before they are compared: a phone's auto-exposure or white balance stepping, or a light
switched on, changes the whole picture's level and contrast but not its layout, which
is what a cut replaces."""

THUMBNAIL_MIN_STD = 8.0
"""Floor of the standard deviation used for normalising, so that the noise of a nearly
uniform (dark, covered) picture is not blown up into change."""


ALIGNED_THUMBNAIL_PX = 64
"""Side of the thumbnails on which the camera's motion between two samples is fitted:
at 32 px a shake of a few pixels is below one thumbnail pixel and fits badly."""

ALIGNED_MARGIN = 8
"""Pixels of the aligned thumbnails left out at each edge, where the fitted motion
brings in picture from outside the frame."""

ALIGNED_CELL_VARIANCE_FLOOR = 9.0
"""Added to each cell's variance (normalised grey levels squared, i.e. a standard
deviation of 3 against the thumbnail's 50) before correlating, so that a flat cell (a
white wall) whose only change is noise does not count as decorrelated."""

ALIGNED_NOISE_FLOOR = 0.05
"""Added to the neighbours' median decorrelation, as CUT_NOISE_FLOOR: a cut out of a
perfectly still picture must still decorrelate the picture visibly."""

ALIGNED_GAP_MS = 100
"""The decorrelation between two samples is scaled to this gap between them (the working
sample rate, 10 per second), so that uneven frame times do not make spikes."""

_ECC_CRITERIA = (cv2.TERM_CRITERIA_EPS | cv2.TERM_CRITERIA_COUNT, 30, 1e-4)


@dataclass(frozen=True, slots=True)
class CutScores:
    spike: float
    """Largest picture change between consecutive samples over the median change of its
    neighbours (1 = ordinary, >= cut_min_spike = a cut)."""
    spike_t_ms: int | None
    """Time of the sample after the largest spike."""
    change: float
    """That picture change (mean absolute difference of the normalised thumbnails)."""
    cut_t_ms: tuple[int, ...]
    """Times of every spike at or above the threshold used (after-cut samples)."""
    max_face_jump: float
    """Largest move of the face centre between consecutive samples, in interocular units."""
    max_face_size_ratio: float
    """Largest change of face size between consecutive samples (>= 1)."""
    aligned_spike: float = 0.0
    """Largest decorrelation between consecutive samples after the camera's motion is
    undone, over the median of its neighbours (>= cut_min_aligned_spike = a cut)."""
    aligned_spike_t_ms: int | None = None
    """Time of the sample after the largest aligned spike."""


def _spikes(changes: np.ndarray, floor: float, repeated_below: float = 0.0) -> np.ndarray:
    """Each change over the median change of its neighbours (plus a noise floor). Neighbours
    that changed by less than `repeated_below` are repeated frames and left out, unless
    fewer than two others remain."""
    spikes = np.zeros_like(changes)
    for i in range(len(changes)):
        if np.isnan(changes[i]):
            continue
        around = np.r_[changes[max(0, i - CUT_NEIGHBOURS) : i], changes[i + 1 : i + 1 + CUT_NEIGHBOURS]]
        around = around[~np.isnan(around)]
        moving = around[around >= repeated_below]
        if len(moving) >= 2:
            around = moving
        if len(around) == 0:
            continue
        spikes[i] = changes[i] / (float(np.median(around)) + floor)
    return spikes


def _cells(thumb: np.ndarray) -> np.ndarray:
    inner = thumb[ALIGNED_MARGIN:-ALIGNED_MARGIN, ALIGNED_MARGIN:-ALIGNED_MARGIN]
    c = inner.shape[0] // CUT_GRID
    cells = inner[: c * CUT_GRID, : c * CUT_GRID].reshape(CUT_GRID, c, CUT_GRID, c)
    flat = cells.transpose(0, 2, 1, 3).reshape(CUT_GRID * CUT_GRID, -1)
    return flat - flat.mean(axis=1, keepdims=True)


def _decorrelation(before: np.ndarray, after: np.ndarray, warp: np.ndarray) -> float:
    size = before.shape[1], before.shape[0]
    back = cv2.warpAffine(after, warp, size, flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
                          borderMode=cv2.BORDER_REFLECT)
    a, b = _cells(before), _cells(back)
    n = a.shape[1]
    var_a = (a * a).sum(axis=1) / n + ALIGNED_CELL_VARIANCE_FLOOR
    var_b = (b * b).sum(axis=1) / n + ALIGNED_CELL_VARIANCE_FLOOR
    correlation = (a * b).sum(axis=1) / n / np.sqrt(var_a * var_b)
    return float(np.percentile(1.0 - correlation, CUT_CELL_PERCENTILE))


def _aligned_decorrelation(before: np.ndarray, after: np.ndarray) -> tuple[float, list[np.ndarray]]:
    """How much of the picture's pattern did not survive from `before` to `after` once the
    camera's motion (affine) is undone: the quietest quarter of 1 - cell correlation, and
    the motions fitted (2 x 3, `after` coordinates from `before` ones).

    ECC refines an affine fit from a starting guess and can settle on the wrong motion: from
    no motion it loses its way on a shift of many pixels, from the phase-correlation shift
    it can follow a face filling the picture instead of the room. Both starts are tried and
    the fit that explains the change best is kept: a cut is left unexplained by every fit."""
    (dx, dy), _ = cv2.phaseCorrelate(before.copy(), after.copy())  # it writes into its inputs
    best, warps = float("inf"), []
    shifted = np.array([[1.0, 0.0, dx], [0.0, 1.0, dy]], dtype=np.float32)
    for guess in (np.eye(2, 3, dtype=np.float32), shifted):
        try:
            _, warp = cv2.findTransformECC(before, after, guess.copy(), cv2.MOTION_AFFINE, _ECC_CRITERIA, None, 1)
        except cv2.error:  # no convergence from this start: judge the start itself
            warp = guess
        best = min(best, _decorrelation(before, after, warp))
        warps.append(warp)
    return best, warps


def _change(before: np.ndarray, after: np.ndarray) -> float:
    """The quietest quarter of the cells' mean absolute difference. The whole thumbnail is
    used, edges included: on a face filling the picture the quiet cells are the corners
    (measured: leaving 2 px out at each edge took a talking head slowed x0.5 from 3.2 to
    7.3)."""
    c = THUMBNAIL_PX // CUT_GRID
    per_cell = np.abs(after - before).reshape(CUT_GRID, c, CUT_GRID, c).mean(axis=(1, 3))
    return float(np.percentile(per_cell, CUT_CELL_PERCENTILE))


def _compensated_change(before: np.ndarray, after: np.ndarray, warps: Sequence[np.ndarray]) -> float:
    """The picture change from `before` to `after` (THUMBNAIL_PX thumbnails) with the
    camera's motion undone: the smallest change left by no motion or by any of `warps`
    (fitted at ALIGNED_THUMBNAIL_PX; the picture moved in from outside the frame is the
    reflection of its edge). A fit can go astray (measured: on a face filling a slowed-down
    clip, 7.9 with the fit against 3.3 without); a cut is left changed by every one."""
    size = before.shape[1], before.shape[0]
    best = _change(before, after)
    for warp in warps:
        scaled = warp.astype(np.float32)  # a copy: the shift is rescaled in place
        scaled[:, 2] *= THUMBNAIL_PX / ALIGNED_THUMBNAIL_PX
        back = cv2.warpAffine(after, scaled, size, flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
                              borderMode=cv2.BORDER_REFLECT)
        best = min(best, _change(before, back))
    return best


def _normalised(thumb: np.ndarray) -> np.ndarray:
    return (thumb - thumb.mean()) * (THUMBNAIL_CONTRAST / max(float(thumb.std()), THUMBNAIL_MIN_STD))


def cut_scores(
    frames: Sequence[Frame],
    observations: Sequence[FaceObservation],
    *,
    min_spike: float,
    min_aligned_spike: float = float("inf"),
) -> CutScores:
    """Spikes of picture change (cuts), as they are and with the camera's motion undone,
    and face jumps between consecutive samples."""
    thumbs = [_normalised(luma_thumbnail(f.gray, THUMBNAIL_PX)).astype(np.float32) for f in frames]
    fine = [_normalised(luma_thumbnail(f.gray, ALIGNED_THUMBNAIL_PX)).astype(np.float32) for f in frames]
    changes = np.full(max(0, len(frames) - 1), np.nan)
    decorrelations = np.full(max(0, len(frames) - 1), np.nan)
    for i in range(len(frames) - 1):
        if frames[i + 1].t_ms - frames[i].t_ms <= CUT_MAX_GAP_MS:
            decorrelation, warps = _aligned_decorrelation(fine[i], fine[i + 1])
            changes[i] = _compensated_change(thumbs[i], thumbs[i + 1], warps)
            # per 100 ms: phones record at uneven frame rates, and a pair of samples 133 ms
            # apart next to pairs 67 ms apart (15 fps sampled at 10) is not a cut
            gap = max(1, frames[i + 1].t_ms - frames[i].t_ms)
            decorrelations[i] = decorrelation * (ALIGNED_GAP_MS / gap)
    spikes = _spikes(changes, CUT_NOISE_FLOOR, CUT_REPEATED_FRAME_CHANGE)
    aligned = _spikes(decorrelations, ALIGNED_NOISE_FLOOR)
    best = int(np.argmax(spikes)) if len(spikes) else -1
    best_aligned = int(np.argmax(aligned)) if len(aligned) else -1
    cut_at = np.flatnonzero((spikes >= min_spike) | (aligned >= min_aligned_spike))
    cuts = tuple(frames[int(i) + 1].t_ms for i in cut_at)

    max_jump, max_ratio = 0.0, 1.0
    prev: FaceObservation | None = None
    for o in observations:
        if not o.has_face:
            prev = None
            continue
        if prev is not None and o.t_ms - prev.t_ms <= CUT_MAX_GAP_MS:
            unit = max(1.0, (prev.interocular_px + o.interocular_px) / 2.0)
            centre_a = prev.landmarks.mean(axis=0)  # type: ignore[union-attr]
            centre_b = o.landmarks.mean(axis=0)  # type: ignore[union-attr]
            max_jump = max(max_jump, float(np.linalg.norm(centre_b - centre_a)) / unit)
            sizes = sorted((max(prev.interocular_px, 1.0), max(o.interocular_px, 1.0)))
            max_ratio = max(max_ratio, sizes[1] / sizes[0])
        prev = o
    return CutScores(
        spike=float(spikes[best]) if best >= 0 else 0.0,
        spike_t_ms=frames[best + 1].t_ms if best >= 0 else None,
        change=float(changes[best]) if best >= 0 and not np.isnan(changes[best]) else 0.0,
        cut_t_ms=cuts,
        max_face_jump=max_jump,
        max_face_size_ratio=max_ratio,
        aligned_spike=float(aligned[best_aligned]) if best_aligned >= 0 else 0.0,
        aligned_spike_t_ms=frames[best_aligned + 1].t_ms if best_aligned >= 0 else None,
    )
