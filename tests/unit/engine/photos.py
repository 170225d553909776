"""Faces of the people/ photos of ../shared/data, found by the real backend, for tests that
compare embeddings on real faces."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import cv2
import numpy as np

from certify.images import load_image


def people_faces(shared_data: Path, backend, *, every: int, limit: int) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """(rgb, 68 landmarks) of every `every`-th JPEG photo of people/, up to `limit` photos
    looked at; photos where the detector finds no face are left out."""
    for path in sorted((shared_data / "people").glob("*/*.jpg"))[::every][:limit]:
        rgb = load_image(path.read_bytes())
        gray = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
        boxes = backend.detector.detect(gray, upsample=1)
        if boxes:
            yield rgb, backend.landmarker.landmarks(gray, boxes[0])


def dlib_shape(points: np.ndarray):
    """The landmarks as dlib's full_object_detection (its own chip and descriptor calls)."""
    import dlib

    return dlib.full_object_detection(
        dlib.rectangle(*(int(v) for v in (*points.min(axis=0), *points.max(axis=0)))),
        dlib.points([dlib.point(int(round(x)), int(round(y))) for x, y in points]),
    )
