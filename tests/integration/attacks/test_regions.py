"""Region isolation attacks (issue 10, items 7-9): what the region where a pensioner lives
(the residence region) could do to a pensioner another region pays, and what anybody
could learn about other regions' enrolments.

Regions: Beijing Chaoyang (110105) pays; the pensioner lives in Shanghai Xuhui
(310104). Each region has its own staff, reviewers and agency keys.
"""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
from sqlalchemy import select

from models import AuditEvent, FaceReference, Pensioner
from tests.integration.agency_helpers import decided_attempt, make_pensioner
from tests.integration.conftest import run_worker_burst
from tests.integration.helpers import new_national_id
from tests.qr import decode_qr_png

from .conftest import OPERATOR

pytestmark = [pytest.mark.data]

PAYING, RESIDENCE = "110105", "310104"
PAYING_PROVINCE, RESIDENCE_PROVINCE = "110000", "310000"


def _photo(target, path: str) -> dict:
    return {"photo": ("capture.jpg", (target.data / path).read_bytes(), "image/jpeg")}


def _code(response) -> tuple[int, str | None]:
    body = response.json()
    return response.status_code, body.get("error", {}).get("code") if isinstance(body, dict) else None


def _status_of(target, reference_id: str) -> str:
    with target.services.sessions() as db:
        return db.get(FaceReference, uuid.UUID(reference_id)).status


# ---- item 7: a reference change needs the paying region ----------------------------------


def test_residence_staff_and_reviewer_cannot_change_a_reference_between_them(target):
    """Used to succeed: Shanghai staff uploaded another person's photo for a pensioner
    Beijing pays, a Shanghai reviewer approved it (200, `active`), and the next
    certification matched against that face. Now the approval is refused (403
    `paying_region_approval_required`) and the photo stays pending until a reviewer of
    the paying region decides it."""
    pensioner = target.pensioner(region=PAYING, residence=RESIDENCE)
    for username, region, role in (
        ("sh.staff", RESIDENCE, "staff"), ("sh.reviewer", RESIDENCE, "reviewer"),
        ("bj.staff", PAYING, "staff"), ("bj.reviewer", PAYING, "reviewer"),
    ):
        target.staff(username, region=region, role=role)
    sh_staff, sh_reviewer = target.signed_in("sh.staff"), target.signed_in("sh.reviewer")
    bj_staff, bj_reviewer = target.signed_in("bj.staff"), target.signed_in("bj.reviewer")

    added = sh_staff.post(f"/v1/pensioners/{pensioner}/references", files=_photo(target, "people/joe_biden/1.jpg"))
    assert added.status_code == 201, added.text
    assert added.json()["status"] == "pending"
    reference = added.json()["id"]

    refused = sh_reviewer.post(f"/v1/references/{reference}/approve")
    assert _code(refused) == (403, "paying_region_approval_required")
    assert _status_of(target, reference) == "pending"
    listed = {p["reference"]["id"]: p for p in sh_reviewer.get("/v1/references").json()}
    assert listed[reference]["may_approve"] is False
    # the paying region's community staff are not enough either: a reviewer must look
    assert _code(bj_staff.post(f"/v1/references/{reference}/approve")) == (403, "paying_region_approval_required")
    assert _status_of(target, reference) == "pending"

    # the paying region's reviewer sees it waiting, with who took it, and decides it
    waiting = {p["reference"]["id"]: p for p in bj_reviewer.get("/v1/references").json()}
    assert waiting[reference]["may_approve"] is True and waiting[reference]["likeness"] == "different"
    rejected = bj_reviewer.post(f"/v1/references/{reference}/reject", json={"reason": "不是本人"})
    assert rejected.status_code == 200, rejected.text
    assert _status_of(target, reference) == "rejected"


