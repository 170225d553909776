"""Issue 10, item 11: webhooks. `http://[64:ff9b::7f00:1]/` (NAT64 of 127.0.0.1) was
accepted and contacted: Python calls that address global. IPv6 forms of an IPv4 address
(NAT64, 6to4, IPv4-compatible, -translated, Teredo, ISATAP) are now judged by the IPv4
address they embed; and a delivery resolves the host once and connects to exactly the
address it checked (no second DNS lookup for a rebinding name to answer differently)."""

from __future__ import annotations

import pytest

from service.notify import announce_changes
from service.webhooks import create_webhook
from tests.integration.agency_helpers import api_key, decided_attempt, make_pensioner
from tests.integration.conftest import run_worker_burst
from tests.integration.receiver import Receiver, self_signed_certificate

TRANSLATED_LOOPBACK = (
    "http://[64:ff9b::7f00:1]:{port}/hook",     # NAT64, the probe's URL
    "http://[64:ff9b::a9fe:a9fe]/latest/meta-data",  # NAT64 of the cloud metadata address
    "http://[64:ff9b:1::a00:1]/hook",           # local-use NAT64 of 10.0.0.1
    "http://[2002:7f00:1::1]:{port}/hook",      # 6to4 of 127.0.0.1
    "http://[::127.0.0.1]:{port}/hook",         # IPv4-compatible
    "http://[::ffff:0:7f00:1]:{port}/hook",     # IPv4-translated
    "http://[2606:4700::5efe:c0a8:1]/hook",     # ISATAP of 192.168.0.1 under a public prefix
)


@pytest.fixture
def receiver():
    r = Receiver({})
    yield r
    r.close()


def _deliveries(target, key, hook_id: str) -> list[dict]:
    response = target.http.get(f"/v1/webhooks/{hook_id}/deliveries", headers=key)
    assert response.status_code == 200, response.text
    return response.json()


def _certify_someone(target) -> None:
    """One record event (`certified`) in 110105, announced as the worker announces it."""
    decided_attempt(target.services, make_pensioner(target.services, region="110105"), status="passed")
    announce_changes(target.services)


def test_ipv6_forms_of_a_private_ipv4_address_are_refused(target, receiver):
    """Used to: `POST /v1/webhooks {"url": "http://[64:ff9b::7f00:1]/..."}` answered 201
    (also the 6to4, IPv4-compatible and -translated forms). Now: 422 `url_not_public`."""
    key = api_key(target.services, regions=["110000"], scopes=["webhooks:manage"])
    for url in TRANSLATED_LOOPBACK:
        url = url.format(port=receiver.port)
        response = target.http.post("/v1/webhooks", headers=key, json={"url": url, "region": "110000"})
        assert response.status_code == 422, (url, response.text)
        assert response.json()["error"]["code"] == "url_not_public"
    public = target.http.post("/v1/webhooks", headers=key, json={"url": "https://[64:ff9b::808:808]/hook",
                                                                 "region": "110000"})
    assert public.status_code == 201, public.text  # NAT64 of a public address is fine


def test_deliveries_to_translated_private_addresses_are_not_sent(target_factory, receiver):
    """Used to: a webhook to `http://[64:ff9b::7f00:1]:PORT/` made before this check (or a
    host name resolving there) was contacted at every delivery. Now: not sent, and the
    log says which IPv4 address it hides."""
    target = target_factory(webhook_retry_intervals_s=())
    key = api_key(target.services, regions=["110000"], scopes=["webhooks:manage"])
    with target.services.sessions() as db:  # as stored by an earlier version, which accepted it
        old, _ = create_webhook(db, keyring=target.services.keyring, region_code="110000",
                                url=f"http://[64:ff9b::7f00:1]:{receiver.port}/old", events=["certified"],
                                created_by="probe", now=target.services.clock(), allow_private=True)
        db.commit()
        old_id = str(old.id)
    by_name = target.http.post("/v1/webhooks", headers=key, json={
        "url": f"http://nat64.certify.test:{receiver.port}/by-name", "region": "110000", "events": ["certified"]})
    assert by_name.status_code == 201, by_name.text
    answers = {"nat64.certify.test": ["64:ff9b::7f00:1"]}
    target.services.resolve = lambda host, port: answers[host]  # the name's DNS answer (DNS64)

    _certify_someone(target)
    run_worker_burst(target.services)

    for hook_id, host in ((old_id, "64:ff9b::7f00:1"), (by_name.json()["id"], "nat64.certify.test")):
        log = _deliveries(target, key, hook_id)
        assert [(d["status"], d["last_status_code"]) for d in log] == [("failed", None)], log
        assert log[0]["last_error"] == f"not sent: {host} is not a public address (64:ff9b::7f00:1 = 127.0.0.1)"
    assert receiver.requests == []


def test_a_delivery_connects_to_the_address_it_checked(target_factory, tmp_path, monkeypatch):
    """Used to: the check resolved the host, then httpx resolved it again to connect, so a
    name could answer a public address to the check and a private one to the connection
    (DNS rebinding). Now: one lookup per delivery, and the POST goes to the address it
    returned, with the real name in `Host` and, over https, in TLS (the certificate is
    verified for the name)."""
    target = target_factory(webhook_private_addresses=True, webhook_retry_intervals_s=())  # the receivers are local
    cert, private_key = self_signed_certificate("tls.certify.test", tmp_path)
    monkeypatch.setenv("SSL_CERT_FILE", str(cert))  # the worker's HTTPS client trusts only this certificate
    plain, tls = Receiver({}), Receiver({}, tls=(cert, private_key))
    try:
        key = api_key(target.services, regions=["110000"], scopes=["webhooks:manage"])
        hooks = {}
        for name, receiver, scheme in (("plain.certify.test", plain, "http"), ("tls.certify.test", tls, "https")):
            made = target.http.post("/v1/webhooks", headers=key, json={
                "url": f"{scheme}://{name}:{receiver.port}/in", "region": "110000", "events": ["certified"]})
            assert made.status_code == 201, made.text
            hooks[name] = made.json()["id"]
        lookups: list[tuple[str, int]] = []

        def rebinding(host: str, port: int) -> list[str]:
            """The first answer is the receiver; any later one points elsewhere."""
            lookups.append((host, port))
            return ["127.0.0.1"] if lookups.count((host, port)) == 1 else ["127.0.0.2"]

        target.services.resolve = rebinding
        _certify_someone(target)
        run_worker_burst(target.services)

        for name, receiver in (("plain.certify.test", plain), ("tls.certify.test", tls)):
            log = _deliveries(target, key, hooks[name])
            assert [(d["status"], d["last_status_code"], d["last_error"]) for d in log] == [
                ("delivered", 200, None)], log
            assert [r["headers"]["Host"] for r in receiver.requests] == [f"{name}:{receiver.port}"]
        assert sorted(lookups) == sorted([("plain.certify.test", plain.port), ("tls.certify.test", tls.port)])
    finally:
        plain.close()
        tls.close()
