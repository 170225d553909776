"""The results feed: filters, region limits, cursor paging, and the cursor under
concurrent writers (never a skipped or repeated row), on PostgreSQL and SQLite."""

from __future__ import annotations

import random
import threading
import time

from sqlalchemy import select

from models import QualificationRecord
from service.pensioners import get_pensioner
from service.records import current_window, ensure_records

from .agency_helpers import api_key, decided_attempt, make_pensioner


def test_feed_rows_filters_and_paging(client, services):
    beijing = api_key(services, regions=["110000"], scopes=["results:read"])
    first = make_pensioner(services, region="110105", schemes=("basic_pension", "survivors"), external_ref="BJ-0001")
    second = make_pensioner(services, region="110108")
    make_pensioner(services, region="310104")  # Shanghai: never in Beijing's feed
    attempt = decided_attempt(services, first, status="passed")
    decided_attempt(services, second, status="failed", reasons=["no_blink", "too_dark"])

    page = client.get("/v1/results", headers=beijing).json()
    assert not page["has_more"]
    rows = page["results"]
    assert {r["region_code"] for r in rows} == {"110105", "110108"}
    assert len(rows) == 3  # two schemes of the first, one of the second
    cursors = [int(r["cursor"][1:]) for r in rows]
    assert cursors == sorted(cursors) and page["next_cursor"] == rows[-1]["cursor"]
    certified = [r for r in rows if r["status"] == "certified"]
    assert {r["scheme"] for r in certified} == {"basic_pension", "survivors"}
    for row in certified:
        assert row["external_ref"] == "BJ-0001" and row["method"] == "self" and row["decision"] == "passed"
        assert row["evidence_url"] == f"/v1/attempts/{attempt}/evidence"
        assert row["certificate_id"] and row["valid_until"] and row["national_id_masked"].count("*") == 11
    failed = [r for r in rows if r["decision"] == "failed"][0]
    assert (failed["status"], failed["reasons"]) == ("due", ["no_blink", "too_dark"])

    assert [r["status"] for r in client.get("/v1/results?status=due", headers=beijing).json()["results"]] == ["due"]
    assert len(client.get("/v1/results?scheme=survivors", headers=beijing).json()["results"]) == 1
    assert len(client.get("/v1/results?region=110108", headers=beijing).json()["results"]) == 1

    # paging two at a time gives the same rows, then an empty page that keeps the cursor
    seen, since = [], None
    while True:
        page = client.get("/v1/results", params={"limit": 2, **({"since": since} if since else {})}, headers=beijing).json()
        seen += [r["record_id"] for r in page["results"]]
        since = page["next_cursor"]
        if not page["has_more"]:
            break
    assert seen == [r["record_id"] for r in rows]
    empty = client.get("/v1/results", params={"since": since}, headers=beijing).json()
    assert empty == {"results": [], "next_cursor": since, "has_more": False}

    # a change moves the record to the end: only it comes after the old cursor
    decided_attempt(services, second, status="passed")
    later = client.get("/v1/results", params={"since": since}, headers=beijing).json()["results"]
    assert [(r["pensioner_id"], r["status"]) for r in later] == [(str(second), "certified")]


def test_feed_refuses_other_regions_and_bad_input(client, services):
    beijing = api_key(services, regions=["110000"], scopes=["results:read"])
    no_scope = api_key(services, regions=["110000"], scopes=["export:read"])
    refused = client.get("/v1/results?region=310000", headers=beijing)
    assert (refused.status_code, refused.json()["error"]["code"]) == (403, "region_forbidden")
    assert client.get("/v1/results?region=110000", headers=beijing).status_code == 200
    assert client.get("/v1/results", headers=no_scope).json()["error"]["code"] == "scope_missing"
    assert client.get("/v1/results").status_code == 401
    for params, code in (({"since": "bogus"}, "cursor_invalid"), ({"status": "dead"}, "status_invalid"),
                         ({"region": "99"}, "region_code_invalid"), ({"scheme": "x"}, "scheme_invalid")):
        response = client.get("/v1/results", params=params, headers=beijing)
        assert (response.status_code, response.json()["error"]["code"]) == (422, code), params


def test_cursor_never_skips_or_repeats_under_concurrent_writes(client, services):
    """Writers change and add records while a reader pages through the feed with small
    pages. Each writer takes its change numbers and then holds its transaction open for a
    random moment before committing, so commits interleave in every order. The reader
    must see change numbers strictly increasing, never the same version twice, and at
    the end the latest version of every record."""
    key = api_key(services, regions=["110000"], scopes=["results:read"])
    pensioners = [make_pensioner(services, region="110105") for _ in range(12)]
    errors: list[BaseException] = []

    def writer(seed: int) -> None:
        rng = random.Random(seed)
        try:
            for step in range(25):
                with services.sessions() as db:
                    now = services.clock()
                    if step % 5 == 0:  # a new pensioner's record appears
                        from service.actors import OPERATOR
                        from service.pensioners import create_pensioner

                        from .helpers import new_national_id

                        create_pensioner(db, keyring=services.keyring, enrolled_by=OPERATOR,
                                         secret=services.settings.secret_key.get_secret_value(),
                                         name="新", national_id=new_national_id(), region_code="110105", now=now)
                    else:
                        pensioner = get_pensioner(db, rng.choice(pensioners))
                        for record in ensure_records(db, pensioner=pensioner,
                                                     window=current_window(db, pensioner=pensioner, now=now), now=now):
                            record.decision = rng.choice(["failed", "review"])
                            record.reasons = [f"r{seed}-{step}"]
                            record.updated_at = now
                    db.flush()  # change numbers taken here
                    time.sleep(rng.uniform(0, 0.02))
                    db.commit()
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)

    seen: dict[tuple[str, int], int] = {}
    last_seq, since = 0, None

    def read_page() -> dict:
        nonlocal last_seq, since
        params = {"limit": 3, **({"since": since} if since else {})}
        page = client.get("/v1/results", params=params, headers=key).json()
        for row in page["results"]:
            seq = int(row["cursor"][1:])
            assert seq > last_seq, "change numbers must strictly increase"
            last_seq = seq
            version = (row["record_id"], seq)
            assert version not in seen, "a version was delivered twice"
            seen[version] = 1
        since = page["next_cursor"]
        return page

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    pages_during_writes = 0
    while any(t.is_alive() for t in threads):
        read_page()
        pages_during_writes += 1
    for thread in threads:
        thread.join()
    assert not errors, errors
    while read_page()["has_more"]:
        pass
    assert pages_during_writes >= 3  # the reader really paged while writers were writing

    latest: dict[str, int] = {}
    for record_id, seq in seen:
        latest[record_id] = max(seq, latest.get(record_id, 0))
    with services.sessions() as db:
        truth = {str(r.id): r.change_seq for r in db.scalars(select(QualificationRecord))}
    assert latest == truth  # every record, at its latest change: nothing skipped
