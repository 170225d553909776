"""Screen replay: a face shown on a phone, tablet or monitor and filmed again (and,
by the same trace, a print held up with its edges in view).

The trace used for the decision is the screen's own edge. A screen (and the window of
the video player on it) is a bright, straight-edged rectangle, and the replayed face
lies INSIDE it: long straight lines run alongside the face on three or four sides,
close to it, each spanning the face's whole height or width, and the face never
covers them. A live person's surroundings rarely do that: a door frame, a picture or a
window behind the head gives one or two such lines at most, and the head, being in
front of them, hides part of them.

Per examined frame, the sides of the face (left, right, above, below) that have such a
line are counted: line segments found by OpenCV's line segment detector (LSD, von Gioi
et al. 2010) in a crop around the face, within SIDE_REACH face sizes of it, nearly
parallel to that side (SIDE_MAX_TILT_DEG), collinear pieces merged, covering at least
SIDE_MIN_COVERAGE of the face's extent along that side. A side with many such parallel
lines (SIDE_MAX_PARALLEL_LINES: blinds, curtain folds, a striped wall) is a pattern and
has no edge, unless the pattern ends well inside the search area (PATTERN_END_SPACINGS:
a striped picture on a screen stops at the screen's edge). A frame with 3+ sides with an
edge is "enclosed"; the score is the share of enclosed frames.

Measured on ../shared/data: the monitor replay of m1 is enclosed in 11 of 12 examined
frames (the player window and the monitor's taskbar), the phone replay of m9 in 1 of
12 (its screen's left and top edges are found, the thumb hides the right one); no frame
of any bona fide clip has more than 2 sides (m3's picture frame, f1's door, vr4's
backdrop edges give 1-2) since the striped video wall of a TV studio (ffpp_real_519, 3
of 12 frames enclosed before) counts as a pattern (engine 0.6.7). The animated prints of
bench/attacks.py that show their own edges are caught the same way (the reason code stays
screen_replay: a picture of a face presented to the camera).

Spectral moire and refresh flicker were measured too (see `moire_ratio`,
`flicker_ratio`) and are not decided on: at the 640 px working resolution codec block
edges make the same spectral peaks in live video, and on un-downscaled face crops
(original resolution, codec block frequencies masked) the two real replays peak at
9.4 and 20 times the spectral median while live clips peak at 11-46.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache

import cv2
import numpy as np

from .tracking import FaceObservation
from .video import Frame

__all__ = [
    "CROP_FACE_HEIGHT_PX",
    "ENCLOSED_MIN_SIDES",
    "FLICKER_BAND_HZ",
    "FOREHEAD_FRACTION",
    "MOIRE_CROP_PX",
    "PATTERN_END_SPACINGS",
    "PATTERN_LINE_COVERAGE",
    "SCREEN_FRAMES",
    "SEGMENT_MIN_LENGTH",
    "SIDE_COLLINEAR_TOLERANCE",
    "SIDE_MAX_PARALLEL_LINES",
    "SIDE_MAX_TILT_DEG",
    "SIDE_MIN_COVERAGE",
    "SIDE_MIN_GAP",
    "SIDE_REACH",
    "ScreenScores",
    "flicker_ratio",
    "frame_sides",
    "moire_ratio",
    "screen_scores",
]

SCREEN_FRAMES = 12
"""Frames examined for screen edges, evenly spread over the frames with a face."""

SIDE_REACH = 1.5
"""How far from the face (in face widths or heights) a screen edge is looked for: the
face of a replayed selfie fills a third to two thirds of the screen."""

SIDE_MIN_GAP = 0.02
"""A line closer to the face than this (face sizes) is the face's own outline."""

SIDE_MAX_TILT_DEG = 15.0
"""A screen edge is within this angle of the side it runs along (a screen held by hand
or filmed slightly askew)."""

SIDE_MIN_COVERAGE = 0.7
"""Share of the face's height (left/right sides) or width (above/below) that collinear
line pieces on one side must cover."""

SIDE_COLLINEAR_TOLERANCE = 0.04
"""Pieces within this distance (face sizes) of each other count as one line."""

