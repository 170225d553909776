"""Summary tables behind the agency dashboard and the fairness monitor.

They are materialised summaries of `qualification_records`, `attempts` and
`pensioners`, rebuilt set-wise by `service.stats.summaries.refresh_summaries` (the
maintenance pass runs it every `stats_refresh_interval_s`; `certify stats refresh` runs it
now). Pages and `/v1/stats/...` read only these small tables, so a province's figures
cost a few thousand summary rows instead of a million records. Region codes are the
pensioner's paying county; a region filter is a prefix of it.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import BigInteger, Date, Float, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base

__all__ = ["StatsRecordCount", "StatsAttemptCount", "StatsReasonCount", "StatsRefresh"]

_ID = BigInteger().with_variant(Integer, "sqlite")


class StatsRecordCount(Base):
    """Qualification records by county, period, scheme and status; certified and
    restored ones also by method and the Monday of the week they were certified."""

    __tablename__ = "stats_record_counts"
    __table_args__ = (Index("ix_stats_record_counts_period_region", "period", "region_code"),)

    id: Mapped[int] = mapped_column(_ID, primary_key=True, autoincrement=True)
    region_code: Mapped[str] = mapped_column(String(6))
    period: Mapped[str] = mapped_column(String(16))
    scheme: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(16))
    method: Mapped[str] = mapped_column(String(16), default="")
    """'' for records not (yet) certified."""
    week: Mapped[dt.date | None] = mapped_column(Date)
    """Monday of the week of `certified_at` (None when not certified)."""
    n: Mapped[int] = mapped_column(Integer)


class StatsAttemptCount(Base):
    """Decided attempts (passed, failed, review) by county, period and one fairness
    dimension at a time (`all`, `age_band`, `sex`, `channel`, `device`, `reference_class`),
    with the thresholds version that decided them, the try number within the period
    (1 for the pensioner's first decided attempt of the period) and whether the pensioner passed in that period at all."""

    __tablename__ = "stats_attempt_counts"
    __table_args__ = (Index("ix_stats_attempt_counts_period_region", "period", "region_code"),)

    id: Mapped[int] = mapped_column(_ID, primary_key=True, autoincrement=True)
    region_code: Mapped[str] = mapped_column(String(6))
    period: Mapped[str] = mapped_column(String(16))
    dimension: Mapped[str] = mapped_column(String(16))
    band: Mapped[str] = mapped_column(String(32))
    thresholds_version: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(16))
    try_no: Mapped[int] = mapped_column(Integer)
    passed_in_period: Mapped[int] = mapped_column(Integer)
    n: Mapped[int] = mapped_column(Integer)


class StatsReasonCount(Base):
    """Reason codes of failed and review attempts, by county, period and dimension band;
    `false_reject` 1 for a failed attempt of a pensioner who passed later in the period."""

    __tablename__ = "stats_reason_counts"
    __table_args__ = (Index("ix_stats_reason_counts_period_region", "period", "region_code"),)

    id: Mapped[int] = mapped_column(_ID, primary_key=True, autoincrement=True)
    region_code: Mapped[str] = mapped_column(String(6))
    period: Mapped[str] = mapped_column(String(16))
    dimension: Mapped[str] = mapped_column(String(16))
    band: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str] = mapped_column(String(64))
    false_reject: Mapped[int] = mapped_column(Integer)
    n: Mapped[int] = mapped_column(Integer)


class StatsRefresh(Base):
    """When the summaries were last rebuilt, and how long it took (one row)."""

    __tablename__ = "stats_refreshes"

    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    refreshed_at: Mapped[dt.datetime]
    seconds: Mapped[float] = mapped_column(Float)
