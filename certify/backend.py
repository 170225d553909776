"""Face models behind small protocols: a detector, a landmark predictor, an embedder.

The engine only talks to these three roles. The real implementation is dlib's (the
models that face_recognition ships: HOG frontal face detector, 68-point shape predictor,
ResNet face embedder); `certify.fakes` has a scripted stand-in for fast unit tests.

Models are loaded by `load_dlib_backend()`, never at import; it caches the loaded
backend, so a worker process pays the loading cost once.
"""

from __future__ import annotations

import functools
import logging
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

import numpy as np

from .exposure import UNDEREXPOSED_HIGHLIGHT, brightened_around

__all__ = [
    "FaceBox",
    "FaceDetector",
    "LandmarkPredictor",
    "FaceEmbedder",
    "FaceBackend",
    "load_dlib_backend",
    "DLIB_EMBEDDING_MODEL",
    "LANDMARK_COUNT",
    "EMBEDDING_SIZE",
    "EMBEDDING_AGREEMENT",
]

LANDMARK_COUNT = 68
"""Points per face from the landmark predictor (the iBUG 300-W layout)."""

EMBEDDING_SIZE = 128
"""Length of one face embedding."""

DLIB_EMBEDDING_MODEL = "dlib_face_recognition_resnet_model_v1"
"""Name recorded with every embedding: distances are only meaningful within one model.
(certify.resnet runs the same network with the same weights: the same model.)"""

EMBEDDING_AGREEMENT = 1e-4
"""Largest difference per component allowed between certify.resnet and dlib's own
network on the load-time test chip (measured: under 4e-7)."""

_log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class FaceBox:
    """A face rectangle in pixels of the image it was found in."""

    left: float
    top: float
    right: float
    bottom: float
    score: float = 1.0
    """Detector confidence (dlib HOG: SVM margin, > 0 means detected)."""

    @property
    def width(self) -> float:
        return self.right - self.left

    @property
    def height(self) -> float:
        return self.bottom - self.top

    @property
    def center(self) -> tuple[float, float]:
        return ((self.left + self.right) / 2.0, (self.top + self.bottom) / 2.0)

    def scaled(self, factor: float) -> FaceBox:
        return FaceBox(
            self.left * factor,
            self.top * factor,
            self.right * factor,
            self.bottom * factor,
            self.score,
        )

    def iou(self, other: FaceBox) -> float:
        """Intersection over union with another box (0 = apart, 1 = the same)."""
        ix = max(0.0, min(self.right, other.right) - max(self.left, other.left))
        iy = max(0.0, min(self.bottom, other.bottom) - max(self.top, other.top))
        inter = ix * iy
        union = self.width * self.height + other.width * other.height - inter
        return inter / union if union > 0 else 0.0


@runtime_checkable
class FaceDetector(Protocol):
    def detect(self, gray: np.ndarray, *, upsample: int = 0) -> list[FaceBox]:
        """Faces in a uint8 grayscale image, best first."""
        ...


@runtime_checkable
class LandmarkPredictor(Protocol):
    def landmarks(self, gray: np.ndarray, box: FaceBox) -> np.ndarray:
        """68 (x, y) points, float32 array of shape (68, 2), in the image's pixels."""
        ...


@runtime_checkable
class FaceEmbedder(Protocol):
    model_version: str

    def embed(self, rgb: np.ndarray, landmarks: np.ndarray) -> np.ndarray:
        """A 128-d float64 embedding of the face given by its 68 landmarks."""
        ...


@dataclass(frozen=True, slots=True)
class FaceBackend:
    """The three face roles together, as the engine uses them."""

    detector: FaceDetector
    landmarker: LandmarkPredictor
    embedder: FaceEmbedder

    @property
    def model_version(self) -> str:
        return self.embedder.model_version


class _DlibDetector:
    def __init__(self) -> None:
        import dlib

        self._detector = dlib.get_frontal_face_detector()

    def detect(self, gray: np.ndarray, *, upsample: int = 0) -> list[FaceBox]:
        rects, scores, _ = self._detector.run(np.ascontiguousarray(gray), upsample, 0.0)
        boxes = [
            FaceBox(r.left(), r.top(), r.right() + 1, r.bottom() + 1, float(s))
            for r, s in zip(rects, scores, strict=True)
        ]
        return sorted(boxes, key=lambda b: -b.score)


