"""Streaming export of 1,000,000 results: rows/s, seconds, and the server's memory.

Fills a fresh database with N pensioners and their qualification records (one SQL
statement each), starts the real API (`uvicorn`, one process) on a free local port, and
downloads `GET /v1/results/export.csv?region=440000` (a whole province) over HTTP,
counting rows as they arrive. The server's resident memory is sampled while it streams
(/proc/<pid>/status): constant memory means the growth stays flat from the first
100,000 rows to the last. Target: 1,000,000 rows in <= 30 s.

    PYTHONPATH=. python bench/export.py [--rows 1000000] [--database postgres|sqlite]
                                        [--format csv|ndjson]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

from sqlalchemy import create_engine, text

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.harness import api_server, bench_database  # noqa: E402
from models.migrate import upgrade  # noqa: E402

TARGET_S = 30.0
SAMPLE_EVERY_ROWS = 100_000
"""How often the server's memory is sampled during the download."""
PROVINCE = "440000"

_PG_FILL = (
    """INSERT INTO pensioners (id, name, national_id_hash, national_id_encrypted, national_id_masked,
        birth_date, sex, region_code, external_ref, created_at, updated_at)
       SELECT md5('p' || i)::uuid, '测试 ' || i, md5('h' || i), '\\x00'::bytea,
        '440' || repeat('*', 11) || lpad((i % 10000)::text, 4, '0'), DATE '1950-01-01', 'F',
        '4403' || lpad((i % 20)::text, 2, '0'), 'SZ-' || i, now(), now()
       FROM generate_series(1, :n) AS i""",
    """INSERT INTO qualification_records (id, pensioner_id, scheme, period, period_start, due_by,
        status, certified_at, valid_until, method, decision, reasons, change_seq, created_at, updated_at)
       SELECT md5('r' || i)::uuid, md5('p' || i)::uuid, 'basic_pension', '2026', DATE '2026-01-01',
        DATE '2026-12-31', CASE WHEN i % 4 = 0 THEN 'due' ELSE 'certified' END,
        CASE WHEN i % 4 = 0 THEN NULL ELSE now() END,
        CASE WHEN i % 4 = 0 THEN NULL ELSE DATE '2027-03-01' END,
        CASE WHEN i % 4 = 0 THEN NULL ELSE 'self' END,
        CASE WHEN i % 4 = 0 THEN 'failed' ELSE 'passed' END,
        CASE WHEN i % 4 = 0 THEN '["too_dark","no_blink"]'::jsonb ELSE '[]'::jsonb END,
        i, now(), now()
       FROM generate_series(1, :n) AS i""",
    "UPDATE feed_counters SET value = :n WHERE name = 'records'",
)

_SQLITE_FILL = (
    """INSERT INTO pensioners (id, name, national_id_hash, national_id_encrypted, national_id_masked,
        birth_date, sex, region_code, external_ref, created_at, updated_at)
       WITH RECURSIVE seq(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM seq WHERE i < :n)
       SELECT printf('%08x%024x', 1, i), '测试 ' || i, printf('%064x', i), x'00',
        '440***********' || printf('%04d', i % 10000), '1950-01-01', 'F',
        '4403' || printf('%02d', i % 20), 'SZ-' || i,
        '2026-03-01 08:00:00.000000', '2026-03-01 08:00:00.000000' FROM seq""",
    """INSERT INTO qualification_records (id, pensioner_id, scheme, period, period_start, due_by,
        status, certified_at, valid_until, method, decision, reasons, change_seq, created_at, updated_at)
       WITH RECURSIVE seq(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM seq WHERE i < :n)
       SELECT printf('%08x%024x', 2, i), printf('%08x%024x', 1, i), 'basic_pension', '2026',
        '2026-01-01', '2026-12-31', CASE WHEN i % 4 = 0 THEN 'due' ELSE 'certified' END,
        CASE WHEN i % 4 = 0 THEN NULL ELSE '2026-03-01 09:00:00.000000' END,
        CASE WHEN i % 4 = 0 THEN NULL ELSE '2027-03-01' END,
        CASE WHEN i % 4 = 0 THEN NULL ELSE 'self' END,
        CASE WHEN i % 4 = 0 THEN 'failed' ELSE 'passed' END,
        CASE WHEN i % 4 = 0 THEN '["too_dark","no_blink"]' ELSE '[]' END,
        i, '2026-03-01 08:00:00.000000', '2026-03-01 09:00:00.000000' FROM seq""",
    "UPDATE feed_counters SET value = :n WHERE name = 'records'",
)


