"""Active liveness: finding blinks, head turns, nods and open mouths over time, and
checking that the challenged ones happened in the challenged order.

Every detector works on the person's own baseline taken from the same video (their
usual eye opening, their usual head pose), so narrow eyes, glasses, a phone held low or
a head habitually tilted do not count against them. Each event records when it started,
peaked and ended and how strong it was relative to its threshold (1.0 just passes).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from .challenge import Action, Challenge
from .geometry import similarity_transform
from .thresholds import Thresholds
from .tracking import FaceObservation

__all__ = [
    "ActionEvent",
    "BASELINE_WINDOW_MS",
    "BLINK_BOTH_EYES_FRACTION",
    "BLINK_CONTEXT_MS",
    "BLINK_MAX_SHAPE_JUMP",
    "BLINK_OPEN_DROP",
    "Baseline",
    "NOD_RETURN_FRACTION",
    "NOD_RETURN_MS",
    "OPEN_EYE_PERCENTILE",
    "POSE_MAX_MAR",
    "POSE_STEADY_PITCH_DEG",
    "POSE_STEADY_YAW_DEG",
    "baseline_of",
    "find_actions",
    "find_blinks",
    "find_nods",
    "find_open_mouths",
    "find_turns",
    "match_challenge",
]

BASELINE_WINDOW_MS = 1500
"""The head pose baseline is taken over the first this-many ms with a face: people start
a recording looking at the screen, before the first prompt is acted on."""

OPEN_EYE_PERCENTILE = 70.0
"""The open-eye lid position is this percentile of the video's lid openings: eyes are
open far more than half the time, and a high percentile ignores blinks and squints."""

BLINK_OPEN_DROP = 0.25
"""Before and after a blink the lid must be back within this fraction of fully open."""

BLINK_CONTEXT_MS = 1500
"""How far before and after a blink the open eye must be seen. 1.5 s: an older person's
deliberate blink may reopen slowly. Measured (bench/robustness.py, x0.5 slow motion): the
blink of child_talking_audio_f3, whose lids come back over ~0.7 s, reopens ~1.3 s after
the closure when played at half speed, and was missed with 1.0 s."""

POSE_STEADY_YAW_DEG = 20.0
"""Eye and mouth measures are ignored while yaw is further than this from the baseline
(the landmark shapes of the eyes are distorted in strong profile)."""

POSE_STEADY_PITCH_DEG = 15.0
"""... or pitch further than this (looking down lowers the lids without a blink)."""

POSE_MAX_MAR = 0.3
"""Head pose is ignored while the mouth is open wider than this: the pose model uses the
chin and mouth corners, which a dropped jaw moves without any head movement."""

BLINK_BOTH_EYES_FRACTION = 0.8
"""A blink caught by a single sample counts when EACH eye's upper lid dropped by at least
this fraction of blink_min_lid_drop: people blink with both eyes at once, while a
landmark glitch or a wink moves one."""

BLINK_MAX_SHAPE_JUMP = 0.05
"""... and the rest of the face (jaw, nose) keeps the shape of its neighbouring samples,
within this many interocular units once their shift, turn and scale are undone: a
mis-fitted landmark set distorts the whole shape, while a phone shaking in the hand only
moves it (measured, bench/robustness.py hand_shake: without undoing the motion the quick
blinks of talking_speech_katiehill and frontal_mouth_open_m5 were taken for glitches)."""

_SHAPE_POINTS = np.r_[0:17, 27:36]
"""Jaw and nose: landmarks that a blink does not move."""

NOD_RETURN_FRACTION = 0.5
"""After a nod the head must come back up by at least this fraction of the dip."""

NOD_RETURN_MS = 3000
"""... within this long after the lowest point."""


@dataclass(frozen=True, slots=True)
class ActionEvent:
    """One action seen in the video (challenged or not)."""

    action: Action
    start_ms: int
    peak_ms: int
    end_ms: int
    strength: float
    """Peak size over the threshold: 1.0 just passes, 2.0 is twice the threshold."""

    def to_json(self) -> dict[str, object]:
        return {
            "name": self.action.value,
            "start_ms": self.start_ms,
            "t_ms": self.peak_ms,
            "end_ms": self.end_ms,
            "strength": round(self.strength, 3),
        }


@dataclass(frozen=True, slots=True)
class Baseline:
    """The person's own resting values, from this video."""

    yaw_deg: float
    pitch_deg: float
    lid_open: float
    """Upper-lid opening when the eyes are open (fraction of eye width)."""


def _face_rows(observations: Sequence[FaceObservation]) -> list[FaceObservation]:
    return [o for o in observations if o.has_face]


