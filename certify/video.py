"""Reading a recorded video: probe it cheaply, then decode sampled, upright frames.

The only I/O in the library: it opens the one file it is given. Limits are checked
before anything expensive happens (container header and packet timestamps first, then
decoding), so a 10-minute or 8K upload costs milliseconds to refuse.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

import av
import cv2
import numpy as np

from .reasons import Reason

__all__ = [
    "AUDIO_SAMPLE_RATE_HZ",
    "AudioTrack",
    "DEFAULT_MAX_SIDE_PX",
    "DEFAULT_SAMPLE_FPS",
    "DecodedVideo",
    "Frame",
    "VideoError",
    "VideoInfo",
    "VideoLimits",
    "decode_video",
    "luma_thumbnail",
    "probe_video",
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
    """One sampled, upright, downscaled frame.

    Stored as luma (`gray`, what detection and landmarks use) plus half-resolution
    chroma planes, as the decoder delivers them: converting every sampled frame to RGB
    would cost more than decoding it. `rgb` converts on demand (about 1 ms).
    """

    t_ms: int
    gray: np.ndarray = field(repr=False)
    """Luma, uint8, height x width."""
    scale: float
    """Working pixels per original pixel (<= 1.0)."""
    chroma: tuple[np.ndarray, np.ndarray] | None = field(default=None, repr=False)
    """(U, V) planes at half width and height (BT.601, as in yuv420p), or None."""
    rgb_source: np.ndarray | None = field(default=None, repr=False)
    """The RGB picture itself, for frames made from RGB (photos, tests)."""

    @classmethod
    def from_rgb(cls, t_ms: int, rgb: np.ndarray, scale: float = 1.0) -> Frame:
        rgb = np.ascontiguousarray(rgb, dtype=np.uint8)
        gray = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
        return cls(t_ms=int(t_ms), gray=gray, scale=scale, rgb_source=rgb)

    @property
    def rgb(self) -> np.ndarray:
        """The frame as an RGB uint8 array (height x width x 3)."""
        if self.rgb_source is not None:
            return self.rgb_source
        h, w = self.gray.shape
        if self.chroma is None:
            return cv2.cvtColor(self.gray, cv2.COLOR_GRAY2RGB)
        u, v = self.chroma
        i420 = np.concatenate((self.gray.reshape(-1), u.reshape(-1), v.reshape(-1)))
        return cv2.cvtColor(i420.reshape(h * 3 // 2, w), cv2.COLOR_YUV2RGB_I420)

    @property
    def width(self) -> int:
        return int(self.gray.shape[1])

    @property
    def height(self) -> int:
        return int(self.gray.shape[0])


def luma_thumbnail(gray: np.ndarray, size_px: int) -> np.ndarray:
    """A size_px square float32 thumbnail (area average) of a luma picture.

    OpenCV's area resampling is fast only for whole-number factors, so the picture is
    first reduced by the largest whole factor that keeps it at least twice the target,
    then resampled to the exact size (about 0.05 ms instead of 0.7 ms at 640 px).
    """
    h, w = gray.shape
    k = max(1, min(h, w) // (2 * size_px))
    if k > 1:
        gray = cv2.resize(gray[: h // k * k, : w // k * k], (w // k, h // k), interpolation=cv2.INTER_AREA)
    return cv2.resize(gray, (size_px, size_px), interpolation=cv2.INTER_AREA).astype(np.float32)


@dataclass(frozen=True, slots=True)
class AudioTrack:
    """The sound track, mixed to mono float32 in [-1, 1] at `sample_rate_hz`."""

    samples: np.ndarray = field(repr=False)
    sample_rate_hz: int
    start_ms: int = 0
    """Time of the first sample on the video's clock."""

    @property
    def duration_ms(self) -> int:
        return int(round(1000.0 * len(self.samples) / self.sample_rate_hz))