def _memory_kib(pid: int) -> dict[str, int]:
    values = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        name, _, rest = line.partition(":")
        if name in ("VmRSS", "VmHWM"):
            values[name] = int(rest.split()[0])
    return values


def _fill(url: str, rows: int, statements: tuple[str, ...],
          analyse: tuple[str, ...] = ("pensioners", "qualification_records")) -> float:
    """Run the fill statements (with :n = rows), then VACUUM ANALYZE the tables on
    PostgreSQL; returns the seconds taken."""
    started = time.perf_counter()
    engine = create_engine(url)
    with engine.begin() as conn:
        for statement in statements:
            conn.execute(text(statement), {"n": rows})
    if url.startswith("postgresql"):
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            for table in analyse:
                conn.execute(text(f"VACUUM ANALYZE {table}"))
    engine.dispose()
    return time.perf_counter() - started


def run(rows: int, database: str, fmt: str) -> int:
    workdir = Path(tempfile.mkdtemp(prefix="certify-bench-export-"))
    with bench_database(database, workdir) as url:
        upgrade(url)
        fill_s = _fill(url, rows, _PG_FILL if database == "postgres" else _SQLITE_FILL)
        print(f"database: {database}, {rows:,} records filled in {fill_s:.1f} s")
        with api_server(url, workdir) as (server, client):
            client.get("/v1/results", params={"limit": 10})  # warm up: imports, pools
            baseline = _memory_kib(server.pid)["VmRSS"]
            growth_samples = []
            received = 0
            started = time.perf_counter()
            path = f"/v1/results/export.{fmt}"
            with client.stream("GET", path, params={"region": PROVINCE}) as response:
                response.raise_for_status()
                next_sample = SAMPLE_EVERY_ROWS
                for chunk in response.iter_bytes():
                    received += chunk.count(b"\n")
                    if received >= next_sample:
                        growth_samples.append(_memory_kib(server.pid)["VmRSS"] - baseline)
                        next_sample += SAMPLE_EVERY_ROWS
            seconds = time.perf_counter() - started
            memory = _memory_kib(server.pid)
        data_rows = received - (1 if fmt == "csv" else 0)
        assert data_rows == rows, f"expected {rows} rows, received {data_rows}"
        print(f"format: {fmt}, region {PROVINCE} (whole province), over HTTP from one uvicorn process")
        print(f"rows: {data_rows:,}  seconds: {seconds:.2f}  rows/s: {data_rows / seconds:,.0f}  "
              f"target <= {TARGET_S:.0f} s: {'met' if seconds <= TARGET_S else 'NOT met'}")
        print(f"server memory: baseline RSS {baseline / 1024:.1f} MiB, peak RSS (VmHWM) "
              f"{memory['VmHWM'] / 1024:.1f} MiB")
        if growth_samples:
            print("RSS growth over baseline every 100k rows (MiB): "
                  + " ".join(f"{g / 1024:.1f}" for g in growth_samples))
        return 0 if seconds <= TARGET_S else 1


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--database", choices=("postgres", "sqlite"), default="postgres")
    parser.add_argument("--format", choices=("csv", "ndjson"), default="csv")
    args = parser.parse_args()
    raise SystemExit(run(args.rows, args.database, args.format))


if __name__ == "__main__":
    main()
