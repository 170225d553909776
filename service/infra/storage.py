"""Blob storage for videos, reference photos and key frames.

`BlobStore` is the boundary; `LocalBlobStore` keeps files on a local disk and makes every
write durable (write to a temporary file, fsync, rename, fsync the directory) before it
returns, so a row that names a blob never points at a missing or half-written file.
`MemoryBlobStore` is the fake for unit tests.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import os
import re
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Protocol

__all__ = [
    "BlobStore",
    "StoredBlob",
    "LocalBlobStore",
    "MemoryBlobStore",
    "BlobNotFoundError",
    "put_bytes",
    "copy_to",
    "spool_directory",
    "remove_tree",
]

_KEY = re.compile(r"^[a-z0-9][a-z0-9/_.-]{0,200}$")
_CHUNK = 1024 * 1024


class BlobNotFoundError(KeyError):
    """No blob is stored under that key."""


@dataclass(frozen=True, slots=True)
class StoredBlob:
    key: str
    size_bytes: int
    sha256: str


class BlobStore(Protocol):
    def put(self, key: str, source: BinaryIO) -> StoredBlob:
        """Store everything readable from `source` under `key`, durably."""

    def read(self, key: str) -> bytes: ...

    def local_path(self, key: str) -> contextlib.AbstractContextManager[Path]:
        """A filesystem path with the blob's bytes, valid inside the `with` block."""

    def delete(self, key: str) -> None:
        """Remove the blob; removing a missing blob is not an error."""

    def exists(self, key: str) -> bool: ...


def _check_key(key: str) -> str:
    if not _KEY.match(key) or ".." in key:
        raise ValueError(f"invalid blob key {key!r}")
    return key


class LocalBlobStore:
    """Blobs as files under one directory."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True)

    def _path(self, key: str) -> Path:
        return self.root / _check_key(key)

    def put(self, key: str, source: BinaryIO) -> StoredBlob:
        target = self._path(key)
        target.parent.mkdir(parents=True, exist_ok=True)
        digest = hashlib.sha256()
        size = 0
        fd, tmp_name = tempfile.mkstemp(dir=target.parent, prefix=".incoming-")
        try:
            with os.fdopen(fd, "wb") as out:
                while chunk := source.read(_CHUNK):
                    out.write(chunk)
                    digest.update(chunk)
                    size += len(chunk)
                out.flush()
                os.fsync(out.fileno())
            os.replace(tmp_name, target)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp_name)
            raise
        dir_fd = os.open(target.parent, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)
        return StoredBlob(key=key, size_bytes=size, sha256=digest.hexdigest())

    def read(self, key: str) -> bytes:
        try:
            return self._path(key).read_bytes()
        except FileNotFoundError:
            raise BlobNotFoundError(key) from None

    @contextlib.contextmanager
    def local_path(self, key: str) -> Iterator[Path]:
        path = self._path(key)
        if not path.is_file():
            raise BlobNotFoundError(key)
        yield path

    def delete(self, key: str) -> None:
        with contextlib.suppress(FileNotFoundError):
            self._path(key).unlink()

    def exists(self, key: str) -> bool:
        return self._path(key).is_file()


class MemoryBlobStore:
    """An in-memory BlobStore for unit tests."""

    def __init__(self) -> None:
        self.blobs: dict[str, bytes] = {}

    def put(self, key: str, source: BinaryIO) -> StoredBlob:
        data = source.read()
        self.blobs[_check_key(key)] = data
        return StoredBlob(key=key, size_bytes=len(data), sha256=hashlib.sha256(data).hexdigest())

    def read(self, key: str) -> bytes:
        try:
            return self.blobs[key]
        except KeyError:
            raise BlobNotFoundError(key) from None

    @contextlib.contextmanager
    def local_path(self, key: str) -> Iterator[Path]:
        data = self.read(key)
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "blob"
            path.write_bytes(data)
            yield path

    def delete(self, key: str) -> None:
        self.blobs.pop(key, None)

    def exists(self, key: str) -> bool:
        return key in self.blobs


def put_bytes(store: BlobStore, key: str, data: bytes) -> StoredBlob:
    return store.put(key, io.BytesIO(data))


def copy_to(store: BlobStore, key: str, path: Path) -> StoredBlob:
    with open(path, "rb") as src:
        return store.put(key, src)


def spool_directory(var_dir: Path) -> Path:
    """Where uploads are spooled before they are checked and stored."""
    path = var_dir / "spool"
    path.mkdir(parents=True, exist_ok=True)
    return path


def remove_tree(path: Path) -> None:
    shutil.rmtree(path, ignore_errors=True)
