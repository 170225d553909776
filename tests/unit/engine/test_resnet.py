"""certify.resnet runs dlib's face-embedding network itself: it must give dlib's descriptor,
number for number, on pictures of every kind (the thresholds were measured with dlib's)."""

from __future__ import annotations

import dlib
import numpy as np
import pytest

from certify.backend import EMBEDDING_AGREEMENT, _test_chip
from certify.resnet import CHIP_SIZE, FaceResNet, ModelFormatError

from .photos import dlib_shape, people_faces


@pytest.fixture(scope="module")
def model_bytes() -> bytes:
    import face_recognition_models as models

    with open(models.face_recognition_model_location(), "rb") as model_file:
        return model_file.read()


@pytest.fixture(scope="module")
def network(model_bytes) -> FaceResNet:
    return FaceResNet.from_dlib_bytes(model_bytes)


@pytest.fixture(scope="module")
def dlib_model():
    import face_recognition_models as models

    return dlib.face_recognition_model_v1(models.face_recognition_model_location())


def _dlib_descriptor(model, chip: np.ndarray) -> np.ndarray:
    return np.asarray(model.compute_face_descriptor(np.ascontiguousarray(chip)), dtype=np.float64)


def test_the_network_has_dlibs_shape(network):
    # 14 residual blocks, four of which halve the resolution (32 -> 64 -> 128 -> 256 -> 256)
    assert len(network.blocks) == 14
    assert [i for i, b in enumerate(network.blocks) if b.downsample] == [3, 7, 10, 13]
    assert network.fc.shape == (256, 128)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_same_descriptor_as_dlib_on_noise(network, dlib_model, seed):
    chip = np.random.default_rng(seed).integers(0, 256, (CHIP_SIZE, CHIP_SIZE, 3), dtype=np.uint8)
    ours, theirs = network.descriptor(chip), _dlib_descriptor(dlib_model, chip)
    assert ours.shape == (128,) and ours.dtype == np.float64
    assert np.abs(ours - theirs).max() < EMBEDDING_AGREEMENT


def test_same_descriptor_as_dlib_on_flat_and_extreme_pictures(network, dlib_model):
    for value in (0, 128, 255):
        chip = np.full((CHIP_SIZE, CHIP_SIZE, 3), value, dtype=np.uint8)
        assert np.abs(network.descriptor(chip) - _dlib_descriptor(dlib_model, chip)).max() < EMBEDDING_AGREEMENT
    chip = _test_chip()
    assert np.abs(network.descriptor(chip) - _dlib_descriptor(dlib_model, chip)).max() < EMBEDDING_AGREEMENT


@pytest.mark.data
def test_same_descriptor_and_distances_as_dlib_on_real_faces(network, dlib_model, backend, shared_data):
    ours, theirs = [], []
    for rgb, points in people_faces(shared_data, backend, every=6, limit=12):
        ours.append(backend.embedder.embed(rgb, points))  # the backend's path: chip + certify.resnet
        theirs.append(np.asarray(dlib_model.compute_face_descriptor(rgb, dlib_shape(points), 0), dtype=np.float64))
    assert len(ours) >= 8
    ours_m, theirs_m = np.array(ours), np.array(theirs)
    assert np.abs(ours_m - theirs_m).max() < EMBEDDING_AGREEMENT
    pair_ours = np.linalg.norm(ours_m[:, None] - ours_m[None], axis=-1)
    pair_theirs = np.linalg.norm(theirs_m[:, None] - theirs_m[None], axis=-1)
    assert np.abs(pair_ours - pair_theirs).max() < 1e-5


def test_the_backend_runs_certify_resnet(backend):
    assert backend.embedder._network is not None  # the load-time comparison with dlib passed


def test_a_wrong_chip_size_is_refused(network):
    with pytest.raises(ValueError, match="150 x 150"):
        network.descriptor(np.zeros((100, 100, 3), dtype=np.uint8))


def test_a_file_that_is_not_the_network_is_refused(model_bytes):
    with pytest.raises(ModelFormatError):
        FaceResNet.from_dlib_bytes(b"not a model")
    with pytest.raises(ModelFormatError):
        FaceResNet.from_dlib_bytes(model_bytes[: len(model_bytes) // 2])
