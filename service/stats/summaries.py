"""Rebuilding the statistics summary tables (models/stats.py) from the rows.

One refresh is a handful of set-wise statements in one transaction: the decided
attempts are numbered once (try within the period, whether the pensioner passed in that
period, age band at the attempt's year) into a temporary table, then counted once per
fairness dimension; the records are counted by county, period, scheme, status, method
and week. Readers see the previous summaries until the refresh commits. The
`stats_refreshes` row is locked for the whole refresh, so two maintainers never
interleave. The statements differ between SQLite and PostgreSQL only in date arithmetic
and in how a JSON array of reason codes is unnested.
"""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass

from sqlalchemy import delete, select, text
from sqlalchemy.orm import Session

from models import StatsAttemptCount, StatsReasonCount, StatsRecordCount, StatsRefresh

__all__ = ["DIMENSIONS", "AGE_BANDS", "REFRESH_NAME", "RefreshReport", "refresh_summaries", "last_refresh"]

AGE_BANDS = ("<60", "60-69", "70-79", "80-89", "90+")
"""Age reached in the attempt's calendar year (a pensioner may retire before 60)."""

DIMENSIONS = {
    "all": "'all'",
    "age_band": "age_band",
    "sex": "sex",
    "channel": "channel",
    "device": "device",
    "reference_class": "reference_class",
}
"""Fairness dimension -> the column of the numbered attempts that holds its band."""

REFRESH_NAME = "summaries"


@dataclass(frozen=True)
class RefreshReport:
    seconds: float
    record_rows: int
    attempt_rows: int
    reason_rows: int


_SQL = {
    "sqlite": {
        "age": "CAST(strftime('%Y', a.created_at) AS INTEGER) - CAST(strftime('%Y', p.birth_date) AS INTEGER)",
        "week": "date(r.certified_at, '-6 days', 'weekday 1')",
        "unnest": "stats_base b, json_each(b.reasons) AS j",
        "array": "1 = 1",
    },
    "postgresql": {
        "age": "CAST(EXTRACT(YEAR FROM a.created_at AT TIME ZONE 'UTC') - EXTRACT(YEAR FROM p.birth_date) AS INTEGER)",
        "week": "CAST(date_trunc('week', r.certified_at AT TIME ZONE 'UTC') AS DATE)",
        "unnest": "stats_base b CROSS JOIN LATERAL jsonb_array_elements_text(b.reasons) AS j(value)",
        "array": "jsonb_typeof(b.reasons) = 'array'",
    },
}

_BASE = """
CREATE TEMPORARY TABLE stats_base AS
SELECT n.*,
  CASE WHEN n.age < 60 THEN '<60' WHEN n.age < 70 THEN '60-69' WHEN n.age < 80 THEN '70-79'
       WHEN n.age < 90 THEN '80-89' ELSE '90+' END AS age_band
FROM (
  SELECT a.period AS period, p.region_code AS region_code, a.status AS status, a.reasons AS reasons,
    COALESCE(a.thresholds_version, 'unknown') AS thv,
    {age} AS age,
    COALESCE(NULLIF(p.sex, ''), 'unknown') AS sex,
    a.channel AS channel,
    COALESCE(a.device_family, 'unknown') AS device,
    COALESCE(a.reference_class, 'unknown') AS reference_class,
    ROW_NUMBER() OVER (PARTITION BY a.pensioner_id, a.period ORDER BY a.created_at, a.id) AS try_no,
    MAX(CASE WHEN a.status = 'passed' THEN 1 ELSE 0 END) OVER (PARTITION BY a.pensioner_id, a.period)
      AS passed_in_period
  FROM attempts a JOIN pensioners p ON p.id = a.pensioner_id
  WHERE a.status IN ('passed', 'failed', 'review')
) n
"""