@dataclass(frozen=True, slots=True)
class DecodedVideo:
    info: VideoInfo
    frames: tuple[Frame, ...]
    truncated: bool = False
    """True when decoding stopped early on corrupt data (the frames before it are kept)."""
    audio: AudioTrack | None = None
    """The sound track (for the read-aloud step); None when the file has none."""


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
    except (av.FFmpegError, OSError, UnicodeDecodeError, ValueError):
        # FFmpeg's text names the file's path on this machine: not for the caller
        raise VideoError(Reason.UNREADABLE_VIDEO, "not a readable video (WebM or MP4)") from None


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
        except av.FFmpegError:
            if not first_picture:
                raise VideoError(Reason.UNREADABLE_VIDEO, "the video cannot be decoded") from None
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
    # even sizes keep the chroma planes exactly half the luma plane
    w = max(2, int(width * scale) // 2 * 2)
    h = max(2, int(height * scale) // 2 * 2)
    return w, h, w / width


AUDIO_SAMPLE_RATE_HZ = 16_000
"""Sound is resampled to this rate: speech energy lies below 8 kHz."""

_PLANAR_YUV420 = frozenset({"yuv420p", "yuvj420p"})


def _plane(frame: av.VideoFrame, index: int) -> np.ndarray:
    plane = frame.planes[index]
    rows = np.frombuffer(plane, np.uint8).reshape(plane.height, plane.line_size)
    return rows[:, : plane.width]


def _resized(plane: np.ndarray, w: int, h: int) -> np.ndarray:
    if plane.shape[1] == w and plane.shape[0] == h:
        return np.ascontiguousarray(plane)
    return cv2.resize(plane, (w, h), interpolation=cv2.INTER_AREA)


def _upright(plane: np.ndarray, quarter_turns_cw: int) -> np.ndarray:
    if not quarter_turns_cw:
        return plane
    return np.ascontiguousarray(np.rot90(plane, k=-quarter_turns_cw))


def _sampled_frame(frame: av.VideoFrame, t_ms: float, w: int, h: int, scale: float) -> Frame:
    """Downscale one decoded picture to the working size and turn it upright.

    yuv420p pictures are used plane by plane (luma for analysis, chroma kept for colour
    on demand), which is several times cheaper than a swscale conversion to RGB.
    """
    k = _clockwise_rotation(frame.rotation) // 90
    if frame.format.name in _PLANAR_YUV420:
        gray = _upright(_resized(_plane(frame, 0), w, h), k)
        u = _upright(_resized(_plane(frame, 1), w // 2, h // 2), k)
        v = _upright(_resized(_plane(frame, 2), w // 2, h // 2), k)
        return Frame(t_ms=int(round(t_ms)), gray=gray, scale=scale, chroma=(u, v))
    rgb = _upright(frame.to_ndarray(format="rgb24", width=w, height=h), k)
    return Frame.from_rgb(int(round(t_ms)), rgb, scale)


def _near_sample_time(t_s: float, step_s: float, period_s: float) -> bool:
    """Whether a picture shown at `t_s` is the nearest one to some sampling instant."""
    offset = t_s % step_s
    return min(offset, step_s - offset) <= 0.75 * period_s


def decode_video(
    path: str | Path, *, limits: VideoLimits | None = None, with_audio: bool = True
) -> DecodedVideo:
    """Probe, then decode frames sampled at `limits.sample_fps`, upright and downscaled.

    One pass over the file: the sound track (when present and `with_audio`) is decoded
    alongside, mixed to mono at AUDIO_SAMPLE_RATE_HZ. Pictures that no other picture
    depends on and that fall between sampling instants are not decoded at all, and the
    loop filter is skipped: analysis runs on downscaled frames, where neither shows.
    Decoding is single-threaded on purpose: workers scale by process, one per core.
    """
    limits = limits or VideoLimits()
    path = Path(path)
    info = probe_video(path, limits=limits)
    frames: list[Frame] = []
    audio_chunks: list[np.ndarray] = []
    truncated = False
    step_ms = 1000.0 / limits.sample_fps
    max_frames = int(math.ceil(limits.max_duration_s * limits.max_fps)) + 1
    audio_start_ms = 0
    with _open(path) as container:
        stream = container.streams.video[0]
        stream.thread_type = "NONE"
        codec = stream.codec_context
        if codec.name in ("h264", "hevc"):
            codec.options = {"skip_loop_filter": "all"}
        audio_stream = None
        if with_audio and container.streams.audio:
            audio_stream = container.streams.audio[0]
        raw_w, raw_h = codec.width, codec.height
        w, h, scale = _working_size(raw_w, raw_h, limits.max_side_px)
        start = stream.start_time or 0
        start_s = float(start * stream.time_base)
        period_s = 1.0 / max(1.0, min(info.fps or 30.0, limits.max_fps))
        resampler = None
        if audio_stream is not None:
            resampler = av.AudioResampler(format="flt", layout="mono", rate=AUDIO_SAMPLE_RATE_HZ)
            if audio_stream.start_time is not None:
                a_start_s = float(audio_stream.start_time * audio_stream.time_base)
                audio_start_ms = int(round((a_start_s - start_s) * 1000.0))
        next_ms = 0.0
        seen = 0
        done = False
        streams = [stream] if audio_stream is None else [stream, audio_stream]
        try:
            for packet in container.demux(*streams):
                if packet.stream.type == "audio":
                    if packet.pts is not None and packet.time_base is not None:
                        if float(packet.pts * packet.time_base) - start_s > limits.max_duration_s:
                            continue
                    try:
                        for aframe in packet.decode():
                            for out in resampler.resample(aframe):  # type: ignore[union-attr]
                                audio_chunks.append(out.to_ndarray().reshape(-1))
                    except av.FFmpegError:
                        resampler = None
                        audio_stream = None
                        audio_chunks.clear()
                    continue
                if done:
                    continue
                if packet.pts is not None and packet.time_base is not None:
                    t_s = float(packet.pts * packet.time_base) - start_s
                    wanted = _near_sample_time(t_s, step_ms / 1000.0, period_s)
                    codec.skip_frame = "DEFAULT" if wanted else "NONREF"
                for frame in packet.decode():
                    seen += 1
                    if seen > max_frames:
                        done = True
                        break
                    if frame.pts is None:
                        continue
                    t_ms = float((frame.pts - start) * stream.time_base) * 1000.0
                    if t_ms > limits.max_duration_s * 1000.0:
                        done = True
                        break
                    if t_ms + 0.5 < next_ms:
                        continue
                    next_ms = max(next_ms + step_ms, t_ms + step_ms * 0.5)
                    frames.append(_sampled_frame(frame, t_ms, w, h, scale))
            if not done:
                codec.skip_frame = "DEFAULT"
                for frame in codec.decode(None):
                    if frame.pts is None:
                        continue
                    t_ms = float((frame.pts - start) * stream.time_base) * 1000.0
                    if t_ms + 0.5 < next_ms or t_ms > limits.max_duration_s * 1000.0:
                        continue
                    next_ms = max(next_ms + step_ms, t_ms + step_ms * 0.5)
                    frames.append(_sampled_frame(frame, t_ms, w, h, scale))
        except av.FFmpegError:
            truncated = True
        if resampler is not None:
            try:
                for out in resampler.resample(None):
                    audio_chunks.append(out.to_ndarray().reshape(-1))
            except av.FFmpegError:
                pass
    if not frames:
        raise VideoError(Reason.UNREADABLE_VIDEO, "no picture could be decoded")
    audio = None
    if audio_stream is not None and audio_chunks:
        samples = np.concatenate(audio_chunks).astype(np.float32, copy=False)
        audio = AudioTrack(
            samples=samples, sample_rate_hz=AUDIO_SAMPLE_RATE_HZ, start_ms=audio_start_ms
        )
    return DecodedVideo(info=info, frames=tuple(frames), truncated=truncated, audio=audio)
