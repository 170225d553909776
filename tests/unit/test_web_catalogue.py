"""The pages' catalogue speaks both languages completely: every reason code the engine
can produce (plus video_reused), every error code the pages can meet, every key a page
or script uses."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from certify import ProcessingReason, Reason
from service.references import PHOTO_PROBLEMS
from models.certification import AttemptStatus
from models.pensioner import EnrolmentStatus
from models.qualification import Method, RecordStatus, Scheme
from models.reviews import ReviewKind
from service.holds import HOLD_DECISIONS
from service.reviews import REVIEW_REASONS
from web.i18n import LANGUAGES, catalogue

ROOT = Path(__file__).resolve().parents[2]

_HTTP_AND_HANDLER_CODES = {
    "unauthorized", "forbidden", "not_found", "method_not_allowed", "payload_too_large",
    "unsupported_media_type", "invalid_request", "internal_error", "database_unavailable",
    "upload_too_large", "video_missing", "photo_missing",
}
"""Codes made by api/errors.py and api/uploads.py without a literal *Error("code") call."""

_SHARED_CODES = {"enrolment_on_hold", "enrolment_closed"}
"""Codes raised in service/records.py (check_certifiable) that the pages meet when they
open a session or make a link."""


PAGE_FACING_MODULES = (
    "api/errors.py", "api/uploads.py", "api/auth.py", "api/permissions.py",
    "api/routes/auth.py", "api/routes/attempts.py", "api/routes/pensioners.py",
    "api/routes/sessions.py", "api/routes/links.py", "api/routes/uploads.py",
    "api/routes/cases.py", "api/routes/references.py",
    "service/certification.py", "service/intake.py", "service/uploads.py", "service/links.py",
    "service/caseload.py", "service/reference_review.py", "service/references.py",
    "service/pensioners.py", "service/rules/national_id.py", "service/login_throttle.py",
)
"""Where the errors the pages can meet come from (the agency API's codes are for machines)."""


def _raised_codes() -> set[str]:
    """Every literal code passed as the first argument to a *Error(...) in those modules."""
    codes = set()
    for name in PAGE_FACING_MODULES:
        path = ROOT / name
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Call) or not node.args:
                continue
            func = node.func
            called = func.id if isinstance(func, ast.Name) else getattr(func, "attr", "")
            first = node.args[0]
            if called.endswith("Error") and isinstance(first, ast.Constant) and isinstance(first.value, str):
                if re.fullmatch(r"[a-z][a-z0-9_]+", first.value):
                    codes.add(first.value)
    return codes


def test_both_languages_have_the_same_keys_and_no_empty_text():
    zh, en = (catalogue(lang) for lang in LANGUAGES)
    assert set(zh) == set(en)
    assert all(text.strip() for text in zh.values()) and all(text.strip() for text in en.values())
    # the same placeholders in both languages
    for key in zh:
        assert set(re.findall(r"\{(\w+)\}", zh[key])) == set(re.findall(r"\{(\w+)\}", en[key])), key


def test_every_engine_reason_has_a_title_and_advice():
    codes = {reason.value for reason in Reason} | {r.value for r in ProcessingReason} | set(PHOTO_PROBLEMS) | {"unreadable_image"}
    for lang in LANGUAGES:
        messages = catalogue(lang)
        missing = sorted(c for c in codes if f"reason.{c}.title" not in messages or f"reason.{c}.advice" not in messages)
        assert missing == [], (lang, missing)


def test_every_api_error_code_is_translated():
    codes = _raised_codes() | _HTTP_AND_HANDLER_CODES | _SHARED_CODES
    assert {"link_used", "upload_incomplete", "upload_deadline_passed", "chunk_conflict"} <= codes
    for lang in LANGUAGES:
        messages = catalogue(lang)
        missing = sorted(c for c in codes if f"error.{c}" not in messages and f"reason.{c}.title" not in messages)
        assert missing == [], (lang, missing)


@pytest.mark.parametrize("lang", LANGUAGES)
def test_every_key_the_pages_use_exists(lang):
    messages = catalogue(lang)
    used = set()
    for path in (ROOT / "web" / "templates").rglob("*.html"):
        used |= set(re.findall(r"t\('([a-z0-9_.]+)'", path.read_text(encoding="utf-8")))
        used |= set(re.findall(r'data-i18n(?:-placeholder|-label)?="([a-z0-9_.]+)"', path.read_text(encoding="utf-8")))
    for path in [*(ROOT / "web" / "static" / "js").rglob("*.js"), *(ROOT / "web" / "agency").glob("*.js")]:
        text = path.read_text(encoding="utf-8")
        used |= set(re.findall(r"'([a-z_]+\.[a-z0-9_.]+)'", text))
    sections = {key.split(".")[0] for key in messages}
    used = {k for k in used if k.split(".")[0] in sections}  # not file names, storage keys ...
    dynamic_prefixes = ("reason.", "error.", "state.", "attempt.", "camera.hint.", "reference.")
    missing = sorted(k for k in used if k not in messages and not k.endswith(".") and not k.startswith(dynamic_prefixes))
    assert missing == []
    # keys built at run time from a code: every value they can take is present
    for state in ("overdue", "locked", "failed", "due", "processing", "review", "on_hold", "closed", "certified"):
        assert f"state.{state}" in messages and f"state.help.{state}" in messages
    for hint in ("position", "too_dark", "too_bright", "backlit", "no_face", "multiple_faces",
                 "closer", "farther", "center", "ok", "steady"):
        assert f"camera.hint.{hint}" in messages
    for status in ("queued", "processing", "passed", "failed", "review", "error"):
        assert f"attempt.status.{status}" in messages


@pytest.mark.parametrize("lang", LANGUAGES)
def test_every_code_the_agency_pages_show_has_words(lang):
    """The agency pages build these keys from the codes the API returns (web/agency/agency.js)."""
    messages = catalogue(lang)
    keys = (
        [f"agency.status.{status}" for status in RecordStatus.ALL]
        + [f"agency.method.{method}" for method in Method.ALL]
        + [f"scheme.{scheme}" for scheme in Scheme.ALL]
        + [f"attempt.status.{status}" for status in AttemptStatus.FINAL]
        + [f"agency.kind.{kind}" for kind in (ReviewKind.ENGINE, ReviewKind.APPEAL, ReviewKind.DUPLICATE_ENROLMENT)]
        + [f"agency.review_reason.{code}" for reasons in REVIEW_REASONS.values() for code in reasons]
        + [f"agency.hold.{decision}" for decision in HOLD_DECISIONS]
        + [f"agency.enrolment.{status}" for status in EnrolmentStatus.ALL]
    )
    assert sorted(key for key in keys if key not in messages) == []
