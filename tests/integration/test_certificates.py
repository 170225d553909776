"""Signed certificates: issued on certification, read, verified online and offline
(`certify verify`), tamper-evident, and shown as a QR code that decodes to itself."""

from __future__ import annotations

import base64
import json
import subprocess
import sys

from tests.conftest import REPO_ROOT
from tests.qr import decode_qr_png

from .agency_helpers import api_key, decided_attempt, make_pensioner
from .helpers import OPERATOR


def _tamper(token: str) -> str:
    prefix, key_id, body, signature = token.split(".")
    payload = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    payload["valid_until"] = "2099-12-31"
    forged = base64.urlsafe_b64encode(json.dumps(payload).encode()).rstrip(b"=").decode()
    return ".".join([prefix, key_id, forged, signature])


def test_certificate_issue_verify_qr_and_offline_check(client, services, tmp_path):
    key = api_key(services, regions=["110000"], scopes=["results:read"])
    pid = make_pensioner(services, region="110105", schemes=("basic_pension", "work_injury"))
    attempt = decided_attempt(services, pid, status="passed")

    # the result page: certificates of the attempt (for the pensioner's browser or a
    # credential of the paying region; tests/integration/attacks/test_regions.py has who not)
    assert client.get(f"/v1/attempts/{attempt}/certificates").status_code == 404
    mine = client.get(f"/v1/attempts/{attempt}/certificates", headers=key)
    assert mine.status_code == 200
    certificates = mine.json()
    assert sorted(c["payload"]["scheme"] for c in certificates) == ["basic_pension", "work_injury"]
    certificate = certificates[0]
    payload = certificate["payload"]
    assert payload["pensioner"]["id"] == str(pid) and payload["method"] == "self"
    assert payload["issuer"]["region"] == "110000"  # the province agency, created on first need
    assert payload["valid_until"] == certificate["valid_until"]

    # the QR image decodes (OpenCV's detectors) to the compact signed form
    png = client.get(certificate["qr_url"])
    assert png.status_code == 200 and png.headers["content-type"] == "image/png"
    decoded = decode_qr_png(png.content)
    assert decoded == certificate["qr_token"] and decoded.startswith("CRQ1|")
    scanned = client.post("/v1/certificates/verify", json={"certificate": decoded}).json()
    assert (scanned["valid"], scanned["payload"]["id"], scanned["payload"]["valid_until"]) == (
        True, certificate["id"], certificate["valid_until"])
    forged_qr = decoded.replace(certificate["valid_until"], "2099-12-31")
    assert client.post("/v1/certificates/verify", json={"certificate": forged_qr}).json()["code"] == "signature_invalid"

    # agencies read it by id; the verification endpoint accepts it and refuses a forgery
    assert client.get(f"/v1/certificates/{certificate['id']}", headers=key).json()["token"] == certificate["token"]
    ok = client.post("/v1/certificates/verify", json={"certificate": certificate["token"]}).json()
    assert (ok["valid"], ok["code"], ok["payload"]["id"]) == (True, "ok", certificate["id"])
    forged = client.post("/v1/certificates/verify", json={"certificate": _tamper(certificate["token"])}).json()
    assert (forged["valid"], forged["code"]) == (False, "signature_invalid")
    junk = client.post("/v1/certificates/verify", json={"certificate": "CRT1.nothing.here"}).json()
    assert (junk["valid"], junk["code"]) == (False, "certificate_malformed")

    # offline: the CLI with the agency's published public key, no server involved
    pem = client.get(certificate["public_key_url"])
    assert pem.status_code == 200 and pem.text.startswith("-----BEGIN PUBLIC KEY-----")
    key_file = tmp_path / "agency.pem"
    key_file.write_text(pem.text)
    cert_file = tmp_path / "cert.txt"
    cert_file.write_text(certificate["token"])
    good = subprocess.run([sys.executable, "-m", "cli.main", "verify", str(cert_file), "-k", str(key_file), "--json"],
                          cwd=REPO_ROOT, capture_output=True, text=True, timeout=120)
    assert good.returncode == 0, good.stderr
    assert json.loads(good.stdout)["payload"]["id"] == certificate["id"]
    bad = subprocess.run([sys.executable, "-m", "cli.main", "verify", _tamper(certificate["token"]), "-k", str(key_file)],
                         cwd=REPO_ROOT, capture_output=True, text=True, timeout=120)
    assert bad.returncode == 1 and "INVALID: signature_invalid" in bad.stdout
    qr = subprocess.run([sys.executable, "-m", "cli.main", "verify", decoded, "-k", str(key_file)],
                        cwd=REPO_ROOT, capture_output=True, text=True, timeout=120)
    assert qr.returncode == 0 and qr.stdout.startswith("VALID") and certificate["id"] in qr.stdout, qr.stdout

    # another agency's key does not verify it
    other = subprocess.run([sys.executable, "-c", (
        "from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey;"
        "from cryptography.hazmat.primitives import serialization as s;"
        "print(Ed25519PrivateKey.generate().public_key().public_bytes(s.Encoding.PEM, s.PublicFormat.SubjectPublicKeyInfo).decode())")],
        capture_output=True, text=True, timeout=60)
    other_file = tmp_path / "other.pem"
    other_file.write_text(other.stdout)
    wrong = subprocess.run([sys.executable, "-m", "cli.main", "verify", str(cert_file), "-k", str(other_file)],
                           cwd=REPO_ROOT, capture_output=True, text=True, timeout=120)
    assert wrong.returncode == 1 and "signature_invalid" in wrong.stdout


