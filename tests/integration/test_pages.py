"""The pages are served by the same app: right language, strict headers, staff pages
behind the sign-in, versioned static files; the JSON API is left exactly as it was."""

from __future__ import annotations

import re

import pytest

from service.accounts import create_staff


@pytest.fixture
def services(services_factory):
    """The pages do not touch the database much: SQLite is enough here."""
    return services_factory("sqlite")


PAGES = ["/", "/l", "/l/", "/l/sometoken", "/r/00000000-0000-4000-8000-000000000000", "/staff/login"]
STAFF_PAGES = ["/staff/cases", "/staff/cases/00000000-0000-4000-8000-000000000000",
               "/staff/cases/00000000-0000-4000-8000-000000000000/assist",
               "/staff/cases/00000000-0000-4000-8000-000000000000/photo", "/staff/approvals"]


@pytest.mark.parametrize("path", PAGES)
def test_public_pages_are_chinese_by_default_with_strict_headers(client, path):
    response = client.get(path)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert '<html lang="zh-CN">' in response.text
    assert "养老金领取资格认证" in response.text
    csp = response.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp and "unsafe" not in csp
    assert response.headers["x-frame-options"] == "DENY"
    assert response.headers["referrer-policy"] == "no-referrer"
    assert "camera=(self)" in response.headers["permissions-policy"]
    assert response.headers["cache-control"] == "no-store"
    assert "<script>" not in response.text  # no inline script (the CSP would refuse it)


def test_english_is_a_choice_that_is_remembered(client):
    response = client.get("/l?lang=en")
    assert '<html lang="en">' in response.text and "I agree, start" in response.text
    assert response.cookies.get("certify_lang") == "en"
    assert '<html lang="en">' in client.get("/").text  # the cookie carries the choice
    assert '<html lang="zh-CN">' in client.get("/?lang=zh-CN").text
    assert client.get("/i18n/en.json").json()["result.passed.title"] == "Certified"


@pytest.mark.parametrize("path", STAFF_PAGES)
def test_staff_pages_send_strangers_to_the_sign_in(client, path):
    response = client.get(path, follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"].startswith("/staff/login?next=")


def test_staff_pages_open_after_sign_in(client, services):
    with services.sessions() as db:
        create_staff(db, username="wang.staff", password="correct horse battery", display_name="王社工",
                     role="staff", region_code="110105", now=services.clock())
        db.commit()
    assert client.post("/v1/auth/login", json={"username": "wang.staff", "password": "correct horse battery"}).status_code == 200
    for path in STAFF_PAGES:
        assert client.get(path, follow_redirects=False).status_code == 200, path


def test_static_files_are_versioned_and_cacheable(client):
    page = client.get("/").text
    css = re.search(r'href="(/static/css/app\.css\?v=[0-9a-f]+)"', page).group(1)
    response = client.get(css, headers={"Accept-Encoding": "gzip"})
    assert response.status_code == 200
    assert "immutable" in response.headers["cache-control"]
    assert response.headers.get("content-encoding") == "gzip"
    script = re.search(r'src="(/static/js/pages/index\.js\?v=[0-9a-f]+)"', page).group(1)
    assert client.get(script).headers["content-type"].startswith(("text/javascript", "application/javascript"))


def test_the_api_is_untouched_by_the_page_headers(client):
    from api.headers import API_CONTENT_SECURITY_POLICY

    response = client.get("/healthz", headers={"Accept-Encoding": "gzip"})
    # the API's own policy (nothing runs), not the pages'
    assert response.headers["content-security-policy"] == API_CONTENT_SECURITY_POLICY
    assert "content-encoding" not in response.headers and "permissions-policy" not in response.headers
    assert response.json() == {"status": "ok"}
    api = client.get("/v1/attempts/00000000-0000-4000-8000-000000000000")
    assert api.headers["content-security-policy"] == API_CONTENT_SECURITY_POLICY
