"""Bulk enrolment on real parts: a CSV and a zip of real photos uploaded over HTTP, a
real RQ worker with the real face models, per-row errors, progress, and no half-made
pensioner when a row fails (e.g. a photo with two faces)."""

from __future__ import annotations

import datetime as dt
import io
import zipfile

import pytest
from sqlalchemy import func, select

from models import FaceReference, Pensioner, PensionerScheme, QualificationRecord
from service.rules.national_id import compose_national_id

from .agency_helpers import api_key, make_pensioner
from .conftest import run_worker_burst
from .helpers import OPERATOR

pytestmark = [pytest.mark.data]


def _id(region: str, n: int) -> str:
    return compose_national_id(region, dt.date(1948, 5, 6), n)


def _zip(files: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    return out.getvalue()


def test_csv_and_photos_enrol_valid_rows_and_report_every_error(client, services, shared_data):
    existing = make_pensioner(services, region="110105")
    with services.sessions() as db:
        from service.pensioners import national_id_of

        taken = national_id_of(db.get(Pensioner, existing), keyring=services.keyring)
    good_a, good_b, dup = _id("110105", 11), _id("110108", 12), _id("110105", 13)
    bad_check = _id("110105", 14)[:-1] + ("0" if _id("110105", 14)[-1] != "0" else "1")
    lines = [
        "name,national_id,region_code,residence_region_code,phone,schemes,external_ref,photo,photo_source,photo_taken_on",
        f"王建国,{good_a},110105,,13900001111,basic_pension;survivors,BJ-1,obama.jpg,id_card,2009-03-01",  # 2 ok
        f"李秀英,{good_b},110108,440305,,work_injury,BJ-2,folder/biden.jpg,,",           # 3 ok, cross-region
        f"张三,{bad_check},110105,,,,,obama.jpg,,",                                       # 4 check digit
        f"李四,{dup},110105,,,,,obama.jpg,,",                                             # 5 duplicate
        f"李四,{dup},110105,,,,,obama.jpg,,",                                             # 6 duplicate
        f"赵五,{_id('310104', 15)},310104,,,,,obama.jpg,,",                               # 7 other region
        f"钱六,{_id('110105', 16)},110105,,,,,couple.jpg,,",                              # 8 two faces
        f"孙七,{_id('110105', 17)},110105,,,,,missing.jpg,,",                             # 9 not in zip
        f"周八,{taken},110105,,,,,obama.jpg,,",                                           # 10 enrolled already
        f",{_id('110105', 18)},11010X,,12ab,pension,,,,",                                 # 11 many errors
        f"吴九,{_id('110105', 19)},110105,,,,,obama.jpg,passport,2099-01-01",             # 12 source, date
        f"郑十,{_id('110105', 20)},110105,,,,,obama.jpg,,2009-02-30",                     # 13 no such date
    ]
    photos = _zip({
        "obama.jpg": (shared_data / "people/barack_obama/1.jpg").read_bytes(),
        "folder/biden.jpg": (shared_data / "people/joe_biden/1.jpg").read_bytes(),
        "couple.jpg": (shared_data / "people/_multi_face/obama_biden_two_people.jpg").read_bytes(),
    })
    key = api_key(services, regions=["110000"], scopes=["pensioners:write"])
    response = client.post("/v1/enrolments", headers=key, files={
        "csv": ("pensioners.csv", "\n".join(lines).encode("utf-8-sig"), "text/csv"),
        "photos": ("photos.zip", photos, "application/zip"),
    })
    assert response.status_code == 202, response.text
    job = response.json()
    assert job["state"] == "queued"

    run_worker_burst(services)
    job = client.get(f"/v1/enrolments/{job['id']}", headers=key).json()
    assert (job["state"], job["rows_total"], job["rows_done"], job["rows_created"], job["rows_failed"]) == (
        "done", 12, 12, 2, 10)
    assert job["progress"] == 1.0

    rows = {r["line"]: r for r in client.get(job["rows_url"], headers=key).json()}
    assert rows[2]["pensioner_id"] and rows[3]["pensioner_id"]
    codes = {line: sorted(e["code"] for e in r["errors"]) for line, r in rows.items()}
    assert codes[4] == ["national_id_check_digit"]
    assert codes[5] == codes[6] == ["national_id_duplicate"]
    assert codes[7] == ["region_forbidden"]
    assert codes[8] == ["multiple_faces"]
    assert codes[9] == ["photo_not_in_zip"]
    assert codes[10] == ["pensioner_exists"]
    assert codes[11] == ["name_required", "phone_invalid", "photo_required", "region_code_invalid", "scheme_invalid"]
    assert codes[12] == ["reference_source_invalid", "taken_on_invalid"]
    assert codes[13] == ["taken_on_invalid"]
    errors_only = client.get(job["rows_url"], params={"errors_only": True}, headers=key).json()
    assert [r["line"] for r in errors_only] == [4, 5, 6, 7, 8, 9, 10, 11, 12, 13]

    with services.sessions() as db:
        enrolled = db.scalars(select(Pensioner).where(Pensioner.external_ref.in_(["BJ-1", "BJ-2"]))).all()
        assert {p.residence_region_code for p in enrolled} == {None, "440305"}
        for pensioner in enrolled:
            assert db.scalar(select(func.count()).select_from(FaceReference)
                             .where(FaceReference.pensioner_id == pensioner.id)) == 1
        origins = {p.external_ref: db.execute(select(FaceReference.source, FaceReference.taken_on)
                                              .where(FaceReference.pensioner_id == p.id)).one()
                   for p in enrolled}
        assert origins == {"BJ-1": ("id_card", dt.date(2009, 3, 1)), "BJ-2": ("upload", None)}
        schemes = sorted(db.scalars(select(PensionerScheme.scheme).join(Pensioner, Pensioner.id == PensionerScheme.pensioner_id)
                                    .where(Pensioner.external_ref == "BJ-1")))
        assert schemes == ["basic_pension", "survivors"]
        # the row whose photo had two faces left nothing behind: no pensioner, no record
        assert db.scalar(select(func.count()).select_from(Pensioner)) == 3
        assert db.scalar(select(func.count()).select_from(QualificationRecord)) == 1 + 2 + 1

    # another key cannot see the job
    other = api_key(services, regions=["110000"], scopes=["pensioners:write"])
    assert client.get(f"/v1/enrolments/{job['id']}", headers=other).status_code == 404


def test_unusable_files_fail_the_job_with_a_reason(client, services):
    for payload, code in ((b"\xff\xfe\x00garbage\x00\x81", "csv_"), (b"who,what\n1,2\n", "csv_header")):
        response = client.post("/v1/enrolments", headers=OPERATOR,
                               files={"csv": ("x.csv", payload, "text/csv")})
        assert response.status_code == 202
        run_worker_burst(services)
        job = client.get(f"/v1/enrolments/{response.json()['id']}", headers=OPERATOR).json()
        assert job["state"] == "failed" and job["error"].startswith(code), job
    not_zip = client.post("/v1/enrolments", headers=OPERATOR, files={
        "csv": ("x.csv", b"name,national_id,region_code\n", "text/csv"),
        "photos": ("p.zip", b"not a zip", "application/zip")})
    run_worker_burst(services)
    job = client.get(f"/v1/enrolments/{not_zip.json()['id']}", headers=OPERATOR).json()
    assert job["state"] == "failed" and job["error"].startswith("photos_zip_invalid")
    assert client.post("/v1/enrolments", headers=OPERATOR, json={}).json()["error"]["code"] == "multipart_required"
