"""Face match: pick the best frames, embed them, compare with the enrolled references.

Embedding costs ~100 ms per face on one core, so only a few frames are embedded: the
best frame (frontal, sharp, eyes open, mouth closed) of each part of the video. The
distance to one reference is the median over those frames (one odd frame does not
decide), and the match distance is the best over the references (a pensioner may have
several, e.g. a fresh one added by last year's certification).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np

from .thresholds import Thresholds
from .tracking import FaceObservation

__all__ = [
    "PROBE_FRAME_COUNT",
    "MatchVerdict",
    "select_probe_frames",
    "frame_score",
    "match_distance",
    "match_verdict",
    "embedding_distance",
]

PROBE_FRAME_COUNT = 3
"""Frames embedded per video: the best of each third, so identity is also checked
across the recording (discontinuity) for the same price."""

MatchVerdict = Literal["match", "uncertain", "mismatch"]


@dataclass(frozen=True, slots=True)
class _Candidate:
    index: int
    score: float


def frame_score(o: FaceObservation, lid_open: float) -> float:
    """Higher is a better frame to embed: frontal, sharp, eyes open, mouth closed."""
    frontal = max(0.0, 1.0 - (abs(o.yaw_deg) / 30.0) ** 2 - (abs(o.roll_deg) / 40.0) ** 2)
    eyes = min(1.0, o.lid / lid_open) if lid_open > 0 else 1.0
    mouth = max(0.0, 1.0 - o.mar / 0.4)
    sharp = min(1.0, o.sharpness / 40.0)
    return frontal * (0.5 + 0.5 * eyes) * (0.6 + 0.4 * mouth) * (0.3 + 0.7 * sharp)


def select_probe_frames(
    observations: Sequence[FaceObservation],
    *,
    lid_open: float,
    count: int = PROBE_FRAME_COUNT,
    excluded: frozenset[int] = frozenset(),
) -> tuple[int, ...]:
    """Indices of the best frame in each of `count` equal parts of the video."""
    faces = [o for o in observations if o.has_face and o.index not in excluded]
    if not faces:
        return ()
    parts = np.array_split(np.arange(len(faces)), min(count, len(faces)))
    chosen = []
    for part in parts:
        best = max((faces[i] for i in part), key=lambda o: frame_score(o, lid_open))
        if frame_score(best, lid_open) > 0:
            chosen.append(best.index)
    return tuple(chosen)


def embedding_distance(a: np.ndarray, b: np.ndarray) -> float:
    """Euclidean distance between two embeddings (what face_recognition compares)."""
    return float(np.linalg.norm(np.asarray(a, dtype=np.float64) - np.asarray(b, dtype=np.float64)))


def match_distance(
    probes: Sequence[np.ndarray], references: Sequence[np.ndarray]
) -> tuple[float, list[float]] | None:
    """(best distance, per-reference medians); None without probes or references."""
    if not probes or not references:
        return None
    per_reference = [
        float(np.median([embedding_distance(p, r) for p in probes])) for r in references
    ]
    return min(per_reference), per_reference


def match_verdict(distance: float, th: Thresholds) -> MatchVerdict:
    """match at or below the accept distance, mismatch above the reject distance."""
    if distance <= th.match_accept_distance:
        return "match"
    if distance > th.match_reject_distance:
        return "mismatch"
    return "uncertain"
