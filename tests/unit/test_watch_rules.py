"""The watch's pure rules (service/watch.py): each flag at, below and above its threshold,
the quiet hours across midnight, the sliding-window count, and words for every flag."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import replace

import pytest

from service.settings import Settings
from service.watch import WatchFacts, WatchFlag, WatchRules, busiest_in, watch_flags
from tests.conftest import REPO_ROOT

RULES = WatchRules()
QUIET = WatchFacts(passed=True, staff_last_hour=1, staff_last_day=1, device_last_hour=1, device_last_day=1,
                   device_pensioners=1, staff_attempts=1, home_region="110105", device_usual_region="1101")


def _codes(facts: WatchFacts, rules: WatchRules = RULES) -> list[str]:
    return watch_flags(facts, rules)[0]


def test_the_rules_follow_the_settings():
    settings = Settings(watch_max_per_hour=3, watch_quiet_hours=(23, 5), watch_region_digits=2)
    rules = WatchRules.of(settings)
    assert (rules.max_per_hour, rules.quiet_hours, rules.region_digits) == (3, (23, 5), 2)
    assert WatchRules.of(Settings()) == RULES  # the dataclass defaults are the settings' defaults


def test_a_quiet_history_raises_nothing():
    assert watch_flags(QUIET, RULES) == ([], {})


@pytest.mark.parametrize(("field", "flag"), [
    ("staff_last_hour", WatchFlag.HOURLY_RATE), ("device_last_hour", WatchFlag.HOURLY_RATE),
    ("staff_last_day", WatchFlag.DAILY_RATE), ("device_last_day", WatchFlag.DAILY_RATE),
    ("device_pensioners", WatchFlag.DEVICE_PENSIONERS),
])
def test_counts_flag_only_above_their_threshold(field, flag):
    limit = {"staff_last_hour": RULES.max_per_hour, "device_last_hour": RULES.max_per_hour,
             "staff_last_day": RULES.max_per_day, "device_last_day": RULES.max_per_day,
             "device_pensioners": RULES.device_max_pensioners}[field]
    assert flag.value not in _codes(replace(QUIET, **{field: limit}))
    assert flag.value in _codes(replace(QUIET, **{field: limit + 1}))


def test_second_face_share_needs_enough_attempts_and_this_recording_to_show_one():
    many = replace(QUIET, second_face=True, staff_attempts=5, staff_second_faces=3)
    assert _codes(many) == [WatchFlag.SECOND_FACE_SHARE.value]
    assert _codes(replace(many, staff_second_faces=2)) == []  # 0.4 is not above 0.5
    assert _codes(replace(many, staff_attempts=4, staff_second_faces=4)) == []  # too few to judge
    assert _codes(replace(many, second_face=False)) == []  # this recording shows nobody else


def test_recurring_second_face():
    facts = replace(QUIET, second_face=True, same_face_pensioners=3)
    assert _codes(facts) == [WatchFlag.SECOND_FACE_RECURRING.value]
    assert _codes(replace(facts, same_face_pensioners=2)) == []


def test_far_from_the_devices_region_only_for_passes_and_known_regions():
    far = replace(QUIET, home_region="310104")
    assert _codes(far) == [WatchFlag.FAR_FROM_DEVICE_REGION.value]
    assert _codes(replace(far, passed=False)) == []
    assert _codes(replace(far, device_usual_region=None)) == []
    assert _codes(replace(QUIET, home_region="110108")) == []  # another district of the same city
    assert _codes(replace(QUIET, home_region="110108"), replace(RULES, region_digits=6)) == [
        WatchFlag.FAR_FROM_DEVICE_REGION.value]


@pytest.mark.parametrize(("utc_hour", "quiet"), [(13, False), (14, True), (21, True), (22, False), (2, False)])
def test_quiet_hours_in_beijing_time(utc_hour, quiet):
    """22:00-06:00 in Beijing is 14:00-22:00 UTC."""
    assert RULES.is_quiet_hour(dt.datetime(2026, 3, 2, utc_hour, 0, tzinfo=dt.UTC)) is quiet
    assert (WatchFlag.UNUSUAL_HOUR.value in _codes(replace(QUIET, quiet_hour=quiet))) is quiet


def test_equal_quiet_hours_mean_none():
    rules = replace(RULES, quiet_hours=(0, 0))
    assert not any(rules.is_quiet_hour(dt.datetime(2026, 3, 2, h, 0, tzinfo=dt.UTC)) for h in range(24))
    assert sum(RULES.is_quiet_hour(dt.datetime(2026, 3, 2, h, 0, tzinfo=dt.UTC)) for h in range(24)) == 8


def test_busiest_in_a_sliding_window():
    t0 = dt.datetime(2026, 3, 2, 9, tzinfo=dt.UTC)
    times = [t0 + dt.timedelta(minutes=m) for m in (0, 50, 70, 100, 109, 300)]
    assert busiest_in(times, dt.timedelta(hours=1)) == 4  # 50, 70, 100 and 109: within 59 minutes
    assert busiest_in([t0, t0 + dt.timedelta(minutes=60)], dt.timedelta(hours=1)) == 1  # 60 apart: two hours
    assert busiest_in(times, dt.timedelta(days=1)) == 6
    assert busiest_in([], dt.timedelta(hours=1)) == 0


@pytest.mark.parametrize("lang", ["zh-CN", "en"])
def test_every_flag_has_words(lang):
    messages = json.loads((REPO_ROOT / "web" / "catalogue" / f"{lang}.json").read_text(encoding="utf-8"))
    for flag in WatchFlag:
        assert messages.get(f"reason.{flag.value}.title") and messages.get(f"reason.{flag.value}.advice"), flag


@pytest.mark.parametrize("bad", [{"watch_timezone": "Mars/Olympus_Mons"}, {"watch_quiet_hours": (25, 3)}])
def test_settings_refuse_what_would_stop_the_workers(bad):
    with pytest.raises(ValueError):
        Settings(**bad)
