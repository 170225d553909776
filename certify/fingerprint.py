"""A compact perceptual fingerprint of a recording, to notice an old video sent again.

Two uploads of the same recording (even re-encoded, rescaled or trimmed) have the same
pictures at the same moments AND the same motion over time; two different recordings of
the same pensioner in the same room may look alike frame by frame, but never move the
same way over seconds. The fingerprint therefore keeps, at FINGERPRINT_FPS, a 64-bit
difference hash of each frame and the amount of change since the previous one, and the
comparison asks for both, at the best time offset.
"""

from __future__ import annotations

import base64
from collections.abc import Sequence

import cv2
import numpy as np

from .video import Frame, luma_thumbnail

__all__ = [
    "FINGERPRINT_FPS",
    "FINGERPRINT_VERSION",
    "HASH_MATCH_BITS",
    "MAX_OFFSET_S",
    "REUSE_MIN_SIMILARITY",
    "fingerprint_similarity",
    "is_reused_video",
    "video_fingerprint",
]

FINGERPRINT_FPS = 4.0
"""Frames per second kept in the fingerprint (about 130 bytes per second of video)."""

FINGERPRINT_VERSION = "fp1"

HASH_MATCH_BITS = 10
"""Two frame hashes agree when at most this many of 64 bits differ (re-encoding and
rescaling flip a few bits; a different moment flips ~20+)."""

MAX_OFFSET_S = 3.0
"""Trimmed re-uploads are aligned by searching time offsets up to this many seconds."""

REUSE_MIN_SIMILARITY = 0.8
"""Similarity (0-1) from which two fingerprints are called the same recording."""


def _dhash(gray: np.ndarray) -> int:
    small = cv2.resize(gray, (9, 8), interpolation=cv2.INTER_AREA).astype(np.int16)
    bits = (small[:, 1:] > small[:, :-1]).reshape(-1)
    return int(np.packbits(bits).view(">u8")[0])


def video_fingerprint(frames: Sequence[Frame]) -> str:
    """'fp1:' + base64 of (uint64 dHash, uint8 change) per kept frame."""
    step_ms = 1000.0 / FINGERPRINT_FPS
    hashes: list[int] = []
    changes: list[int] = []
    next_ms = 0.0
    prev_thumb = None
    for frame in frames:
        if frame.t_ms + 0.5 < next_ms:
            continue
        next_ms = frame.t_ms + step_ms * 0.95
        thumb = luma_thumbnail(frame.gray, 32).astype(np.int16)
        change = 0 if prev_thumb is None else int(min(255, np.abs(thumb - prev_thumb).mean() * 8))
        prev_thumb = thumb
        hashes.append(_dhash(frame.gray))
        changes.append(change)
    packed = np.array(hashes, dtype=">u8").tobytes() + np.array(changes, dtype=np.uint8).tobytes()
    return f"{FINGERPRINT_VERSION}:{base64.b64encode(packed).decode('ascii')}"


def _unpack(fingerprint: str) -> tuple[np.ndarray, np.ndarray]:
    version, _, body = fingerprint.partition(":")
    if version != FINGERPRINT_VERSION:
        raise ValueError(f"unknown fingerprint version {version!r}")
    raw = base64.b64decode(body)
    n = len(raw) // 9
    hashes = np.frombuffer(raw[: 8 * n], dtype=">u8").astype(np.uint64)
    changes = np.frombuffer(raw[8 * n : 9 * n], dtype=np.uint8).astype(np.float64)
    return hashes, changes


def _popcount(x: np.ndarray) -> np.ndarray:
    bits = np.unpackbits(x.astype(">u8").view(np.uint8).reshape(-1, 8), axis=1)
    return bits.sum(axis=1)


def fingerprint_similarity(a: str, b: str) -> float:
    """0 (unrelated) to 1 (the same recording), at the best time offset.

    At each offset: the share of overlapping frames whose hashes agree, times the
    correlation of the change-over-time curves (clipped at 0). Overlaps shorter than
    two seconds score 0: too little to call a re-use.
    """
    ha, ca = _unpack(a)
    hb, cb = _unpack(b)
    min_overlap = int(2 * FINGERPRINT_FPS)
    max_shift = int(MAX_OFFSET_S * FINGERPRINT_FPS)
    best = 0.0
    for shift in range(-max_shift, max_shift + 1):
        ia0, ib0 = max(0, shift), max(0, -shift)
        n = min(len(ha) - ia0, len(hb) - ib0)
        if n < min_overlap:
            continue
        agree = float(np.mean(_popcount(ha[ia0 : ia0 + n] ^ hb[ib0 : ib0 + n]) <= HASH_MATCH_BITS))
        xa, xb = ca[ia0 + 1 : ia0 + n], cb[ib0 + 1 : ib0 + n]
        if len(xa) > 2 and xa.std() > 0 and xb.std() > 0:
            corr = max(0.0, float(np.corrcoef(xa, xb)[0, 1]))
        else:
            # frozen pictures: no motion to compare, the pictures alone decide
            corr = 1.0 if xa.std() == xb.std() == 0 else 0.0
        best = max(best, agree * corr)
    return best


def is_reused_video(a: str, b: str) -> bool:
    """True when two fingerprints are the same recording (REUSE_MIN_SIMILARITY)."""
    return fingerprint_similarity(a, b) >= REUSE_MIN_SIMILARITY
