"""Reading a recorded video: probe it cheaply, then decode sampled, upright frames.

The only I/O in the library: it opens the one file it is given. Limits are checked
before anything expensive happens (container header and packet timestamps first, then
decoding), so a 10-minute or 8K upload costs milliseconds to refuse.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import av
import numpy as np

from .reasons import Reason

__all__ = [
    "VideoLimits",
    "VideoInfo",
    "Frame",
    "DecodedVideo",
    "VideoError",
    "probe_video",
    "decode_video",
]

DEFAULT_SAMPLE_FPS = 10.0
"""Frames per second kept for analysis. Blinks last 100-400 ms, so 10 fps sees them."""

DEFAULT_MAX_SIDE_PX = 640
"""Decoded frames are downscaled so that their longer side is at most this."""


@dataclass(frozen=True, slots=True)
class VideoLimits:
    """What the engine accepts. Recordings are meant to be 4-10 s from a phone camera."""

    min_duration_s: float = 2.0
    max_duration_s: float = 20.0
    max_pixels: int = 3840 * 2160
    """Largest frame (width x height) decoded; 4K is accepted, 8K is refused."""
    max_fps: float = 120.0
    sample_fps: float = DEFAULT_SAMPLE_FPS
    max_side_px: int = DEFAULT_MAX_SIDE_PX


@dataclass(frozen=True, slots=True)
class VideoInfo:
    """What the container says about the video, with width/height as displayed (upright)."""

    duration_ms: int
    width: int
    height: int
    rotation_deg: int
    """Clockwise rotation applied to decoded pictures to show them upright (0/90/180/270)."""
    fps: float
    codec: str
    container: str
    has_audio: bool


@dataclass(frozen=True, slots=True)
class Frame:
    """One sampled, upright, downscaled RGB frame."""

    t_ms: int
    rgb: np.ndarray
    scale: float
    """Working pixels per original pixel (<= 1.0)."""


@dataclass(frozen=True, slots=True)
class DecodedVideo:
    info: VideoInfo
    frames: tuple[Frame, ...]
    truncated: bool = False
    """True when decoding stopped early on corrupt data (the frames before it are kept)."""


class VideoError(Exception):
    """A video the engine cannot use; `reason` says why in a stable code."""

    def __init__(self, reason: Reason, message: str) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message


def _clockwise_rotation(frame_or_stream_rotation: int) -> int:
    """Convert PyAV's counter-clockwise display-matrix angle to a clockwise 0/90/180/270."""
    return int(round(-frame_or_stream_rotation / 90.0)) % 4 * 90


def _open(path: Path) -> av.container.InputContainer:
    try:
        if path.stat().st_size == 0:
            raise VideoError(Reason.UNREADABLE_VIDEO, "the file is empty")
        return av.open(str(path), mode="r", metadata_errors="ignore")
    except VideoError:
        raise
    except (av.FFmpegError, OSError, UnicodeDecodeError, ValueError) as exc:
        raise VideoError(Reason.UNREADABLE_VIDEO, f"not a readable video: {exc}") from None


