"""Face match: pick the best frames, embed them, compare with the enrolled references.

Embedding costs ~100 ms per face on one core, so only a few frames are embedded: the
globally best frames of the recording (frontal, sharp, eyes open, mouth closed, and not
covered by a hand or an object: `appearance_outliers`), spread over its length. Their
embeddings are fused into one probe (the mean: measured in bench/evaluate.py against
the single best frame and the median distance, see PROBE_FUSION) and compared with every
active reference (`reference_distances`); `judge_distances` judges each distance in its
reference's quality-class band (`Thresholds.match_band`).

An ID-card reference (102 x 126 px) shows the face ~23 px between the eyes; a phone
frame shows it ~60-140 px. Against such a reference the probe frames are also embedded
shrunk to the reference's eye distance (`at_eye_distance`), so that both faces reach the
embedder equally blurred. bench/evaluate.py (2026-12-07), videos against an ID-size frame
of their own recording: genuine median 0.325 -> 0.301; closest different-person pair
0.444 -> 0.439; people/ photo pairs accepted 55.8% -> 62.8%.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import cv2
import numpy as np

from .geometry import interocular_px
from .references import Reference, ReferenceClass
from .thresholds import Thresholds
from .tracking import FaceObservation
from .video import Frame

__all__ = [
    "MatchResult",
    "MatchVerdict",
    "ID_CARD_PROBE_INTEROCULAR_PX",
    "OCCLUSION_MAX_DEVIATION",
    "PROBE_FRAME_COUNT",
    "PROBE_FUSION",
    "PROBE_MIN_SPACING",
    "appearance_outliers",
    "at_eye_distance",
    "embedding_distance",
    "frame_score",
    "fuse_probes",
    "judge_distances",
    "match_verdict",
    "reference_distances",
    "select_probe_frames",
]

PROBE_FRAME_COUNT = 3
"""Frames embedded per video: enough to average out one frame's expression and blur,
and (being spread over the recording) to check that one person is seen throughout."""

PROBE_MIN_SPACING = 0.2
"""Probe frames lie at least this fraction of the recording apart: the same moment
three times adds no information, and spread-out probes also test identity across it."""

PROBE_FUSION: Literal["mean", "median", "best"] = "mean"
"""How the probe embeddings become one distance per reference: `mean` embeds the mean
of the probe embeddings (noise of single frames averages out); `median` takes the
median of per-frame distances; `best` the single best-scored frame. bench/evaluate.py
prints all three (genuine and impostor distances); `mean` gave the lowest genuine
distances at the same impostor distances."""

OCCLUSION_MAX_DEVIATION = 3.5
"""A frame whose aligned face differs from the recording's median face by more than
this many robust deviations (median absolute deviation over the frames) is not used as
a probe: a hand, a cup or hair over the face, or an extreme grimace. Policy: the
measure is heavy-tailed, and only clear outliers are left out."""

ID_CARD_PROBE_INTEROCULAR_PX = 23.0
"""Eye distance (px) the probe frames are shrunk to before being compared with an
`id_card` reference: the median of the 102 x 126 ID crops made by bench/evaluate.py
(22 clips: 19.4-26.7 px, median 23.3; people/ photos alike). One size for the class, so
the extra embeddings are made once per recording whatever the number of ID references.
Measured (the same 22 clips, their own frame as the ID reference): shrinking to each
reference's own eye distance gave the same figures within 0.005."""

_CHIP_PX = 32
"""Side of the aligned grey face chip used to compare frames with each other."""

MatchVerdict = Literal["match", "uncertain", "mismatch"]


