"""The statistics API (issue 14): every figure equals the same figure computed here,
directly from the rows, for a constructed data set; on PostgreSQL and SQLite.

The data set: pensioners of two Beijing counties and one Shanghai county with chosen
ages and sexes; attempts with every outcome, several reasons, repeated tries (a failure
then a pass is a false reject), both channels, several device families and reference
classes and two thresholds versions; records certified, due, overdue, suspended and
restored by several methods; open and decided reviews.
"""

from __future__ import annotations

import datetime as dt
import re
import uuid
from collections import Counter, defaultdict

from fastapi.testclient import TestClient
from sqlalchemy import select, update

from api import create_app
from models import Attempt, Pensioner, QualificationRecord, Review
from service.housekeeping.maintenance import run_maintenance_pass
from service.stats.dashboard import percentile

from .agency_helpers import api_key, decided_attempt, make_pensioner

NOW = dt.datetime(2026, 3, 1, 9, tzinfo=dt.UTC)

# (county, birth year, sex, [(status, reasons, channel, device, reference class, thresholds)])
PEOPLE = [
    ("110105", 1961, "F", [("passed", [], "self", "android", "id_card", "t1")]),
    ("110105", 1958, "M", [("failed", ["too_dark"], "self", "ios", "full", "t1"),
                           ("passed", [], "self", "ios", "full", "t2")]),
    ("110105", 1944, "F", [("failed", ["challenge_not_followed"], "self", "android", "id_card", "t1"),
                           ("failed", ["challenge_not_followed", "too_dark"], "self", "android", "id_card", "t2"),
                           ("passed", [], "assisted", "harmonyos", "card", "t2")]),
    ("110108", 1934, "M", [("failed", ["face_mismatch"], "self", "android", "id_card", "t1"),
                           ("review", ["match_uncertain"], "assisted", "windows", "id_card", "t2")]),
    ("110108", 1932, "F", [("failed", ["challenge_not_followed"], "self", None, "fresh", "t2")]),
    ("110108", 1950, "M", [("review", ["match_uncertain"], "self", "android", "card", "t2")]),
    ("110108", 1949, "F", []),
    ("310104", 1940, "F", [("passed", [], "self", "ios", "full", "t1")]),
    ("310104", 1945, "M", [("failed", ["too_dark"], "self", "android", "full", "t1")]),
]


def _band(age: int) -> str:
    return "<60" if age < 60 else "60-69" if age < 70 else "70-79" if age < 80 else "80-89" if age < 90 else "90+"


def _build(services) -> dict[str, list]:
    ids = []
    for i, (county, year, sex, tries) in enumerate(PEOPLE):
        pid = make_pensioner(services, region=county, schemes=("basic_pension", "survivors") if i % 3 == 0
                             else ("basic_pension",), now=NOW)
        with services.sessions() as db:
            db.execute(update(Pensioner).where(Pensioner.id == pid).values(birth_date=dt.date(year, 6, 1), sex=sex))
            db.commit()
        for k, (status, reasons, channel, device, ref, version) in enumerate(tries):
            attempt = decided_attempt(services, pid, status=status, reasons=reasons, channel=channel,
                                      assisted_by="staff-1" if channel == "assisted" else None,
                                      now=NOW - dt.timedelta(days=30 - k * 7 - i))
            with services.sessions() as db:
                db.execute(update(Attempt).where(Attempt.id == attempt).values(
                    device_family=device, reference_class=ref, thresholds_version=version))
                db.commit()
        ids.append(pid)
    with services.sessions() as db:  # other statuses and methods, as the sweep and agencies leave them
        records = {r.pensioner_id: r for r in db.scalars(select(QualificationRecord).where(
            QualificationRecord.scheme == "basic_pension"))}
        records[ids[6]].status = "overdue"
        records[ids[4]].status = "suspended"
        records[ids[8]].status = "certified"
        records[ids[8]].method = "data_match"
        records[ids[8]].certified_at = NOW - dt.timedelta(days=3)
        records[ids[5]].status = "restored"
        records[ids[5]].method = "in_person"
        records[ids[5]].certified_at = NOW - dt.timedelta(days=10)
        # one review decided, one waiting
        reviews = db.scalars(select(Review).order_by(Review.opened_at)).all()
        assert len(reviews) == 2
        reviews[0].state, reviews[0].decision = "decided", "passed"
        reviews[0].decided_by, reviews[0].decided_at = "reviewer-7", NOW - dt.timedelta(hours=5)
        db.commit()
    return {"ids": ids}


