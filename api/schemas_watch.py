"""Response shapes of the watch on assisted captures (GET /v1/watch/...)."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from pydantic import BaseModel

__all__ = [
    "WatchFigures", "WatchStaffPublic", "WatchDevicePublic", "WatchAttemptPublic", "WatchReport",
    "WatchStaffReport", "WatchDeviceReport", "WatchAttemptReport",
]


class WatchFigures(BaseModel):
    """What is counted for a staff member and for a device, over the period asked."""

    attempts: int
    passed: int
    pensioners: int
    """Distinct pensioners."""
    per_day: float
    """Assisted attempts per day, on average over the period."""
    busiest_hour: int
    """The most assisted attempts in any 60 minutes."""
    busiest_day: int
    """The most assisted attempts in any 24 hours."""
    second_face_share: float
    """Share of the assisted recordings showing a second face (the helper)."""
    unusual_hour: int
    """Assisted attempts made in the quiet hours."""
    flagged: int
    flags: dict[str, int]
    """How often each watch flag was raised."""
    last_at: dt.datetime | None


class WatchStaffPublic(WatchFigures):
    staff_id: str
    username: str | None
    display_name: str | None
    region_code: str | None
    devices: int


class WatchDevicePublic(WatchFigures):
    device_id: str
    user_agent: str | None
    staff: int
    """Staff accounts that used the device."""
    usual_region: str | None
    """Where most of its pensioners live (division code cut to the compared digits)."""
    far_passes: int
    """Passes sent to review for pensioners living away from the usual region."""


class WatchAttemptPublic(BaseModel):
    attempt_id: uuid.UUID
    pensioner_id: uuid.UUID
    national_id_masked: str
    region_code: str
    home_region: str
    staff_id: str | None
    device_id: str | None
    created_at: dt.datetime
    status: str
    flags: list[str]
    details: dict[str, Any]
    second_face_frames: int
    frames_checked: int


class WatchReport(BaseModel):
    """The period and thresholds a list was computed with."""

    since: dt.datetime
    days: int
    thresholds: dict[str, Any]


class WatchStaffReport(WatchReport):
    staff: list[WatchStaffPublic]


class WatchDeviceReport(WatchReport):
    devices: list[WatchDevicePublic]


class WatchAttemptReport(WatchReport):
    attempts: list[WatchAttemptPublic]
