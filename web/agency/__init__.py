"""The agency pages: the dashboard and fairness monitor (issue 14, the default page), the
manual review queue and the results list (issue 5).

Served by their own router (`router`), mounted by the app factory, so the rest of
`web/` stays with the pensioner pages. The pages are rendered like the others
(`web.pages.render`: templates/agency/, in the chosen language, with the catalogue
embedded for the scripts), Simplified Chinese by default, English as a choice (the
语言 / Language switch). Everything after loading goes through the same JSON API the
agencies use; nothing is rendered with data on the server. `agency.js` uses the shared
`api.js` and `i18n.js` of web/static/js.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, RedirectResponse, Response

from models.qualification import RecordStatus, Scheme
from web.pages import render

__all__ = [
    "PAGES_DIR",
    "asset",
    "dashboard_page",
    "fairness_page",
    "results_page",
    "reviews_page",
    "root",
    "router",
    "watch_page",
]

PAGES_DIR = Path(__file__).resolve().parent
"""Where the pages' script and style sheet live (the HTML is in web/templates/agency)."""

router = APIRouter(prefix="/agency", include_in_schema=False)

_ASSETS = {"agency.js": "text/javascript", "agency.css": "text/css"}


@router.get("")
def root() -> RedirectResponse:
    return RedirectResponse("/agency/dashboard")


@router.get("/dashboard")
def dashboard_page(request: Request) -> Response:
    """Coverage, the failure funnel, the review queue and channels (issue 14)."""
    return render(request, "agency/dashboard.html", script="agency")


@router.get("/fairness")
def fairness_page(request: Request) -> Response:
    """Pass and review rates, false rejects and tries by age, sex, channel, device and
    reference class, with flagged bands and thresholds versions (issue 14)."""
    return render(request, "agency/fairness.html", script="agency")


@router.get("/results")
def results_page(request: Request) -> Response:
    return render(
        request, "agency/results.html", script="agency",
        data={"statuses": list(RecordStatus.ALL), "schemes": list(Scheme.ALL)},
    )


@router.get("/reviews")
def reviews_page(request: Request) -> Response:
    return render(request, "agency/reviews.html", script="agency")


@router.get("/watch")
def watch_page(request: Request) -> Response:
    """Assisted captures under watch (issue 13, section 3): per staff member and device."""
    return render(request, "agency/watch.html", script="agency")


@router.get("/assets/{name}")
def asset(name: str) -> FileResponse:
    media = _ASSETS.get(name)
    if media is None:
        from service.error_codes import ErrorCode
        from service.errors import NotFoundError

        raise NotFoundError(ErrorCode.NOT_FOUND, "no such file")
    return FileResponse(PAGES_DIR / name, media_type=media, headers={"Cache-Control": "no-cache"})
