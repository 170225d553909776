"""Agency statistics at province scale: dashboard and fairness request latency.

Fills a fresh database with N pensioners of Guangdong (20 cities x 7 counties, ages 55
to 94, both sexes), one qualification record each (certified by every method, due,
overdue, suspended, restored) and 1-3 decided attempts each (failures with reasons, then
passes or reviews; both channels, every device family and reference class, two
thresholds versions), open and decided reviews. Then rebuilds the summary tables once
(`refresh_s`, what the maintenance pass costs every CERTIFY_STATS_REFRESH_INTERVAL_S),
starts the real API (uvicorn, one process) and asks for the dashboard and the fairness
monitor of the province, its cities and counties, over HTTP, timing each request.
Target: p95 <= 500 ms per dashboard request on PostgreSQL.

    PYTHONPATH=. python bench/stats.py [--records 1000000] [--database postgres|sqlite] [--quick]
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.export import _fill  # noqa: E402
from bench.harness import api_server, bench_database  # noqa: E402
from models.db import make_engine, make_session_factory  # noqa: E402
from models.migrate import upgrade  # noqa: E402
from service.stats.dashboard import percentile  # noqa: E402
from service.stats.summaries import refresh_summaries  # noqa: E402

TARGET_MS = 500.0
REQUESTS = 60
"""Requests per endpoint (a quarter of them for the province, the rest for cities and counties)."""

# Per pensioner i: tries k(i) = 1, 2 or 3; every try but the last failed; the last passed,
# except i % 13 == 0 (failed), i % 17 == 0 (review) and, for the oldest, i % 5 < 2 (failed).
_TRIES = "CASE WHEN i % 10 < 6 THEN 1 WHEN i % 10 < 9 THEN 2 ELSE 3 END"
_OLD = "(i % 40) < 6"  # born 1932-1937: 89-94 in 2026, see the birth dates below
_LAST_STATUS = (f"CASE WHEN i % 13 = 0 OR ({_OLD} AND i % 5 < 2) THEN 'failed' WHEN i % 17 = 0 THEN 'review' "
                "ELSE 'passed' END")
_STATUS = f"CASE WHEN t < {_TRIES} THEN 'failed' ELSE {_LAST_STATUS} END"
_REASONS = ("CASE (i + t) % 5 WHEN 0 THEN '[\"too_dark\"]' WHEN 1 THEN '[\"challenge_not_followed\"]' "
            "WHEN 2 THEN '[\"face_mismatch\"]' WHEN 3 THEN '[\"too_dark\", \"blurry\"]' ELSE '[\"not_frontal\"]' END")
_DEVICE = "CASE i % 4 WHEN 0 THEN 'android' WHEN 1 THEN 'ios' WHEN 2 THEN 'harmonyos' ELSE 'android' END"
_REFCLASS = "CASE i % 4 WHEN 0 THEN 'id_card' WHEN 1 THEN 'card' WHEN 2 THEN 'full' ELSE 'fresh' END"
_RECORD_STATUS = (f"CASE WHEN ({_LAST_STATUS}) = 'passed' THEN (CASE WHEN i % 23 = 0 THEN 'restored' ELSE 'certified' END) "
                  "WHEN i % 3 = 0 THEN 'overdue' WHEN i % 3 = 1 THEN 'suspended' ELSE 'due' END")
_METHOD = (f"CASE WHEN ({_LAST_STATUS}) = 'passed' THEN (CASE i % 11 WHEN 0 THEN 'data_match' WHEN 1 THEN 'in_person' "
           "WHEN 2 THEN 'assisted' ELSE 'self' END) END")
_CHALLENGE = "'{\"actions\": [\"blink\"]}'"
_REGION = "'44' || {pad2}((i % 20) + 1) || {pad2}((i % 7) + 1)"

_PG = {
    "pad2": lambda x: f"lpad(({x})::text, 2, '0')",
    "seq": "generate_series(1, :n) AS i",
    "tries": "generate_series(1, :n) AS i CROSS JOIN generate_series(1, 3) AS t",
    "uuid": lambda tag, x: f"md5('{tag}' || ({x}))::uuid",
    "day": lambda x: f"(TIMESTAMPTZ '2026-01-05 09:00+00' + (({x}) || ' days')::interval)",
    "date": lambda x: f"(DATE '1926-06-01' + (({x}) * 365))",
    "json": lambda x: f"({x})::jsonb",
    "bytes": "'\\x00'::bytea",
}
_SQLITE = {
    "pad2": lambda x: f"printf('%02d', {x})",
    "seq": "(WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < :n) SELECT i FROM s)",
    "tries": "(WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < :n) SELECT i FROM s) "
             "CROSS JOIN (SELECT 1 AS t UNION ALL SELECT 2 UNION ALL SELECT 3)",
    "uuid": lambda tag, x: f"printf('%08x%024x', {tag}, {x})",
    "day": lambda x: f"strftime('%Y-%m-%d %H:%M:%f000', '2026-01-05 09:00:00', '+' || ({x}) || ' days')",
    "date": lambda x: f"date('1926-06-01', '+' || (({x}) * 365) || ' days')",
    "json": lambda x: x,
    "bytes": "x'00'",
}


def _statements(d: dict) -> tuple[str, ...]:
    def uid(tag: str, x: str) -> str:  # PG tags are text, SQLite's numbers
        return d["uuid"]({"p": "1", "s": "2", "a": "3", "r": "4", "v": "5"}[tag] if d is _SQLITE else tag, x)

    region = _REGION.format(pad2="{pad2}").replace("{pad2}((i % 20) + 1)", d["pad2"]("(i % 20) + 1")).replace(
        "{pad2}((i % 7) + 1)", d["pad2"]("(i % 7) + 1"))
    attempt_day = "((i * 7 + t * 9) % 300)"
    return (
        f"""INSERT INTO pensioners (id, name, national_id_hash, national_id_encrypted, national_id_masked, birth_date,
              sex, region_code, enrolment_status, created_at, updated_at)
            SELECT {uid('p', 'i')}, '测试 ' || i, {uid('p', 'i')}, {d['bytes']}, '440***********0000',
              {d['date']("(i % 40) + 6")}, CASE WHEN i % 2 = 0 THEN 'F' ELSE 'M' END,
              {region}, 'active', {d['day']('0')}, {d['day']('0')}
            FROM {d['seq']}""",
        f"""INSERT INTO certification_sessions (id, pensioner_id, nonce, challenge, channel, created_at, expires_at,
              device_family)
            SELECT {uid('s', 'i * 4 + t')}, {uid('p', 'i')}, 'n' || i || '-' || t,
              {d['json'](_CHALLENGE)}, CASE WHEN i % 9 = 0 THEN 'assisted' ELSE 'self' END,
              {d['day'](attempt_day)}, {d['day'](attempt_day)}, {_DEVICE}
            FROM {d['tries']} WHERE t <= {_TRIES}""",
        f"""INSERT INTO attempts (id, session_id, pensioner_id, period, status, channel, uploaded_late, video_sha256,
              video_bytes, video_content_type, reasons, key_frame_keys, thresholds_version, processing_runs,
              created_at, finished_at, device_family, reference_class)
            SELECT {uid('a', 'i * 4 + t')}, {uid('s', 'i * 4 + t')}, {uid('p', 'i')}, '2026', {_STATUS},
              CASE WHEN i % 9 = 0 THEN 'assisted' ELSE 'self' END, false, 'x', 1000, 'video/mp4',
              {d['json'](f"CASE WHEN ({_STATUS}) = 'passed' THEN '[]' ELSE {_REASONS} END")},
              {d['json']("'[]'")}, CASE WHEN i % 2 = 0 THEN '2026.11' ELSE '2026.12' END, 1,
              {d['day'](attempt_day)}, {d['day'](attempt_day)}, {_DEVICE}, {_REFCLASS}
            FROM {d['tries']} WHERE t <= {_TRIES}""",
        f"""INSERT INTO qualification_records (id, pensioner_id, scheme, period, period_start, due_by, status,
              certified_at, method, decision, reasons, change_seq, created_at, updated_at)
            SELECT {uid('r', 'i')}, {uid('p', 'i')}, 'basic_pension', '2026', {d['day']('-4')}, {d['day']('360')},
              {_RECORD_STATUS},
              CASE WHEN ({_LAST_STATUS}) = 'passed' THEN {d['day'](f"((i * 7 + {_TRIES} * 9) % 300)")} END,
              {_METHOD}, {_LAST_STATUS}, {d['json']("'[]'")}, i, {d['day']('0')}, {d['day']('0')}
            FROM {d['seq']}""",
        f"""INSERT INTO reviews (id, attempt_id, pensioner_id, region_code, kind, state, opened_at, decided_by,
              decided_at, decision)
            SELECT {uid('v', 'i')}, {uid('a', f'i * 4 + {_TRIES}')}, {uid('p', 'i')}, {region}, 'engine',
              CASE WHEN i % 3 = 0 THEN 'open' ELSE 'decided' END, {d['day']('(i * 7) % 300')},
              CASE WHEN i % 3 = 0 THEN NULL ELSE 'reviewer-' || (i % 6) END,
              CASE WHEN i % 3 = 0 THEN NULL ELSE {d['day']('(i * 7) % 300 + 1')} END,
              CASE WHEN i % 3 = 0 THEN NULL WHEN i % 4 = 0 THEN 'failed' ELSE 'passed' END
            FROM {d['seq']} WHERE ({_LAST_STATUS}) = 'review'""",
        "UPDATE feed_counters SET value = :n WHERE name = 'records'",
    )


def _timed(client, path: str, params: dict) -> float:
    started = time.perf_counter()
    response = client.get(path, params=params)
    elapsed = (time.perf_counter() - started) * 1000
    response.raise_for_status()
    return elapsed


def run(records: int, database: str, requests: int) -> int:
    workdir = Path(tempfile.mkdtemp(prefix="certify-bench-stats-"))
    with bench_database(database, workdir) as url:
        upgrade(url)
        statements = _statements(_PG if database == "postgres" else _SQLITE)
        fill_s = _fill(url, records, statements,
                       analyse=("pensioners", "qualification_records", "attempts", "certification_sessions", "reviews"))
        engine = make_engine(url)
        with make_session_factory(engine)() as db:
            report = refresh_summaries(db, now=dt.datetime.now(dt.UTC))
            db.commit()
            attempts = db.get_bind().connect().exec_driver_sql("SELECT COUNT(*) FROM attempts").scalar()
        engine.dispose()
        print(f"database: {database}, {records:,} records and {attempts:,} attempts filled in {fill_s:.1f} s; "
              f"summaries rebuilt in {report.seconds:.2f} s ({report.record_rows} + {report.attempt_rows} + "
              f"{report.reason_rows} rows)")
        scopes = [{}] + [{"region": f"44{c:02d}00"} for c in range(1, 21)] + [{"region": f"44{c:02d}0{k}"}
                                                                          for c in (1, 5, 9) for k in (1, 3, 7)]
        with api_server(url, workdir) as (_server, client):
            for path in ("/v1/stats/dashboard", "/v1/stats/fairness"):
                _timed(client, path, {})  # warm up: imports, pools
            timings: dict[str, list[float]] = {"dashboard": [], "fairness": []}
            for n in range(requests):
                params = scopes[0] if n % 4 == 0 else scopes[1 + n % (len(scopes) - 1)]
                for name in timings:
                    timings[name].append(_timed(client, f"/v1/stats/{name}", {"period": "2026", **params}))
            check = client.get("/v1/stats/dashboard", params={"period": "2026"}).json()
        total = check["coverage"]["totals"]["total"]
        assert total == records, f"the dashboard counts {total} records, not {records}"
        p95 = {name: percentile(sorted(values), 0.95) or 0.0 for name, values in timings.items()}
        p50 = {name: percentile(sorted(values), 0.5) or 0.0 for name, values in timings.items()}
        print(f"requests: {requests} each (province, cities, counties), p50 dashboard {p50['dashboard']:.0f} ms, "
              f"fairness {p50['fairness']:.0f} ms")
        print(f"stats records={records} dashboard_p95_ms={p95['dashboard']:.0f} fairness_p95_ms={p95['fairness']:.0f} "
              f"refresh_s={report.seconds:.1f} database={database}")
        return 0 if p95["dashboard"] <= TARGET_MS or database != "postgres" else 1


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--database", choices=("postgres", "sqlite"), default="postgres")
    parser.add_argument("--quick", action="store_true", help="2,000 records, 8 requests each (what a test runs)")
    args = parser.parse_args()
    if args.quick:
        raise SystemExit(run(min(args.records, 2000), args.database, 8))
    raise SystemExit(run(args.records, args.database, REQUESTS))


if __name__ == "__main__":
    main()