_ATTEMPTS = """
INSERT INTO stats_attempt_counts
  (region_code, period, dimension, band, thresholds_version, status, try_no, passed_in_period, n)
SELECT region_code, period, '{dimension}', {band}, thv, status, try_no, passed_in_period, COUNT(*)
FROM stats_base
GROUP BY region_code, period, {group}thv, status, try_no, passed_in_period
"""

_REASONS = """
INSERT INTO stats_reason_counts (region_code, period, dimension, band, status, reason, false_reject, n)
SELECT b.region_code, b.period, '{dimension}', {band}, b.status, j.value,
  CASE WHEN b.status = 'failed' AND b.passed_in_period = 1 THEN 1 ELSE 0 END, COUNT(*)
FROM {unnest}
WHERE b.status IN ('failed', 'review') AND {array}
GROUP BY b.region_code, b.period, {group}b.status, j.value,
  CASE WHEN b.status = 'failed' AND b.passed_in_period = 1 THEN 1 ELSE 0 END
"""

_RECORDS = """
INSERT INTO stats_record_counts (region_code, period, scheme, status, method, week, n)
SELECT p.region_code, r.period, r.scheme, r.status,
  CASE WHEN r.status IN ('certified', 'restored') THEN COALESCE(r.method, '') ELSE '' END,
  CASE WHEN r.status IN ('certified', 'restored') AND r.certified_at IS NOT NULL THEN {week} END,
  COUNT(*)
FROM qualification_records r JOIN pensioners p ON p.id = r.pensioner_id
GROUP BY p.region_code, r.period, r.scheme, r.status,
  CASE WHEN r.status IN ('certified', 'restored') THEN COALESCE(r.method, '') ELSE '' END,
  CASE WHEN r.status IN ('certified', 'restored') AND r.certified_at IS NOT NULL THEN {week} END
"""


def _lock(db: Session, now: dt.datetime) -> StatsRefresh:
    row = db.scalar(select(StatsRefresh).where(StatsRefresh.name == REFRESH_NAME).with_for_update())
    if row is None:
        row = StatsRefresh(name=REFRESH_NAME, refreshed_at=now, seconds=0.0)
        db.add(row)
        db.flush()
    return row


def refresh_summaries(db: Session, *, now: dt.datetime) -> RefreshReport:
    """Rebuild every summary table from the rows (the caller commits)."""
    started = time.perf_counter()
    sql = _SQL["postgresql" if db.get_bind().dialect.name == "postgresql" else "sqlite"]
    state = _lock(db, now)
    db.execute(delete(StatsAttemptCount))
    db.execute(delete(StatsReasonCount))
    db.execute(delete(StatsRecordCount))
    db.execute(text("DROP TABLE IF EXISTS stats_base"))
    db.execute(text(_BASE.format(age=sql["age"])))
    for dimension, band in DIMENSIONS.items():
        constant = band.startswith("'")  # PostgreSQL refuses a constant in GROUP BY
        db.execute(text(_ATTEMPTS.format(dimension=dimension, band=band, group="" if constant else f"{band}, ")))
        db.execute(text(_REASONS.format(
            dimension=dimension, band=band if constant else f"b.{band}", group="" if constant else f"b.{band}, ",
            unnest=sql["unnest"], array=sql["array"])))
    db.execute(text("DROP TABLE stats_base"))  # a failed refresh rolls back, the table with it
    db.execute(text(_RECORDS.format(week=sql["week"])))
    counts = [
        db.scalar(select(text("COUNT(*)")).select_from(table))
        for table in (StatsRecordCount.__table__, StatsAttemptCount.__table__, StatsReasonCount.__table__)
    ]
    seconds = time.perf_counter() - started
    state.refreshed_at = now
    state.seconds = seconds
    return RefreshReport(seconds=seconds, record_rows=counts[0] or 0, attempt_rows=counts[1] or 0,
                         reason_rows=counts[2] or 0)


def last_refresh(db: Session) -> StatsRefresh | None:
    """When the summaries were last rebuilt (None: never)."""
    return db.get(StatsRefresh, REFRESH_NAME)
