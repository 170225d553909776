"""The pages' catalogue speaks both languages completely: every reason code the engine
can produce (plus video_reused), every error code (`ErrorCode`, which every raise site
names), every key a page or script uses."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from certify import ProcessingReason, Reason
from models.certification import AttemptStatus
from models.pensioner import EnrolmentStatus
from models.qualification import Method, RecordStatus, Scheme
from models.reviews import ReviewKind
from service.error_codes import ErrorCode
from service.holds import HOLD_DECISIONS
from service.references import PHOTO_PROBLEMS
from service.reviews import REVIEW_REASONS
from web.i18n import LANGUAGES, catalogue

ROOT = Path(__file__).resolve().parents[2]

CODE_DIRS = ("service", "api", "workers", "cli", "web")
"""Where errors are raised: every code there is a member of `ErrorCode`."""

_CODE_ARGUMENT = {"error_body": 0, "RowError": 1, "NationalIdError": 0, "CertificateError": 0}
"""Calls that take a code besides the ServiceError family (argument index of the code)."""


def _sources() -> list[tuple[Path, ast.Module]]:
    return [
        (path, ast.parse(path.read_text(encoding="utf-8")))
        for name in CODE_DIRS
        for path in sorted((ROOT / name).rglob("*.py"))
    ]


def _service_error_classes(trees: list[ast.Module]) -> set[str]:
    """ServiceError and every class that derives from it in those directories, by name."""
    names = {"ServiceError"}
    while True:
        found = {
            node.name
            for tree in trees
            for node in ast.walk(tree)
            if isinstance(node, ast.ClassDef)
            and any((b.id if isinstance(b, ast.Name) else getattr(b, "attr", "")) in names for b in node.bases)
        }
        if found <= names:
            return names
        names |= found


def _code_arguments() -> list[tuple[str, ast.expr]]:
    """(where, the expression given as the code) for every call that raises or reports a code."""
    sources = _sources()
    takes_code = dict.fromkeys(_service_error_classes([tree for _, tree in sources]), 0) | _CODE_ARGUMENT
    arguments = []
    for path, tree in sources:
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call):
                continue
            func = node.func
            called = func.id if isinstance(func, ast.Name) else getattr(func, "attr", "")
            index = takes_code.get(called)
            if index is not None and len(node.args) > index:
                arguments.append((f"{path.relative_to(ROOT)}:{node.lineno}", node.args[index]))
    return arguments


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


def test_every_error_code_is_translated():
    codes = {code.value for code in ErrorCode}
    assert {"link_used", "upload_incomplete", "upload_deadline_passed", "chunk_conflict"} <= codes
    for lang in LANGUAGES:
        messages = catalogue(lang)
        missing = sorted(c for c in codes if f"error.{c}" not in messages and f"reason.{c}.title" not in messages)
        assert missing == [], (lang, missing)


def test_no_raise_site_passes_a_bare_string_code():
    """A code is an `ErrorCode` member (or an engine reason passed through), never a string
    typed at the raise site, so a new code cannot skip the catalogue above."""
    arguments = _code_arguments()
    assert len(arguments) > 150  # the scan sees the raise sites
    bare = sorted(
        where for where, code in arguments
        if isinstance(code, ast.JoinedStr) or (isinstance(code, ast.Constant) and isinstance(code.value, str))
    )
    assert bare == []


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
