"""Presentation attacks made at run time from the shared data (nothing is committed).

Each function writes a short H.264 video into a folder it is given and returns its path:
a photo (printed or on a screen) held in a hand and moved, a frozen still, a replay cut
to the wrong challenge, and a splice of two people's clips. ffmpeg does the cutting;
OpenCV warps animate stills the way a hand-held photo moves: it tilts (a homography of
a plane rotating about its vertical and horizontal axes), drifts and comes closer.
"""

from __future__ import annotations

import math
import shutil
import subprocess
from fractions import Fraction
from pathlib import Path

import av
import cv2
import numpy as np

from certify.images import load_image

__all__ = ["animated_still", "frozen_still", "screen_replay", "cut", "splice", "ffmpeg"]


def ffmpeg(*args: str, stdin: bytes | None = None) -> None:
    """The ffmpeg command with `args` (quiet, overwriting); `stdin` is fed to it."""
    exe = shutil.which("ffmpeg")
    if exe is None:
        raise RuntimeError("ffmpeg is not installed")
    subprocess.run([exe, "-loglevel", "error", "-y", *args], input=stdin, check=True, timeout=300)


def write_h264(frames: list[np.ndarray], path: Path, rate: Fraction | int = 30) -> Path:
    """RGB frames to an H.264 MP4 (x264 veryfast, CRF 23, yuv420p; an odd row or column
    is cut off) through the ffmpeg command, which gives the same file every time. PyAV's
    libx264 encoder did not: the same frames encoded twice in one process came out
    different in 5 of 6 tries (2026-12-07), so every synthetic attack and degraded clip
    was a new sample on every run and verdicts moved between runs."""
    h, w = frames[0].shape[:2]
    h, w = h // 2 * 2, w // 2 * 2
    rate = Fraction(rate)
    raw = b"".join(np.ascontiguousarray(rgb[:h, :w], dtype=np.uint8).tobytes() for rgb in frames)
    ffmpeg("-f", "rawvideo", "-pix_fmt", "rgb24", "-s", f"{w}x{h}", "-r", f"{rate.numerator}/{rate.denominator}",
           "-i", "-", "-c:v", "libx264", "-preset", "veryfast", "-crf", "23", "-pix_fmt", "yuv420p", str(path),
           stdin=raw)
    return path


def _tilt_homography(w: int, h: int, yaw_deg: float, pitch_deg: float, roll_deg: float,
                     scale: float, dx: float, dy: float) -> np.ndarray:
    """Image of a flat picture rotated in 3D in front of a pinhole camera: its four
    corners are rotated, placed at the focal distance and projected."""
    f = float(max(w, h))
    ya, pa, ra = (math.radians(a) for a in (yaw_deg, pitch_deg, roll_deg))
    ry = np.array([[math.cos(ya), 0, math.sin(ya)], [0, 1, 0], [-math.sin(ya), 0, math.cos(ya)]])
    rx = np.array([[1, 0, 0], [0, math.cos(pa), -math.sin(pa)], [0, math.sin(pa), math.cos(pa)]])
    rz = np.array([[math.cos(ra), -math.sin(ra), 0], [math.sin(ra), math.cos(ra), 0], [0, 0, 1]])
    corners = np.array([[-w / 2, -h / 2, 0], [w / 2, -h / 2, 0], [w / 2, h / 2, 0],
                        [-w / 2, h / 2, 0]], dtype=np.float64)
    moved = corners @ (rz @ rx @ ry).T + np.array([0.0, 0.0, f / scale])
    projected = moved[:, :2] * (f / moved[:, 2:3]) + np.array([w / 2 + dx, h / 2 + dy])
    source = (corners[:, :2] + np.array([w / 2, h / 2])).astype(np.float32)
    return cv2.getPerspectiveTransform(source, projected.astype(np.float32))


def animated_still(image: Path, path: Path, *, seconds: float = 5.0, fps: int = 30,
                   max_yaw_deg: float = 25.0, size: tuple[int, int] = (480, 640),
                   turns: float = 1.5, close: bool = False, seed: int = 3) -> Path:
    """A still photo moved like a hand-held print: tilted left/right (`turns` times over
    the clip) and up/down, drifting, coming closer, with sensor noise. The tilts make
    naive yaw/pitch detectors see turns and nods. `close`: the print fills the picture
    (held near the camera, no edge of it in view) instead of standing in a grey room.
    `seed` draws the sensor noise."""
    rgb = load_image(image.read_bytes(), max_side_px=900)
    w, h = size
    canvas = np.full((h, w, 3), 90, np.uint8)
    ih, iw = rgb.shape[:2]
    s = max(w / iw, h / ih) * 1.25 if close else min(w / iw, h / ih) * 0.9
    placed = cv2.resize(rgb, (int(iw * s), int(ih * s)), interpolation=cv2.INTER_AREA)
    if close:
        py, px = (placed.shape[0] - h) // 2, (placed.shape[1] - w) // 2
        canvas[:] = placed[py:py + h, px:px + w]
    else:
        y0, x0 = (h - placed.shape[0]) // 2, (w - placed.shape[1]) // 2
        canvas[y0:y0 + placed.shape[0], x0:x0 + placed.shape[1]] = placed
    rng = np.random.default_rng(seed)
    frames = []
    n = int(seconds * fps)
    for i in range(n):
        t = i / fps
        yaw = max_yaw_deg * math.sin(2 * math.pi * t / seconds * turns)
        pitch = 10.0 * math.sin(2 * math.pi * t / seconds + 1.0)
        roll = 4.0 * math.sin(2 * math.pi * t / 2.3)
        scale = 1.0 + 0.08 * math.sin(2 * math.pi * t / seconds)
        dx, dy = 20 * math.sin(t * 1.7), 12 * math.sin(t * 2.3)
        m = _tilt_homography(w, h, yaw, pitch, roll, scale, dx, dy)
        border = cv2.BORDER_REFLECT if close else cv2.BORDER_CONSTANT
        warped = cv2.warpPerspective(canvas, m, (w, h), borderMode=border, borderValue=(60, 60, 60))
        noise = rng.normal(0, 2.0, warped.shape)
        frames.append(np.clip(warped + noise, 0, 255).astype(np.uint8))
    return write_h264(frames, path, fps)