def frame_score(o: FaceObservation, lid_open: float, rest_pitch_deg: float = 0.0) -> float:
    """Higher is a better frame to embed: frontal, sharp, eyes open, mouth closed.

    Yaw and roll are judged as they are; pitch against the person's own resting pitch
    (`rest_pitch_deg`, the baseline), because the landmark pitch of a face looking into a
    phone held below it is not 0. Without pitch a face bowed in a nod counted as frontal
    and was embedded: under back light (bench/robustness.py) selfie_phone_headturn_nod_m1
    took a frame bowed 38 degrees as a probe, and its probes disagreed (0.78) as if two
    people had been spliced."""
    pitch = o.pitch_deg - rest_pitch_deg
    frontal = max(0.0, 1.0 - (abs(o.yaw_deg) / 30.0) ** 2 - (abs(o.roll_deg) / 40.0) ** 2 - (pitch / 30.0) ** 2)
    eyes = min(1.0, o.lid / lid_open) if lid_open > 0 else 1.0
    mouth = max(0.0, 1.0 - o.mar / 0.4)
    sharp = min(1.0, o.sharpness / 40.0)
    return frontal * (0.5 + 0.5 * eyes) * (0.6 + 0.4 * mouth) * (0.3 + 0.7 * sharp)


def _aligned_chip(frame: Frame, o: FaceObservation) -> np.ndarray | None:
    """The face warped so that eye centres and mouth centre sit at fixed places."""
    points = o.landmarks
    if points is None:
        return None
    left_eye = points[36:42].mean(axis=0)
    right_eye = points[42:48].mean(axis=0)
    mouth = points[48:68].mean(axis=0)
    source = np.array([left_eye, right_eye, mouth], dtype=np.float32)
    target = np.array([[0.3, 0.35], [0.7, 0.35], [0.5, 0.75]], dtype=np.float32) * _CHIP_PX
    matrix = cv2.getAffineTransform(source, target)
    chip = cv2.warpAffine(frame.gray, matrix, (_CHIP_PX, _CHIP_PX), flags=cv2.INTER_AREA)
    chip = chip.astype(np.float32)
    return (chip - chip.mean()) / max(float(chip.std()), 1.0)


def appearance_outliers(
    frames: Sequence[Frame], observations: Sequence[FaceObservation]
) -> frozenset[int]:
    """Indices of frames whose face looks unlike the rest of the recording (occluded).

    Each face is aligned to a small chip by its eyes and mouth and contrast-normalised;
    a frame's deviation is its mean absolute difference from the per-pixel median chip.
    Landmarks are fitted even to a half-covered face, so the detector alone does not
    notice a hand; the picture inside the face does.
    """
    chips: dict[int, np.ndarray] = {}
    for o in observations:
        if o.has_face:
            chip = _aligned_chip(frames[o.index], o)
            if chip is not None:
                chips[o.index] = chip
    if len(chips) < 5:
        return frozenset()
    median = np.median(np.stack(list(chips.values())), axis=0)
    deviation = {i: float(np.mean(np.abs(c - median))) for i, c in chips.items()}
    values = np.array(list(deviation.values()))
    centre = float(np.median(values))
    spread = max(float(np.median(np.abs(values - centre))) * 1.4826, 1e-3)
    return frozenset(i for i, d in deviation.items() if (d - centre) / spread > OCCLUSION_MAX_DEVIATION)


def select_probe_frames(
    observations: Sequence[FaceObservation],
    *,
    lid_open: float,
    rest_pitch_deg: float = 0.0,
    count: int = PROBE_FRAME_COUNT,
    excluded: frozenset[int] = frozenset(),
) -> tuple[int, ...]:
    """Indices of the best-scored frames of the whole recording, spread over it.

    Greedy: the best frame first, then the best frame at least PROBE_MIN_SPACING of the
    recording away from every frame already chosen. Frames scoring 0 (in profile) and
    `excluded` ones (occluded) are never chosen.
    """
    faces = [o for o in observations if o.has_face and o.index not in excluded]
    if not faces:
        return ()
    span = max(1, observations[-1].t_ms - observations[0].t_ms)
    spacing = PROBE_MIN_SPACING * span
    ranked = sorted(faces, key=lambda o: -frame_score(o, lid_open, rest_pitch_deg))
    chosen: list[FaceObservation] = []
    for o in ranked:
        if len(chosen) >= count or frame_score(o, lid_open, rest_pitch_deg) <= 0:
            break
        if all(abs(o.t_ms - c.t_ms) >= spacing for c in chosen):
            chosen.append(o)
    return tuple(sorted(c.index for c in chosen))


