"""Key rotation: re-encrypt every encrypted column and blob under the active data key.

Rotation in three steps: put the new key first in `CERTIFY_DATA_KEYS` (it encrypts
everything new; the old key still decrypts), run `certify keys rewrap` (this module;
safe to stop and run again, it only touches what is still under another key), then
drop the old key once `certify keys rewrap --check` reports nothing left.

Columns are rewritten in batches, one transaction per batch. A blob is re-encrypted
in place under the same name (the store writes a new object and replaces the old).
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, cast

from sqlalchemy import ScalarResult, select

from models import (
    Agency,
    Attempt,
    AttemptWatch,
    EnrolmentJob,
    ExportJob,
    FaceReference,
    Pensioner,
    Webhook,
)
from models.db import session_scope

from ..agencies import signing_key_context
from ..context import Services
from ..infra.blob_crypto import EncryptedBlobStore
from ..infra.storage import BlobNotFoundError
from ..pensioners import encryption_context
from ..webhooks import secret_context
from .template_rewrap import TemplateRewrapReport, reprotect_templates

__all__ = ["RewrapReport", "rewrap_all", "ENCRYPTED_COLUMNS", "BATCH"]

log = logging.getLogger(__name__)

BATCH = 500
"""Rows per transaction."""

# (model, column attribute, the authenticated context of each row's ciphertext, from the
# module that encrypts that column)
_EncryptedRow = Pensioner | FaceReference | Agency | Webhook | AttemptWatch
"""The models with encrypted columns (each keyed by a UUID `id`)."""

ENCRYPTED_COLUMNS: tuple[tuple[type[_EncryptedRow], str, Callable[[Any], str]], ...] = (
    (Pensioner, "national_id_encrypted", lambda row: encryption_context("national_id", row.id)),
    (Pensioner, "phone_encrypted", lambda row: encryption_context("phone", row.id)),
    (FaceReference, "embedding_encrypted", lambda row: encryption_context("embedding", row.id)),
    (Agency, "signing_key_encrypted", lambda row: signing_key_context(row.id)),
    (Webhook, "secret_encrypted", lambda row: secret_context(row.id)),
    (AttemptWatch, "second_face_embedding_encrypted", lambda row: encryption_context("second_face", row.id)),
)


@dataclass
class RewrapReport:
    columns_rewrapped: int = 0
    columns_current: int = 0
    blobs_rewrapped: int = 0
    blobs_current: int = 0
    blobs_missing: int = 0
    by_key: Counter[str] = field(default_factory=Counter)
    """How many values were found under each key id (before rewrapping)."""
    templates: TemplateRewrapReport = field(default_factory=TemplateRewrapReport)
    """The protected face templates (template_rewrap.py)."""

    def to_json(self) -> dict[str, Any]:
        return {**self.__dict__, "by_key": dict(self.by_key), "templates": dict(self.templates.__dict__)}


def _rewrap_columns(services: Services, report: RewrapReport, *, check_only: bool) -> None:
    keyring = services.keyring
    for model, column, context in ENCRYPTED_COLUMNS:
        attribute = getattr(model, column)
        last = None
        while True:
            with session_scope(services.sessions) as db:
                query = select(model).where(attribute.is_not(None)).order_by(model.id).limit(BATCH)
                if last is not None:
                    query = query.where(model.id > last)
                # select() of a union of models is typed as their common base
                rows = cast("Sequence[_EncryptedRow]", db.scalars(query).all())
                for row in rows:
                    blob = getattr(row, column)
                    key_id = keyring.key_id_of(blob)
                    report.by_key[key_id] += 1
                    if key_id == keyring.active_key_id:
                        report.columns_current += 1
                    elif not check_only:
                        setattr(row, column, keyring.rewrap(blob, context=context(row).encode()))
                        report.columns_rewrapped += 1
                db.commit()
            if len(rows) < BATCH:
                break
            last = rows[-1].id


def _blob_keys(services: Services) -> Iterator[str]:
    with session_scope(services.sessions) as db:
        # the nullable key columns, with NULLs left out by the queries
        yield from cast("ScalarResult[str]", db.scalars(
            select(Attempt.video_key).where(Attempt.video_key.is_not(None))
        ))
        for frames in db.scalars(select(Attempt.key_frame_keys)):
            yield from frames or []
        yield from cast("ScalarResult[str]", db.scalars(
            select(FaceReference.photo_key).where(FaceReference.photo_key.is_not(None))
        ))
        yield from cast("ScalarResult[str]", db.scalars(
            select(ExportJob.blob_key).where(ExportJob.blob_key.is_not(None))
        ))
        for csv_key, photos_key in db.execute(
            select(EnrolmentJob.csv_key, EnrolmentJob.photos_key).where(EnrolmentJob.files_purged_at.is_(None))
        ):
            yield from (k for k in (csv_key, photos_key) if k)


def _rewrap_blobs(services: Services, report: RewrapReport, *, check_only: bool) -> None:
    store = services.store
    if not isinstance(store, EncryptedBlobStore):
        log.warning("blob encryption is off: only columns were rewrapped")
        return
    for key in _blob_keys(services):
        try:
            key_id = store.key_id_of(key)
        except BlobNotFoundError:
            report.blobs_missing += 1  # purged by retention meanwhile
            continue
        report.by_key[key_id] += 1
        if key_id == services.keyring.active_key_id:
            report.blobs_current += 1
        elif not check_only:
            store.rewrap(key)
            report.blobs_rewrapped += 1


def rewrap_all(services: Services, *, check_only: bool = False) -> RewrapReport:
    """Re-encrypt what is not under the active key (or, with `check_only`, count it)."""
    report = RewrapReport()
    _rewrap_columns(services, report, check_only=check_only)
    _rewrap_blobs(services, report, check_only=check_only)
    report.templates = reprotect_templates(services, check_only=check_only)
    log.info("rewrap: %s", report.to_json())
    return report
