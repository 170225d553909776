"""Which summary rows a statistics request covers: a period and the caller's regions."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import ColumnElement, and_, false, or_, true

from ..rules.regions import region_prefix

__all__ = ["StatsScope"]


@dataclass(frozen=True)
class StatsScope:
    """A period ("2026" also covers rolling windows that start in 2026) and regions:
    `prefixes` are the caller's (None: every region), `region` the one asked for."""

    period: str
    prefixes: tuple[str, ...] | None
    region: str | None = None

    def where(self, region_column, period_column) -> ColumnElement[bool]:
        """The SQL condition on a summary table's region and period columns."""
        if len(self.period) == 4:
            period = or_(period_column == self.period, period_column.like(self.period + "-%"))
        else:
            period = period_column == self.period
        return and_(period, self.regions(region_column))

    def regions(self, region_column) -> ColumnElement[bool]:
        """The SQL condition on a region code column alone."""
        allowed = true() if self.prefixes is None else (
            or_(*(region_column.like(p + "%") for p in self.prefixes)) if self.prefixes else false()
        )
        asked = true() if self.region is None else region_column.like(region_prefix(self.region) + "%")
        return and_(allowed, asked)

    @property
    def child_digits(self) -> int:
        """How many leading digits name a child of the selected region (2 for provinces
        when no region is selected, 4 for a province's cities, 6 for a city's counties)."""
        if self.region is None:
            if self.prefixes and len(self.prefixes) == 1:
                return min(6, len(self.prefixes[0]) + 2)
            return 2
        return min(6, len(region_prefix(self.region)) + 2)
