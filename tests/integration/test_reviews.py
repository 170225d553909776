"""The manual review queue: engine reviews and appeals after lockout, evidence reads
and decisions in the append-only audit log, records settled with method `review`."""

from __future__ import annotations

from sqlalchemy import select

from models import AuditEvent, QualificationRecord

from .agency_helpers import decided_attempt, login, make_pensioner, staff_account
from .helpers import link_pass


def _audit(services, action_prefix: str):
    with services.sessions() as db:
        return db.scalars(select(AuditEvent).where(AuditEvent.action.like(f"{action_prefix}%"))
                          .order_by(AuditEvent.id)).all()


def test_reviewer_sees_evidence_decides_and_everything_is_audited(client, services):
    staff_account(services, username="li.reviewer", role="reviewer", region="110000")
    staff_account(services, username="hu.reviewer", role="reviewer", region="310000")
    staff_account(services, username="wang.staff", role="staff", region="110105")
    pid = make_pensioner(services, region="110105", schemes=("basic_pension", "survivors"))
    review_attempt = decided_attempt(services, pid, status="review", reasons=["match_uncertain"], key_frames=3,
                                     scores={"match_distance": 0.52, "liveness": 0.71})
    other = make_pensioner(services, region="310104")
    decided_attempt(services, other, status="review", reasons=["match_uncertain"])

    csrf = login(client, "li.reviewer")
    queue = client.get("/v1/reviews").json()
    assert [item["attempt_id"] for item in queue] == [str(review_attempt)]  # Shanghai's is not listed
    assert queue[0]["kind"] == "engine" and "scores" not in queue[0]
    assert _audit(services, "evidence.read") == []  # listing shows no evidence

    detail = client.get(f"/v1/reviews/{review_attempt}").json()
    assert detail["scores"] == {"match_distance": 0.52, "liveness": 0.71}
    assert len(detail["key_frame_urls"]) == 3
    frame = client.get(detail["key_frame_urls"][1], params={"reason": "manual review"})
    assert frame.status_code == 200 and frame.content[:2] == b"\xff\xd8"
    assert client.get(detail["key_frame_urls"][1]).status_code == 422  # a reason is required
    reads = _audit(services, "evidence.read")
    assert [(e.action, e.reason) for e in reads] == [
        ("evidence.read.scores", "manual review"), ("evidence.read.key_frame", "manual review")]
    assert {e.actor_type for e in reads} == {"reviewer"}

    bad = client.post(f"/v1/reviews/{review_attempt}/decision", json={"decision": "passed", "reason": "not_live"},
                      headers=csrf)
    assert (bad.status_code, bad.json()["error"]["code"]) == (422, "review_reason_invalid")
    decided = client.post(f"/v1/reviews/{review_attempt}/decision",
                          json={"decision": "passed", "reason": "same_person_live", "note": "glasses"}, headers=csrf)
    assert decided.status_code == 200, decided.text
    assert decided.json()["state"] == "decided" and decided.json()["attempt_status"] == "passed"
    again = client.post(f"/v1/reviews/{review_attempt}/decision",
                        json={"decision": "failed", "reason": "not_live"}, headers=csrf)
    assert (again.status_code, again.json()["error"]["code"]) == (409, "review_decided")
    with services.sessions() as db:
        records = db.scalars(select(QualificationRecord).where(QualificationRecord.pensioner_id == pid)).all()
    assert {(r.status, r.method, r.attempt_id) for r in records} == {("certified", "review", review_attempt)}
    decisions = _audit(services, "review.decide")
    assert [(d.reason, d.details["decision"]) for d in decisions] == [("same_person_live", "passed")]

    # another region's reviewer and a staff member cannot see it
    client.cookies.clear()
    login(client, "hu.reviewer")
    assert client.get(f"/v1/reviews/{review_attempt}").status_code == 404
    assert client.get(f"/v1/attempts/{review_attempt}/evidence", params={"reason": "curious"}).status_code == 404
    client.cookies.clear()
    login(client, "wang.staff")
    assert client.get("/v1/reviews").status_code == 403
    assert client.get(f"/v1/attempts/{review_attempt}/key-frames/0", params={"reason": "x" * 5}).status_code == 403


def test_appeal_after_lockout_and_a_failed_review(client, services):
    staff_account(services, username="li.reviewer", role="reviewer", region="110000")
    pid = make_pensioner(services, region="110105")
    phone = link_pass(client, str(pid))
    first = decided_attempt(services, pid, status="failed", reasons=["no_blink"])
    early = client.post(f"/v1/attempts/{first}/appeal", json={"note": "I did blink"}, headers=phone)
    assert (early.status_code, early.json()["error"]["code"]) == (409, "appeal_tries_left")
    decided_attempt(services, pid, status="failed", reasons=["no_blink"])
    last = decided_attempt(services, pid, status="failed", reasons=["face_mismatch"])

    # the attempt id alone does not appeal: the pensioner's page pass (or staff) does
    stranger = client.post(f"/v1/attempts/{last}/appeal", json={"note": "x"})
    assert (stranger.status_code, stranger.json()["error"]["code"]) == (404, "attempt_not_found")
    appealed = client.post(f"/v1/attempts/{last}/appeal", json={"note": "please help, my eyes are weak"},
                           headers=phone)
    assert appealed.status_code == 201, appealed.text
    assert appealed.json()["kind"] == "appeal" and appealed.json()["state"] == "open"
    assert not {"name", "national_id_masked", "pensioner_id", "region_code"} & set(appealed.json())
    assert client.post(f"/v1/attempts/{last}/appeal", headers=phone).json()["error"]["code"] == "appeal_exists"

    csrf = login(client, "li.reviewer")
    queue = client.get("/v1/reviews").json()
    assert [(q["attempt_id"], q["appeal_note"]) for q in queue] == [(str(last), "please help, my eyes are weak")]
    refused = client.post(f"/v1/reviews/{last}/decision", json={"decision": "failed", "reason": "different_person"},
                          headers=csrf)
    assert refused.status_code == 200
    with services.sessions() as db:
        record = db.scalars(select(QualificationRecord).where(QualificationRecord.pensioner_id == pid)).one()
    assert (record.status, record.decision, record.reasons) == ("due", "failed", ["review_different_person"])
    assert client.get("/v1/reviews").json() == []
    assert [q["decision"] for q in client.get("/v1/reviews?state=decided").json()] == ["failed"]
