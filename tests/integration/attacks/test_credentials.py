"""Dodging the rate limit with credential headers (issue 10, item 4).

With the address's upload window used up, a chunk PUT carrying the real
`X-Session-Nonce`, a second empty `X-Session-Nonce` and `Authorization: Bearer junk` got
200: the limiter read the last nonce, took the call for staff and gave each junk bearer
a bucket of its own, while the route read the first nonce.
"""

from __future__ import annotations

import hashlib

from .conftest import Target


def _chunked(target: Target, pensioner: str) -> tuple[dict, dict, bytes]:
    session = target.operator_session(pensioner, channel="self")
    data = target.clip()
    upload = target.http.post(f"/v1/pensioners/{pensioner}/sessions/{session['id']}/uploads", json={
        "size_bytes": len(data), "sha256": hashlib.sha256(data).hexdigest(), "content_type": "video/mp4"},
        headers={"X-Session-Nonce": session["nonce"]})
    assert upload.status_code == 201, upload.text
    return session, upload.json(), data


def _put(target: Target, upload: dict, data: bytes, headers: list[tuple[str, str]]):
    size = upload["chunk_bytes"]
    return target.http.put(f"/v1/uploads/{upload['id']}/chunks/0", content=data[:size],
                           headers=[("Content-Type", "application/octet-stream"), *headers])


def test_duplicate_credential_headers_are_refused(target: Target):
    session, upload, data = _chunked(target, target.pensioner())
    nonce = session["nonce"]
    for headers in (
        [("X-Session-Nonce", nonce), ("X-Session-Nonce", ""), ("Authorization", "Bearer junk")],
        [("X-Session-Nonce", nonce), ("X-Session-Nonce", nonce)],
        [("Authorization", "Bearer a"), ("Authorization", "Bearer b")],
    ):
        answer = _put(target, upload, data, headers)
        assert (answer.status_code, answer.json()["error"]["code"]) == (400, "credential_duplicated"), headers
    # on reads too: every route takes its credentials from the same parsing
    read = target.http.get(f"/v1/uploads/{upload['id']}", headers=[("X-Session-Nonce", nonce), ("X-Session-Nonce", "x")])
    assert read.status_code == 400
    assert _put(target, upload, data, [("X-Session-Nonce", nonce)]).status_code == 200


def test_an_unverified_bearer_buys_no_bucket(target_factory):
    target = target_factory(rate_limit_ip_per_window=6, rate_limit_token_per_window=100)
    pensioner = target.pensioner()  # the operator's key has its own bucket
    session, upload, data = _chunked(target, pensioner)  # 1 from this address
    nonce = session["nonce"]
    while (answer := _put(target, upload, data, [("X-Session-Nonce", nonce)])).status_code == 200:
        pass
    assert (answer.status_code, answer.json()["error"]["scope"]) == (429, "ip")
    # junk bearers are counted by address like anything else that does not verify
    for junk in ("junk", "junk2", "ck_abc_def"):
        for headers in ([("Authorization", f"Bearer {junk}")],
                        [("X-Session-Nonce", nonce), ("Authorization", f"Bearer {junk}")]):
            dodged = _put(target, upload, data, headers)
            assert (dodged.status_code, dodged.json()["error"]["scope"]) == (429, "ip"), headers
    cookie = _put(target, upload, data, [("Cookie", "certify_session=forged")])
    assert (cookie.status_code, cookie.json()["error"]["scope"]) == (429, "ip")
