"""Second faces in a recording: someone beside the pensioner (a helper, a bystander).

Frames and the main face's track in, plain evidence out: in how many of the frames
looked at a second face was seen, and one embedding of that face, so that a service can
compare the helpers of many recordings. Nothing here changes a decision: the engine's
`multiple_faces` reason (certify.quality) already refuses a recording where a second
face of comparable size is in a third of the picture; this looks for the helper who
stays smaller or at the edge, for people to review.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from .backend import FaceBackend, FaceBox
from .match import embedding_distance
from .tracking import FaceObservation
from .video import Frame

__all__ = [
    "BYSTANDER_INTERVAL_MS",
    "BYSTANDER_MAX_EMBEDDED",
    "BYSTANDER_MAX_LOOKS",
    "BYSTANDER_MAX_OVERLAP",
    "BYSTANDER_MIN_RELATIVE_WIDTH",
    "BYSTANDER_MIN_SCORE",
    "SAME_BYSTANDER_MAX_DISTANCE",
    "Bystanders",
    "find_bystanders",
]

BYSTANDER_INTERVAL_MS = 1000
"""Look for other faces at most this often (ms of video): a helper who leans in stays
for seconds, and each look costs one detector run on the working frame (~30-60 ms at
640 px), so a 6 s clip pays about six."""

BYSTANDER_MAX_LOOKS = 10
"""At most this many looks per recording, spread over it: the phone page records 4.5-9.8 s,
looked at once a second; a longer upload (up to 20 s) costs no more (measured on this
2-core machine while shared: 30-105 ms a look, 11-19% of the whole assessment)."""

BYSTANDER_MIN_RELATIVE_WIDTH = 0.25
"""A second face counts when at least this wide relative to the main face. Lower than
tracking's SECOND_FACE_MIN_RELATIVE_SIZE (0.5, where the recording is refused): a
helper standing behind the pensioner's shoulder is often half the size or less; a face
on a poster across the room is smaller still."""

BYSTANDER_MIN_SCORE = 0.2
"""Detector margin (dlib HOG) a second face needs. The default detection threshold (0)
lets through patterns in curtains and shelves now and then (videos/webcam_static_room_m9
shows one); a real face in view scores well above 0.2."""

BYSTANDER_MAX_OVERLAP = 0.2
"""A box overlapping the main face by more than this (intersection over union) is the
main face found again, not another person."""

BYSTANDER_MAX_EMBEDDED = 3
"""At most this many second faces are embedded per recording (the largest ones): one
embedding costs ~40 ms, and three are enough to average out a blurred frame."""

SAME_BYSTANDER_MAX_DISTANCE = 0.5
"""Two second faces within one recording are taken for the same person at or below this
distance (the usual dlib same-person bound is 0.6; second faces are small and off-axis,
so the bound is kept a little tighter before averaging them)."""


@dataclass(frozen=True, slots=True)
class Bystanders:
    """What was seen beside the main face."""

    frames_checked: int
    """Frames the detector looked at for other faces."""
    frames_with_second_face: int
    """Of those, frames showing at least one other face."""
    most_faces: int = 0
    """The largest number of faces seen in one frame (main face included)."""
    relative_width: float = 0.0
    """Median width of the second face relative to the main face, where seen."""
    t_ms: tuple[int, ...] = ()
    """When a second face was seen."""
    embedding: np.ndarray | None = field(default=None, repr=False, compare=False)
    """The mean embedding of the largest second faces (same person), or None."""

    @property
    def share(self) -> float:
        """Share of the frames looked at that showed a second face."""
        return self.frames_with_second_face / self.frames_checked if self.frames_checked else 0.0

    def to_json(self) -> dict[str, object]:
        """Plain numbers for the evidence (never the embedding)."""
        return {
            "frames_checked": self.frames_checked,
            "frames_with_second_face": self.frames_with_second_face,
            "share": round(self.share, 3),
            "most_faces": self.most_faces,
            "relative_width": round(self.relative_width, 3),
            "t_ms": list(self.t_ms),
            "embedded": self.embedding is not None,
        }


def _main_box(observation: FaceObservation | None, boxes: Sequence[FaceBox]) -> FaceBox | None:
    if observation is not None and observation.box is not None:
        return observation.box
    return max(boxes, key=lambda b: b.width) if boxes else None


def _others(boxes: Sequence[FaceBox], main: FaceBox) -> list[FaceBox]:
    return [
        b for b in boxes
        if b is not main
        and b.score >= BYSTANDER_MIN_SCORE
        and b.iou(main) <= BYSTANDER_MAX_OVERLAP
        and b.width >= BYSTANDER_MIN_RELATIVE_WIDTH * main.width
    ]


def find_bystanders(
    frames: Sequence[Frame],
    observations: Sequence[FaceObservation] | None,
    *,
    backend: FaceBackend,
) -> Bystanders:
    """Other faces than the main one, looked for about once a second (at most
    BYSTANDER_MAX_LOOKS times, spread over the recording).

    `observations` is the main face's track (certify.tracking.track_faces, one per
    frame); without it the largest face of each frame is taken for the main one. Never
    raises for a frame without faces."""
    checked = 0
    seen: list[tuple[int, FaceBox, FaceBox]] = []  # frame index, second face, main face
    most = 0
    last_ms: int | None = None
    span_ms = frames[-1].t_ms - frames[0].t_ms if frames else 0
    interval_ms = max(BYSTANDER_INTERVAL_MS, span_ms / BYSTANDER_MAX_LOOKS)
    for index, frame in enumerate(frames):
        if last_ms is not None and frame.t_ms - last_ms < interval_ms:
            continue
        last_ms = frame.t_ms
        checked += 1
        boxes = backend.detector.detect(frame.gray)
        observation = observations[index] if observations is not None and index < len(observations) else None
        main = _main_box(observation, boxes)
        if main is None:
            continue
        others = _others(boxes, main)
        most = max(most, len(boxes) if observation is None or observation.box is None else len(others) + 1)
        if others:
            seen.append((index, max(others, key=lambda b: b.width), main))
    if not seen:
        return Bystanders(frames_checked=checked, frames_with_second_face=0, most_faces=most)
    largest = sorted(seen, key=lambda s: -s[1].width)[:BYSTANDER_MAX_EMBEDDED]
    embeddings = []
    for index, box, _ in largest:
        frame = frames[index]
        points = backend.landmarker.landmarks(frame.gray, box)
        embeddings.append(backend.embedder.embed(frame.rgb, points))
    first = embeddings[0]
    same = [e for e in embeddings if embedding_distance(first, e) <= SAME_BYSTANDER_MAX_DISTANCE]
    return Bystanders(
        frames_checked=checked,
        frames_with_second_face=len(seen),
        most_faces=most,
        relative_width=float(np.median([box.width / max(main.width, 1.0) for _, box, main in seen])),
        t_ms=tuple(frames[i].t_ms for i, _, _ in seen),
        embedding=np.mean(same, axis=0),
    )
