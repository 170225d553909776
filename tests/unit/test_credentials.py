"""One parsing of a request's credentials, shared by the rate limiter and the routes."""

from __future__ import annotations

import pytest

from api.credentials import DuplicateCredentialError, parse_credentials


def _h(*pairs: tuple[str, str]) -> list[tuple[bytes, bytes]]:
    return [(k.lower().encode(), v.encode("latin-1")) for k, v in pairs]


def test_reads_each_credential():
    c = parse_credentials(_h(("Authorization", "Bearer ck_a_b"), ("X-Session-Nonce", "n1"),
                             ("X-Link-Pass", "p1"), ("Cookie", "a=1; certify_session=s1; b=2")))
    assert (c.bearer, c.session_nonce, c.link_pass, c.staff_cookie) == ("ck_a_b", "n1", "p1", "s1")
    assert c.staff_side


def test_other_schemes_and_empty_values_are_no_credential():
    c = parse_credentials(_h(("Authorization", "Basic dXNlcjpwdw=="), ("X-Session-Nonce", "")))
    assert c.bearer is None and c.session_nonce is None and not c.staff_side
    assert parse_credentials(_h(("Authorization", "Bearer "))).bearer is None


@pytest.mark.parametrize("pairs", [
    (("X-Session-Nonce", "real"), ("X-Session-Nonce", "")),
    (("authorization", "Bearer a"), ("Authorization", "Bearer b")),
    (("X-Link-Pass", "p"), ("x-link-pass", "p")),
    (("Cookie", "certify_session=a"), ("Cookie", "certify_session=b")),
    (("Cookie", "certify_session=a; certify_session=b"),),
])
def test_a_credential_sent_twice_is_refused(pairs):
    with pytest.raises(DuplicateCredentialError) as raised:
        parse_credentials(_h(*pairs))
    assert raised.value.code == "credential_duplicated" and raised.value.status == 400


def test_two_cookie_headers_with_one_session_are_fine():
    c = parse_credentials(_h(("Cookie", "lang=zh-CN"), ("Cookie", "certify_session=s")))
    assert c.staff_cookie == "s"