def test_a_residence_region_key_or_admin_adds_references_only_as_pending(target):
    """Used to succeed: an enrolment key (or an administrator) of the residence region
    added a reference photo that was active at once (201 `active`), with nobody of the
    paying region involved. Now it is stored pending (201 `pending`), the residence
    region's administrator cannot approve it (403), and the paying side can."""
    pensioner = target.pensioner(region=PAYING, residence=RESIDENCE)
    photo = "people/barack_obama/2.jpg"
    residence_key = target.key(regions=[RESIDENCE_PROVINCE], scopes=["pensioners:write"])
    by_key = target.http.post(f"/v1/pensioners/{pensioner}/references", files=_photo(target, photo), headers=residence_key)
    assert by_key.status_code == 201, by_key.text
    assert by_key.json()["status"] == "pending"

    target.staff("sh.admin", region=RESIDENCE_PROVINCE, role="admin")
    sh_admin = target.signed_in("sh.admin")
    by_admin = sh_admin.post(f"/v1/pensioners/{pensioner}/references", files=_photo(target, photo))
    assert by_admin.status_code == 201 and by_admin.json()["status"] == "pending"
    refused = sh_admin.post(f"/v1/references/{by_key.json()['id']}/approve")
    assert _code(refused) == (403, "paying_region_approval_required")
    assert _status_of(target, by_key.json()["id"]) == "pending"

    # the paying region's own key still enrols an active reference; the operator approves
    paying_key = target.key(regions=[PAYING_PROVINCE], scopes=["pensioners:write"])
    own = target.http.post(f"/v1/pensioners/{pensioner}/references", files=_photo(target, photo), headers=paying_key)
    assert own.status_code == 201 and own.json()["status"] == "active"
    approved = target.http.post(f"/v1/references/{by_key.json()['id']}/approve", headers=OPERATOR)
    assert approved.status_code == 200 and approved.json()["status"] == "active"


# ---- item 8: certificates of an attempt ------------------------------------------------


def test_certificates_of_an_attempt_answer_only_the_pensioner_and_the_paying_region(target):
    """Used to succeed: `GET /v1/attempts/{id}/certificates` and its `qr.png` answered 200
    to anyone with the attempt id: no credential, or the staff of the residence region.
    Now they answer 404 `attempt_not_found` unless the caller is the pensioner's own
    browser (its link pass) or sees the paying region; the QR address is a short-lived
    signed capability, minted for such a caller."""
    pensioner = make_pensioner(target.services, region=PAYING, residence=RESIDENCE)
    attempt = decided_attempt(target.services, pensioner, status="passed")
    url = f"/v1/attempts/{attempt}/certificates"
    target.staff("sh.staff", region=RESIDENCE)
    target.staff("bj.staff", region=PAYING)
    someone_else = str(make_pensioner(target.services, region=PAYING))

    refused = {
        "nobody": {},
        "residence key": target.key(regions=[RESIDENCE_PROVINCE], scopes=["results:read", "evidence:read"]),
        "paying key without a results scope": target.key(regions=[PAYING_PROVINCE], scopes=["pensioners:write"]),
        "another pensioner's browser": target.link_pass(someone_else),
        "a made-up link pass": {"X-Link-Pass": "not-a-pass-" + "x" * 30},
    }
    for who, headers in refused.items():
        assert _code(target.http.get(url, headers=headers)) == (404, "attempt_not_found"), who
    assert _code(target.signed_in("sh.staff").get(url)) == (404, "attempt_not_found")

    allowed = {
        "operator": OPERATOR,
        "paying key": target.key(regions=[PAYING_PROVINCE], scopes=["results:read"]),
        "the pensioner's browser": target.link_pass(str(pensioner)),
    }
    for who, headers in allowed.items():
        listed = target.http.get(url, headers=headers)
        assert listed.status_code == 200 and len(listed.json()) == 1, who
    listed = target.signed_in("bj.staff").get(url)
    assert listed.status_code == 200 and len(listed.json()) == 1
    certificate = listed.json()[0]

    # the QR image: only through the capability handed to an allowed caller
    capability = certificate["qr_url"]
    bare = capability.split("?")[0]
    assert bare == f"/v1/attempts/{attempt}/certificates/{certificate['id']}/qr.png" and "?" in capability
    assert _code(target.http.get(bare)) == (404, "certificate_not_found")
    assert _code(target.signed_in("sh.staff").get(bare)) == (404, "certificate_not_found")
    assert _code(target.http.get(bare + "?access=" + "A" * 40)) == (404, "certificate_not_found")
    image = target.http.get(capability)  # an <img src>: no header, no cookie
    assert image.status_code == 200 and image.headers["content-type"] == "image/png"
    assert decode_qr_png(image.content) == certificate["qr_token"]
    assert image.headers["cache-control"] == "private, no-store"
    # a capability names one certificate of one attempt
    other_attempt = decided_attempt(target.services, make_pensioner(target.services, region=PAYING), status="passed")
    token = capability.split("?", 1)[1]
    assert _code(target.http.get(f"/v1/attempts/{other_attempt}/certificates/{certificate['id']}/qr.png?{token}")) == (
        404, "certificate_not_found")
    # and it expires
    real_clock = target.services.clock
    ttl_s = target.services.settings.certificate_qr_url_ttl_s
    target.services.clock = lambda: real_clock() + dt.timedelta(seconds=ttl_s + 5)
    try:
        assert _code(target.http.get(capability)) == (404, "certificate_not_found")
    finally:
        target.services.clock = real_clock