class _DlibLandmarks:
    def __init__(self, model_path: str) -> None:
        import dlib

        self._dlib = dlib
        self._predictor = dlib.shape_predictor(model_path)

    def landmarks(self, gray: np.ndarray, box: FaceBox) -> np.ndarray:
        rect = self._dlib.rectangle(
            int(round(box.left)), int(round(box.top)),
            int(round(box.right)) - 1, int(round(box.bottom)) - 1,
        )
        shape = self._predictor(np.ascontiguousarray(gray), rect)
        return np.array([(p.x, p.y) for p in shape.parts()], dtype=np.float32)


class _DlibEmbedder:
    """dlib's face-embedding network: the face cut out and aligned by dlib
    (get_face_chip, as compute_face_descriptor does), the network run by certify.resnet
    (the same weights and descriptor, about six times faster than dlib-bin's own code).
    If the two ever disagree on a test chip at load time, dlib's own network is used."""

    model_version = DLIB_EMBEDDING_MODEL

    def __init__(self, model_path: str) -> None:
        import dlib

        from .resnet import FaceResNet, ModelFormatError

        self._dlib = dlib
        self._model = dlib.face_recognition_model_v1(model_path)
        self._network: FaceResNet | None = None
        try:
            with open(model_path, "rb") as model_file:
                network = FaceResNet.from_dlib_bytes(model_file.read())
        except ModelFormatError as exc:
            _log.warning("face embedder: %s; using dlib's own network", exc)
            return
        chip = _test_chip()
        ours = network.descriptor(chip)
        theirs = np.asarray(self._model.compute_face_descriptor(chip), dtype=np.float64)
        difference = float(np.abs(ours - theirs).max())
        if difference > EMBEDDING_AGREEMENT:
            _log.warning("face embedder: certify.resnet differs from dlib by %.2g; using dlib's own", difference)
            return
        self._network = network

    def embed(self, rgb: np.ndarray, landmarks: np.ndarray) -> np.ndarray:
        dlib = self._dlib
        pts = landmarks.astype(np.float64)
        left, top = pts.min(axis=0)
        right, bottom = pts.max(axis=0)
        # a face in a picture short of light is brightened as for the landmark model
        # (certify.exposure); a dark skin in good light is left as it is
        rgb = brightened_around(rgb, left, top, right, bottom, highlights_below=UNDEREXPOSED_HIGHLIGHT)
        rect = dlib.rectangle(int(left), int(top), int(right), int(bottom))
        parts = dlib.points([dlib.point(int(round(x)), int(round(y))) for x, y in pts])
        shape = dlib.full_object_detection(rect, parts)
        if self._network is None:
            vector = self._model.compute_face_descriptor(np.ascontiguousarray(rgb), shape, 0)
            return np.asarray(vector, dtype=np.float64)
        chip = np.asarray(dlib.get_face_chip(np.ascontiguousarray(rgb), shape, size=150, padding=0.25))
        return self._network.descriptor(chip)


def _test_chip() -> np.ndarray:
    """A fixed 150 x 150 picture with structure at every scale (no face needed: the two
    implementations are compared number for number)."""
    y, x = np.mgrid[0:150, 0:150].astype(np.float64)
    channels = [np.sin(x / (3 + 5 * c)) * np.cos(y / (4 + 3 * c)) + np.sin((x + y) / 17.0) for c in range(3)]
    return np.ascontiguousarray(np.clip(np.stack(channels, axis=-1) * 60 + 128, 0, 255).astype(np.uint8))


@functools.cache
def load_dlib_backend() -> FaceBackend:
    """Load dlib's detector, 68-point landmark model and ResNet embedder (once per process).

    Takes about a second; the result is cached, so later calls return the same backend.
    The model files come from the face_recognition_models package (nothing is downloaded).
    """
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import face_recognition_models as models

    return FaceBackend(
        detector=_DlibDetector(),
        landmarker=_DlibLandmarks(models.pose_predictor_model_location()),
        embedder=_DlibEmbedder(models.face_recognition_model_location()),
    )
