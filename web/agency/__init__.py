"""The agency pages: the manual review queue and the results list (issue 5).

Served by their own router (`router`), mounted by the app factory, so the rest of
`web/` stays with the pensioner pages. Simplified Chinese by default, English as a
choice (the 语言 / Language switch, remembered in the browser). The pages are static
HTML + JavaScript that call the same JSON API the agencies use; nothing is rendered
with data on the server.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import FileResponse, RedirectResponse

__all__ = ["router", "PAGES_DIR"]

PAGES_DIR = Path(__file__).resolve().parent
"""Where the page files live (HTML, JavaScript, CSS)."""

router = APIRouter(prefix="/agency", include_in_schema=False)

_ASSETS = {"agency.js": "text/javascript", "agency.css": "text/css"}


@router.get("")
def root() -> RedirectResponse:
    return RedirectResponse("/agency/results")


@router.get("/results")
def results_page() -> FileResponse:
    return FileResponse(PAGES_DIR / "results.html", media_type="text/html")


@router.get("/reviews")
def reviews_page() -> FileResponse:
    return FileResponse(PAGES_DIR / "reviews.html", media_type="text/html")


@router.get("/assets/{name}")
def asset(name: str) -> FileResponse:
    media = _ASSETS.get(name)
    if media is None:
        from service.errors import NotFoundError

        raise NotFoundError("not_found", "no such file")
    return FileResponse(PAGES_DIR / name, media_type=media, headers={"Cache-Control": "no-cache"})
