"""Encryption at rest for blobs (videos, reference photos, key frames), around any BlobStore.

Blobs are encrypted in segments (AES-256-GCM, 1 MiB each), so a 60 MB video is never
held in memory whole, neither when it is stored nor when a worker decrypts it:

    b"CBE1" | key id length (1 byte) | key id | nonce prefix (7 bytes) | segment...
    segment i = AES-GCM(key, nonce = prefix | i (4 bytes, big-endian) | last (1 byte),
                        plaintext[i], associated data = b"certify-blob:" + blob key)

The key id travels in the header, so keys can be rotated: the keyring's first key
encrypts, every key decrypts, and `EncryptedBlobStore.rewrap` re-encrypts a blob under
the active key. The blob key is authenticated, so a ciphertext moved to another key (a
video swapped between two attempts) does not decrypt; the last-segment flag makes a
truncated blob fail too. Size and sha256 in `StoredBlob` are those of the plaintext (the
video re-use check compares uploads).
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from .crypto import CryptoError, Keyring
from .storage import BlobStore, StoredBlob

__all__ = ["EncryptedBlobStore", "SEGMENT_BYTES", "BLOB_MAGIC"]

BLOB_MAGIC = b"CBE1"
"""First bytes of every encrypted blob."""

SEGMENT_BYTES = 1024 * 1024
"""Plaintext bytes per AES-GCM segment (bounds the memory of encrypting and decrypting)."""

_PREFIX_BYTES = 7
_TAG_BYTES = 16


def _nonce(prefix: bytes, index: int, last: bool) -> bytes:
    return prefix + index.to_bytes(4, "big") + (b"\x01" if last else b"\x00")


def _aad(key: str) -> bytes:
    return b"certify-blob:" + key.encode()


class _EncryptingReader(io.RawIOBase):
    """Reads as the ciphertext of `source`, computing the plaintext's size and sha256."""

    def __init__(self, source: BinaryIO, *, keyring: Keyring, key: str, segment_bytes: int) -> None:
        self._source = source
        self._aes = AESGCM(keyring.keys[keyring.active_key_id])
        self._aad = _aad(key)
        self._segment_bytes = segment_bytes
        self._prefix = os.urandom(_PREFIX_BYTES)
        key_id = keyring.active_key_id.encode()
        self._buffer = bytearray(BLOB_MAGIC + bytes([len(key_id)]) + key_id + self._prefix)
        self._index = 0
        self._pending = source.read(segment_bytes)
        self._done = False
        self.digest = hashlib.sha256()
        self.size_bytes = 0

    def readable(self) -> bool:
        return True

    def _next_segment(self) -> None:
        current = self._pending
        following = self._source.read(self._segment_bytes) if len(current) == self._segment_bytes else b""
        last = not following
        self.digest.update(current)
        self.size_bytes += len(current)
        self._buffer += self._aes.encrypt(_nonce(self._prefix, self._index, last), current, self._aad)
        self._index += 1
        self._pending = following
        self._done = last

    def read(self, size: int = -1) -> bytes:
        while not self._done and (size < 0 or len(self._buffer) < size):
            self._next_segment()
        if size < 0 or size >= len(self._buffer):
            out = bytes(self._buffer)
            self._buffer.clear()
        else:
            out = bytes(self._buffer[:size])
            del self._buffer[:size]
        return out

    def readinto(self, target) -> int:
        data = self.read(len(target))
        target[: len(data)] = data
        return len(data)


def _decrypt_stream(keyring: Keyring, key: str, source: BinaryIO, out: BinaryIO, segment_bytes: int) -> None:
    head = source.read(len(BLOB_MAGIC) + 1)
    if len(head) < len(BLOB_MAGIC) + 1 or head[: len(BLOB_MAGIC)] != BLOB_MAGIC:
        raise CryptoError(f"blob {key!r} is not an encrypted certify blob")
    key_id = source.read(head[-1]).decode(errors="replace")
    prefix = source.read(_PREFIX_BYTES)
    try:
        aes = AESGCM(keyring.keys[key_id])
    except KeyError:
        raise CryptoError(f"blob {key!r} is encrypted with unknown key id {key_id!r}") from None
    aad = _aad(key)
    sealed_bytes = segment_bytes + _TAG_BYTES
    index = 0
    current = source.read(sealed_bytes)
    while True:
        following = source.read(sealed_bytes) if len(current) == sealed_bytes else b""
        last = not following
        try:
            out.write(aes.decrypt(_nonce(prefix, index, last), current, aad))
        except InvalidTag:
            raise CryptoError(f"blob {key!r} does not authenticate (tampered, truncated or moved)") from None
        if last:
            return
        index += 1
        current = following


class EncryptedBlobStore:
    """A BlobStore that encrypts everything it puts into `inner` and decrypts on the way out."""

    def __init__(self, inner: BlobStore, keyring: Keyring, *, segment_bytes: int = SEGMENT_BYTES) -> None:
        self.inner = inner
        self.keyring = keyring
        self.segment_bytes = segment_bytes

    def put(self, key: str, source: BinaryIO) -> StoredBlob:
        reader = _EncryptingReader(source, keyring=self.keyring, key=key, segment_bytes=self.segment_bytes)
        self.inner.put(key, reader)  # type: ignore[arg-type]
        return StoredBlob(key=key, size_bytes=reader.size_bytes, sha256=reader.digest.hexdigest())

    def read(self, key: str) -> bytes:
        out = io.BytesIO()
        _decrypt_stream(self.keyring, key, io.BytesIO(self.inner.read(key)), out, self.segment_bytes)
        return out.getvalue()

    @contextlib.contextmanager
    def local_path(self, key: str) -> Iterator[Path]:
        """The plaintext in a private temporary file (0600 in a 0700 folder), removed after."""
        with self.inner.local_path(key) as sealed, tempfile.TemporaryDirectory(prefix="certify-") as folder:
            path = Path(folder) / "blob"
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with open(sealed, "rb") as source, os.fdopen(fd, "wb") as out:
                _decrypt_stream(self.keyring, key, source, out, self.segment_bytes)
            yield path

    def delete(self, key: str) -> None:
        self.inner.delete(key)

    def exists(self, key: str) -> bool:
        return self.inner.exists(key)

    def key_id_of(self, key: str) -> str:
        """The id of the data key a stored blob is encrypted with."""
        with self.inner.local_path(key) as sealed, open(sealed, "rb") as source:
            head = source.read(len(BLOB_MAGIC) + 1)
            if head[: len(BLOB_MAGIC)] != BLOB_MAGIC:
                raise CryptoError(f"blob {key!r} is not an encrypted certify blob")
            return source.read(head[-1]).decode(errors="replace")

    def rewrap(self, key: str) -> bool:
        """Re-encrypt a blob under the active key (key rotation); False if it already is."""
        if self.key_id_of(key) == self.keyring.active_key_id:
            return False
        with self.local_path(key) as plain, open(plain, "rb") as source:
            self.put(key, source)
        return True
