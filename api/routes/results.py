"""The agencies' results feed and streamed exports (API keys with results:read / export:read)."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query
from fastapi.responses import StreamingResponse

from models.db import session_scope
from service.exports import MEDIA_TYPES, export_chunks
from service.results import (
    FEED_PAGE_SIZE,
    MAX_FEED_PAGE_SIZE,
    ResultFilters,
    decode_cursor,
    encode_cursor,
    latest_change,
    read_feed,
)

from ..agency_schemas import ResultPage, ResultPublic
from ..auth import Principal
from ..deps import DbDep, ServicesDep
from ..permissions import ExportReaderDep, ResultsReaderDep, allowed_prefixes, check_region_filter

__all__ = [
    "router",
    "PeriodQuery",
    "RegionQuery",
    "StatusQuery",
    "SchemeQuery",
    "feed",
    "export_csv",
    "export_ndjson",
    "LabelLangQuery",
]

router = APIRouter(prefix="/v1/results", tags=["agency: results"])

PeriodQuery = Annotated[str | None, Query(max_length=16, description="2026, or a rolling window's first day")]
RegionQuery = Annotated[str | None, Query(max_length=6, description="province, city or county code")]
StatusQuery = Annotated[
    str | None, Query(description="due, certified, overdue (the suspension list), suspended, restored")
]
SchemeQuery = Annotated[str | None, Query(description="basic_pension, survivors, work_injury")]


def _filters(principal: Principal, period, region, status, scheme) -> ResultFilters:
    return ResultFilters(
        period=period, region=check_region_filter(principal, region), status=status, scheme=scheme
    ).check()


@router.get("", response_model=ResultPage)
def feed(
    db: DbDep,
    principal: ResultsReaderDep,
    period: PeriodQuery = None,
    region: RegionQuery = None,
    status: StatusQuery = None,
    scheme: SchemeQuery = None,
    since: Annotated[str | None, Query(max_length=32, description="next_cursor of the previous page")] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_FEED_PAGE_SIZE)] = FEED_PAGE_SIZE,
) -> ResultPage:
    """Qualification records in the order they last changed, after `since`.

    Every change to a record (certified, failed, review, overdue, suspended, restored)
    moves it to the end of the feed. Change numbers are handed out in commit order, so
    paging with `next_cursor` never skips a row, even while records are being written,
    and a row comes again only when it changed again. Keep the last `next_cursor` and
    ask again later to receive only what changed.
    """
    filters = _filters(principal, period, region, status, scheme)
    rows, last, more = read_feed(
        db, filters=filters, prefixes=allowed_prefixes(principal), after=decode_cursor(since), limit=limit
    )
    return ResultPage(
        results=[ResultPublic(**row) for row in rows], next_cursor=encode_cursor(last), has_more=more
    )


LabelLangQuery = Annotated[
    Literal["zh-CN", "en"], Query(description="the words of the *_label columns (codes keep their own columns)")
]


def _stream(services, principal: Principal, fmt: str, filters: ResultFilters, lang: str) -> StreamingResponse:
    prefixes = allowed_prefixes(principal)
    with session_scope(services.sessions) as db:
        cursor = encode_cursor(latest_change(db))

    def chunks():
        with session_scope(services.sessions) as db:
            yield from export_chunks(db, fmt=fmt, filters=filters, prefixes=prefixes, lang=lang)

    name = "results-" + "-".join(v for v in filters.to_json().values()) if filters.to_json() else "results"
    return StreamingResponse(
        chunks(),
        media_type=MEDIA_TYPES[fmt],
        headers={
            "Content-Disposition": f'attachment; filename="{name}.{fmt}"',
            "X-Certify-Cursor": cursor,
        },
    )


@router.get("/export.csv", response_class=StreamingResponse)
def export_csv(
    services: ServicesDep,
    principal: ExportReaderDep,
    period: PeriodQuery = None,
    region: RegionQuery = None,
    status: StatusQuery = None,
    scheme: SchemeQuery = None,
    lang: LabelLangQuery = "zh-CN",
) -> StreamingResponse:
    """Every matching row as CSV, streamed (constant memory, one consistent snapshot).

    The `X-Certify-Cursor` header is a feed cursor taken before the snapshot: continue
    with `GET /v1/results?since=` from it to receive later changes.
    """
    return _stream(services, principal, "csv", _filters(principal, period, region, status, scheme), lang)


@router.get("/export.ndjson", response_class=StreamingResponse)
def export_ndjson(
    services: ServicesDep,
    principal: ExportReaderDep,
    period: PeriodQuery = None,
    region: RegionQuery = None,
    status: StatusQuery = None,
    scheme: SchemeQuery = None,
    lang: LabelLangQuery = "zh-CN",
) -> StreamingResponse:
    """Every matching row as newline-delimited JSON, streamed (same rows as the feed)."""
    return _stream(services, principal, "ndjson", _filters(principal, period, region, status, scheme), lang)
