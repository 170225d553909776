"""Engine test fixtures: the real dlib backend (loaded once) and decoded real clips.

Clips are decoded once per session and shared; tests cut what they need with
tests/media.py into temporary folders. Nothing large is written into the repository.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from certify import VideoLimits, check_reference_photo, decode_video, load_dlib_backend, load_image

LONG_CLIPS = VideoLimits(max_duration_s=40.0)


@pytest.fixture(scope="session")
def backend():
    return load_dlib_backend()


@pytest.fixture(scope="session")
def decoded(shared_data: Path):
    cache: dict[str, object] = {}

    def get(relative: str):
        if relative not in cache:
            cache[relative] = decode_video(shared_data / relative, limits=LONG_CLIPS)
        return cache[relative]

    return get


@pytest.fixture(scope="session")
def reference(shared_data: Path, backend):
    cache: dict[str, object] = {}

    def get(relative: str):
        if relative not in cache:
            rgb = load_image((shared_data / relative).read_bytes())
            cache[relative] = check_reference_photo(rgb, backend=backend)
        return cache[relative]

    return get