def baseline_of(observations: Sequence[FaceObservation]) -> Baseline | None:
    """Resting head pose (start of the video) and open-eye lid position (whole video)."""
    rows = _face_rows(observations)
    if not rows:
        return None
    first = rows[0].t_ms
    early = [o for o in rows if o.t_ms - first <= BASELINE_WINDOW_MS]
    yaw = float(np.median([o.yaw_deg for o in early]))
    pitch = float(np.median([o.pitch_deg for o in early]))
    steady = [
        o.lid
        for o in rows
        if abs(o.yaw_deg - yaw) <= POSE_STEADY_YAW_DEG
        and abs(o.pitch_deg - pitch) <= POSE_STEADY_PITCH_DEG
    ]
    lid = float(np.percentile(steady or [o.lid for o in rows], OPEN_EYE_PERCENTILE))
    return Baseline(yaw_deg=yaw, pitch_deg=pitch, lid_open=lid)


def _runs(mask: np.ndarray) -> list[tuple[int, int]]:
    """(first, last) indices of each run of True values."""
    runs: list[tuple[int, int]] = []
    start = None
    for i, on in enumerate(mask):
        if on and start is None:
            start = i
        elif not on and start is not None:
            runs.append((start, i - 1))
            start = None
    if start is not None:
        runs.append((start, len(mask) - 1))
    return runs


def _sample_period_ms(t_ms: np.ndarray) -> float:
    return float(np.median(np.diff(t_ms))) if len(t_ms) > 1 else 100.0


def _excursions(
    action: Action,
    t_ms: np.ndarray,
    signal: np.ndarray,
    threshold: float,
    min_ms: int,
) -> list[ActionEvent]:
    """Runs where `signal` >= `threshold` lasting at least `min_ms` (NaN never counts)."""
    period = _sample_period_ms(t_ms)
    mask = np.nan_to_num(signal, nan=-np.inf) >= threshold
    events = []
    for a, b in _runs(mask):
        duration = float(t_ms[b] - t_ms[a]) + period
        if duration < min_ms:
            continue
        peak = a + int(np.nanargmax(signal[a : b + 1]))
        events.append(
            ActionEvent(
                action=action,
                start_ms=int(t_ms[a]),
                peak_ms=int(t_ms[peak]),
                end_ms=int(t_ms[b]),
                strength=float(signal[peak] / threshold),
            )
        )
    return events


def _series(observations: Sequence[FaceObservation], name: str) -> np.ndarray:
    return np.array(
        [getattr(o, name) if o.has_face else np.nan for o in observations], dtype=np.float64
    )


def _times(observations: Sequence[FaceObservation]) -> np.ndarray:
    return np.array([o.t_ms for o in observations], dtype=np.float64)


def _steady(observations: Sequence[FaceObservation], base: Baseline) -> np.ndarray:
    return np.array(
        [
            o.has_face
            and abs(o.yaw_deg - base.yaw_deg) <= POSE_STEADY_YAW_DEG
            and abs(o.pitch_deg - base.pitch_deg) <= POSE_STEADY_PITCH_DEG
            for o in observations
        ]
    )


def _single_sample_blink(
    observations: Sequence[FaceObservation],
    i: int,
    base: Baseline,
    drop: np.ndarray,
    threshold: float,
) -> bool:
    """Whether a closure seen in one sample only is a real blink, not a glitch.

    At 10 fps a quick blink (100-150 ms closed) often falls on one sample. It is
    confirmed either by a neighbouring sample showing the lid on its way (half the
    drop), or by both eyes closing together while the face shape stays put.
    """
    neighbours = [drop[k] for k in (i - 1, i + 1) if 0 <= k < len(drop)]
    if any(np.nan_to_num(n, nan=0.0) >= threshold / 2 for n in neighbours):
        return True
    if not (0 < i < len(observations) - 1):
        return False
    o, before, after = observations[i], observations[i - 1], observations[i + 1]
    if not (before.has_face and after.has_face) or base.lid_open <= 0:
        return False
    each_eye = min(1.0 - o.lid_left / base.lid_open, 1.0 - o.lid_right / base.lid_open)
    if each_eye < BLINK_BOTH_EYES_FRACTION * threshold:
        return False
    here = o.landmarks[_SHAPE_POINTS]  # type: ignore[index]
    # the neighbours' shapes, each moved onto this sample by a similarity: a phone shaking
    # in the hand moves and turns the whole face between samples, a mis-fit distorts it
    expected = (
        _similar_onto(before.landmarks[_SHAPE_POINTS], here)  # type: ignore[index]
        + _similar_onto(after.landmarks[_SHAPE_POINTS], here)  # type: ignore[index]
    ) / 2.0
    jump = np.median(np.linalg.norm(here - expected, axis=1))
    return float(jump) / max(o.interocular_px, 1.0) <= BLINK_MAX_SHAPE_JUMP


def _similar_onto(points: np.ndarray, target: np.ndarray) -> np.ndarray:
    """`points` moved by the similarity (shift, turn, scale) that best lays them on
    `target` (certify.geometry.similarity_transform)."""
    m = similarity_transform(points, target)
    return points @ m[:, :2].T + m[:, 2]