# ---- item 9: no national-ID existence oracle -------------------------------------------


def test_enrolling_an_id_another_region_enrolled_answers_like_a_new_enrolment_and_holds_it(target):
    """Used to succeed as an oracle: Shanghai staff posting Beijing's pensioners' ID numbers
    to `POST /v1/pensioners` got 409 `pensioner_exists` for each one Beijing had enrolled.
    Now such an enrolment is made, on hold (201, the same shape as any enrolment,
    `enrolment_status: on_hold`, nothing about the other one); it cannot be certified,
    is not in the feeds, and waits for a reviewer who sees both regions."""
    for username, region, role in (
        ("bj.staff", PAYING, "staff"), ("sh.staff", RESIDENCE, "staff"),
        ("bj.reviewer", PAYING, "reviewer"), ("sh.reviewer", RESIDENCE, "reviewer"),
    ):
        target.staff(username, region=region, role=role)
    bj_staff, sh_staff = target.signed_in("bj.staff"), target.signed_in("sh.staff")
    number = new_national_id(PAYING)
    first = bj_staff.post("/v1/pensioners", json={"name": "王秀英", "national_id": number, "region_code": PAYING})
    assert first.status_code == 201, first.text
    # a duplicate the caller can see still says so
    assert _code(bj_staff.post("/v1/pensioners", json={"name": "王秀英", "national_id": number, "region_code": PAYING})) == (
        409, "pensioner_exists")

    probe = sh_staff.post("/v1/pensioners", json={"name": "王秀英", "national_id": number, "region_code": RESIDENCE})
    assert probe.status_code == 201, probe.text
    assert first.json()["enrolment_status"] == "active"
    fresh = sh_staff.post("/v1/pensioners", json={"name": "李桂芳", "national_id": new_national_id(RESIDENCE),
                                                  "region_code": RESIDENCE})
    assert set(probe.json()) == set(fresh.json())
    assert probe.json()["enrolment_status"] == "on_hold" and fresh.json()["enrolment_status"] == "active"
    assert first.json()["id"] not in probe.text and PAYING not in probe.text
    held = probe.json()["id"]

    # the enroling staff see it on hold in their caseload; the other region sees nothing new
    on_hold = sh_staff.get("/v1/cases", params={"state": "on_hold"}).json()
    assert [c["pensioner_id"] for c in on_hold["items"]] == [held] and on_hold["counts"]["on_hold"] == 1
    assert bj_staff.get("/v1/cases").json()["counts"]["on_hold"] == 0
    # a held enrolment cannot be certified: no session, no link, not in the agency feed
    assert _code(target.http.post(f"/v1/pensioners/{held}/sessions", json={}, headers=OPERATOR)) == (
        409, "enrolment_on_hold")
    assert _code(sh_staff.post(f"/v1/pensioners/{held}/links", json={})) == (409, "enrolment_on_hold")
    feed = target.http.get("/v1/results", headers=target.key(regions=[RESIDENCE_PROVINCE], scopes=["results:read"]))
    assert feed.status_code == 200
    feed_pensioners = {row["pensioner_id"] for row in feed.json()["results"]}
    assert fresh.json()["id"] in feed_pensioners and held not in feed_pensioners

    # reviewers of both regions see one item naming both enrolments
    bj_reviewer, sh_reviewer = target.signed_in("bj.reviewer"), target.signed_in("sh.reviewer")
    for reviewer in (bj_reviewer, sh_reviewer):
        items = reviewer.get("/v1/reviews/enrolments").json()
        assert [(i["kind"], i["hold_reason"], i["enrolment"]["pensioner_id"], i["other"]["pensioner_id"])
                for i in items] == [("duplicate_enrolment", "duplicate_national_id", held, first.json()["id"])]
        assert items[0]["other"]["region_code"] == PAYING and items[0]["may_decide"] is False
    review = items[0]["review_id"]
    # staff do not see the review queue; one region's reviewer may not decide for the other
    assert bj_staff.get("/v1/reviews/enrolments").status_code == 403
    refused = sh_reviewer.post(f"/v1/reviews/enrolments/{review}/decision", json={"decision": "keep_new"})
    assert _code(refused) == (403, "hold_needs_both_regions")

    # the operator (who sees both) decides: the person moved to Shanghai
    decided = target.http.post(f"/v1/reviews/enrolments/{review}/decision", headers=OPERATOR,
                               json={"decision": "keep_new", "note": "moved to Shanghai in 2025"})
    assert decided.status_code == 200, decided.text
    assert decided.json()["state"] == "decided" and decided.json()["decision"] == "keep_new"
    assert target.http.get(f"/v1/pensioners/{held}", headers=OPERATOR).json()["enrolment_status"] == "active"
    assert target.http.get(f"/v1/pensioners/{first.json()['id']}", headers=OPERATOR).json()["enrolment_status"] == "closed"
    assert _code(target.http.post(f"/v1/pensioners/{first.json()['id']}/sessions", json={}, headers=OPERATOR)) == (
        409, "enrolment_closed")
    # released: certifiable now (it only lacks a reference photo), and in the feed
    assert _code(target.http.post(f"/v1/pensioners/{held}/sessions", json={}, headers=OPERATOR)) == (
        409, "no_reference_photo")
    feed = target.http.get("/v1/results", headers=target.key(regions=[RESIDENCE_PROVINCE], scopes=["results:read"]))
    assert held in {row["pensioner_id"] for row in feed.json()["results"]}
    with target.services.sessions() as db:
        actions = set(db.scalars(select(AuditEvent.action).where(AuditEvent.subject_id.in_([held, first.json()["id"]]))))
    assert {"pensioner.create", "enrolment.hold_decide"} <= actions


