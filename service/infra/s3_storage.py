"""Blob storage on an S3-compatible object store (MinIO, Ceph RGW, AWS S3).

Several API and worker machines share one bucket, where local files would tie a video
to the machine that received it. An object is visible only once its upload has
completed (S3 PUTs are atomic), so a row never names a half-written blob. Wrap it in
`EncryptedBlobStore` (the default) so the object store only ever sees ciphertext.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO, cast
from urllib.parse import urlparse

from minio import Minio
from minio.error import S3Error

from .storage import BlobNotFoundError, StoredBlob, _check_key

__all__ = ["S3BlobStore", "PART_BYTES", "connect_s3"]

PART_BYTES = 16 * 1024 * 1024
"""Multipart upload part size: memory per upload stays at one part."""

_MISSING = {"NoSuchKey", "NoSuchObject", "NotFound"}


class _Hashing(io.RawIOBase):
    def __init__(self, source: BinaryIO) -> None:
        self._source = source
        self.digest = hashlib.sha256()
        self.size_bytes = 0

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        data = self._source.read(size)
        self.digest.update(data)
        self.size_bytes += len(data)
        return data


def connect_s3(endpoint_url: str | None, *, access_key: str, secret_key: str, region: str) -> Minio:
    """A client for `http(s)://host:port` (MinIO, moto) or AWS when no endpoint is given."""
    parsed = urlparse(endpoint_url or "https://s3.amazonaws.com")
    return Minio(
        parsed.netloc,
        access_key=access_key,
        secret_key=secret_key,
        secure=parsed.scheme == "https",
        region=region,
    )


class S3BlobStore:
    """Blobs as objects in one bucket (created when missing)."""

    def __init__(self, client: Minio, bucket: str, *, create_bucket: bool = True) -> None:
        self.client = client
        self.bucket = bucket
        if create_bucket and not client.bucket_exists(bucket):
            with contextlib.suppress(S3Error):  # another process made it first
                client.make_bucket(bucket)

    def put(self, key: str, source: BinaryIO) -> StoredBlob:
        reader = _Hashing(source)
        # minio only calls read() on the data; a RawIOBase is a binary stream at run time
        self.client.put_object(
            self.bucket, _check_key(key), cast(BinaryIO, reader), length=-1, part_size=PART_BYTES,
        )
        return StoredBlob(key=key, size_bytes=reader.size_bytes, sha256=reader.digest.hexdigest())

    def read(self, key: str) -> bytes:
        try:
            response = self.client.get_object(self.bucket, _check_key(key))
        except S3Error as exc:
            if exc.code in _MISSING:
                raise BlobNotFoundError(key) from None
            raise
        try:
            return response.read()
        finally:
            response.close()
            response.release_conn()

    @contextlib.contextmanager
    def local_path(self, key: str) -> Iterator[Path]:
        with tempfile.TemporaryDirectory(prefix="certify-s3-") as folder:
            path = Path(folder) / "blob"
            try:
                self.client.fget_object(self.bucket, _check_key(key), str(path))
            except S3Error as exc:
                if exc.code in _MISSING:
                    raise BlobNotFoundError(key) from None
                raise
            os.chmod(path, 0o600)
            yield path

    def delete(self, key: str) -> None:
        self.client.remove_object(self.bucket, _check_key(key))

    def exists(self, key: str) -> bool:
        try:
            self.client.stat_object(self.bucket, _check_key(key))
        except S3Error as exc:
            if exc.code in _MISSING:
                return False
            raise
        return True