def find_blinks(
    observations: Sequence[FaceObservation], base: Baseline, th: Thresholds
) -> list[ActionEvent]:
    """Upper-lid closures: down by blink_min_lid_drop, open again before and after.

    At 10 fps a quick blink may be caught by a single closed sample; it then counts only
    when a neighbouring sample shows the lid on its way (half the drop), so one
    mis-placed landmark set is never a blink.
    """
    t = _times(observations)
    if base.lid_open <= 0:
        return []
    drop = 1.0 - _series(observations, "lid") / base.lid_open
    drop[~_steady(observations, base)] = np.nan
    threshold = th.blink_min_lid_drop
    period = _sample_period_ms(t)
    events = []
    for a, b in _runs(np.nan_to_num(drop, nan=-np.inf) >= threshold):
        if float(t[b] - t[a]) + period > th.blink_max_ms:
            continue
        if a == b and not _single_sample_blink(observations, a, base, drop, threshold):
            continue
        before = (t >= t[a] - BLINK_CONTEXT_MS) & (t < t[a])
        after = (t > t[b]) & (t <= t[b] + BLINK_CONTEXT_MS)
        if not (
            np.any(np.nan_to_num(drop[before], nan=1.0) <= BLINK_OPEN_DROP)
            and np.any(np.nan_to_num(drop[after], nan=1.0) <= BLINK_OPEN_DROP)
        ):
            continue
        peak = a + int(np.nanargmax(drop[a : b + 1]))
        events.append(
            ActionEvent(
                action=Action.BLINK,
                start_ms=int(t[a]),
                peak_ms=int(t[peak]),
                end_ms=int(t[b]),
                strength=float(drop[peak] / threshold),
            )
        )
    return events


def find_turns(
    observations: Sequence[FaceObservation], base: Baseline, th: Thresholds, *, mirrored: bool
) -> list[ActionEvent]:
    """Yaw excursions from the baseline, named from the pensioner's point of view.

    Not mirrored (what browsers record): the pensioner turning to their own left shows
    the nose moving toward image-right (yaw > 0 in geometry.HeadPose).
    """
    t = _times(observations)
    yaw = _series(observations, "yaw_deg") - base.yaw_deg
    yaw[_series(observations, "mar") > POSE_MAX_MAR] = np.nan
    toward_image_right = Action.TURN_RIGHT if mirrored else Action.TURN_LEFT
    toward_image_left = Action.TURN_LEFT if mirrored else Action.TURN_RIGHT
    return _excursions(
        toward_image_right, t, yaw, th.turn_min_yaw_deg, th.action_min_ms
    ) + _excursions(toward_image_left, t, -yaw, th.turn_min_yaw_deg, th.action_min_ms)


def find_nods(
    observations: Sequence[FaceObservation], base: Baseline, th: Thresholds
) -> list[ActionEvent]:
    """Head lowered (pitch down) from the baseline and raised again."""
    t = _times(observations)
    pitch = _series(observations, "pitch_deg") - base.pitch_deg
    pitch[_series(observations, "mar") > POSE_MAX_MAR] = np.nan
    events = []
    for event in _excursions(Action.NOD, t, pitch, th.nod_min_pitch_deg, th.action_min_ms):
        dip = event.strength * th.nod_min_pitch_deg
        after = (t > event.peak_ms) & (t <= event.peak_ms + NOD_RETURN_MS)
        back = np.nan_to_num(pitch[after], nan=np.inf) <= dip * (1.0 - NOD_RETURN_FRACTION)
        if np.any(back):
            events.append(event)
    return events


def find_open_mouths(
    observations: Sequence[FaceObservation], base: Baseline, th: Thresholds
) -> list[ActionEvent]:
    """The inner lips held apart by at least open_mouth_min_mar of the mouth width."""
    t = _times(observations)
    mar = _series(observations, "mar")
    mar[~_steady(observations, base)] = np.nan
    return _excursions(Action.OPEN_MOUTH, t, mar, th.open_mouth_min_mar, th.action_min_ms)


def find_actions(
    observations: Sequence[FaceObservation], th: Thresholds, *, mirrored: bool
) -> tuple[ActionEvent, ...]:
    """Every action seen in the video, in order of start."""
    base = baseline_of(observations)
    if base is None:
        return ()
    events = (
        find_blinks(observations, base, th)
        + find_turns(observations, base, th, mirrored=mirrored)
        + find_nods(observations, base, th)
        + find_open_mouths(observations, base, th)
    )
    return tuple(sorted(events, key=lambda e: (e.start_ms, e.peak_ms)))


def match_challenge(
    events: Sequence[ActionEvent], challenge: Challenge
) -> tuple[tuple[ActionEvent, ...], tuple[Action, ...]]:
    """The events that perform the challenge in order, and the actions not found.

    Greedy earliest matching: each challenged action takes the first event of its kind
    that peaks after the previous action's peak. This finds the order whenever one
    exists, and an action performed only before its predecessor is reported missing.
    """
    matched: list[ActionEvent] = []
    missing: list[Action] = []
    after_ms = -1
    for action in challenge.actions:
        candidates = [e for e in events if e.action is action and e.peak_ms > after_ms]
        if not candidates:
            missing.append(action)
            continue
        chosen = min(candidates, key=lambda e: e.peak_ms)
        matched.append(chosen)
        after_ms = chosen.peak_ms
    return tuple(matched), tuple(missing)
