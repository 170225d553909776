"""Real media files made with ffmpeg for tests: synthetic clips, cut and re-encoded clips,
and the broken files that uploads must survive. Every file is encoded by a real codec."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest


def ffmpeg(*args: str) -> None:
    exe = shutil.which("ffmpeg")
    if exe is None:
        pytest.skip("ffmpeg is not installed (apt-get install ffmpeg)")
    subprocess.run([exe, "-loglevel", "error", "-y", *args], check=True, timeout=300)


def synthetic_clip(
    path: Path, *, seconds: float = 3.0, size: str = "320x240", fps: int = 15,
    vcodec: str = "libx264", audio: bool = False, extra: tuple[str, ...] = (),
) -> Path:
    """A test-pattern clip (no face) encoded with a real codec."""
    args = ["-f", "lavfi", "-i", f"testsrc2=size={size}:rate={fps}"]
    if audio:
        args += ["-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000"]
    args += ["-t", str(seconds), "-c:v", vcodec, "-pix_fmt", "yuv420p"]
    if vcodec == "libx264":
        args += ["-preset", "ultrafast"]
    if audio:
        args += ["-c:a", "libopus" if path.suffix == ".webm" else "aac", "-shortest"]
    ffmpeg(*args, *extra, str(path))
    return path


def cut_clip(
    source: Path, path: Path, *, start_s: float = 0.0, seconds: float | None = None,
    extra: tuple[str, ...] = (),
) -> Path:
    """A re-encoded excerpt of a real clip (codec chosen by the file extension)."""
    args = ["-ss", str(start_s), "-i", str(source)]
    if seconds is not None:
        args += ["-t", str(seconds)]
    if path.suffix == ".webm":
        args += ["-c:v", "libvpx", "-b:v", "1M", "-deadline", "realtime", "-cpu-used", "8",
                 "-c:a", "libopus"]
    else:
        args += ["-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-c:a", "aac"]
    ffmpeg(*args, *extra, str(path))
    return path


def with_rotation(source: Path, path: Path, degrees: int) -> Path:
    """The same stream with a display-rotation tag, as iPhones write portrait videos."""
    ffmpeg("-i", str(source), "-c", "copy", "-metadata:s:v:0", f"rotate={degrees}", str(path))
    return path


def truncated_copy(source: Path, path: Path, *, keep: float = 0.5) -> Path:
    data = source.read_bytes()
    path.write_bytes(data[: int(len(data) * keep)])
    return path


def audio_only(path: Path, *, seconds: float = 4.0) -> Path:
    ffmpeg("-f", "lavfi", "-i", "sine=frequency=300:sample_rate=44100", "-t", str(seconds),
           "-c:a", "aac", str(path))
    return path