def test_bulk_enrolment_does_not_tell_which_ids_another_region_enrolled(target):
    """Used to succeed as an oracle: a bulk enrolment of ID numbers refused each one that
    another region had enrolled (row error `pensioner_exists`). Now such a row is
    enrolled on hold like any new row; a reviewer of a region covering both
    (here Beijing's province) rejects it, and the first enrolment is untouched."""
    haidian = "110108"
    taken = new_national_id(PAYING)
    first = target.http.post("/v1/pensioners", headers=OPERATOR,
                             json={"name": "王秀英", "national_id": taken, "region_code": PAYING})
    assert first.status_code == 201
    haidian_key = target.key(regions=[haidian], scopes=["pensioners:write"])
    lines = ["name,national_id,region_code", f"王秀英,{taken},{haidian}", f"李桂芳,{new_national_id(haidian)},{haidian}"]
    job = target.http.post("/v1/enrolments", headers=haidian_key,
                           files={"csv": ("people.csv", "\n".join(lines).encode(), "text/csv")})
    assert job.status_code == 202, job.text
    run_worker_burst(target.services)
    rows = {r["line"]: r for r in target.http.get(job.json()["rows_url"], headers=haidian_key).json()}
    assert rows[2]["errors"] == [] and rows[2]["pensioner_id"] and rows[3]["pensioner_id"]
    assert (rows[2]["enrolment_status"], rows[3]["enrolment_status"]) == ("on_hold", "active")
    held = rows[2]["pensioner_id"]

    # the same file again: now both rows are the key's own enrolments, and it is told so
    again = target.http.post("/v1/enrolments", headers=haidian_key,
                             files={"csv": ("people.csv", "\n".join(lines).encode(), "text/csv")})
    run_worker_burst(target.services)
    codes = {r["line"]: [e["code"] for e in r["errors"]]
             for r in target.http.get(again.json()["rows_url"], headers=haidian_key).json()}
    assert codes == {2: ["pensioner_exists"], 3: ["pensioner_exists"]}

    target.staff("bj.province.reviewer", region=PAYING_PROVINCE, role="reviewer")
    reviewer = target.signed_in("bj.province.reviewer")
    items = reviewer.get("/v1/reviews/enrolments").json()
    assert [(i["enrolment"]["pensioner_id"], i["may_decide"]) for i in items] == [(held, True)]
    decided = reviewer.post(f"/v1/reviews/enrolments/{items[0]['review_id']}/decision",
                            json={"decision": "reject_new", "note": "same person, enrolled by mistake"})
    assert decided.status_code == 200, decided.text
    again = reviewer.post(f"/v1/reviews/enrolments/{items[0]['review_id']}/decision", json={"decision": "keep_new"})
    assert _code(again) == (409, "review_decided")
    with target.services.sessions() as db:
        statuses = {str(p.id): p.enrolment_status for p in db.scalars(select(Pensioner))}
    assert statuses[held] == "closed" and statuses[first.json()["id"]] == "active"
    assert reviewer.get("/v1/reviews/enrolments").json() == []