SEGMENT_MIN_LENGTH = 0.15
"""Line pieces shorter than this (face heights) are texture, not edges."""

SIDE_MAX_PARALLEL_LINES = 6
"""A side with more distinct parallel lines than this, each covering at least
PATTERN_LINE_COVERAGE of the face's extent, is a pattern (blinds, curtain folds, a
striped wall), not the edge of a screen or print: such a pattern always holds a line
that happens to run the face's whole height. A screen or a picture gives one line per
edge, with its bezel, frame or player window and the content's own background a few
more. Measured on the sides covered >= SIDE_MIN_COVERAGE in the 12 examined frames of
every clip of ../shared/data and of the attacks bench/evaluate.py makes: the monitor and
phone replays 1-3 lines, the simulated hand-held screens and the pictures held up by
their edges 1-5, every bona fide clip 1-3 except the TV studio's striped video wall
(ffpp_real_519), whose three "enclosed" frames had 7-13 on both the left and the right;
the curtain folds behind people/barack_obama/1.jpg, whose picture held up was "enclosed"
by its curtains in 5 of 12 frames (not by its edges), 7-11. 6 is the larger of the two
limits (5, 6) that separate edges from patterns here: the error left goes to catching a
screen. Where a pattern ends (PATTERN_END_SPACINGS), its last line can still be an edge."""

PATTERN_END_SPACINGS = 3.0
"""A pattern's outermost line is a screen's edge when no further line follows it for this
many of the pattern's own spacings before the side's room runs out (SIDE_REACH, or the
picture's border): the stripes of a picture on a screen stop at the screen's edge, while
a wall's go on behind the head. Without it, a replay of a recording made before a striped
wall would lose the screen's edges with the stripes (tests/unit/engine: a striped picture
in a frame keeps its four sides). Policy: a pattern that stops for three of its own
periods has ended. Measured: on the studio clip its stripes stop 3.3-5.6 spacings short
of the room on some sides, where the last line covers 0.47-0.61 of the face (under
SIDE_MIN_COVERAGE: no edge), and no score of any clip or attack of bench/evaluate.py
moved with this rule."""

PATTERN_LINE_COVERAGE = 0.35
"""Share of the face's extent a line must cover to count towards SIDE_MAX_PARALLEL_LINES
(half of SIDE_MIN_COVERAGE: shorter lines of a pattern are hidden behind the head)."""

CROP_FACE_HEIGHT_PX = 80
"""The search area is rescaled so that the face is this tall: the line detector then
costs ~2-3 ms per frame whatever the video's resolution."""

ENCLOSED_MIN_SIDES = 3
"""Sides with a screen edge for a frame to count as enclosed."""

FOREHEAD_FRACTION = 0.3
"""The face's top is taken this far (of the brow-to-chin height) above the brows."""


@dataclass(frozen=True, slots=True)
class ScreenScores:
    enclosed_fraction: float
    """Share of examined frames whose face is enclosed by straight edges on 3+ sides."""
    mean_sides: float
    """Mean number of sides with a screen-like edge (0-4)."""
    frames: int
    """Frames examined."""


@cache
def _detector() -> cv2.LineSegmentDetector:
    return cv2.createLineSegmentDetector()


def _face_extent(points: np.ndarray) -> tuple[float, float, float, float]:
    left, right = float(points[:, 0].min()), float(points[:, 0].max())
    brow = float(points[17:27, 1].min())
    chin = float(points[:, 1].max())
    return left, brow - FOREHEAD_FRACTION * (chin - brow), right, chin


def _covered_share(pieces: list[tuple[float, float, float]], lo: float, hi: float) -> float:
    """Share of [lo, hi] covered by the union of the pieces' (position, start, end) spans."""
    spans = sorted((max(a, lo), min(b, hi)) for _, a, b in pieces if b > lo and a < hi)
    covered, current = 0.0, None
    for a, b in spans:
        if current is None or a > current[1]:
            if current is not None:
                covered += current[1] - current[0]
            current = [a, b]
        else:
            current[1] = max(current[1], b)
    if current is not None:
        covered += current[1] - current[0]
    return covered / max(hi - lo, 1e-6)


