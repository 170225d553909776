"""Exports: streamed CSV and NDJSON with the feed's rows and filters, and the
background export job (real RQ worker) with progress and a download link."""

from __future__ import annotations

import csv
import io
import json

from service.results import RESULT_FIELDS

from .agency_helpers import api_key, decided_attempt, make_pensioner
from .conftest import run_worker_burst


def _seed(services):
    first = make_pensioner(services, region="440305", schemes=("basic_pension", "survivors"), external_ref="SZ,1 \"x\"")
    second = make_pensioner(services, region="440106")
    make_pensioner(services, region="110105")
    decided_attempt(services, first, status="passed", channel="assisted", assisted_by="staff-9")
    decided_attempt(services, second, status="failed", reasons=["too_dark", "no_blink"])


def test_streamed_csv_and_ndjson_hold_the_feed_rows(client, services):
    _seed(services)
    key = api_key(services, regions=["440000"], scopes=["results:read", "export:read"])
    feed = client.get("/v1/results", headers=key).json()["results"]
    assert len(feed) == 3

    response = client.get("/v1/results/export.csv", headers=key)
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/csv")
    assert response.headers["x-certify-cursor"] == feed[-1]["cursor"]
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert list(rows[0]) == list(RESULT_FIELDS)
    for row, expected in zip(rows, feed, strict=True):
        assert row["record_id"] == expected["record_id"] and row["cursor"] == expected["cursor"]
        assert row["external_ref"] == (expected["external_ref"] or "")
        assert row["reasons"] == ";".join(expected["reasons"])
        assert row["status"] == expected["status"] and row["method"] == (expected["method"] or "")
        assert row["evidence_url"] == (expected["evidence_url"] or "")
        assert row["certificate_id"] == (expected["certificate_id"] or "")
        assert row["valid_until"] == (expected["valid_until"] or "")
        if expected["certified_at"]:
            assert row["certified_at"][:19] == expected["certified_at"][:19] and row["certified_at"].endswith("+00:00")

    lines = client.get("/v1/results/export.ndjson", headers=key).text.splitlines()
    objects = [json.loads(line) for line in lines]
    assert [o["record_id"] for o in objects] == [r["record_id"] for r in feed]
    assert [o["reasons"] for o in objects] == [r["reasons"] for r in feed]
    stamps = {"certified_at", "decided_at", "overdue_at", "suspended_at", "updated_at"}
    for obj, row in zip(objects, feed, strict=True):
        assert list(obj) == list(RESULT_FIELDS)
        # the feed has the codes; exports add their words (*_label, tests/integration/test_export_labels.py)
        assert {k: v for k, v in obj.items() if k not in stamps and not k.endswith("_label")} == {
            k: v for k, v in row.items() if k not in stamps}
        for stamp in stamps:
            assert (obj[stamp] is None) == (row[stamp] is None) and (obj[stamp] or "")[:19] == (row[stamp] or "")[:19]

    only_due = list(csv.DictReader(io.StringIO(
        client.get("/v1/results/export.csv", params={"status": "due", "region": "440100"}, headers=key).text)))
    assert [(r["region_code"], r["status"]) for r in only_due] == [("440106", "due")]
    refused = client.get("/v1/results/export.csv", params={"region": "110000"}, headers=key)
    assert (refused.status_code, refused.json()["error"]["code"]) == (403, "region_forbidden")
    no_scope = api_key(services, regions=["440000"], scopes=["results:read"])
    assert client.get("/v1/results/export.ndjson", headers=no_scope).status_code == 403


def test_background_export_job_for_a_province(client, services):
    _seed(services)
    key = api_key(services, regions=["440000"], scopes=["export:read"])
    other = api_key(services, regions=["110000"], scopes=["export:read"])
    created = client.post("/v1/exports", json={"format": "ndjson", "region": "440000"}, headers=key)
    assert created.status_code == 202, created.text
    job = created.json()
    assert (job["state"], job["download_url"]) == ("queued", None)
    assert client.get(f"/v1/exports/{job['id']}/download", headers=key).json()["error"]["code"] == "export_not_ready"

    run_worker_burst(services)
    done = client.get(f"/v1/exports/{job['id']}", headers=key).json()
    assert (done["state"], done["rows_total"], done["rows_done"], done["progress"]) == ("done", 3, 3, 1.0)
    assert done["cursor"].startswith("c") and done["size_bytes"] > 0
    download = client.get(done["download_url"], headers=key)
    assert download.status_code == 200
    assert len(download.text.splitlines()) == 3
    assert {json.loads(line)["region_code"][:2] for line in download.text.splitlines()} == {"44"}

    # another agency cannot see, download or start it for this province
    assert client.get(f"/v1/exports/{job['id']}", headers=other).status_code == 404
    assert client.get(done["download_url"], headers=other).status_code == 404
    assert client.post("/v1/exports", json={"region": "440000"}, headers=other).status_code == 403
    bad = client.post("/v1/exports", json={"format": "xlsx"}, headers=key)
    assert bad.status_code == 422


def test_job_files_are_deleted_after_their_retention_time(client, services):
    """An export's file and a bulk enrolment's uploads (ID numbers, photos) go some hours
    after the job ends; the job rows stay, and the download then answers 410."""
    import datetime as dt
    import uuid

    from models import EnrolmentJob, ExportJob, JobState
    from service.housekeeping.retention import purge_expired_job_files
    from service.infra.storage import BlobNotFoundError

    _seed(services)
    key = api_key(services, regions=["440000"], scopes=["export:read"])
    job = client.post("/v1/exports", json={"format": "csv", "region": "440000"}, headers=key).json()
    run_worker_burst(services)
    done = client.get(f"/v1/exports/{job['id']}", headers=key).json()
    assert client.get(done["download_url"], headers=key).status_code == 200

    finished = services.clock()
    csv_blob = services.store.put("enrolments/retention-test/rows.csv", io.BytesIO(b"name,national_id\n"))
    zip_blob = services.store.put("enrolments/retention-test/photos.zip", io.BytesIO(b"PK\x05\x06" + bytes(18)))
    with services.sessions() as db:
        enrolment = EnrolmentJob(requested_by="test", principal_regions=["440000"], csv_key=csv_blob.key,
                                 photos_key=zip_blob.key, state=JobState.DONE, finished_at=finished)
        db.add(enrolment)
        db.commit()
        enrolment_id = enrolment.id
        export_key = db.get(ExportJob, uuid.UUID(job["id"])).blob_key

    hours = services.settings.job_file_retention_hours
    assert purge_expired_job_files(services, now=finished + dt.timedelta(hours=hours - 1)) == 0
    assert purge_expired_job_files(services, now=finished + dt.timedelta(hours=hours + 1)) == 2
    assert purge_expired_job_files(services, now=finished + dt.timedelta(hours=hours + 2)) == 0

    for gone in (export_key, csv_blob.key, zip_blob.key):
        try:
            services.store.read(gone)
        except BlobNotFoundError:
            continue
        raise AssertionError(f"{gone} is still stored")
    expired = client.get(done["download_url"], headers=key)
    assert (expired.status_code, expired.json()["error"]["code"]) == (410, "export_expired")
    after = client.get(f"/v1/exports/{job['id']}", headers=key).json()
    assert after["download_url"] is None and after["files_purged_at"] is not None and after["rows_done"] == 3
    with services.sessions() as db:
        assert db.get(EnrolmentJob, enrolment_id).files_purged_at is not None
