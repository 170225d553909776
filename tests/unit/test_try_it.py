"""The "try it" block's text (cli.try_it); tests/integration/test_serve_try_it.py runs it
on a real `certify serve`."""

from __future__ import annotations

from cli.try_it import TRY_IT_TITLE, base_url_for, try_it_block
from service.demo import DEMO_ACCOUNTS, DEMO_PASSWORD
from service.settings import Settings


def _settings(**values) -> Settings:
    return Settings(database_url="sqlite://", **values)


def test_the_address_is_the_one_served_on_unless_a_public_one_is_set():
    assert base_url_for(_settings(), host="127.0.0.1", port=8000) == "http://127.0.0.1:8000"
    assert base_url_for(_settings(), host="0.0.0.0", port=8080) == "http://127.0.0.1:8080"
    assert base_url_for(_settings(), host="::1", port=8000) == "http://[::1]:8000"
    public = _settings(public_base_url="https://certify.example.gov.cn/")
    assert base_url_for(public, host="0.0.0.0", port=8000) == "https://certify.example.gov.cn"


def test_the_block_names_every_link_sign_in_and_the_curl_line():
    text = try_it_block(_settings(), base_url="http://127.0.0.1:8000",
                        links=[("王建国", "http://127.0.0.1:8000/l#abc12345")], accounts=DEMO_ACCOUNTS)
    assert TRY_IT_TITLE in text
    assert "  王建国  http://127.0.0.1:8000/l#abc12345" in text.splitlines()
    for account in DEMO_ACCOUNTS:
        assert any(f"http://127.0.0.1:8000{account.page}" in line and f"user {account.username} " in line
                   and DEMO_PASSWORD in line for line in text.splitlines())
    assert 'curl -s -H "Authorization: Bearer dev-operator-token" "http://127.0.0.1:8000/v1/results?region=110000"' in text


def test_a_token_of_ones_own_is_never_printed():
    settings = _settings(api_token="my-own-operator-token-0123456789")
    text = try_it_block(settings, base_url="http://127.0.0.1:8000", links=[], accounts=DEMO_ACCOUNTS)
    assert "my-own-operator-token" not in text and "Bearer $CERTIFY_API_TOKEN" in text
    assert "No demo pensioners" in text
