"""One router per resource."""

from __future__ import annotations

from . import agencies, certificates, evidence, exports, records, results, reviews, webhooks

AGENCY_ROUTERS = (results, exports, records, agencies, certificates, evidence, reviews, webhooks)
"""The agency API (issue 5): results feed and exports, records, agencies, ..."""
