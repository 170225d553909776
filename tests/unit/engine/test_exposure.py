"""The exposure gain that dim faces get before the landmark model and the embedder."""

from __future__ import annotations

import numpy as np
import pytest

from certify.exposure import (
    DIM_FACE_MEAN,
    LANDMARK_MAX_GAIN,
    LANDMARK_TARGET_MEAN,
    UNDEREXPOSED_HIGHLIGHT,
    brightened_around,
    exposure_gain,
)

from .photos import dlib_shape, people_faces


def test_the_gain_restores_the_target_mean_and_is_capped():
    assert exposure_gain(DIM_FACE_MEAN) == 1.0
    assert exposure_gain(150.0) == 1.0
    assert exposure_gain(64.0) == pytest.approx(LANDMARK_TARGET_MEAN / 64.0)
    assert exposure_gain(10.0) == LANDMARK_MAX_GAIN
    assert exposure_gain(0.0) == 1.0  # a black box is no face to brighten


def test_a_well_lit_face_is_left_as_it_is():
    image = np.full((200, 200, 3), 120, np.uint8)
    assert brightened_around(image, 50, 50, 150, 150) is image


@pytest.mark.parametrize("channels", [None, 3])
def test_a_dim_face_is_brightened_around_its_box_only(channels):
    shape = (300, 300) if channels is None else (300, 300, channels)
    image = np.full(shape, 40, np.uint8)
    image[0:10, 0:10] = 250
    out = brightened_around(image, 100, 100, 200, 200)
    gain = LANDMARK_TARGET_MEAN / 40.0
    assert out is not image and image[150, 150].min() == 40  # the input is not changed
    assert np.all(out[150, 150] == int(40 * gain))  # the face
    assert np.all(out[60, 60] == int(40 * gain))  # half the box around it
    assert np.all(out[20, 20] == 40)  # further away: as it was
    assert np.all(out[5, 5] == 250)


def test_with_a_highlight_limit_a_dark_skin_in_good_light_is_left_as_it_is():
    rng = np.random.default_rng(0)
    dark_skin = rng.normal(70, 25, (100, 100)).clip(0, 255).astype(np.uint8)  # highlights ~120
    dark_skin[40:44, 30:70] = 230  # light on the forehead
    assert brightened_around(dark_skin, 0, 0, 100, 100) is not dark_skin  # landmarks: gain
    assert brightened_around(dark_skin, 0, 0, 100, 100, highlights_below=UNDEREXPOSED_HIGHLIGHT) is dark_skin
    short_of_light = (dark_skin.astype(np.float32) * 0.35).astype(np.uint8)  # highlights ~80
    out = brightened_around(short_of_light, 0, 0, 100, 100, highlights_below=UNDEREXPOSED_HIGHLIGHT)
    assert out.mean() > 2 * short_of_light.mean()


def test_the_gain_never_wraps_around():
    image = np.full((100, 100), 30, np.uint8)
    image[50, 50] = 200  # a highlight in a dim face
    out = brightened_around(image, 20, 20, 80, 80)
    assert out[50, 50] == 255


def test_a_box_outside_or_too_small_changes_nothing():
    image = np.full((100, 100), 30, np.uint8)
    assert brightened_around(image, 200, 200, 300, 300) is image
    assert brightened_around(image, 10, 10, 14, 14) is image


@pytest.mark.data
def test_a_dim_face_s_embedding_stays_near_the_well_lit_one(backend, shared_data):
    """The embedder sees a face short of light brightened: a photo darkened to 35% (as in a
    dim room) embeds closer to the photo as taken than its raw pixels would."""
    import dlib

    closer = []
    for rgb, points in people_faces(shared_data, backend, every=9, limit=6):
        dark = (rgb.astype(np.float32) * 0.35).astype(np.uint8)
        lit = backend.embedder.embed(rgb, points)
        seen = backend.embedder.embed(dark, points)  # the backend brightens it
        chip = np.asarray(dlib.get_face_chip(np.ascontiguousarray(dark), dlib_shape(points), size=150, padding=0.25))
        raw = backend.embedder._network.descriptor(chip)
        closer.append(np.linalg.norm(seen - lit) < np.linalg.norm(raw - lit))
    assert len(closer) >= 4
    assert all(closer)