def _coverage(pieces: list[tuple[float, float, float]], lo: float, hi: float, tol: float) -> float:
    """Best share of [lo, hi] covered by pieces (position, start, end) lying on one line."""
    return max(
        (_covered_share([q for q in pieces if abs(q[0] - anchor) <= tol], lo, hi) for anchor, _, _ in pieces),
        default=0.0,
    )


def _lines(pieces: list[tuple[float, float, float]], tol: float) -> list[list[tuple[float, float, float]]]:
    """The pieces of one side grouped into distinct parallel lines (a piece within `tol` of
    the previous one continues its line), nearest position first."""
    lines: list[list[tuple[float, float, float]]] = []
    for piece in sorted(pieces):
        if lines and piece[0] - lines[-1][-1][0] <= tol:
            lines[-1].append(piece)
        else:
            lines.append([piece])
    return lines


def _edge_coverage(
    pieces: list[tuple[float, float, float]], lo: float, hi: float, tol: float, *, origin: float, sign: int,
    room: float,
) -> float:
    """The side's best line coverage. A side whose lines are a pattern (more than
    SIDE_MAX_PARALLEL_LINES) has an edge only where the pattern ends well before the side's
    room runs out (`room`: how far from the face, `origin`, lines are looked for, in the
    direction `sign`): a striped wall goes on behind the head, the stripes of a picture on
    a screen end at the screen's edge."""
    pattern = [line for line in _lines(pieces, tol) if _covered_share(line, lo, hi) >= PATTERN_LINE_COVERAGE]
    if len(pattern) <= SIDE_MAX_PARALLEL_LINES:
        return _coverage(pieces, lo, hi, tol)
    distances = sorted((sign * (float(np.mean([q[0] for q in line])) - origin), i) for i, line in enumerate(pattern))
    spacing = float(np.median(np.diff([d for d, _ in distances])))
    outermost, index = distances[-1]
    if room - outermost > PATTERN_END_SPACINGS * spacing:
        return _coverage(pattern[index], lo, hi, tol)
    return 0.0


def frame_sides(gray: np.ndarray, points: np.ndarray) -> dict[str, float]:
    """Coverage (0-1) of the best straight edge on each side of the face: L, R, T, B
    (0 on a side whose lines are a pattern, SIDE_MAX_PARALLEL_LINES)."""
    left, top, right, bottom = _face_extent(points)
    face_w, face_h = right - left, bottom - top
    if face_w < 8 or face_h < 8:
        return {"L": 0.0, "R": 0.0, "T": 0.0, "B": 0.0}
    h, w = gray.shape
    x0 = int(max(0, left - (SIDE_REACH + 0.1) * face_w))
    x1 = int(min(w, right + (SIDE_REACH + 0.1) * face_w))
    y0 = int(max(0, top - (SIDE_REACH + 0.1) * face_h))
    y1 = int(min(h, bottom + (SIDE_REACH + 0.1) * face_h))
    scale = min(1.0, CROP_FACE_HEIGHT_PX / face_h)
    crop = gray[y0:y1, x0:x1]
    if scale < 1.0:
        crop = cv2.resize(crop, (max(8, int(crop.shape[1] * scale)), max(8, int(crop.shape[0] * scale))),
                          interpolation=cv2.INTER_AREA)
    lines = _detector().detect(crop)[0]
    pieces: dict[str, list[tuple[float, float, float]]] = {"L": [], "R": [], "T": [], "B": []}
    if lines is not None:
        tilt = float(np.tan(np.radians(SIDE_MAX_TILT_DEG)))
        segments = lines.reshape(-1, 4).astype(np.float64) / scale + np.array([x0, y0, x0, y0])
        for xa, ya, xb, yb in segments:
            dx, dy = xb - xa, yb - ya
            if np.hypot(dx, dy) < SEGMENT_MIN_LENGTH * face_h:
                continue
            if abs(dx) <= tilt * abs(dy):
                x = (xa + xb) / 2.0
                span = (x, min(ya, yb), max(ya, yb))
                if left - SIDE_REACH * face_w <= x <= left - SIDE_MIN_GAP * face_w:
                    pieces["L"].append(span)
                if right + SIDE_MIN_GAP * face_w <= x <= right + SIDE_REACH * face_w:
                    pieces["R"].append(span)
            elif abs(dy) <= tilt * abs(dx):
                y = (ya + yb) / 2.0
                span = (y, min(xa, xb), max(xa, xb))
                if top - SIDE_REACH * face_h <= y <= top - SIDE_MIN_GAP * face_h:
                    pieces["T"].append(span)
                if bottom + SIDE_MIN_GAP * face_h <= y <= bottom + SIDE_REACH * face_h:
                    pieces["B"].append(span)
    tol_x, tol_y = SIDE_COLLINEAR_TOLERANCE * face_w, SIDE_COLLINEAR_TOLERANCE * face_h
    reach_x, reach_y = SIDE_REACH * face_w, SIDE_REACH * face_h
    return {
        "L": _edge_coverage(pieces["L"], top, bottom, tol_x, origin=left, sign=-1, room=min(reach_x, left)),
        "R": _edge_coverage(pieces["R"], top, bottom, tol_x, origin=right, sign=1, room=min(reach_x, w - 1 - right)),
        "T": _edge_coverage(pieces["T"], left, right, tol_y, origin=top, sign=-1, room=min(reach_y, top)),
        "B": _edge_coverage(pieces["B"], left, right, tol_y, origin=bottom, sign=1,
                            room=min(reach_y, h - 1 - bottom)),
    }


