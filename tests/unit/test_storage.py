from __future__ import annotations

import hashlib
import io

import pytest

from service.infra.storage import BlobNotFoundError, LocalBlobStore, MemoryBlobStore


@pytest.mark.parametrize("kind", ["local", "memory"])
def test_put_read_delete(tmp_path, kind):
    store = LocalBlobStore(tmp_path / "blobs") if kind == "local" else MemoryBlobStore()
    data = b"x" * 3_000_000
    blob = store.put("videos/abc.mp4", io.BytesIO(data))
    assert blob.size_bytes == len(data)
    assert blob.sha256 == hashlib.sha256(data).hexdigest()
    assert store.exists("videos/abc.mp4")
    assert store.read("videos/abc.mp4") == data
    with store.local_path("videos/abc.mp4") as path:
        assert path.read_bytes() == data
    store.delete("videos/abc.mp4")
    store.delete("videos/abc.mp4")  # deleting twice is fine
    assert not store.exists("videos/abc.mp4")
    with pytest.raises(BlobNotFoundError):
        store.read("videos/abc.mp4")


def test_local_store_refuses_escaping_keys(tmp_path):
    store = LocalBlobStore(tmp_path)
    for key in ["../etc/passwd", "/abs", "a/../../b", "", "UPPER"]:
        with pytest.raises(ValueError):
            store.put(key, io.BytesIO(b"x"))


def test_failed_write_leaves_no_partial_file(tmp_path):
    store = LocalBlobStore(tmp_path)

    class Broken(io.RawIOBase):
        def __init__(self):
            self.calls = 0

        def read(self, n=-1):
            self.calls += 1
            if self.calls > 2:
                raise OSError("connection reset")
            return b"y" * 1000

    with pytest.raises(OSError):
        store.put("videos/partial.mp4", Broken())
    assert not store.exists("videos/partial.mp4")
    assert list(tmp_path.rglob("*incoming*")) == []
