"""Synthetic faces for the scripted backend: 68 landmarks of a simple 3D head, posed
and projected by a pinhole camera, on frames of random texture.

Fast unit tests of the engine's pure logic use these (no models, no data files): a
script says per moment whether the eyes are closed, the mouth open, and where the head
points, and `scripted_video` turns that into frames plus a scripted backend.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import cv2
import numpy as np

from certify.backend import FaceBackend, FaceBox
from certify.fakes import ScriptedFace, scripted_backend
from certify.video import DecodedVideo, Frame, VideoInfo

FRAME_W, FRAME_H = 640, 480
SAMPLE_MS = 100


def _template() -> np.ndarray:
    """(68, 3) points of a frontal head in interocular units: x right, y down, z toward
    the camera (nose tip forward, jaw and ears back)."""
    pts = np.zeros((68, 3))
    for k in range(17):
        a = math.pi * k / 16
        pts[k] = (-1.05 * math.cos(a), -0.2 + 1.55 * math.sin(a), -0.9 + 1.12 * math.sin(a))
    for k in range(5):
        x = -0.95 + 0.2 * k
        pts[17 + k] = (x, -0.75 - 0.05 * math.sin(math.pi * k / 4), -0.2)
        pts[26 - k] = (-x, -0.75 - 0.05 * math.sin(math.pi * k / 4), -0.2)
    for k in range(4):
        pts[27 + k] = (0.0, -0.5 + 0.23 * k, -0.1 + 0.18 * k)
    for k in range(5):
        pts[31 + k] = (-0.25 + 0.125 * k, 0.35, 0.15)
    eye = [(-0.25, 0.0), (-0.1, -0.1), (0.1, -0.1), (0.25, 0.0), (0.1, 0.08), (-0.1, 0.08)]
    for k, (dx, dy) in enumerate(eye):
        pts[36 + k] = (-0.5 + dx, -0.45 + dy, -0.15)  # image-left eye: outer corner first
        pts[42 + k] = (0.5 - eye[3 - k if k < 4 else 9 - k][0], -0.45 + dy, -0.15)
    outer = [(-0.4, 0.75), (-0.25, 0.68), (-0.1, 0.65), (0.0, 0.66), (0.1, 0.65), (0.25, 0.68),
             (0.4, 0.75), (0.25, 0.85), (0.1, 0.9), (0.0, 0.9), (-0.1, 0.9), (-0.25, 0.85)]
    for k, (x, y) in enumerate(outer):
        pts[48 + k] = (x, y, 0.05)
    inner = [(-0.32, 0.75), (-0.1, 0.74), (0.0, 0.74), (0.1, 0.74), (0.32, 0.75), (0.1, 0.76),
             (0.0, 0.76), (-0.1, 0.76)]
    for k, (x, y) in enumerate(inner):
        pts[60 + k] = (x, y, 0.05)
    return pts


TEMPLATE = _template()


@dataclass(frozen=True)
class Pose:
    """What the synthetic face does at one moment."""

    yaw_deg: float = 0.0
    """Positive: nose toward image-right."""
    pitch_deg: float = 0.0
    """Positive: nose down."""
    eyes_closed: bool = False
    mouth_open: bool = False
    centre: tuple[float, float] = (FRAME_W / 2, FRAME_H / 2)
    iod_px: float = 60.0


def landmarks(pose: Pose, jitter: float = 0.0, rng: np.random.Generator | None = None) -> np.ndarray:
    pts = TEMPLATE.copy()
    if pose.eyes_closed:
        for upper, lower in ((37, 41), (38, 40), (43, 47), (44, 46)):
            pts[upper, 1] = pts[lower, 1] = -0.44
    if pose.mouth_open:
        pts[61:64, 1] = 0.6
        pts[65:68, 1] = 1.05
        pts[56:59, 1] = 1.2
    yaw, pitch = math.radians(pose.yaw_deg), math.radians(pose.pitch_deg)
    # a head turning its nose toward image-right rotates +z toward +x
    ry = np.array([[math.cos(yaw), 0, math.sin(yaw)], [0, 1, 0], [-math.sin(yaw), 0, math.cos(yaw)]])
    rx = np.array([[1, 0, 0], [0, math.cos(pitch), math.sin(pitch)], [0, -math.sin(pitch), math.cos(pitch)]])
    rotated = pts @ (rx @ ry).T
    focal = float(FRAME_W)
    distance = focal / pose.iod_px  # interocular units from the camera
    depth = distance - rotated[:, 2]
    xy = rotated[:, :2] * (focal / depth)[:, None] + np.array(pose.centre)
    if jitter and rng is not None:
        xy = xy + rng.normal(0, jitter * pose.iod_px, xy.shape)
    return xy.astype(np.float32)


def _box(points: np.ndarray) -> FaceBox:
    left, top = points.min(axis=0)
    right, bottom = points.max(axis=0)
    return FaceBox(float(left), float(top), float(right), float(bottom))


def scripted_video(
    timeline: Callable[[int], Pose | None],
    *,
    duration_ms: int = 5000,
    embedding: np.ndarray | None = None,
    extra_faces: Callable[[int], Sequence[Pose]] = lambda t: (),
    brightness: float = 128.0,
    texture: float = 40.0,
    jitter: float = 0.01,
    seed: int = 1,
) -> tuple[DecodedVideo, FaceBackend]:
    """Frames every SAMPLE_MS with the face `timeline(t_ms)` says (None: no face), and a
    scripted backend that finds exactly those faces. Frames carry random texture (so a
    live camera's noise and sharpness are there) around `brightness`; landmarks get
    `jitter` (interocular units) of random placement error, as a real predictor has."""
    rng = np.random.default_rng(seed)
    emb = np.zeros(128) if embedding is None else embedding
    frames, script = [], {}
    for n, t in enumerate(range(0, duration_ms, SAMPLE_MS)):
        marker = n + 1
        coarse = rng.normal(brightness, texture, (FRAME_H // 2, FRAME_W // 2)).astype(np.float32)
        fine = cv2.resize(coarse, (FRAME_W, FRAME_H), interpolation=cv2.INTER_LINEAR)
        gray = np.clip(fine, 0, 255).astype(np.uint8)
        gray[:4, :4] = marker  # survives the detector's downscaling
        faces = []
        pose = timeline(t)
        if pose is not None:
            pts = landmarks(pose, jitter=jitter, rng=rng)
            faces.append(ScriptedFace(box=_box(pts), landmarks=pts, embedding=emb))
        for other in extra_faces(t):
            pts = landmarks(other)
            faces.append(ScriptedFace(box=_box(pts), landmarks=pts, embedding=emb))
        script[marker] = faces
        frames.append(Frame(t_ms=t, gray=gray, scale=1.0))
    info = VideoInfo(
        duration_ms=duration_ms, width=FRAME_W, height=FRAME_H, rotation_deg=0,
        fps=30.0, codec="synthetic", container="none", has_audio=False,
    )
    return DecodedVideo(info=info, frames=tuple(frames)), scripted_backend(script, frame_width=FRAME_W)


def unit_vector(seed: int) -> np.ndarray:
    v = np.random.default_rng(seed).normal(size=128)
    return v / np.linalg.norm(v)