def _expected(services, prefix: str, child_digits: int) -> dict:
    """The figures, computed from the rows with plain Python."""
    with services.sessions() as db:
        people = {p.id: p for p in db.scalars(select(Pensioner)) if p.region_code.startswith(prefix)}
        records = [r for r in db.scalars(select(QualificationRecord)) if r.pensioner_id in people]
        attempts = [a for a in db.scalars(select(Attempt).order_by(Attempt.created_at, Attempt.id))
                    if a.pensioner_id in people and a.status in ("passed", "failed", "review")]
        reviews = [r for r in db.scalars(select(Review)) if r.pensioner_id in people]
    by_region: dict[str, Counter] = defaultdict(Counter)
    by_scheme: dict[str, Counter] = defaultdict(Counter)
    channels: Counter = Counter()
    weeks: Counter = Counter()
    for r in records:
        by_region[people[r.pensioner_id].region_code[:child_digits].ljust(6, "0")][r.status] += 1
        by_scheme[r.scheme][r.status] += 1
        if r.status in ("certified", "restored"):
            channels[r.method] += 1
            day = r.certified_at.date()
            weeks[(day - dt.timedelta(days=day.weekday())).isoformat()] += 1
    tries: dict = defaultdict(list)
    for a in attempts:
        tries[(a.pensioner_id, a.period)].append(a)
    rows = []
    for (pid, _period), own in tries.items():
        passed_ever = any(a.status == "passed" for a in own)
        for n, a in enumerate(own, 1):
            p = people[pid]
            rows.append({"status": a.status, "try": n, "reasons": a.reasons, "false_reject": a.status == "failed" and passed_ever,
                         "age_band": _band(a.created_at.year - p.birth_date.year), "sex": p.sex, "channel": a.channel,
                         "device": a.device_family or "unknown", "reference_class": a.reference_class or "unknown",
                         "version": a.thresholds_version})
    open_ages = sorted((NOW - r.opened_at).total_seconds() / 3600 for r in reviews if r.state == "open")
    return {"by_region": by_region, "by_scheme": by_scheme, "channels": channels, "weeks": weeks, "rows": rows,
            "open_ages": open_ages, "reviews": reviews}


def _check_dashboard(got: dict, exp: dict) -> None:
    cov = got["coverage"]
    assert {r["region_code"]: {k: v for k, v in r["counts"].items() if v} for r in cov["by_region"]} == {
        k: dict(v) for k, v in exp["by_region"].items()}
    assert {r["scheme"]: {k: v for k, v in r["counts"].items() if v} for r in cov["by_scheme"]} == {
        k: dict(v) for k, v in exp["by_scheme"].items()}
    assert {c["method"]: c["records"] for c in cov["channels"]} == dict(exp["channels"])
    assert {w["week"]: w["certified"] for w in cov["trend"]} == dict(exp["weeks"])
    assert cov["trend"][-1]["cumulative"] == sum(exp["weeks"].values())
    rows = exp["rows"]
    funnel = got["funnel"]
    assert funnel["outcomes"] == {s: sum(r["status"] == s for r in rows) for s in ("passed", "failed", "review")}
    first = [r for r in rows if r["try"] == 1]
    assert funnel["first_try"]["pensioners"] == len(first)
    assert funnel["first_try"]["passed"] == sum(r["status"] == "passed" for r in first)
    per_person: Counter = Counter()
    # tries used: a pensioner-period used exactly k tries when its last attempt is number k
    ends = [r["try"] for i, r in enumerate(rows) if i + 1 == len(rows) or rows[i + 1]["try"] == 1]
    per_person.update(ends)
    assert {t["tries"]: t["pensioners"] for t in funnel["tries_used"] if t["pensioners"]} == dict(per_person)
    reasons = Counter((r["status"], code) for r in rows if r["status"] != "passed" for code in r["reasons"])
    assert {(x["status"], x["reason"]): x["attempts"] for x in funnel["reasons"]} == dict(reasons)
    reviews = got["reviews"]
    assert reviews["open"] == len(exp["open_ages"])
    assert reviews["age_p50_h"] == round(percentile(exp["open_ages"], 0.5), 2)
    assert reviews["age_p95_h"] == round(percentile(exp["open_ages"], 0.95), 2)
    decided = Counter((r.decided_by, r.decision) for r in exp["reviews"] if r.state == "decided")
    assert {(r["reviewer"], k): v for r in reviews["by_reviewer"] for k, v in r["decisions"].items()} == dict(decided)


