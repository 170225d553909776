"""Data functions for pensioners and their face references. They never commit."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Collection, Sequence

import numpy as np
from sqlalchemy import case, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from certify.references import Reference, ReferenceClass
from models import (
    DEFAULT_SCHEME,
    EnrolmentStatus,
    FaceReference,
    HoldReason,
    Pensioner,
    QualificationRecord,
    RecordStatus,
    ReferenceSource,
    ReferenceStatus,
)

from .actors import Actor, sees_pensioner
from .error_codes import ErrorCode
from .errors import ConflictError, InvalidInputError, NotFoundError
from .holds import hold_enrolment
from .infra.crypto import Keyring, keyed_hash
from .records import check_schemes, current_window, ensure_records, set_schemes, window_of_label
from .rules.national_id import NationalIdError, parse_national_id
from .rules.regions import is_region_code

__all__ = [
    "create_pensioner",
    "get_pensioner",
    "find_pensioner_by_national_id",
    "national_id_of",
    "phone_of",
    "add_reference",
    "active_embeddings",
    "embedding_of",
    "ensure_record",
    "national_id_hash",
    "encryption_context",
    "EMBEDDING_DTYPE",
]

EMBEDDING_DTYPE = np.dtype("<f8")


def national_id_hash(secret: str, number: str) -> str:
    return keyed_hash(secret, number.strip().upper(), purpose="national_id")


def encryption_context(kind: str, row_id: uuid.UUID) -> str:
    """The authenticated context of a pensioner's (or reference's) encrypted column."""
    return f"{kind}:{row_id}"


def create_pensioner(
    db: Session,
    *,
    keyring: Keyring,
    secret: str,
    enrolled_by: Actor,
    name: str,
    national_id: str,
    region_code: str,
    phone: str | None = None,
    residence_region_code: str | None = None,
    now: dt.datetime,
    schemes: Sequence[str] = (DEFAULT_SCHEME,),
    external_ref: str | None = None,
) -> Pensioner:
    """Validate and add a pensioner, with a `due` qualification record per scheme for
    the current period (calendar year or rolling window, as the agency configures).

    A national ID already enrolled where `enrolled_by` can see it is refused (409
    `pensioner_exists`). One enrolled only in regions it cannot see is not told: the new
    enrolment is made on hold for a reviewer of both regions (service/holds.py), and
    looks like any other enrolment to the enroler except for `enrolment_status`.
    """
    name = name.strip()
    if not name:
        raise InvalidInputError(ErrorCode.NAME_REQUIRED, "the pensioner's name is empty")
    try:
        parsed = parse_national_id(national_id, today=now.date())
    except NationalIdError as exc:
        raise InvalidInputError(exc.code, f"national ID number {exc}") from None
    for field, code in (("region_code", region_code), ("residence_region_code", residence_region_code)):
        if code is not None and not is_region_code(code):
            raise InvalidInputError(
                ErrorCode.REGION_CODE_INVALID, f"{field} must be a six-digit division code", field=field
            )
    schemes = check_schemes(schemes)
    id_hash = national_id_hash(secret, parsed.number)
    for last_try in (False, True):
        collides_with = _enrolled_elsewhere(db, id_hash=id_hash, enrolled_by=enrolled_by)
        pensioner = Pensioner(
            id=uuid.uuid4(),
            name=name,
            national_id_hash=id_hash,
            national_id_masked=parsed.masked,
            birth_date=parsed.birth_date,
            sex=parsed.sex,
            region_code=region_code,
            residence_region_code=residence_region_code,
            external_ref=(external_ref or "").strip()[:64] or None,
            enrolment_status=EnrolmentStatus.ACTIVE if collides_with is None else EnrolmentStatus.ON_HOLD,
            created_at=now,
            updated_at=now,
        )
        pensioner.national_id_encrypted = keyring.encrypt_text(
            parsed.number, context=encryption_context("national_id", pensioner.id)
        )
        if phone:
            pensioner.phone_encrypted = keyring.encrypt_text(
                phone.strip(), context=encryption_context("phone", pensioner.id)
            )
        if db.get_bind().dialect.name == "sqlite":
            # pysqlite opens its transaction only at the first write, so a savepoint here
            # would be the outermost one and releasing it would commit; a racing duplicate
            # (two writers checking before either inserts) fails on the unique index instead
            db.add(pensioner)
            db.flush()
            break
        try:
            with db.begin_nested():
                db.add(pensioner)
                db.flush()
            break
        except IntegrityError:
            # an active enrolment of this ID committed meanwhile: decide again, once
            if last_try:
                raise
    set_schemes(db, pensioner_id=pensioner.id, schemes=schemes, now=now)
    if collides_with is not None:
        hold_enrolment(
            db, pensioner=pensioner, reason=HoldReason.DUPLICATE_NATIONAL_ID,
            other_pensioner_id=collides_with.id, now=now,
        )
        return pensioner  # records are opened when a reviewer releases it
    ensure_records(
        db, pensioner=pensioner, window=current_window(db, pensioner=pensioner, now=now), now=now,
        schemes=schemes,
    )
    return pensioner


def _enrolled_elsewhere(db: Session, *, id_hash: str, enrolled_by: Actor) -> Pensioner | None:
    """The enrolment (not closed) with this national ID hash that a new one collides
    with: one `enrolled_by` can see is refused with 409 `pensioner_exists`; one it cannot
    see is returned (the active one first), and None when there is none."""
    enrolled = db.scalars(
        select(Pensioner)
        .where(Pensioner.national_id_hash == id_hash, Pensioner.enrolment_status != EnrolmentStatus.CLOSED)
        .order_by(case((Pensioner.enrolment_status == EnrolmentStatus.ACTIVE, 0), else_=1), Pensioner.created_at)
    ).all()
    if any(sees_pensioner(enrolled_by, p) for p in enrolled):
        raise ConflictError(ErrorCode.PENSIONER_EXISTS, "a pensioner with this national ID already exists")
    return enrolled[0] if enrolled else None


def get_pensioner(db: Session, pensioner_id: uuid.UUID) -> Pensioner:
    pensioner = db.get(Pensioner, pensioner_id)
    if pensioner is None:
        raise NotFoundError(ErrorCode.PENSIONER_NOT_FOUND, "no such pensioner")
    return pensioner


def find_pensioner_by_national_id(db: Session, *, secret: str, national_id: str) -> Pensioner | None:
    """The active enrolment with this national ID (held and closed ones may repeat it)."""
    return db.scalar(
        select(Pensioner).where(
            Pensioner.national_id_hash == national_id_hash(secret, national_id),
            Pensioner.enrolment_status == EnrolmentStatus.ACTIVE,
        )
    )


def national_id_of(pensioner: Pensioner, *, keyring: Keyring) -> str:
    return keyring.decrypt_text(
        pensioner.national_id_encrypted, context=encryption_context("national_id", pensioner.id)
    )


def phone_of(pensioner: Pensioner, *, keyring: Keyring) -> str | None:
    if pensioner.phone_encrypted is None:
        return None
    return keyring.decrypt_text(pensioner.phone_encrypted, context=encryption_context("phone", pensioner.id))


def add_reference(
    db: Session,
    *,
    keyring: Keyring,
    pensioner_id: uuid.UUID,
    embedding: np.ndarray,
    model_version: str,
    source: str,
    now: dt.datetime,
    status: str = ReferenceStatus.ACTIVE,
    reference_id: uuid.UUID | None = None,
    photo_key: str | None = None,
    face_box: Sequence[int] | None = None,
    quality: dict[str, float] | None = None,
    quality_class: str = "full",
    taken_on: dt.date | None = None,
    attempt_id: uuid.UUID | None = None,
    created_by: str | None = None,
    added_outside_paying_region: bool = False,
) -> FaceReference:
    vector = np.asarray(embedding, dtype=EMBEDDING_DTYPE).reshape(-1)
    if vector.shape != (128,) or not np.all(np.isfinite(vector)):
        raise InvalidInputError(ErrorCode.EMBEDDING_INVALID, "a face embedding must be 128 finite numbers")
    reference = FaceReference(
        id=reference_id or uuid.uuid4(),
        pensioner_id=pensioner_id,
        model_version=model_version,
        source=source,
        status=status,
        photo_key=photo_key,
        face_box=list(face_box) if face_box is not None else None,
        quality=quality,
        quality_class=quality_class,
        width_px=int(quality["width_px"]) if quality and "width_px" in quality else None,
        height_px=int(quality["height_px"]) if quality and "height_px" in quality else None,
        quality_score=float(quality["score"]) if quality and "score" in quality else None,
        taken_on=taken_on,
        attempt_id=attempt_id,
        created_by=created_by,
        created_at=now,
        added_outside_paying_region=added_outside_paying_region,
    )
    reference.embedding_encrypted = keyring.encrypt(
        vector.tobytes(), context=encryption_context("embedding", reference.id).encode()
    )
    db.add(reference)
    db.flush()
    return reference


def embedding_of(reference: FaceReference, *, keyring: Keyring) -> np.ndarray:
    """The decrypted embedding of one reference (any status)."""
    raw = keyring.decrypt(
        reference.embedding_encrypted, context=encryption_context("embedding", reference.id).encode()
    )
    return np.frombuffer(raw, dtype=EMBEDDING_DTYPE).copy()


def active_embeddings(
    db: Session,
    *,
    keyring: Keyring,
    pensioner_id: uuid.UUID,
    sources: Collection[str] | None = None,
) -> list[Reference]:
    """The pensioner's active references (optionally of some sources), decrypted, with
    their quality class; anchors are every source but a passed certification's."""
    query = select(FaceReference).where(
        FaceReference.pensioner_id == pensioner_id,
        FaceReference.status == ReferenceStatus.ACTIVE,
    )
    if sources is not None:
        query = query.where(FaceReference.source.in_(list(sources)))
    return [
        Reference(
            embedding=embedding_of(reference, keyring=keyring),
            quality_class=ReferenceClass(reference.quality_class or "full"),
            anchor=reference.source != ReferenceSource.CERTIFICATION,
        )
        for reference in db.scalars(query.order_by(FaceReference.created_at))
    ]


def ensure_record(
    db: Session,
    *,
    pensioner_id: uuid.UUID,
    period: str,
    now: dt.datetime,
    scheme: str = DEFAULT_SCHEME,
) -> QualificationRecord:
    """The pensioner's record for a period and scheme, created as `due` if missing."""
    record = db.scalar(
        select(QualificationRecord).where(
            QualificationRecord.pensioner_id == pensioner_id,
            QualificationRecord.scheme == scheme,
            QualificationRecord.period == period,
        )
    )
    if record is None:
        window = window_of_label(period)
        record = QualificationRecord(
            id=uuid.uuid4(),
            pensioner_id=pensioner_id,
            scheme=scheme,
            period=period,
            period_start=window.start,
            due_by=window.end,
            status=RecordStatus.DUE,
            reasons=[],
            created_at=now,
            updated_at=now,
        )
        db.add(record)
        db.flush()
    return record
