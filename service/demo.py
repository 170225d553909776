"""Demo pensioners for `certify serve`, enrolled from the public face data when present."""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from pathlib import Path

from models.db import session_scope

from .actors import SystemActor
from .context import Services
from .errors import ServiceError
from .pensioners import create_pensioner, find_pensioner_by_national_id
from .references import enrol_photo
from .rules.national_id import compose_national_id

__all__ = ["DEMO_PENSIONERS", "load_demo_data", "DemoPensioner", "DEMO"]

log = logging.getLogger(__name__)

DEMO = SystemActor(kind="operator", actor_id="demo")
"""The demo data is enrolled as the operator would (every region)."""


@dataclass(frozen=True)
class DemoPensioner:
    name: str
    region_code: str
    birth_date: dt.date
    photos: tuple[str, ...]
    """Paths under the data folder."""


DEMO_PENSIONERS = (
    DemoPensioner("演示 王建国", "110105", dt.date(1952, 3, 14), ("people/barack_obama/1.jpg",)),
    DemoPensioner("演示 李秀英", "310104", dt.date(1948, 11, 2), ("people/angelina_jolie/1.jpg",)),
    DemoPensioner("演示 张志强", "440305", dt.date(1955, 6, 30), ("people/joe_biden/1.jpg",)),
    DemoPensioner(
        "演示 刘桂兰", "510107", dt.date(1950, 1, 21), ("people/jennifer_aniston/1.jpg",)
    ),
)


def load_demo_data(services: Services, data_dir: Path) -> int:
    """Enrol the demo pensioners that are missing; returns how many were added."""
    if not (data_dir / "people").is_dir():
        log.info("no demo data: %s/people not found", data_dir)
        return 0
    secret = services.settings.secret_key.get_secret_value()
    added = 0
    for index, demo in enumerate(DEMO_PENSIONERS, start=1):
        number = compose_national_id(demo.region_code, demo.birth_date, 900 + index)
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
