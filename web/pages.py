"""The page routes: thin handlers that render a template in the chosen language.

Everything a page does after loading goes through the public JSON API (/v1/...), so
the pages get exactly the checks every other client gets. Staff pages only check that a
staff sign-in cookie is present and valid, to send people to the sign-in page early;
the API still checks every request.
"""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from markupsafe import Markup

from api.auth import read_staff_cookie
from service.links import CONSENT_VERSION

from .assets import asset_url
from .i18n import (
    DEFAULT_LANGUAGE,
    LANG_COOKIE,
    LANG_COOKIE_MAX_AGE_S,
    LANGUAGES,
    catalogue,
    pick_language,
    translator,
)

__all__ = [
    "index",
    "json_script",
    "messages",
    "pensioner",
    "render",
    "result",
    "router",
    "staff_approvals",
    "staff_assist",
    "staff_case",
    "staff_cases",
    "staff_home",
    "staff_login",
    "staff_photo",
    "templates",
]

_TEMPLATES = Path(__file__).resolve().parent / "templates"
templates = Jinja2Templates(directory=str(_TEMPLATES))
templates.env.globals["asset"] = asset_url


def json_script(value: Any) -> Markup:
    """JSON for a <script type="application/json"> block: readable UTF-8 (not \\u escapes,
    which would triple the Chinese catalogue), with <, > and & escaped so no text can
    close the script element."""
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    return Markup(text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026"))


templates.env.filters["json_script"] = json_script

router = APIRouter(include_in_schema=False)


def _config(request: Request) -> dict[str, Any]:
    settings = request.app.state.services.settings
    return {
        "help_phone": settings.help_phone,
        "with_digits": settings.challenge_with_digits,
        "consent_version": CONSENT_VERSION,
        "min_video_s": settings.min_video_s,
        "max_video_s": settings.max_video_s,
    }


def render(
    request: Request,
    template: str,
    *,
    script: str,
    body_class: str = "",
    data: dict[str, Any] | None = None,
) -> HTMLResponse:
    lang = pick_language(request)
    other = next(code for code in LANGUAGES if code != lang)
    page_data = {
        "lang": lang,
        "catalogue": catalogue(lang),
        "config": _config(request),
        **(data or {}),
    }
    response = templates.TemplateResponse(
        request,
        template,
        {
            "lang": lang,
            "other_lang": other,
            "t": translator(lang),
            "page_data": page_data,
            "script": script,
            "body_class": body_class,
            **(data or {}),
        },
    )
    if request.query_params.get("lang") in LANGUAGES:
        response.set_cookie(
            LANG_COOKIE, lang, max_age=LANG_COOKIE_MAX_AGE_S, samesite="lax", httponly=False
        )
    return response


def _signed_in(request: Request) -> bool:
    """A live staff sign-in (the same check the API makes: an ended one does not count)."""
    services = request.app.state.services
    with services.sessions() as db:
        return read_staff_cookie(request, services, db) is not None


def _staff_page(
    request: Request, template: str, *, script: str, data: dict[str, Any] | None = None
) -> Response:
    if not _signed_in(request):
        return RedirectResponse(f"/staff/login?next={quote(request.url.path)}", status_code=303)
    return render(request, template, script=script, body_class="staff", data=data)


@router.get("/", response_class=HTMLResponse)
def index(request: Request) -> Response:
    return render(request, "index.html", script="index")


@router.get("/l", response_class=HTMLResponse)
@router.get("/l/", response_class=HTMLResponse)
@router.get("/l/{token}", response_class=HTMLResponse)
def pensioner(request: Request, token: str | None = None) -> Response:
    """The pensioner's page. Links carry the token after '#' (never sent to the server,
    so it stays out of access logs); /l/<token> works as well."""
    return render(request, "pensioner.html", script="pensioner", body_class="pensioner")


@router.get("/r/{attempt_id}", response_class=HTMLResponse)
def result(request: Request, attempt_id: uuid.UUID) -> Response:
    """A result that can be reloaded: polls the attempt until it is decided."""
    return render(
        request, "result.html", script="result", body_class="pensioner",
        data={"attempt_id": str(attempt_id)},
    )


@router.get("/i18n/{lang}.json")
def messages(lang: str) -> Response:
    if lang not in LANGUAGES:
        lang = DEFAULT_LANGUAGE
    return JSONResponse(
        dict(catalogue(lang)), headers={"Cache-Control": "public, max-age=3600"}
    )


@router.get("/staff")
def staff_home() -> Response:
    return RedirectResponse("/staff/cases", status_code=303)


@router.get("/staff/login", response_class=HTMLResponse)
def staff_login(request: Request) -> Response:
    return render(request, "staff_login.html", script="staff-login", body_class="staff")


@router.get("/staff/cases", response_class=HTMLResponse)
def staff_cases(request: Request) -> Response:
    return _staff_page(request, "staff_cases.html", script="staff-cases")


@router.get("/staff/cases/{pensioner_id}", response_class=HTMLResponse)
def staff_case(request: Request, pensioner_id: uuid.UUID) -> Response:
    return _staff_page(
        request, "staff_case.html", script="staff-case", data={"pensioner_id": str(pensioner_id)}
    )


@router.get("/staff/cases/{pensioner_id}/assist", response_class=HTMLResponse)
def staff_assist(request: Request, pensioner_id: uuid.UUID) -> Response:
    return _staff_page(
        request, "staff_assist.html", script="staff-assist", data={"pensioner_id": str(pensioner_id)}
    )


@router.get("/staff/cases/{pensioner_id}/photo", response_class=HTMLResponse)
def staff_photo(request: Request, pensioner_id: uuid.UUID) -> Response:
    return _staff_page(
        request, "staff_photo.html", script="staff-photo", data={"pensioner_id": str(pensioner_id)}
    )


@router.get("/staff/approvals", response_class=HTMLResponse)
def staff_approvals(request: Request) -> Response:
    return _staff_page(request, "staff_approvals.html", script="staff-approvals")
