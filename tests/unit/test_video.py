"""Probing and decoding real encoded files, including the broken ones uploads bring."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

from certify.reasons import Reason
from certify.video import VideoError, VideoLimits, decode_video, probe_video
from tests import media


@pytest.fixture(scope="module")
def clips(tmp_path_factory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("clips")
    made = {
        "mp4": media.synthetic_clip(d / "a.mp4", seconds=3, size="320x240", audio=True),
        "webm": media.synthetic_clip(d / "a.webm", seconds=3, vcodec="libvpx", audio=True),
        "long": media.synthetic_clip(d / "long.mp4", seconds=25, size="64x48", fps=5),
        "short": media.synthetic_clip(d / "short.mp4", seconds=0.5),
        "huge": media.synthetic_clip(d / "8k.mp4", seconds=0.2, size="7680x4320", fps=5),
        "audio": media.audio_only(d / "voice.m4a"),
    }
    made["rot90"] = media.with_rotation(made["mp4"], d / "rot90.mp4", 90)
    made["trunc"] = media.truncated_copy(made["mp4"], d / "trunc.mp4", keep=0.5)
    (d / "empty.mp4").write_bytes(b"")
    made["empty"] = d / "empty.mp4"
    (d / "noise.mp4").write_bytes(os.urandom(200_000))
    made["noise"] = d / "noise.mp4"
    return made


@pytest.mark.parametrize("kind", ["mp4", "webm"])
def test_probe_reads_duration_size_and_audio(clips, kind):
    info = probe_video(clips[kind])
    assert 2900 <= info.duration_ms <= 3100
    assert (info.width, info.height) == (320, 240)
    assert info.has_audio
    assert info.rotation_deg == 0


def test_rotation_metadata_turns_frames_upright(clips):
    info = probe_video(clips["rot90"])
    assert (info.width, info.height) == (240, 320)
    assert info.rotation_deg in (90, 270)
    plain = decode_video(clips["mp4"]).frames[0].rgb
    turned = decode_video(clips["rot90"]).frames[0].rgb
    assert turned.shape[:2] == plain.shape[1::-1]
    # the rotated picture is the plain picture turned a quarter, not just resized
    candidates = [np.rot90(plain, k) for k in (1, -1)]
    errors = [np.abs(c.astype(int) - turned.astype(int)).mean() for c in candidates]
    assert min(errors) < 3.0 < max(errors)


def test_decode_samples_at_requested_rate(clips):
    video = decode_video(clips["mp4"], limits=VideoLimits(sample_fps=5))
    times = [f.t_ms for f in video.frames]
    assert 14 <= len(times) <= 16
    assert all(150 <= b - a <= 270 for a, b in zip(times, times[1:], strict=False))


@pytest.mark.parametrize(
    ("kind", "reason"),
    [
        ("empty", Reason.UNREADABLE_VIDEO),
        ("noise", Reason.UNREADABLE_VIDEO),
        ("audio", Reason.UNREADABLE_VIDEO),
        ("long", Reason.VIDEO_TOO_LONG),
        ("short", Reason.VIDEO_TOO_SHORT),
        ("huge", Reason.VIDEO_RESOLUTION_TOO_HIGH),
    ],
)
def test_unusable_files_get_a_specific_reason(clips, kind, reason):
    with pytest.raises(VideoError) as caught:
        probe_video(clips[kind])
    assert caught.value.reason is reason


def test_truncated_file_fails_cleanly_or_keeps_what_decodes(clips):
    try:
        video = decode_video(clips["trunc"])
    except VideoError as exc:
        assert exc.reason in (Reason.UNREADABLE_VIDEO, Reason.VIDEO_TOO_SHORT)
    else:
        assert video.frames
