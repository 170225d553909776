"""Exports carry the catalogue's words beside every code (issue 14): scheme, status,
decision, method and reasons, in zh-CN by default or en, the codes unchanged in their own
columns; streamed CSV and NDJSON (PostgreSQL's COPY path and SQLite's cursor) and the
background export job."""

from __future__ import annotations

import csv
import io
import json

from service.labels import label

from .agency_helpers import api_key, decided_attempt, make_pensioner
from .conftest import run_worker_burst


def _expected(row: dict, lang: str, empty: str | None = "") -> dict:
    """The label columns of a row; a code that is absent has no words (CSV: empty, NDJSON: null)."""
    return {
        "scheme_label": label(lang, "scheme", row["scheme"]),
        "status_label": label(lang, "status", row["status"]),
        "decision_label": label(lang, "decision", row["decision"]) if row["decision"] else empty,
        "method_label": label(lang, "method", row["method"]) if row["method"] else empty,
        "reasons_label": "; ".join(label(lang, "reason", code) for code in row["reasons"]),
    }


def test_export_label_columns(client, services):
    passed = make_pensioner(services, region="440305", schemes=("basic_pension", "survivors"))
    failed = make_pensioner(services, region="440106")
    decided_attempt(services, passed, status="passed", channel="assisted", assisted_by="staff-9")
    decided_attempt(services, failed, status="failed", reasons=["too_dark", "challenge_not_followed"])
    key = api_key(services, regions=["440000"], scopes=["results:read", "export:read"])
    for lang in ("zh-CN", "en"):
        params = {} if lang == "zh-CN" else {"lang": lang}
        rows = list(csv.DictReader(io.StringIO(client.get("/v1/results/export.csv", params=params, headers=key).text)))
        assert len(rows) == 3
        for row in rows:
            codes = {**row, "reasons": row["reasons"].split(";") if row["reasons"] else []}
            assert {k: row[k] for k in _expected(codes, lang)} == _expected(codes, lang)
        by_status = {r["status"]: r for r in rows}
        assert by_status["due"]["reasons"] == "too_dark;challenge_not_followed"  # codes stay codes
        words = by_status["due"]["reasons_label"]
        assert words == ("光线太暗; " if lang == "zh-CN" else "Too dark; ") + label(lang, "reason", "challenge_not_followed")
        assert by_status["certified"]["status_label"] == ("已认证" if lang == "zh-CN" else "Certified")
        lines = client.get("/v1/results/export.ndjson", params=params, headers=key).text.splitlines()
        for line in lines:
            obj = json.loads(line)
            assert {k: obj[k] for k in _expected(obj, lang)} == _expected(obj, lang, None)
    assert client.get("/v1/results/export.csv", params={"lang": "fr"}, headers=key).status_code == 422

    job = client.post("/v1/exports", json={"format": "csv", "region": "440000", "lang": "en"}, headers=key).json()
    run_worker_burst(services)
    done = client.get(f"/v1/exports/{job['id']}", headers=key).json()
    rows = list(csv.DictReader(io.StringIO(client.get(done["download_url"], headers=key).text)))
    assert {r["status_label"] for r in rows} == {"Certified", "Due"}
