"""One router per resource."""

from __future__ import annotations

from . import (
    agencies,
    certificates,
    enrolments,
    evidence,
    exports,
    life_events,
    records,
    results,
    reviews,
    stats,
    watch,
    webhooks,
)

__all__ = ["AGENCY_ROUTERS"]

AGENCY_ROUTERS = (
    results, exports, records, agencies, certificates, evidence, reviews, webhooks, life_events,
    enrolments,
    watch,
    stats,
)
"""The agency API (issue 5): results feed and exports, records, agencies, ..."""
