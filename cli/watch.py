"""`certify watch`: the assisted captures under watch (issue 13, section 3), straight on
the database, as the operator sees them: per staff member, per device, and the flags."""

from __future__ import annotations

import datetime as dt
import json
from typing import Annotated, Any

import typer

from .context import fail, services_for_command

__all__ = ["watch", "summary_lines"]


def summary_lines(staff: list[dict[str, Any]], devices: list[dict[str, Any]],
                  flagged: list[dict[str, Any]], days: int) -> list[str]:
    """The human summary: one line per staff member and device, then flags by code."""
    lines = [f"assisted captures, last {days} days: {sum(s['attempts'] for s in staff)} attempts, "
             f"{len(staff)} staff members, {len(devices)} devices, {len(flagged)} flagged"]
    for s in staff:
        lines.append(
            f"staff  {s['username'] or s['staff_id']}: {s['attempts']} attempts ({s['per_day']}/day, "
            f"busiest hour {s['busiest_hour']}, busiest day {s['busiest_day']}), {s['pensioners']} pensioners, "
            f"{s['devices']} devices, second face {s['second_face_share']:.0%}, unusual hours {s['unusual_hour']}, "
            f"flagged {s['flagged']}"
        )
    for d in devices:
        lines.append(
            f"device {d['device_id']}: {d['attempts']} attempts (busiest hour {d['busiest_hour']}, busiest day "
            f"{d['busiest_day']}), {d['pensioners']} pensioners, {d['staff']} staff, usual region "
            f"{d['usual_region'] or '-'}, far passes {d['far_passes']}, flagged {d['flagged']}"
        )
    counts: dict[str, int] = {}
    for attempt in flagged:
        for code in attempt["flags"]:
            counts[code] = counts.get(code, 0) + 1
    for code, n in sorted(counts.items()):
        lines.append(f"flag   {code}: {n}")
    return lines


def watch(
    region: Annotated[str | None, typer.Option(help="Only pensioners paid in this region (province, city or county)")] = None,
    days: Annotated[int | None, typer.Option(min=1, max=366, help="Days back (default CERTIFY_WATCH_WINDOW_DAYS)")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of lines")] = False,
) -> None:
    """Assisted captures under watch: per staff member and device, and the flags raised."""
    from models.db import session_scope
    from service.rules.regions import is_region_code, region_prefix
    from service.watch import WatchRules, device_summary, flagged_attempts, staff_summary

    if region is not None and not is_region_code(region):
        fail("region_code_invalid: region must be a six-digit division code")
    with services_for_command() as services, session_scope(services.sessions) as db:
        rules = WatchRules.of(services.settings)
        days = days or rules.window_days
        since = services.clock() - dt.timedelta(days=days)
        prefixes = (region_prefix(region),) if region else None
        staff = staff_summary(db, prefixes=prefixes, since=since, days=days, rules=rules)
        devices = device_summary(db, prefixes=prefixes, since=since, days=days, rules=rules)
        flagged = flagged_attempts(db, prefixes=prefixes, since=since, limit=100_000)
    if as_json:
        typer.echo(json.dumps({"days": days, "staff": staff, "devices": devices, "flagged": flagged},
                              ensure_ascii=False, default=str))
        return
    for line in summary_lines(staff, devices, flagged, days):
        typer.echo(line)
