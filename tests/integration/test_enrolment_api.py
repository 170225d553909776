"""Enrolment over HTTP on SQLite and PostgreSQL: pensioners and reference photos."""

from __future__ import annotations

import io
import uuid

import numpy as np
import pytest
from PIL import Image
from sqlalchemy import select

from bench.evaluate import id_photo_crop
from certify import check_reference_photo, load_dlib_backend, load_image
from models import FaceReference, Pensioner, QualificationRecord

from .helpers import OPERATOR, add_photo, create_pensioner, new_national_id


def test_create_pensioner_stores_the_id_number_encrypted(client, services):
    national_id = new_national_id()
    body = create_pensioner(client, national_id=national_id, name="李秀英")
    assert body["national_id_masked"] == national_id[:3] + "*" * 11 + national_id[-4:]
    assert body["birth_date"] == f"{national_id[6:10]}-{national_id[10:12]}-{national_id[12:14]}"
    with services.sessions() as db:
        row = db.get(Pensioner, uuid.UUID(body["id"]))
        assert national_id.encode() not in row.national_id_encrypted
        assert national_id not in row.national_id_hash
        record = db.scalar(select(QualificationRecord).where(QualificationRecord.pensioner_id == row.id))
        assert record.status == "due"


def test_duplicate_national_id_is_a_conflict(client):
    national_id = new_national_id()
    create_pensioner(client, national_id=national_id)
    response = client.post(
        "/v1/pensioners",
        json={"name": "x", "national_id": national_id, "region_code": "110105"},
        headers=OPERATOR,
    )
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "pensioner_exists"


@pytest.mark.parametrize(
    ("override", "code"),
    [
        ({"national_id": "110105194912310021"}, "national_id_check_digit"),
        ({"national_id": "'; DROP TABLE pensioners; --"}, "national_id_format"),
        ({"region_code": "999999"}, "region_code_invalid"),
        ({"name": "   "}, "name_required"),
        ({"phone": "call me"}, "invalid_request"),
    ],
)
def test_invalid_pensioner_fields_get_specific_codes(client, override, code):
    body = {"name": "王建国", "national_id": new_national_id(), "region_code": "110105", **override}
    response = client.post("/v1/pensioners", json=body, headers=OPERATOR)
    assert response.status_code == 422
    assert response.json()["error"]["code"] == code


def test_operator_token_is_required(client):
    response = client.post("/v1/pensioners", json={}, headers={"Authorization": "Bearer wrong"})
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "unauthorized"


@pytest.mark.data
def test_reference_photo_stores_an_encrypted_embedding(client, services, shared_data):
    pensioner = create_pensioner(client)
    photo = (shared_data / "people/barack_obama/1.jpg").read_bytes()
    response = add_photo(client, pensioner["id"], photo)
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["status"] == "active" and body["source"] == "upload"
    assert body["model_version"]
    with services.sessions() as db:
        ref = db.scalar(select(FaceReference))
        assert len(ref.embedding_encrypted) > 1024  # 128 float64 + nonce + tag
        assert services.store.exists(ref.photo_key)


@pytest.mark.data
@pytest.mark.parametrize(
    ("photo", "code"),
    [
        ("people/_multi_face/obama_biden_two_people.jpg", "multiple_faces"),
        ("people/_multi_face/group_selfie_many.jpg", "multiple_faces"),
    ],
)
def test_photos_with_several_faces_are_refused(client, shared_data, photo, code):
    pensioner = create_pensioner(client)
    response = add_photo(client, pensioner["id"], (shared_data / photo).read_bytes())
    assert response.status_code == 422
    assert response.json()["error"]["code"] == code


def _jpeg(array: np.ndarray, quality: int = 75) -> bytes:
    out = io.BytesIO()
    Image.fromarray(array).save(out, format="JPEG", quality=quality)
    return out.getvalue()


def test_photo_without_a_face_is_refused(client):
    pensioner = create_pensioner(client)
    rng = np.random.default_rng(3)
    noise = rng.integers(0, 255, size=(480, 640, 3), dtype=np.uint8)
    response = add_photo(client, pensioner["id"], _jpeg(noise))
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "no_face"


@pytest.mark.data
def test_tiny_face_is_refused(client, services, shared_data):
    pensioner = create_pensioner(client)
    face = Image.open(shared_data / "people/barack_obama/1.jpg").convert("RGB")
    face.thumbnail((60, 60))
    canvas = Image.new("RGB", (1600, 1200), (200, 200, 200))
    canvas.paste(face, (770, 570))
    response = add_photo(client, pensioner["id"], _jpeg(np.asarray(canvas)))
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] in {"reference_too_small", "no_face"}
    if error["code"] == "reference_too_small":
        assert "18 pixels between the eyes" in error["message"]
    with services.sessions() as db:
        assert db.scalar(select(FaceReference)) is None  # nothing half-enrolled


@pytest.mark.data
def test_an_id_card_size_photo_is_enrolled_with_its_source_class_and_date(client, shared_data):
    pensioner = create_pensioner(client)
    rgb = load_image((shared_data / "people/george_clooney/1.jpg").read_bytes())
    box = check_reference_photo(rgb, backend=load_dlib_backend()).face_box
    assert box is not None
    response = add_photo(
        client, pensioner["id"], _jpeg(id_photo_crop(rgb, box, (102, 126), 95), quality=60),
        source="id_card", taken_on="2008-05-01",
    )
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["source"] == "id_card" and body["taken_on"] == "2008-05-01"
    assert body["quality_class"] in {"id_card", "card"}
    assert (body["width_px"], body["height_px"]) == (102, 126) and 0 < body["quality_score"] <= 1


def test_a_reference_source_must_be_one_of_the_uploaded_kinds(client):
    pensioner = create_pensioner(client)
    response = add_photo(client, pensioner["id"], b"\xff\xd8\xff", source="certification")
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "reference_source_invalid"


def test_unreadable_and_oversized_photos(client, services):
    pensioner = create_pensioner(client)
    response = add_photo(client, pensioner["id"], b"GIF89a not really")
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "unreadable_image"
    big = b"\xff\xd8" + b"0" * (services.settings.max_photo_bytes + 10)
    response = add_photo(client, pensioner["id"], big)
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "upload_too_large"


def test_unknown_pensioner_is_404(client):
    response = add_photo(client, "00000000-0000-4000-8000-000000000000", b"x")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "pensioner_not_found"