def probe_video(path: str | Path, *, limits: VideoLimits | None = None) -> VideoInfo:
    """Check a file is a usable video without decoding more than its first picture.

    Raises VideoError with `unreadable_video`, `video_too_long`, `video_too_short` or
    `video_resolution_too_high`. Duration comes from the packet timestamps when the
    container does not state it (MediaRecorder WebM files do not).
    """
    limits = limits or VideoLimits()
    path = Path(path)
    with _open(path) as container:
        if not container.streams.video:
            raise VideoError(Reason.UNREADABLE_VIDEO, "the file has no video track")
        stream = container.streams.video[0]
        width, height = stream.codec_context.width, stream.codec_context.height
        if not width or not height:
            raise VideoError(Reason.UNREADABLE_VIDEO, "the video track has no picture size")
        if width * height > limits.max_pixels:
            raise VideoError(
                Reason.VIDEO_RESOLUTION_TOO_HIGH,
                f"{width}x{height} is larger than the {limits.max_pixels} pixels accepted",
            )
        rotation = 0
        first_picture = False
        last_s = 0.0
        packets = 0
        try:
            for packet in container.demux(stream):
                if packet.pts is not None and packet.time_base is not None:
                    end_s = float((packet.pts + (packet.duration or 0)) * packet.time_base)
                    last_s = max(last_s, end_s)
                    if last_s > limits.max_duration_s:
                        raise VideoError(
                            Reason.VIDEO_TOO_LONG,
                            f"longer than the {limits.max_duration_s:g} s accepted",
                        )
                packets += 1
                if not first_picture and packet.size:
                    for frame in packet.decode():
                        rotation = _clockwise_rotation(frame.rotation)
                        first_picture = True
                        break
        except av.FFmpegError as exc:
            if not first_picture:
                raise VideoError(Reason.UNREADABLE_VIDEO, f"cannot decode: {exc}") from None
        if not first_picture:
            raise VideoError(Reason.UNREADABLE_VIDEO, "no picture could be decoded")
        start_s = float(stream.start_time * stream.time_base) if stream.start_time else 0.0
        duration_s = max(0.0, last_s - start_s)
        if duration_s < limits.min_duration_s:
            raise VideoError(
                Reason.VIDEO_TOO_SHORT,
                f"{duration_s:.1f} s is shorter than the {limits.min_duration_s:g} s needed",
            )
        rate = stream.average_rate or stream.guessed_rate
        fps = float(rate) if rate else packets / max(duration_s, 1e-3)
        if rotation in (90, 270):
            width, height = height, width
        return VideoInfo(
            duration_ms=int(round(duration_s * 1000)),
            width=width,
            height=height,
            rotation_deg=rotation,
            fps=round(fps, 3),
            codec=stream.codec_context.name,
            container=container.format.name,
            has_audio=bool(container.streams.audio),
        )


def _working_size(width: int, height: int, max_side: int) -> tuple[int, int, float]:
    scale = min(1.0, max_side / max(width, height))
    # even sizes keep swscale fast and chroma-aligned
    w = max(2, int(width * scale) // 2 * 2)
    h = max(2, int(height * scale) // 2 * 2)
    return w, h, w / width


def decode_video(path: str | Path, *, limits: VideoLimits | None = None) -> DecodedVideo:
    """Probe, then decode frames sampled at `limits.sample_fps`, upright and downscaled."""
    limits = limits or VideoLimits()
    path = Path(path)
    info = probe_video(path, limits=limits)
    frames: list[Frame] = []
    truncated = False
    step_ms = 1000.0 / limits.sample_fps
    max_frames = int(math.ceil(limits.max_duration_s * limits.max_fps)) + 1
    with _open(path) as container:
        stream = container.streams.video[0]
        stream.thread_type = "AUTO" if stream.codec_context.name != "vp8" else "SLICE"
        raw_w, raw_h = stream.codec_context.width, stream.codec_context.height
        w, h, scale = _working_size(raw_w, raw_h, limits.max_side_px)
        start = stream.start_time or 0
        next_ms = 0.0
        seen = 0
        try:
            for frame in container.decode(stream):
                seen += 1
                if seen > max_frames:
                    break
                if frame.pts is None:
                    continue
                t_ms = float((frame.pts - start) * stream.time_base) * 1000.0
                if t_ms > limits.max_duration_s * 1000.0:
                    break
                if t_ms + 0.5 < next_ms:
                    continue
                next_ms = max(next_ms + step_ms, t_ms + step_ms * 0.5)
                rgb = frame.to_ndarray(format="rgb24", width=w, height=h)
                k = _clockwise_rotation(frame.rotation) // 90
                if k:
                    rgb = np.ascontiguousarray(np.rot90(rgb, k=-k))
                frames.append(Frame(t_ms=int(round(t_ms)), rgb=rgb, scale=scale))
        except av.FFmpegError:
            truncated = True
    if not frames:
        raise VideoError(Reason.UNREADABLE_VIDEO, "no picture could be decoded")
    return DecodedVideo(info=info, frames=tuple(frames), truncated=truncated)
