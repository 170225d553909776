"""The whole check of one recording: measure (quality, liveness, attacks, match
distances) -> decide (certify.decide, a pure function of the signals and the table).

`assess` is a pure function of the decoded video, the issued challenge, the enrolled
references and the face backend. It never raises on a bad or hostile video: everything
it finds is returned as evidence in an `Assessment`. The decision rule is written in
certify/decide.py.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass

import cv2
import numpy as np

from .actions import ActionEvent, baseline_of, find_actions, match_challenge
from .backend import FaceBackend
from .bystanders import Bystanders, find_bystanders
from .challenge import Challenge
from .decide import decide
from .evidence import ActionEvidence, Assessment, KeyFrame
from .fingerprint import video_fingerprint
from .match import (
    ID_CARD_PROBE_INTEROCULAR_PX,
    appearance_outliers,
    at_eye_distance,
    embedding_distance,
    frame_score,
    fuse_probes,
    reference_distances,
    select_probe_frames,
)
from .motion import motion_scores
from .planar import planar_scores
from .quality import quality_scores
from .references import Reference, ReferenceClass, as_references
from .screen import screen_scores
from .signals import Signals
from .speech import check_read_aloud
from .splice import cut_scores
from .thresholds import CURRENT_THRESHOLDS, Thresholds
from .tracking import FaceObservation, track_faces
from .video import DecodedVideo, Frame

__all__ = [
    "ENGINE_VERSION",
    "KEY_FRAME_JPEG_QUALITY",
    "KEY_FRAME_MAX_SIDE_PX",
    "Measurement",
    "PLANAR_FOCUS_MARGIN_MS",
    "assess",
    "measure",
]

ENGINE_VERSION = "certify-engine 0.6.8"
"""Recorded with every assessment; bump when the signals change."""

KEY_FRAME_MAX_SIDE_PX = 320
"""Key frames for reviewers are downscaled to this longer side."""

KEY_FRAME_JPEG_QUALITY = 80
"""JPEG quality of key frames (a 320 px frame is then ~15-25 kB)."""

PLANAR_FOCUS_MARGIN_MS = 300
"""Planar motion is judged in windows reaching this far around the actions that answer
the challenge: a tilted picture fakes a turn or a nod there (and, tilting, can even make
the landmarks "blink"), while a live person's other head motion proves nothing."""

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
    for event in (*matched[:1], *matched[-1:]):
        index = by_time.get(event.peak_ms)
        if index is not None and all(index != p for p, _ in picks):
            picks.append((index, event.action.value))
    if not picks and frames:
        picks.append((len(frames) // 2, "middle"))
    return tuple(KeyFrame(t_ms=frames[i].t_ms, label=label, jpeg=_jpeg(frames[i])) for i, label in picks[:3])


def assess(
    video: DecodedVideo,
    challenge: Challenge,
    references: Sequence[np.ndarray | Reference],
    *,
    backend: FaceBackend,
    thresholds: Thresholds = CURRENT_THRESHOLDS,
    look_for_bystanders: bool = False,
    id_card_probes: bool | None = None,
) -> Assessment:
    """Decide whether the recording shows the enrolled pensioner, alive, doing the challenge.

    `references` are the pensioner's active references (certify.references.Reference,
    or plain 128-d embeddings, taken as `full` class), from the same model as `backend`
    (PhotoCheck.embedding). Every one is used; any that matches in its class band is
    enough. Measuring (`measure`) and deciding (certify.decide) are apart: the signals
    are numbers, the decision a small pure function of them and the thresholds. Never
    raises for a bad video.

    `look_for_bystanders` also looks for a second face beside the pensioner's (a helper;
    certify.bystanders): evidence for people watching assisted captures, never part of
    the decision.

    `id_card_probes` also embeds the probe frames shrunk to an ID-card photo's eye
    distance (certify.match.at_eye_distance; compared with `id_card` references). None:
    only when an `id_card` reference is given (it costs one embedding per probe frame);
    True also without one (bench/evaluate.py, which compares with references later).
    """
    m = measure(video, challenge, references, backend=backend, thresholds=thresholds,
                look_for_bystanders=look_for_bystanders, id_card_probes=id_card_probes)
    decision, reasons, match = decide(m.signals, thresholds)
    scores = dict(m.scores)
    details = dict(m.details)
    if match is not None:
        scores["match_distance"] = match.distance
        details["match_class"] = match.quality_class
    return Assessment(
        decision=decision,
        reasons=reasons,
        match_distance=match.distance if match is not None else None,
        actions=tuple(ActionEvidence(e.action.value, e.peak_ms, e.strength) for e in m.matched),
        scores=scores,
        timings_ms=m.timings_ms,
        key_frames=m.key_frames,
        thresholds_version=thresholds.version,
        engine_version=ENGINE_VERSION,
        details=details,
        probe_embedding=fuse_probes(m.embeddings) if m.embeddings else None,
        probe_embeddings=m.embeddings,
        id_card_probe_embedding=fuse_probes(m.id_card_embeddings) if m.id_card_embeddings else None,
        fingerprint=m.fingerprint,
        model_version=backend.model_version,
        signals=m.signals,
        bystanders=m.bystanders,
    )


@dataclass(frozen=True)
class Measurement:
    """Everything measured about one recording: the signals `decide` needs, and the
    evidence kept for reviewers (scores, details, key frames, embeddings, timings)."""

    signals: Signals
    scores: dict[str, float]
    details: dict[str, object]
    matched: tuple[ActionEvent, ...]
    embeddings: tuple[np.ndarray, ...]
    key_frames: tuple[KeyFrame, ...]
    fingerprint: str
    timings_ms: dict[str, float]
    bystanders: Bystanders | None = None
    id_card_embeddings: tuple[np.ndarray, ...] = ()
    """The probe frames shrunk to ID_CARD_PROBE_INTEROCULAR_PX (when asked for)."""


def measure(
    video: DecodedVideo,
    challenge: Challenge,
    references: Sequence[np.ndarray | Reference],
    *,
    backend: FaceBackend,
    thresholds: Thresholds = CURRENT_THRESHOLDS,
    look_for_bystanders: bool = False,
    id_card_probes: bool | None = None,
) -> Measurement:
    """Track, find the actions, run the attack signals, embed and compare: no decision.

    `thresholds` is used only for what defines a measurement (what counts as a blink,
    a turn, a frontal frame, a cut, a syllable), never for a verdict."""
    th = thresholds
    refs = as_references(references)
    watch = _Stopwatch()
    frames = video.frames
    scores: dict[str, float] = {}
    details: dict[str, object] = {
        "frames_sampled": len(frames),
        "duration_ms": video.info.duration_ms,
        "challenge": challenge.to_json(),
        "truncated": video.truncated,
    }
    signal: dict[str, object] = {}

    with watch.stage("track"):
        observations: tuple[FaceObservation, ...] = track_faces(frames, backend)
    with watch.stage("quality"):
        quality = quality_scores(observations, frame_scale=frames[0].scale if frames else 1.0, th=th)
    scores.update({f"quality_{k}": v for k, v in quality.items()})
    with watch.stage("fingerprint"):
        fingerprint = video_fingerprint(frames)

    base = baseline_of(observations)
    matched: tuple[ActionEvent, ...] = ()
    probe_indices: tuple[int, ...] = ()
    embeddings: list[np.ndarray] = []
    id_card_embeddings: list[np.ndarray] = []
    if id_card_probes is None:
        id_card_probes = any(r.quality_class is ReferenceClass.ID_CARD for r in refs)
    tracked = base is not None and "interocular_px" in quality

    if tracked:
        assert base is not None
        with watch.stage("actions"):
            events = find_actions(observations, th, mirrored=challenge.mirrored)
            matched, missing = match_challenge(events, challenge)
        signal["actions_missing"] = missing
        details["actions_seen"] = [e.to_json() for e in events]
        details["actions_missing"] = [a.value for a in missing]
        details["baseline"] = {
            "yaw_deg": round(base.yaw_deg, 2),
            "pitch_deg": round(base.pitch_deg, 2),
            "lid_open": round(base.lid_open, 4),
        }

        with watch.stage("embed"):
            occluded = appearance_outliers(frames, observations)
            chosen = select_probe_frames(
                observations, lid_open=base.lid_open, rest_pitch_deg=base.pitch_deg, excluded=occluded
            )
            probe_indices = tuple(
                sorted(chosen, key=lambda i: -frame_score(observations[i], base.lid_open, base.pitch_deg))
            )
            for i in probe_indices:
                points = observations[i].landmarks
                assert points is not None  # probes are frames with a face
                embeddings.append(backend.embedder.embed(frames[i].rgb, points))
                if id_card_probes:
                    small, moved = at_eye_distance(frames[i].rgb, points, ID_CARD_PROBE_INTEROCULAR_PX)
                    # a face already as small as an ID photo's comes back unchanged: the
                    # same picture, so the same embedding
                    id_card_embeddings.append(
                        embeddings[-1] if small is frames[i].rgb else backend.embedder.embed(small, moved))
        details["probe_t_ms"] = [frames[i].t_ms for i in probe_indices]
        if id_card_embeddings:
            details["id_card_probe_interocular_px"] = ID_CARD_PROBE_INTEROCULAR_PX
        details["occluded_t_ms"] = sorted(frames[i].t_ms for i in occluded)
        scores["occluded_fraction"] = len(occluded) / max(1, sum(o.has_face for o in observations))

        with watch.stage("attacks"):
            cuts = cut_scores(
                frames, observations, min_spike=th.cut_min_spike, min_aligned_spike=th.cut_min_aligned_spike
            )
            focus = [
                (e.start_ms - PLANAR_FOCUS_MARGIN_MS, e.end_ms + PLANAR_FOCUS_MARGIN_MS)
                for e in matched
            ]
            planar = planar_scores(frames, observations, excluded_t_ms=cuts.cut_t_ms, focus_ms=focus)
            motion = motion_scores(frames, observations)
            screen = screen_scores(frames, observations)
        signal["cut_spike"] = scores["cut_spike"] = cuts.spike
        signal["aligned_cut_spike"] = scores["aligned_cut_spike"] = cuts.aligned_spike
        scores["cut_count"] = float(len(cuts.cut_t_ms))
        scores["face_jump"] = cuts.max_face_jump
        scores["face_size_ratio"] = cuts.max_face_size_ratio
        if cuts.cut_t_ms:
            details["cut_t_ms"] = list(cuts.cut_t_ms)
        if planar is not None:
            signal["planar_nonplanar_fraction"] = scores["planar_nonplanar_fraction"] = planar.nonplanar_fraction
            scores["planar_windows"] = float(planar.windows)
            scores["planar_motion"] = planar.motion
            details["planar_window_t_ms"] = list(planar.window_t_ms)
        if motion is not None:
            signal["landmark_shift"] = scores["landmark_shift"] = motion.landmark_shift
            signal["pixel_change"] = scores["pixel_change"] = motion.pixel_change
        if screen is not None:
            signal["screen_enclosed_fraction"] = scores["screen_enclosed_fraction"] = screen.enclosed_fraction
            scores["screen_mean_sides"] = screen.mean_sides
        spread = max(
            (embedding_distance(a, b) for i, a in enumerate(embeddings) for b in embeddings[i + 1 :]),
            default=0.0,
        )
        signal["identity_spread"] = scores["identity_spread"] = spread

    if challenge.digits:
        with watch.stage("speech"):
            speech = check_read_aloud(video.audio, observations, challenge.digits, th)
        signal["speech_reasons"] = speech.reasons
        scores.update(speech.scores)
        details["speech"] = speech.details

    with watch.stage("match"):
        distances = reference_distances(embeddings, refs, id_card_probes=id_card_embeddings) if refs else ()
    if distances:
        details["reference_distances"] = [round(d, 4) for d in distances]
        details["reference_classes"] = [r.quality_class.value for r in refs]

    bystanders: Bystanders | None = None
    if look_for_bystanders:
        with watch.stage("bystanders"):
            bystanders = find_bystanders(frames, observations, backend=backend)
        details["bystanders"] = bystanders.to_json()
        scores["second_face_share"] = bystanders.share

    with watch.stage("key_frames"):
        key_frames = _key_frames(frames, probe_indices[0] if probe_indices else None, matched)

    signals = Signals(
        duration_ms=video.info.duration_ms,
        quality=quality,
        face_tracked=tracked,
        match_distances=distances,
        reference_classes=tuple(r.quality_class.value for r in refs) if distances else (),
        has_references=bool(refs),
        **signal,  # type: ignore[arg-type]
    )
    return Measurement(
        signals=signals,
        scores=scores,
        details=details,
        matched=matched,
        embeddings=tuple(embeddings),
        id_card_embeddings=tuple(id_card_embeddings),
        key_frames=key_frames,
        fingerprint=fingerprint,
        timings_ms=dict(watch.timings_ms),
        bystanders=bystanders,
    )
