"""The S3 storage backend against a real HTTP S3 endpoint: moto's server mode in its own
process (no MinIO server binary is installable from the package registries here; the
client is MinIO's own Python SDK, so the same code talks to MinIO in compose.yaml)."""

from __future__ import annotations

import hashlib
import io
import os
import socket
import subprocess
import sys
import uuid

import pytest
from fastapi.testclient import TestClient

from api import create_app
from bench.harness import free_port
from service.context import build_services
from service.infra.blob_crypto import BLOB_MAGIC, EncryptedBlobStore
from service.infra.s3_storage import S3BlobStore, connect_s3
from service.infra.storage import BlobNotFoundError
from tests import media
from workers.runtime import install_services

from .conftest import make_test_settings, run_worker_burst
from .faults import wait_for
from .helpers import add_photo, create_pensioner, open_session, upload_video

ACCESS, SECRET = "certify-test", "certify-test-secret"


@pytest.fixture(scope="module")
def s3_endpoint(tmp_path_factory):
    pytest.importorskip("moto")
    port = free_port()
    log = open(tmp_path_factory.mktemp("moto") / "moto.log", "wb")  # noqa: SIM115
    server = subprocess.Popen([sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
                              stdout=log, stderr=subprocess.STDOUT,
                              env=dict(os.environ, AWS_ACCESS_KEY_ID=ACCESS, AWS_SECRET_ACCESS_KEY=SECRET))

    def up() -> bool:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return True
        except OSError:
            return False

    try:
        wait_for(up, timeout_s=60, interval_s=0.2, what="moto's S3 server")
        yield f"http://127.0.0.1:{port}"
    finally:
        server.terminate()
        server.wait(timeout=10)
        log.close()


def _store(endpoint: str) -> S3BlobStore:
    client = connect_s3(endpoint, access_key=ACCESS, secret_key=SECRET, region="us-east-1")
    return S3BlobStore(client, f"certify-{uuid.uuid4().hex[:8]}")


def test_s3_store_round_trip_and_multipart(s3_endpoint):
    store = _store(s3_endpoint)
    data = os.urandom(20 * 1024 * 1024 + 123)  # more than one multipart part
    blob = store.put("videos/a.mp4", io.BytesIO(data))
    assert (blob.size_bytes, blob.sha256) == (len(data), hashlib.sha256(data).hexdigest())
    assert store.exists("videos/a.mp4") and not store.exists("videos/b.mp4")
    assert store.read("videos/a.mp4") == data
    with store.local_path("videos/a.mp4") as path:
        assert path.stat().st_size == len(data)
    store.delete("videos/a.mp4")
    store.delete("videos/a.mp4")
    assert not store.exists("videos/a.mp4")
    with pytest.raises(BlobNotFoundError):
        store.read("videos/a.mp4")
    with pytest.raises(BlobNotFoundError), store.local_path("videos/a.mp4"):
        pass


def test_encrypted_s3_store_holds_only_ciphertext(s3_endpoint, services_factory):
    inner = _store(s3_endpoint)
    keyring = services_factory("sqlite").keyring
    store = EncryptedBlobStore(inner, keyring)
    data = b"\x00\x00\x00\x20ftypisom" + os.urandom(3 * 1024 * 1024)
    store.put("videos/x.mp4", io.BytesIO(data))
    sealed = inner.read("videos/x.mp4")
    assert sealed.startswith(BLOB_MAGIC) and b"ftypisom" not in sealed
    assert store.read("videos/x.mp4") == data


def test_upload_and_certify_with_s3_storage(s3_endpoint, database_factory, redis_factory, face_backend,
                                            shared_data, tmp_path):
    settings = make_test_settings(
        tmp_path, database_factory("postgres"), redis_factory("server"), storage_backend="s3",
        s3_endpoint_url=s3_endpoint, s3_bucket=f"certify-{uuid.uuid4().hex[:8]}",
        s3_access_key=ACCESS, s3_secret_key=SECRET,
    )
    services = build_services(settings)
    services._backend = face_backend  # noqa: SLF001
    install_services(services)
    try:
        with TestClient(create_app(services=services)) as client:
            assert client.get("/readyz").json()["checks"]["storage"] == "ok"
            pensioner = create_pensioner(client)
            photo = (shared_data / "people/barack_obama/1.jpg").read_bytes()
            assert add_photo(client, pensioner["id"], photo).status_code == 201
            session = open_session(client, pensioner["id"]).json()
            clip = media.synthetic_clip(tmp_path / "clip.mp4", seconds=3)
            attempt_id = upload_video(client, session, clip).json()["id"]
            run_worker_burst(services)
            attempt = client.get(f"/v1/attempts/{attempt_id}").json()
            assert attempt["status"] == "failed" and attempt["reasons"]
        assert not (tmp_path / "var" / "blobs").exists()  # nothing went to local files
        objects = list(services.store.inner.client.list_objects(settings.s3_bucket, recursive=True))
        kinds = {o.object_name.split("/")[0] for o in objects}
        assert {"videos", "references"} <= kinds
        for obj in objects:
            assert services.store.inner.read(obj.object_name).startswith(BLOB_MAGIC)
    finally:
        services.close()
