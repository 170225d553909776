"""The read-aloud step: is someone speaking the digits, with this mouth, now?

Without speech recognition, three checks that a replay or a dubbed video fails:
1. voice activity: enough speech-band energy above the recording's own noise floor;
2. syllable nuclei: peaks of the speech-band loudness inside voiced stretches (the idea
   of de Jong & Wempe 2009); in Mandarin each digit is one syllable, so four digits give
   about four nuclei;
3. the voice belongs to these lips: lips that speak move (the inner-lip opening changes
   from sample to sample while the voice is on), and they move more while the voice is
   on than in the pauses around it. Speech dubbed onto a face that does not talk, or
   shifted against the face's own speech, fails one of the two.

Calibration (tests/unit/engine/test_engine_speech.py, ../shared/data):
- lip motion while voiced (mean |change| of inner-lip opening per sample, interocular
  units): 0.051-0.100 for the eight talking clips with their own sound; 0.003-0.031 with
  speech laid onto faces that do not talk (m6, m9, f1); threshold 0.03;
- lip motion voiced / unvoiced: 0.86-2.8 for the talking clips with their own sound,
  0.56-1.77 with the same sound shifted by 0.7-1.5 s. The two overlap: only a ratio
  under 0.7 (the lips clearly move more in the pauses) is taken as a mismatch, so a
  shifted dub is caught only sometimes. A plain correlation of mouth opening with
  loudness (reported as av_sync_correlation) did not separate them at all at 10 fps
  (0.03-0.45 own sound, 0.00-0.37 shifted) and is evidence for reviewers only.
- syllables: English digits spoken by espeak-ng count within one of the expected four;
  espeak-ng's Mandarin voice renders each digit with two loudness peaks (a 20 dB dip
  inside "yi"), so it cannot calibrate Mandarin counting, which real recordings of
  pensioners reading digits must still confirm.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from .reasons import Reason
from .thresholds import Thresholds
from .tracking import FaceObservation
from .video import AudioTrack

__all__ = [
    "HOP_MS",
    "LIP_MIN_SAMPLES",
    "LIP_RATIO_MIN_SAMPLES",
    "NUCLEUS_MIN_PROMINENCE_DB",
    "NUCLEUS_MIN_SPACING_MS",
    "SPEECH_BAND_HZ",
    "SYLLABLES_PER_DIGIT",
    "SYNC_MARGIN_MS",
    "SYNC_STEP_MS",
    "SpeechResult",
    "VOICE_ABOVE_NOISE_DB",
    "VOICE_MAX_GAP_MS",
    "VOICE_MIN_LEVEL_DB",
    "VOICE_MIN_SEGMENT_MS",
    "WINDOW_MS",
    "av_sync",
    "check_read_aloud",
    "expected_syllables",
    "lip_motion",
    "syllable_nuclei",
    "voice_activity",
]

HOP_MS = 10
"""Audio analysis step."""

WINDOW_MS = 25
"""Audio analysis window (a classic speech frame)."""

SPEECH_BAND_HZ = (300.0, 3000.0)
"""Band holding the vowel formants: loud in speech, quiet in most room noise."""

VOICE_ABOVE_NOISE_DB = 12.0
"""A frame is voiced when its speech-band level is this far above the noise floor (the
recording's own 10th percentile)."""

VOICE_MIN_LEVEL_DB = -55.0
"""... and above this absolute level (dBFS): digital silence is never speech."""

VOICE_MIN_SEGMENT_MS = 80
"""Voiced stretches shorter than this are clicks, not syllables."""

VOICE_MAX_GAP_MS = 120
"""Unvoiced gaps shorter than this inside speech (stop consonants) are bridged."""

NUCLEUS_MIN_PROMINENCE_DB = 3.0
"""A syllable nucleus rises this far above the dips on either side."""

NUCLEUS_MIN_SPACING_MS = 120
"""Syllables come at most ~8 per second."""

SYNC_STEP_MS = 20
"""Resolution of the audio-visual lag search."""

SYNC_MARGIN_MS = 500
"""Synchrony is measured over the speech and this much either side."""

LIP_MIN_SAMPLES = 3
"""Sample pairs needed in a part (voiced or not) for its lip motion to be measured."""

LIP_RATIO_MIN_SAMPLES = 10
"""Voiced and unvoiced sample pairs (a second each at 10 fps) needed before the
voiced/unvoiced lip-motion ratio is judged."""

SYLLABLES_PER_DIGIT = {
    "zh": {d: 1 for d in "0123456789"},
    "en": {**{d: 1 for d in "0123456789"}, "0": 2, "7": 2},
}
"""Syllables of each spoken digit ("líng", "yī"... are one each in Mandarin)."""


@dataclass(frozen=True, slots=True)
class SpeechResult:
    reasons: tuple[Reason, ...]
    scores: dict[str, float] = field(default_factory=dict)
    details: dict[str, object] = field(default_factory=dict)


def expected_syllables(digits: str, language: str = "zh") -> int:
    table = SYLLABLES_PER_DIGIT[language]
    return sum(table[d] for d in digits)


def _band_levels_db(audio: AudioTrack) -> np.ndarray:
    """Speech-band level (dBFS) per HOP_MS frame."""
    rate = audio.sample_rate_hz
    hop = rate * HOP_MS // 1000
    win = rate * WINDOW_MS // 1000
    x = audio.samples.astype(np.float64)
    if len(x) < win:
        return np.zeros(0)
    n = 1 + (len(x) - win) // hop
    idx = np.arange(win)[None, :] + hop * np.arange(n)[:, None]
    frames = x[idx] * np.hanning(win)[None, :]
    spectrum = np.abs(np.fft.rfft(frames, axis=1)) ** 2
    freqs = np.fft.rfftfreq(win, 1.0 / rate)
    band = (freqs >= SPEECH_BAND_HZ[0]) & (freqs <= SPEECH_BAND_HZ[1])
    power = spectrum[:, band].sum(axis=1) / (win * np.sum(np.hanning(win) ** 2) / win)
    return 10.0 * np.log10(power / win + 1e-12)


def _runs(mask: np.ndarray) -> list[tuple[int, int]]:
    runs, start = [], None
    for i, on in enumerate(mask):
        if on and start is None:
            start = i
        elif not on and start is not None:
            runs.append((start, i - 1))
            start = None
    if start is not None:
        runs.append((start, len(mask) - 1))
    return runs


def voice_activity(levels_db: np.ndarray) -> np.ndarray:
    """Boolean voiced mask per HOP_MS frame."""
    if len(levels_db) == 0:
        return np.zeros(0, dtype=bool)
    floor = float(np.percentile(levels_db, 10))
    voiced = (levels_db > floor + VOICE_ABOVE_NOISE_DB) & (levels_db > VOICE_MIN_LEVEL_DB)
    gap = VOICE_MAX_GAP_MS // HOP_MS
    for a, b in _runs(~voiced):
        if a > 0 and b < len(voiced) - 1 and b - a + 1 <= gap:
            voiced[a : b + 1] = True
    shortest = VOICE_MIN_SEGMENT_MS // HOP_MS
    for a, b in _runs(voiced):
        if b - a + 1 < shortest:
            voiced[a : b + 1] = False
    return voiced


def _smooth(x: np.ndarray, frames: int) -> np.ndarray:
    if frames <= 1 or len(x) < frames:
        return x
    kernel = np.hanning(frames + 2)[1:-1]
    return np.convolve(x, kernel / kernel.sum(), mode="same")


def syllable_nuclei(levels_db: np.ndarray, voiced: np.ndarray) -> list[int]:
    """Frame indices of loudness peaks inside voiced stretches (one per syllable)."""
    smooth = _smooth(levels_db, 5)
    peaks: list[int] = []
    spacing = NUCLEUS_MIN_SPACING_MS // HOP_MS
    for a, b in _runs(voiced):
        seg = smooth[a : b + 1]
        candidates = [
            i for i in range(len(seg))
            if (i == 0 or seg[i] >= seg[i - 1]) and (i == len(seg) - 1 or seg[i] > seg[i + 1])
        ]
        for i in sorted(candidates, key=lambda k: -seg[k]):
            left = seg[: i + 1].min() if i > 0 else seg[i] - 99
            right = seg[i:].min() if i < len(seg) - 1 else seg[i] - 99
            # prominence against the deepest dip before the next higher peak
            lo = i
            while lo > 0 and seg[lo - 1] <= seg[i]:
                lo -= 1
            hi = i
            while hi < len(seg) - 1 and seg[hi + 1] <= seg[i]:
                hi += 1
            left = seg[lo : i + 1].min() if lo < i else seg[i] - 99
            right = seg[i : hi + 1].min() if hi > i else seg[i] - 99
            if seg[i] - max(left, right) < NUCLEUS_MIN_PROMINENCE_DB:
                continue
            if all(abs(a + i - p) >= spacing for p in peaks):
                peaks.append(a + i)
    return sorted(peaks)


def av_sync(
    levels_db: np.ndarray,
    audio_start_ms: int,
    observations: Sequence[FaceObservation],
    window_ms: tuple[int, int],
    max_lag_ms: int,
) -> tuple[float, int]:
    """(best correlation, its lag in ms; > 0 when the voice follows the mouth)."""
    faces = [o for o in observations if o.has_face]
    if len(faces) < 4 or len(levels_db) == 0:
        return 0.0, 0
    t_face = np.array([o.t_ms for o in faces], dtype=np.float64)
    mouth = np.array([o.mar for o in faces])
    loud = _smooth(np.power(10.0, levels_db / 20.0), 5)
    t_audio = audio_start_ms + HOP_MS * np.arange(len(loud))
    grid = np.arange(window_ms[0], window_ms[1], SYNC_STEP_MS, dtype=np.float64)
    grid = grid[(grid >= t_face[0]) & (grid <= t_face[-1])]
    if len(grid) < 10:
        return 0.0, 0
    m = np.interp(grid, t_face, mouth)
    best, best_lag = -1.0, 0
    for lag in range(-max_lag_ms, max_lag_ms + 1, SYNC_STEP_MS):
        a = np.interp(grid + lag, t_audio, loud, left=0.0, right=0.0)
        if a.std() == 0 or m.std() == 0:
            continue
        corr = float(np.corrcoef(m, a)[0, 1])
        if corr > best:
            best, best_lag = corr, lag
    return max(best, 0.0), best_lag


def _lip_opening(o: FaceObservation) -> float:
    points = o.landmarks
    assert points is not None
    gaps = np.linalg.norm(points[[61, 62, 63]] - points[[67, 66, 65]], axis=1)
    return float(gaps.mean()) / max(o.interocular_px, 1.0)


def lip_motion(
    voiced: np.ndarray, audio_start_ms: int, observations: Sequence[FaceObservation]
) -> tuple[float | None, float | None]:
    """Mean change of the inner-lip opening between consecutive samples (interocular
    units) while the voice is on, and while it is off; None where too few samples."""
    faces = [o for o in observations if o.has_face and o.interocular_px > 0]
    if len(faces) < 2 or len(voiced) == 0:
        return None, None
    t = np.array([o.t_ms for o in faces], dtype=np.float64)
    opening = np.array([_lip_opening(o) for o in faces])
    change = np.abs(np.diff(opening))
    middle = (t[1:] + t[:-1]) / 2.0
    t_audio = audio_start_ms + HOP_MS * np.arange(len(voiced))
    on = np.interp(middle, t_audio, voiced.astype(np.float64), left=0.0, right=0.0) > 0.5
    during = float(change[on].mean()) if on.sum() >= LIP_MIN_SAMPLES else None
    outside = float(change[~on].mean()) if (~on).sum() >= LIP_MIN_SAMPLES else None
    if on.sum() < LIP_RATIO_MIN_SAMPLES or (~on).sum() < LIP_RATIO_MIN_SAMPLES:
        outside = None
    return during, outside


def check_read_aloud(
    audio: AudioTrack | None,
    observations: Sequence[FaceObservation],
    digits: str,
    th: Thresholds,
    *,
    language: str = "zh",
) -> SpeechResult:
    """Reasons (no_audio, no_speech, digits_mismatch, audio_video_mismatch) and scores."""
    if audio is None or len(audio.samples) == 0:
        return SpeechResult((Reason.NO_AUDIO,), details={"audio": False})
    levels = _band_levels_db(audio)
    voiced = voice_activity(levels)
    speech_ms = int(voiced.sum()) * HOP_MS
    nuclei = syllable_nuclei(levels, voiced)
    expected = expected_syllables(digits, language)
    scores: dict[str, float] = {
        "speech_ms": float(speech_ms),
        "syllables": float(len(nuclei)),
    }
    details: dict[str, object] = {
        "audio": True,
        "expected_syllables": expected,
        "syllable_t_ms": [audio.start_ms + HOP_MS * i for i in nuclei],
    }
    if speech_ms < th.min_speech_ms:
        return SpeechResult((Reason.NO_SPEECH,), scores, details)
    reasons: list[Reason] = []
    if abs(len(nuclei) - expected) > th.syllable_tolerance:
        reasons.append(Reason.DIGITS_MISMATCH)
    voiced_idx = np.flatnonzero(voiced)
    window = (
        audio.start_ms + HOP_MS * int(voiced_idx[0]) - SYNC_MARGIN_MS,
        audio.start_ms + HOP_MS * int(voiced_idx[-1]) + SYNC_MARGIN_MS,
    )
    corr, lag = av_sync(levels, audio.start_ms, observations, window, th.av_sync_max_lag_ms)
    scores["av_sync_correlation"] = corr
    scores["av_sync_lag_ms"] = float(lag)
    during, outside = lip_motion(voiced, audio.start_ms, observations)
    if during is not None:
        scores["lip_motion_voiced"] = during
    if outside is not None:
        scores["lip_motion_unvoiced"] = outside
    mismatch = during is None or during < th.speech_min_lip_motion
    if during is not None and outside is not None and outside > 0:
        ratio = during / outside
        scores["lip_motion_ratio"] = ratio
        mismatch = mismatch or ratio < th.speech_min_lip_motion_ratio
    if mismatch:
        reasons.append(Reason.AUDIO_VIDEO_MISMATCH)
    return SpeechResult(tuple(reasons), scores, details)
