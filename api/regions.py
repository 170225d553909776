"""Region filters for agency endpoints: what a principal asked for, within what it may see.

Asking for a region outside one's own is refused with 403 `region_forbidden` (the
request names the region, so there is nothing to hide); single resources outside
one's regions answer 404, as if they did not exist (see api/access.py).
"""

from __future__ import annotations

from collections.abc import Sequence

from service.errors import ForbiddenError, InvalidInputError
from service.rules.regions import is_region_code, region_matches

from .auth import Principal

__all__ = ["allowed_prefixes", "check_region_filter", "prefixes_within"]


def allowed_prefixes(principal: Principal) -> tuple[str, ...] | None:
    """SQL LIKE prefixes of the principal's paying regions; None means every region."""
    return principal.region_prefixes()


def check_region_filter(principal: Principal, region: str | None) -> str | None:
    """The region filter if the principal may ask for it."""
    if region is None:
        return None
    if not is_region_code(region):
        raise InvalidInputError("region_code_invalid", "region must be a six-digit division code")
    if "*" in principal.regions:
        return region
    # the requested region must lie inside one of the principal's regions
    if not any(region_matches(region, own) for own in principal.regions):
        raise ForbiddenError("region_forbidden", "this key or account may not see that region")
    return region


def prefixes_within(regions: Sequence[str]) -> tuple[str, ...] | None:
    """LIKE prefixes for a stored list of regions (a background job's requester)."""
    if "*" in regions:
        return None
    from service.rules.regions import region_prefix

    return tuple(region_prefix(r) for r in regions)
