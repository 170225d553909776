"""Encrypted blobs: segmented AES-GCM round trips, and every way of tampering fails."""

from __future__ import annotations

import base64
import hashlib
import io
import os
import stat

import pytest

from service.infra.blob_crypto import BLOB_MAGIC, EncryptedBlobStore
from service.infra.crypto import CryptoError, Keyring
from service.infra.storage import LocalBlobStore, MemoryBlobStore

SEGMENT = 64


def _keyring(*ids: str) -> Keyring:
    return Keyring.parse(",".join(f"{i}:{base64.b64encode(os.urandom(32)).decode()}" for i in ids))


@pytest.mark.parametrize("size", [0, 1, SEGMENT - 1, SEGMENT, SEGMENT + 1, 3 * SEGMENT, 3 * SEGMENT + 5])
def test_round_trip_of_every_size(size, tmp_path):
    inner = LocalBlobStore(tmp_path)
    store = EncryptedBlobStore(inner, _keyring("k1"), segment_bytes=SEGMENT)
    data = os.urandom(size)
    blob = store.put("videos/a.mp4", io.BytesIO(data))
    assert (blob.size_bytes, blob.sha256) == (size, hashlib.sha256(data).hexdigest())
    sealed = (tmp_path / "videos/a.mp4").read_bytes()
    assert sealed.startswith(BLOB_MAGIC) and (size < 8 or data not in sealed)
    assert store.read("videos/a.mp4") == data
    with store.local_path("videos/a.mp4") as path:
        assert path.read_bytes() == data
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert not path.exists()


def test_plaintext_never_reaches_the_inner_store():
    inner = MemoryBlobStore()
    store = EncryptedBlobStore(inner, _keyring("k1"))
    frame = b"\xff\xd8\xff\xe0JFIF face pixels " * 1000
    store.put("keyframes/x/0.jpg", io.BytesIO(frame))
    assert b"face pixels" not in inner.blobs["keyframes/x/0.jpg"]


@pytest.mark.parametrize("attack", ["flip", "truncate_segment", "drop_tail", "moved", "plain"])
def test_tampering_is_detected(attack):
    inner = MemoryBlobStore()
    store = EncryptedBlobStore(inner, _keyring("k1"), segment_bytes=SEGMENT)
    store.put("videos/a.mp4", io.BytesIO(os.urandom(3 * SEGMENT + 10)))
    sealed = bytearray(inner.blobs["videos/a.mp4"])
    key = "videos/a.mp4"
    if attack == "flip":
        sealed[-5] ^= 1
    elif attack == "truncate_segment":
        del sealed[-3:]
    elif attack == "drop_tail":  # remove the whole last segment: the new last one is not marked last
        del sealed[-(10 + 16):]
    elif attack == "moved":  # another attempt's video under this key
        inner.blobs["videos/b.mp4"] = bytes(sealed)
        key = "videos/b.mp4"
    elif attack == "plain":
        sealed = bytearray(b"plain video bytes")
    inner.blobs[key] = bytes(sealed)
    with pytest.raises(CryptoError):
        store.read(key)


def test_rotation_reads_old_keys_and_rewraps():
    inner = MemoryBlobStore()
    old = _keyring("k1")
    EncryptedBlobStore(inner, old).put("references/p/r.jpg", io.BytesIO(b"photo"))
    new_key = _keyring("k2")
    rotated = Keyring(keys={**new_key.keys, **old.keys}, active_key_id="k2")
    store = EncryptedBlobStore(inner, rotated)
    assert store.key_id_of("references/p/r.jpg") == "k1"
    assert store.read("references/p/r.jpg") == b"photo"
    assert store.rewrap("references/p/r.jpg") is True
    assert store.key_id_of("references/p/r.jpg") == "k2"
    assert store.rewrap("references/p/r.jpg") is False
    with pytest.raises(CryptoError):  # the old key alone no longer reads it
        EncryptedBlobStore(inner, old).read("references/p/r.jpg")
    assert EncryptedBlobStore(inner, new_key).read("references/p/r.jpg") == b"photo"
