"""Demo data for `certify serve` on embedded defaults (development): demo pensioners
enrolled from the public face data when present, demo sign-ins for the staff and agency
pages, and fresh one-time links for the "try it" block `certify serve` prints.

The demo sign-ins have published passwords, so they exist only in development: outside it
`certify serve` deactivates any it finds (`retire_demo_accounts`)."""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select

from models import StaffUser
from models.accounts import StaffRole
from models.db import session_scope

from .accounts import create_staff, set_staff_active
from .actors import SystemActor
from .audit import record_audit
from .context import Services
from .errors import ServiceError
from .links import create_link
from .pensioners import create_pensioner, find_pensioner_by_national_id
from .references import enrol_photo
from .rules.national_id import compose_national_id

__all__ = [
    "DEMO",
    "DEMO_ACCOUNTS",
    "DEMO_LINK_TTL_S",
    "DEMO_PASSWORD",
    "DEMO_PENSIONERS",
    "DEMO_REGION",
    "DemoAccount",
    "DemoLink",
    "DemoPensioner",
    "demo_links",
    "ensure_demo_accounts",
    "load_demo_data",
    "retire_demo_accounts",
]

log = logging.getLogger(__name__)

DEMO = SystemActor(kind="operator", actor_id="demo")
"""The demo data is enrolled as the operator would (every region)."""


@dataclass(frozen=True)
class DemoPensioner:
    name: str
    """A plain Chinese name, shown masked as any pensioner's is ("王*国"); the demo
    enrolments are marked by their external reference (DEMO-1 ...), not their name."""
    region_code: str
    birth_date: dt.date
    photos: tuple[str, ...]
    """Paths under the data folder."""


DEMO_PENSIONERS = (
    DemoPensioner("王建国", "110105", dt.date(1952, 3, 14), ("people/barack_obama/1.jpg",)),
    DemoPensioner("李秀英", "110108", dt.date(1948, 11, 2), ("people/angelina_jolie/1.jpg",)),
    DemoPensioner("张志强", "110101", dt.date(1955, 6, 30), ("people/joe_biden/1.jpg",)),
    DemoPensioner("刘桂兰", "110102", dt.date(1950, 1, 21), ("people/jennifer_aniston/1.jpg",)),
)
"""Four districts of Beijing, so that one demo sign-in for Beijing (110000) sees them all."""

DEMO_REGION = "110000"

DEMO_PASSWORD = "try-certify"
"""The password of every demo sign-in: published in the README, hence development only."""


@dataclass(frozen=True)
class DemoAccount:
    username: str
    role: str
    display_name: str
    page: str
    """The page this sign-in is for."""


DEMO_ACCOUNTS = (
    DemoAccount("demo.staff", StaffRole.STAFF, "演示社工", "/staff"),
    DemoAccount("demo.reviewer", StaffRole.REVIEWER, "演示复核员", "/agency/reviews"),
    DemoAccount("demo.agency", StaffRole.ADMIN, "演示经办机构", "/agency/dashboard"),
)
"""Community staff (tablet pages), a reviewer and an agency administrator, all of Beijing."""

DEMO_LINK_TTL_S = 7 * 86400
"""Demo links are made anew at every start; a week is plenty."""


@dataclass(frozen=True)
class DemoLink:
    name: str
    token: str
    """The link's one-time token (the API's `link_url` makes the address to open)."""


def _demo_national_id(index: int, demo: DemoPensioner) -> str:
    return compose_national_id(demo.region_code, demo.birth_date, 900 + index)


def load_demo_data(services: Services, data_dir: Path) -> int:
    """Enrol the demo pensioners that are missing; returns how many were added."""
    if not (data_dir / "people").is_dir():
        log.info("no demo data: %s/people not found", data_dir)
        return 0
    secret = services.settings.secret_key.get_secret_value()
    added = 0
    for index, demo in enumerate(DEMO_PENSIONERS, start=1):
        number = _demo_national_id(index, demo)
        with session_scope(services.sessions) as db:
            if find_pensioner_by_national_id(db, secret=secret, national_id=number):
                continue
            now = services.clock()
            try:
                pensioner = create_pensioner(
                    db,
                    keyring=services.keyring,
                    secret=secret,
                    enrolled_by=DEMO,
                    name=demo.name,
                    national_id=number,
                    region_code=demo.region_code,
                    phone=f"1390000{index:04d}",
                    external_ref=f"DEMO-{index}",
                    now=now,
                )
                for photo in demo.photos:
                    enrol_photo(
                        db,
                        services=services,
                        pensioner_id=pensioner.id,
                        photo=(data_dir / photo).read_bytes(),
                        now=now,
                        added_by=DEMO,
                    )
            except (ServiceError, OSError) as exc:
                log.warning("demo pensioner %s not enrolled: %s", demo.name, exc)
                db.rollback()
                continue
            db.commit()
            added += 1
            log.info("demo pensioner %s enrolled (id %s)", demo.name, pensioner.id)
    return added


def ensure_demo_accounts(services: Services) -> tuple[DemoAccount, ...]:
    """Create the demo sign-ins that are missing (password DEMO_PASSWORD) and activate
    them. Development only: the caller checks the environment."""
    with session_scope(services.sessions) as db:
        now = services.clock()
        for account in DEMO_ACCOUNTS:
            user = db.scalar(select(StaffUser).where(StaffUser.username == account.username))
            if user is None:
                create_staff(db, username=account.username, password=DEMO_PASSWORD,
                             display_name=account.display_name, role=account.role,
                             region_code=DEMO_REGION, now=now)
            elif not user.active:
                set_staff_active(db, user=user, active=True, now=now)
        db.commit()
    return DEMO_ACCOUNTS


def retire_demo_accounts(services: Services) -> int:
    """Deactivate the demo sign-ins (their password is public) and end their sign-ins;
    `certify serve` calls this outside development. Returns how many were active."""
    retired = 0
    with session_scope(services.sessions) as db:
        usernames = [account.username for account in DEMO_ACCOUNTS]
        for user in db.scalars(select(StaffUser).where(StaffUser.username.in_(usernames), StaffUser.active)):
            set_staff_active(db, user=user, active=False, now=services.clock())
            retired += 1
        db.commit()
    if retired:
        log.warning("%d demo sign-ins deactivated: they exist only in development", retired)
    return retired


def demo_links(services: Services) -> list[DemoLink]:
    """A fresh one-time link for each demo pensioner enrolled (a link works in the first
    browser that opens it, so every start makes new ones)."""
    secret = services.settings.secret_key.get_secret_value()
    links = []
    with session_scope(services.sessions) as db:
        now = services.clock()
        for index, demo in enumerate(DEMO_PENSIONERS, start=1):
            pensioner = find_pensioner_by_national_id(
                db, secret=secret, national_id=_demo_national_id(index, demo))
            if pensioner is None:
                continue
            try:
                issued = create_link(db, secret=secret, pensioner_id=pensioner.id, created_by="demo",
                                     ttl_s=DEMO_LINK_TTL_S, now=now)
            except ServiceError as exc:
                log.warning("no demo link for %s: %s", pensioner.name, exc)
                continue
            record_audit(db, actor_type="operator", actor_id="demo", action="link.create",
                         subject_type="pensioner", subject_id=str(pensioner.id), now=now,
                         details={"link_id": str(issued.link.id)})
            links.append(DemoLink(name=pensioner.name, token=issued.token))
        db.commit()
    return links