def test_no_certificate_without_certification(client, services):
    pid = make_pensioner(services)
    attempt = decided_attempt(services, pid, status="failed", reasons=["no_face"])
    assert client.get(f"/v1/attempts/{attempt}/certificates", headers=OPERATOR).json() == []


def test_an_agency_revokes_a_certificate_and_verification_says_so(client, services):
    from sqlalchemy import select

    from models import AuditEvent

    writer = api_key(services, regions=["110000"], scopes=["records:write", "results:read"])
    reader = api_key(services, regions=["110000"], scopes=["results:read"])
    elsewhere = api_key(services, regions=["310000"], scopes=["records:write"])
    pid = make_pensioner(services, region="110105")
    attempt = decided_attempt(services, pid, status="passed")
    certificate = client.get(f"/v1/attempts/{attempt}/certificates", headers=reader).json()[0]
    url = f"/v1/certificates/{certificate['id']}/revoke"
    reason = {"reason": "died on 2026-03-02, reported by the civil registry"}

    assert client.post(url, json=reason, headers=reader).json()["error"]["code"] == "scope_missing"
    assert client.post(url, json=reason, headers=elsewhere).status_code == 404
    assert client.post(url, json={"reason": ""}, headers=writer).status_code == 422
    assert client.post("/v1/certificates/verify", json={"certificate": certificate["token"]}).json()["valid"] is True

    revoked = client.post(url, json=reason, headers=writer)
    assert revoked.status_code == 200, revoked.text
    assert revoked.json()["revoked"] is True and revoked.json()["revoke_reason"] == reason["reason"]
    for token in (certificate["token"], certificate["qr_token"]):
        answer = client.post("/v1/certificates/verify", json={"certificate": token}).json()
        assert (answer["valid"], answer["code"]) == (False, "revoked")
    again = client.post(url, json=reason, headers=writer)
    assert (again.status_code, again.json()["error"]["code"]) == (409, "certificate_revoked")
    with services.sessions() as db:
        entries = db.scalars(select(AuditEvent).where(AuditEvent.action == "certificate.revoke")).all()
    assert [(e.subject_id, e.reason) for e in entries] == [(certificate["id"], reason["reason"])]
