"""One router per resource."""

from __future__ import annotations

from . import agencies, records, results

AGENCY_ROUTERS = (results, records, agencies)
"""The agency API (issue 5): results feed and exports, records, agencies, ..."""