def frozen_still(image: Path, path: Path, *, seconds: float = 5.0, fps: int = 30) -> Path:
    """One picture repeated: a 'video' with no change at all."""
    rgb = load_image(image.read_bytes(), max_side_px=640)
    rgb = rgb[: rgb.shape[0] // 2 * 2, : rgb.shape[1] // 2 * 2]
    return write_h264([rgb] * int(seconds * fps), path, fps)


def _read_rgb(source: Path, start_s: float, seconds: float, fps: int) -> list[np.ndarray]:
    frames: list[np.ndarray] = []
    step, next_s = 1.0 / fps, start_s
    with av.open(str(source)) as container:
        stream = container.streams.video[0]
        for frame in container.decode(stream):
            t = float(frame.pts * stream.time_base) if frame.pts is not None else 0.0
            if t + 1e-3 < next_s:
                continue
            if t > start_s + seconds:
                break
            frames.append(frame.to_ndarray(format="rgb24"))
            next_s += step
    return frames


def screen_replay(source: Path, path: Path, *, start_s: float = 0.0, seconds: float = 6.0,
                  fps: int = 30, size: tuple[int, int] = (640, 480), screen_fraction: float = 0.6,
                  seed: int = 5) -> Path:
    """A live clip played on a screen and filmed by a hand-held camera: the clip fills a
    screen with a dark bezel, standing in a dim room; the camera shakes and the screen is
    seen slightly askew; the picture gets the screen's traces (a pixel grid, a bluish
    tint, reduced contrast and a glare gradient)."""
    clip = _read_rgb(source, start_s, seconds, fps)
    w, h = size
    rng = np.random.default_rng(seed)
    room = np.zeros((h, w, 3), np.float32)
    room[:] = np.linspace(40, 90, w, dtype=np.float32)[None, :, None]
    room += rng.normal(0, 6, room.shape).astype(np.float32)
    room = cv2.GaussianBlur(room, (0, 0), 9)
    sh = int(h * screen_fraction * 1.25)
    frames = []
    for i, rgb in enumerate(clip):
        ch, cw = rgb.shape[:2]
        sw = int(sh * cw / ch)
        screen = cv2.resize(rgb, (sw, sh), interpolation=cv2.INTER_AREA).astype(np.float32)
        grid = np.ones((sh, sw), np.float32)
        grid[::3, :] *= 0.82
        grid[:, ::3] *= 0.82
        screen = screen * grid[:, :, None]
        screen = 30 + 0.8 * screen * np.array([0.92, 0.97, 1.08], np.float32)
        glare = np.linspace(0, 35, sw, dtype=np.float32)[None, :, None]
        screen = np.clip(screen + glare, 0, 255)
        bezel = 14
        panel = np.full((sh + 2 * bezel, sw + 2 * bezel, 3), 18, np.float32)
        panel[bezel:bezel + sh, bezel:bezel + sw] = screen
        canvas = room.copy()
        ph, pw = panel.shape[:2]
        y0, x0 = (h - ph) // 2, (w - pw) // 2
        if y0 < 0 or x0 < 0:
            panel = panel[max(0, -y0):max(0, -y0) + min(h, ph), max(0, -x0):max(0, -x0) + min(w, pw)]
            y0, x0 = max(0, y0), max(0, x0)
            ph, pw = panel.shape[:2]
        canvas[y0:y0 + ph, x0:x0 + pw] = panel
        t = i / fps
        m = _tilt_homography(w, h, 6 * math.sin(t * 0.9), 4 * math.sin(t * 1.3 + 1), 1.5 * math.sin(t * 2.1),
                             1.0, 6 * math.sin(t * 3.1) + 3 * math.sin(t * 7.3), 5 * math.sin(t * 2.7))
        warped = cv2.warpPerspective(canvas, m, (w, h), borderMode=cv2.BORDER_REFLECT)
        noise = rng.normal(0, 2.0, warped.shape)
        frames.append(np.clip(warped + noise, 0, 255).astype(np.uint8))
    return write_h264(frames, path, fps)


def cut(source: Path, path: Path, start_s: float, seconds: float) -> Path:
    ffmpeg("-ss", str(start_s), "-i", str(source), "-t", str(seconds), "-c:v", "libx264",
           "-preset", "veryfast", "-pix_fmt", "yuv420p", "-c:a", "aac", str(path))
    return path


def splice(first: Path, second: Path, path: Path, *, first_s: tuple[float, float],
           second_s: tuple[float, float], size: int = 512) -> Path:
    """The first clip's segment followed by the second clip's, both scaled to one size:
    a face swapped mid-recording."""
    (a0, a1), (b0, b1) = first_s, second_s
    graph = (
        f"[0:v]trim={a0}:{a1},setpts=PTS-STARTPTS,scale={size}:{size},setsar=1,fps=30[a];"
        f"[1:v]trim={b0}:{b1},setpts=PTS-STARTPTS,scale={size}:{size},setsar=1,fps=30[b];"
        "[a][b]concat=n=2:v=1:a=0[v]"
    )
    ffmpeg("-i", str(first), "-i", str(second), "-filter_complex", graph, "-map", "[v]",
           "-c:v", "libx264", "-preset", "veryfast", "-pix_fmt", "yuv420p", str(path))
    return path
