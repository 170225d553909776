"""Key rotation for the protected face templates (part of `certify keys rewrap`).

Put a new key first in `CERTIFY_IDENTITY_TEMPLATE_KEYS` (keep the old one after it),
then run `certify keys rewrap`: every template under another key is turned into the new
key's space (exactly: Q_new Q_old^T t). A template whose key is gone is made again from
its reference's encrypted embedding; a probe's is dropped (probes matter only for
`identity_probe_window_days`). With the identity search on, references enrolled before
it (without a template) get one. Safe to stop and run again.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
from sqlalchemy import delete, select

from models import FaceReference, IdentityTemplate, Pensioner, ReferenceStatus, TemplateKind
from models.db import session_scope

from ..context import Services
from ..identity_index import TEMPLATE_DTYPE
from ..pensioners import embedding_of

__all__ = ["TemplateRewrapReport", "reprotect_templates", "BATCH"]

log = logging.getLogger(__name__)

BATCH = 500
"""Rows per transaction."""


@dataclass
class TemplateRewrapReport:
    templates_current: int = 0
    templates_reprotected: int = 0
    templates_remade: int = 0
    templates_dropped: int = 0
    templates_added: int = 0
    templates_under_other_keys: int = 0


def reprotect_templates(services: Services, *, check_only: bool = False) -> TemplateRewrapReport:
    """Re-protect (or, with `check_only`, count) templates not under the active key."""
    report = TemplateRewrapReport()
    keys = services.identity_index.keys
    last = 0
    while True:
        with session_scope(services.sessions) as db:
            rows = db.scalars(
                select(IdentityTemplate).where(IdentityTemplate.seq > last).order_by(IdentityTemplate.seq).limit(BATCH)
            ).all()
            for row in rows:
                if row.key_id == keys.active_key_id:
                    report.templates_current += 1
                    continue
                report.templates_under_other_keys += 1
                if check_only:
                    continue
                turned = keys.to_active(row.template, row.key_id)
                if turned is not None:
                    row.template, row.key_id = np.asarray(turned, TEMPLATE_DTYPE).tobytes(), keys.active_key_id
                    report.templates_reprotected += 1
                    continue
                reference = db.get(FaceReference, row.owner_id) if row.kind == TemplateKind.REFERENCE else None
                if reference is None:
                    db.execute(delete(IdentityTemplate).where(IdentityTemplate.seq == row.seq))
                    report.templates_dropped += 1
                    continue
                row.template = keys.protect(embedding_of(reference, keyring=services.keyring))
                row.key_id = keys.active_key_id
                report.templates_remade += 1
            db.commit()
        if len(rows) < BATCH:
            break
        last = rows[-1].seq
    if services.settings.identity_search and not check_only:
        report.templates_added = _add_missing(services)
    log.info("template rewrap: %s", report.__dict__)
    return report


def _add_missing(services: Services) -> int:
    """Templates for the active and pending references that have none."""
    keys = services.identity_index.keys
    added = 0
    while True:
        with session_scope(services.sessions) as db:
            missing = db.execute(
                select(FaceReference, Pensioner.region_code)
                .join(Pensioner, Pensioner.id == FaceReference.pensioner_id)
                .outerjoin(IdentityTemplate, IdentityTemplate.owner_id == FaceReference.id)
                .where(
                    IdentityTemplate.seq.is_(None),
                    FaceReference.status.in_([ReferenceStatus.ACTIVE, ReferenceStatus.PENDING]),
                )
                .limit(BATCH)
            ).all()
            for reference, region_code in missing:
                db.add(IdentityTemplate(
                    kind=TemplateKind.REFERENCE, owner_id=reference.id, pensioner_id=reference.pensioner_id,
                    region_code=region_code, quality_class=reference.quality_class,
                    template=keys.protect(embedding_of(reference, keyring=services.keyring)),
                    key_id=keys.active_key_id, created_at=services.clock(),
                ))
            db.commit()
            added += len(missing)
        if len(missing) < BATCH:
            return added
