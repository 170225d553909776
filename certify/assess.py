"""The whole check of one recording: quality, liveness, attacks, match -> a decision.

`assess` is a pure function of the decoded video, the issued challenge, the enrolled
reference embeddings and the face backend. It never raises on a bad or hostile video:
everything it finds is returned as evidence in an `Assessment`.

Decision rule (thresholds from `certify.thresholds`, recorded by version):
- failed: any quality reason, the challenge not performed in order, a presentation-attack
  signal beyond its fail level, the read-aloud step failed, or a face mismatch;
- review: otherwise, when the match is in the uncertain band of every reference (each
  judged in its quality class's band), or there is no reference;
- passed: everything else.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

import cv2
import numpy as np

from .actions import ActionEvent, baseline_of, find_actions, match_challenge
from .backend import FaceBackend
from .challenge import Challenge
from .evidence import ActionEvidence, Assessment, KeyFrame
from .fingerprint import video_fingerprint
from .challenge import Action
from .match import (
    appearance_outliers,
    embedding_distance,
    frame_score,
    fuse_probes,
    match_references,
    select_probe_frames,
)
from .motion import motion_scores
from .planar import planar_scores
from .quality import summarize_quality
from .reasons import Reason
from .references import Reference, as_references
from .screen import screen_scores
from .speech import check_read_aloud
from .splice import cut_scores
from .thresholds import CURRENT_THRESHOLDS, Thresholds
from .tracking import FaceObservation, track_faces
from .video import DecodedVideo, Frame

__all__ = [
    "ENGINE_VERSION",
    "KEY_FRAME_JPEG_QUALITY",
    "KEY_FRAME_MAX_SIDE_PX",
    "PLANAR_FOCUS_MARGIN_MS",
    "assess",
]

ENGINE_VERSION = "certify-engine 0.5.0"
"""Recorded with every assessment; bump when the signals change."""

KEY_FRAME_MAX_SIDE_PX = 320
"""Key frames for reviewers are downscaled to this longer side."""

KEY_FRAME_JPEG_QUALITY = 80
"""JPEG quality of key frames (a 320 px frame is then ~15-25 kB)."""

PLANAR_FOCUS_MARGIN_MS = 300
"""Planar motion is judged in windows reaching this far around a challenged turn or nod."""

_POSE_ACTIONS = frozenset({Action.TURN_LEFT, Action.TURN_RIGHT, Action.NOD})

_REASON_ORDER = list(Reason)


class _Stopwatch:
    def __init__(self) -> None:
        self.timings_ms: dict[str, float] = {}

    @contextmanager
    def stage(self, name: str) -> Iterator[None]:
        start = time.perf_counter()
        try:
            yield
        finally:
            self.timings_ms[name] = self.timings_ms.get(name, 0.0) + (
                time.perf_counter() - start
            ) * 1000.0


def _jpeg(frame: Frame) -> bytes:
    rgb = frame.rgb
    h, w = rgb.shape[:2]
    factor = min(1.0, KEY_FRAME_MAX_SIDE_PX / max(h, w))
    if factor < 1.0:
        rgb = cv2.resize(rgb, (int(w * factor), int(h * factor)), interpolation=cv2.INTER_AREA)
    ok, data = cv2.imencode(
        ".jpg", cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, KEY_FRAME_JPEG_QUALITY]
    )
    return data.tobytes() if ok else b""


def _key_frames(
    frames: Sequence[Frame], probe_index: int | None, matched: Sequence[ActionEvent]
) -> tuple[KeyFrame, ...]:
    by_time = {f.t_ms: i for i, f in enumerate(frames)}
    picks: list[tuple[int, str]] = []
    if probe_index is not None:
        picks.append((probe_index, "best_face"))
    for event in (matched[:1] + matched[-1:]) if matched else ():
        index = by_time.get(event.peak_ms)
        if index is not None and all(index != p for p, _ in picks):
            picks.append((index, event.action.value))
    if not picks and frames:
        picks.append((len(frames) // 2, "middle"))
    return tuple(KeyFrame(t_ms=frames[i].t_ms, label=label, jpeg=_jpeg(frames[i])) for i, label in picks[:3])


def _sorted(reasons: Sequence[Reason]) -> tuple[Reason, ...]:
    unique = dict.fromkeys(reasons)
    return tuple(sorted(unique, key=_REASON_ORDER.index))


def assess(
    video: DecodedVideo,
    challenge: Challenge,
    references: Sequence[np.ndarray | Reference],
    *,
    backend: FaceBackend,
    thresholds: Thresholds = CURRENT_THRESHOLDS,
) -> Assessment:
    """Decide whether the recording shows the enrolled pensioner, alive, doing the challenge.

    `references` are the pensioner's active references (certify.references.Reference,
    or plain 128-d embeddings, taken as `full` class), from the same model as `backend`
    (PhotoCheck.embedding). Every one is used; any that matches in its class band is
    enough. Never raises for a bad video.
    """
    th = thresholds
    refs = as_references(references)
    watch = _Stopwatch()
    frames = video.frames
    failures: list[Reason] = []
    reviews: list[Reason] = []
    scores: dict[str, float] = {}
    details: dict[str, object] = {
        "frames_sampled": len(frames),
        "duration_ms": video.info.duration_ms,
        "challenge": challenge.to_json(),
        "truncated": video.truncated,
    }

    with watch.stage("track"):
        observations: tuple[FaceObservation, ...] = track_faces(frames, backend)
    with watch.stage("quality"):
        quality = summarize_quality(
            observations,
            duration_ms=video.info.duration_ms,
            frame_scale=frames[0].scale if frames else 1.0,
            th=th,
        )
    failures += quality.reasons
    scores.update({f"quality_{k}": v for k, v in quality.scores.items()})
    with watch.stage("fingerprint"):
        fingerprint = video_fingerprint(frames)

    base = baseline_of(observations)
    matched: tuple[ActionEvent, ...] = ()
    probe_indices: tuple[int, ...] = ()
    embeddings: list[np.ndarray] = []
    distance: float | None = None

    if base is not None and Reason.NO_FACE not in quality.reasons:
        with watch.stage("actions"):
            events = find_actions(observations, th, mirrored=challenge.mirrored)
            matched, missing = match_challenge(events, challenge)
        details["actions_seen"] = [e.to_json() for e in events]
        details["actions_missing"] = [a.value for a in missing]
        details["baseline"] = {
            "yaw_deg": round(base.yaw_deg, 2),
            "pitch_deg": round(base.pitch_deg, 2),
            "lid_open": round(base.lid_open, 4),
        }
        if missing:
            failures.append(Reason.CHALLENGE_NOT_FOLLOWED)

        with watch.stage("embed"):
            occluded = appearance_outliers(frames, observations)
            probe_indices = select_probe_frames(
                observations, lid_open=base.lid_open, excluded=occluded
            )
            probe_indices = tuple(
                sorted(probe_indices, key=lambda i: -frame_score(observations[i], base.lid_open))
            )
            for i in probe_indices:
                embeddings.append(
                    backend.embedder.embed(frames[i].rgb, observations[i].landmarks)
                )
        details["probe_t_ms"] = [frames[i].t_ms for i in probe_indices]
        details["occluded_t_ms"] = sorted(frames[i].t_ms for i in occluded)
        scores["occluded_fraction"] = len(occluded) / max(1, sum(o.has_face for o in observations))

        with watch.stage("attacks"):
            cuts = cut_scores(frames, observations, min_spike=th.cut_min_spike)
            focus = [
                (e.start_ms - PLANAR_FOCUS_MARGIN_MS, e.end_ms + PLANAR_FOCUS_MARGIN_MS)
                for e in matched
                if e.action in _POSE_ACTIONS
            ]
            planar = planar_scores(
                frames, observations, excluded_t_ms=cuts.cut_t_ms, focus_ms=focus
            )
            motion = motion_scores(frames, observations)
            screen = screen_scores(frames, observations)
        scores["cut_spike"] = cuts.spike
        scores["cut_count"] = float(len(cuts.cut_t_ms))
        scores["face_jump"] = cuts.max_face_jump
        scores["face_size_ratio"] = cuts.max_face_size_ratio
        if cuts.cut_t_ms:
            details["cut_t_ms"] = list(cuts.cut_t_ms)
        if planar is not None:
            scores["planar_nonplanar_fraction"] = planar.nonplanar_fraction
            scores["planar_windows"] = float(planar.windows)
            scores["planar_motion"] = planar.motion
            details["planar_window_t_ms"] = list(planar.window_t_ms)
            if planar.nonplanar_fraction < th.planar_max_nonplanar_fraction:
                failures.append(Reason.PLANAR_MOTION)
        if motion is not None:
            scores["landmark_shift"] = motion.landmark_shift
            scores["pixel_change"] = motion.pixel_change
            if (
                motion.landmark_shift < th.no_motion_max_landmark_shift
                and motion.pixel_change < th.no_motion_max_pixel_change
            ):
                failures.append(Reason.NO_MOTION)
        if screen is not None:
            scores["screen_enclosed_fraction"] = screen.enclosed_fraction
            scores["screen_mean_sides"] = screen.mean_sides
            if screen.enclosed_fraction >= th.screen_min_enclosed_fraction:
                failures.append(Reason.SCREEN_REPLAY)
        identity_spread = 0.0
        if len(embeddings) >= 2:
            identity_spread = max(
                embedding_distance(a, b)
                for i, a in enumerate(embeddings)
                for b in embeddings[i + 1 :]
            )
        scores["identity_spread"] = identity_spread
        if identity_spread > th.discontinuity_max_embedding_distance or cuts.cut_t_ms:
            failures.append(Reason.DISCONTINUITY)

    if challenge.digits:
        with watch.stage("speech"):
            speech = check_read_aloud(video.audio, observations, challenge.digits, th)
        failures += speech.reasons
        scores.update(speech.scores)
        details["speech"] = speech.details

    with watch.stage("match"):
        if not refs:
            reviews.append(Reason.NO_REFERENCE)
        elif embeddings:
            result = match_references(embeddings, refs, th)
            if result is not None:
                distance = result.distance
                details["reference_distances"] = [round(d, 4) for d in result.distances]
                details["reference_classes"] = [r.quality_class.value for r in refs]
                details["match_class"] = result.quality_class
                if result.verdict == "mismatch":
                    failures.append(Reason.FACE_MISMATCH)
                elif result.verdict == "uncertain":
                    reviews.append(Reason.MATCH_UNCERTAIN)
    if distance is not None:
        scores["match_distance"] = distance

    with watch.stage("key_frames"):
        best_probe = probe_indices[0] if probe_indices and embeddings else None
        key_frames = _key_frames(frames, best_probe, matched)

    probe_embedding = fuse_probes(embeddings) if embeddings else None

    if failures:
        decision = "failed"
    elif reviews:
        decision = "review"
    else:
        decision = "passed"
    return Assessment(
        decision=decision,
        reasons=_sorted(failures + reviews),
        match_distance=distance,
        actions=tuple(ActionEvidence(e.action.value, e.peak_ms, e.strength) for e in matched),
        scores=scores,
        timings_ms=dict(watch.timings_ms),
        key_frames=key_frames,
        thresholds_version=th.version,
        engine_version=ENGINE_VERSION,
        details=details,
        probe_embedding=probe_embedding,
        probe_embeddings=tuple(embeddings),
        fingerprint=fingerprint,
        model_version=backend.model_version,
    )