def screen_scores(
    frames: Sequence[Frame], observations: Sequence[FaceObservation]
) -> ScreenScores | None:
    """How often the face is enclosed by straight screen-like edges; None without faces."""
    faces = [o for o in observations if o.has_face]
    if not faces:
        return None
    picks = np.unique(np.linspace(0, len(faces) - 1, min(SCREEN_FRAMES, len(faces))).astype(int))
    counts = []
    for i in picks:
        o = faces[i]
        assert o.landmarks is not None
        sides = frame_sides(frames[o.index].gray, o.landmarks)
        counts.append(sum(c >= SIDE_MIN_COVERAGE for c in sides.values()))
    return ScreenScores(
        enclosed_fraction=float(np.mean([c >= ENCLOSED_MIN_SIDES for c in counts])),
        mean_sides=float(np.mean(counts)),
        frames=len(counts),
    )


# --- measurement helpers for moire and flicker (not called by assess: see above) -----

MOIRE_CROP_PX = 128
"""The face (between brows and chin) is resampled to this square before its spectrum."""

FLICKER_BAND_HZ = (1.0, 4.9)
"""Brightness periodicities looked for (beats of refresh with the camera's frame rate)."""


def moire_ratio(crop: np.ndarray) -> float:
    """Strongest high-frequency spectral peak over the band's median (a pixel grid
    beating with the sensor grid gives narrow periodic peaks; skin a smooth spectrum)."""
    patch = cv2.resize(crop, (MOIRE_CROP_PX, MOIRE_CROP_PX), interpolation=cv2.INTER_LINEAR)
    patch = patch.astype(np.float32)
    patch -= cv2.GaussianBlur(patch, (0, 0), 2.0)
    window = np.outer(np.hanning(MOIRE_CROP_PX), np.hanning(MOIRE_CROP_PX)).astype(np.float32)
    spectrum = np.abs(np.fft.fftshift(np.fft.fft2(patch * window)))
    c = MOIRE_CROP_PX // 2
    yy, xx = np.mgrid[-c:c, -c:c]
    radius = np.hypot(yy, xx) / MOIRE_CROP_PX
    values = spectrum[(radius >= 0.12) & (radius <= 0.45)]
    median = float(np.median(values))
    return float(values.max() / median) if median > 0 else 0.0


def flicker_ratio(frames: Sequence[Frame]) -> float:
    """Strongest periodic brightness change in FLICKER_BAND_HZ over the spectrum's median."""
    if len(frames) < 16:
        return 0.0
    t = np.array([f.t_ms for f in frames], dtype=np.float64) / 1000.0
    level = np.array(
        [float(cv2.resize(f.gray, (16, 16), interpolation=cv2.INTER_AREA).mean()) for f in frames]
    )
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