def _check_fairness(got: dict, exp: dict, margin: float, min_attempts: int) -> None:
    rows = exp["rows"]
    overall = sum(r["status"] == "passed" for r in rows) / len(rows)
    assert got["overall"]["attempts"] == len(rows)
    assert got["overall"]["pass_rate"] == round(overall, 4)
    for dimension in got["dimensions"]:
        key = dimension["dimension"]
        bands = defaultdict(list)
        for r in rows:
            bands[r[key]].append(r)
        assert {b["band"] for b in dimension["bands"]} == set(bands), key
        for band in dimension["bands"]:
            own = bands[band["band"]]
            passed = [r for r in own if r["status"] == "passed"]
            assert band["attempts"] == len(own)
            assert band["pass_rate"] == round(len(passed) / len(own), 4)
            assert band["review_rate"] == round(sum(r["status"] == "review" for r in own) / len(own), 4)
            assert band["false_rejects"] == sum(r["false_reject"] for r in own)
            assert band["tries_to_pass"] == (round(sum(r["try"] for r in passed) / len(passed), 3) if passed else None)
            reasons = Counter(code for r in own if r["false_reject"] for code in r["reasons"])
            assert {x["reason"]: x["attempts"] for x in band["false_reject_reasons"]} == dict(reasons.most_common(5))
            versions = Counter(r["version"] for r in own)
            assert {v["thresholds_version"]: v["attempts"] for v in band["by_thresholds"]} == dict(versions)
            assert band["flagged"] == (len(own) >= min_attempts and len(passed) / len(own) < overall - margin)


def test_statistics_equal_the_rows(services):
    services.clock = lambda: NOW
    _build(services)
    report = run_maintenance_pass(services)  # the pass rebuilds the summaries when they are due
    assert report.stats_refreshed and not report.errors, report
    assert not run_maintenance_pass(services).stats_refreshed  # not again within the interval
    beijing = api_key(services, regions=["110000"], scopes=["results:read"], agency="北京")
    margin, min_attempts = services.settings.fairness_margin, 1
    services.settings.fairness_min_attempts = min_attempts
    with TestClient(create_app(services=services), raise_server_exceptions=False) as client:
        got = client.get("/v1/stats/dashboard?period=2026", headers=beijing)
        assert got.status_code == 200, got.text
        _check_dashboard(got.json(), _expected(services, "11", 4))
        county = client.get("/v1/stats/dashboard?region=110108", headers=beijing).json()
        _check_dashboard(county, _expected(services, "110108", 6))
        fair = client.get("/v1/stats/fairness", headers=beijing).json()
        _check_fairness(fair, _expected(services, "11", 4), margin, min_attempts)
        assert any(b["flagged"] for d in fair["dimensions"] for b in d["bands"])  # the 90+ band fails more
        # charts and the report carry the same figures, in both languages
        for lang in ("zh-CN", "en"):
            chart = client.get(f"/v1/stats/charts/fairness-age_band.svg?lang={lang}", headers=beijing)
            assert chart.status_code == 200 and chart.headers["content-type"].startswith("image/svg+xml")
            assert "<svg" in chart.text
            pdf = client.get(f"/v1/stats/report.pdf?month=2026-02&lang={lang}", headers=beijing)
            assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF"), pdf.text[:200]
        # /metrics flags the same bands as the fairness monitor over every region
        both = api_key(services, regions=["110000", "310000"], scopes=["results:read"], agency="两地")
        everywhere = client.get("/v1/stats/fairness", headers=both).json()
        flagged = {(d["dimension"], b["band"]) for d in everywhere["dimensions"] for b in d["bands"] if b["flagged"]}
        assert flagged
        metrics = client.get("/metrics").text
        in_metrics = {
            (re.search(r'dimension="([^"]+)"', line).group(1), re.search(r'band="([^"]+)"', line).group(1))
            for line in metrics.splitlines() if line.startswith("certify_fairness_flagged{") and line.endswith(" 1.0")
        }
        assert in_metrics == flagged
        # another region's figures are refused, bad input is a 4xx with a code
        assert client.get("/v1/stats/dashboard?region=310000", headers=beijing).json()["error"]["code"] == "region_forbidden"
        assert client.get("/v1/stats/dashboard?period=20x6", headers=beijing).status_code == 422
        assert client.get("/v1/stats/charts/nope.svg", headers=beijing).status_code == 404
        assert client.get("/v1/stats/report.pdf?month=2026-13", headers=beijing).status_code == 422


def test_sessions_record_the_device_family(client, services, enrolled):
    """The device family is taken from the User-Agent of the request that opens the session
    and copied to its attempt; the header itself is not kept."""
    from models import CertificationSession

    from .helpers import OPERATOR

    phone = "Mozilla/5.0 (Linux; Android 13; 23021RAA2Y) AppleWebKit/537.36 Chrome/120 Mobile Safari/537.36"
    opened = client.post(f"/v1/pensioners/{enrolled['id']}/sessions", json={},
                         headers={**OPERATOR, "User-Agent": phone})
    assert opened.status_code == 201, opened.text
    with services.sessions() as db:
        session = db.get(CertificationSession, uuid.UUID(opened.json()["id"]))
        assert session is not None and session.device_family == "android"