def at_eye_distance(
    rgb: np.ndarray, landmarks: np.ndarray, eye_distance_px: float
) -> tuple[np.ndarray, np.ndarray]:
    """The face cut out (with a margin of one face width) and shrunk so that its eyes lie
    `eye_distance_px` apart, with its landmarks moved along: how a small reference photo
    shows a face. A face already that small is returned as it is (never enlarged)."""
    scale = eye_distance_px / max(interocular_px(landmarks), 1e-6)
    if scale >= 1.0:
        return rgb, landmarks
    left, top = landmarks.min(axis=0)
    right, bottom = landmarks.max(axis=0)
    margin = right - left
    height, width = rgb.shape[:2]
    x0, y0 = int(max(0, left - margin)), int(max(0, top - margin))
    x1, y1 = int(min(width, right + margin)), int(min(height, bottom + margin))
    crop = rgb[y0:y1, x0:x1]
    size = (max(1, round(crop.shape[1] * scale)), max(1, round(crop.shape[0] * scale)))
    small = cv2.resize(crop, size, interpolation=cv2.INTER_AREA)
    return small, (landmarks - np.array([x0, y0], dtype=np.float64)) * scale


def embedding_distance(a: np.ndarray, b: np.ndarray) -> float:
    """Euclidean distance between two embeddings (what face_recognition compares)."""
    return float(np.linalg.norm(np.asarray(a, dtype=np.float64) - np.asarray(b, dtype=np.float64)))


def fuse_probes(probes: Sequence[np.ndarray]) -> np.ndarray:
    """One probe embedding from several frames: their mean."""
    return np.mean(np.stack([np.asarray(p, dtype=np.float64) for p in probes]), axis=0)


def match_verdict(distance: float, th: Thresholds, quality_class: str = "full") -> MatchVerdict:
    """match at or below the class's accept distance, mismatch above its reject distance."""
    accept, reject = th.match_band(quality_class)
    if distance <= accept:
        return "match"
    if distance > reject:
        return "mismatch"
    return "uncertain"


@dataclass(frozen=True, slots=True)
class MatchResult:
    verdict: MatchVerdict
    distance: float
    """Distance to the reference that decided (the best verdict, then the nearest)."""
    distances: tuple[float, ...]
    """Distance to each reference, in the order given."""
    quality_class: str
    """Class of the deciding reference."""


_VERDICT_RANK = {"match": 0, "uncertain": 1, "mismatch": 2}


def _distances(probes: Sequence[np.ndarray], reference: np.ndarray, fusion: str) -> float:
    if fusion == "median":
        return float(np.median([embedding_distance(p, reference) for p in probes]))
    if fusion == "best":
        return embedding_distance(probes[0], reference)
    return embedding_distance(fuse_probes(probes), reference)


def reference_distances(
    probes: Sequence[np.ndarray],
    references: Sequence[Reference],
    *,
    fusion: str = PROBE_FUSION,
    id_card_probes: Sequence[np.ndarray] = (),
) -> tuple[float, ...]:
    """Distance of the probes (fused) to each reference. With `best` fusion, probes[0]
    must be the best-scored frame. `id_card_probes` (the same frames shrunk to
    ID_CARD_PROBE_INTEROCULAR_PX), when given, are compared with `id_card` references."""
    if not probes:
        return ()
    return tuple(
        _distances(id_card_probes if id_card_probes and r.quality_class is ReferenceClass.ID_CARD else probes,
                   r.embedding, fusion)
        for r in references
    )


def judge_distances(
    distances: Sequence[float], classes: Sequence[str], th: Thresholds
) -> MatchResult | None:
    """Each distance judged in its reference's class band; the best verdict decides (any
    reference that matches is enough). None without distances."""
    if not distances:
        return None
    judged = [
        (_VERDICT_RANK[match_verdict(d, th, c)], d, c) for d, c in zip(distances, classes, strict=True)
    ]
    rank, distance, quality_class = min(judged)
    verdict = next(v for v, k in _VERDICT_RANK.items() if k == rank)
    return MatchResult(verdict, distance, tuple(distances), quality_class)  # type: ignore[arg-type]
