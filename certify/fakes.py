"""A scripted face backend for fast unit tests of the engine's pure logic.

`ScriptedBackend` answers from a script instead of models: the test says, per frame,
which faces are there (box, 68 landmarks, embedding). Frames are recognised by the
value of their top-left pixel (`frame_marker`), which test frames are built with.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from .backend import FaceBackend, FaceBox

__all__ = ["ScriptedFace", "scripted_backend", "frame_marker"]


def frame_marker(image: np.ndarray) -> int:
    """The id a scripted frame carries in its top-left pixel."""
    return int(image[0, 0] if image.ndim == 2 else image[0, 0, 0])


@dataclass(frozen=True)
class ScriptedFace:
    box: FaceBox
    landmarks: np.ndarray
    embedding: np.ndarray = field(default_factory=lambda: np.zeros(128))


class _Detector:
    def __init__(self, script: Mapping[int, Sequence[ScriptedFace]]) -> None:
        self.script = script
        self.calls = 0

    def detect(self, gray: np.ndarray, *, upsample: int = 0) -> list[FaceBox]:
        self.calls += 1
        faces = self.script.get(frame_marker(gray), ())
        # detection may run on a downscaled copy: report boxes in that copy's pixels
        factor = gray.shape[1] / self._width(gray)
        return [f.box.scaled(factor) for f in faces]

    def _width(self, gray: np.ndarray) -> int:
        width = getattr(self, "frame_width", None)
        return int(width) if width is not None else int(gray.shape[1])


class _Landmarks:
    def __init__(self, script: Mapping[int, Sequence[ScriptedFace]]) -> None:
        self.script = script

    def landmarks(self, gray: np.ndarray, box: FaceBox) -> np.ndarray:
        faces = self.script.get(frame_marker(gray), ())
        if not faces:
            # what a real predictor does on an empty box: points somewhere inside it
            cx, cy = box.center
            return np.tile(np.array([[cx, cy]], np.float32), (68, 1))
        best = max(faces, key=lambda f: f.box.iou(box))
        return best.landmarks.astype(np.float32)


class _Embedder:
    model_version = "scripted"

    def __init__(self, script: Mapping[int, Sequence[ScriptedFace]]) -> None:
        self.script = script
        self.calls = 0

    def embed(self, rgb: np.ndarray, landmarks: np.ndarray) -> np.ndarray:
        self.calls += 1
        faces = self.script.get(frame_marker(rgb), ())
        if not faces:
            return np.zeros(128)
        centre = landmarks.mean(axis=0)
        best = min(faces, key=lambda f: float(np.hypot(*(f.landmarks.mean(axis=0) - centre))))
        return np.asarray(best.embedding, dtype=np.float64)


def scripted_backend(
    script: Mapping[int, Sequence[ScriptedFace]], *, frame_width: int
) -> FaceBackend:
    """A backend answering from `script`; `frame_width` is the width of the working frames
    (so boxes can be reported in the pixels of a downscaled detection copy)."""
    detector = _Detector(script)
    detector.frame_width = frame_width  # type: ignore[attr-defined]
    return FaceBackend(detector=detector, landmarker=_Landmarks(script), embedder=_Embedder(script))
