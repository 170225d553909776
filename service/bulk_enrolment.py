"""Bulk enrolment: a CSV of pensioners (and a zip of reference photos) as a background job.

Every row is checked first without writing anything (required fields, national ID with
its check digit, duplicates inside the file and against the requester's regions'
enrolments, region codes and the requester's regions, schemes, phone, photo present in
the zip). A national ID enrolled only in regions the requester does not see is not
told apart: its row is enrolled on hold for a reviewer (service/holds.py). Then each row
that passed is enrolled in its own transaction: the pensioner, its schemes, its
records, its reference photo (exactly one face) and the row's outcome are committed
together or not at all, so a failing row never leaves a half-made pensioner. The job
can be re-run (RQ retry after a crash): rows that already have an outcome are skipped.

CSV columns (UTF-8, or GB18030 as Excel saves it in China):
    name, national_id, region_code             required
    residence_region_code, phone, external_ref optional
    schemes                                    optional, e.g. "basic_pension;survivors"
    photo                                      file name inside the zip (required with a zip)
    photo_source                               optional: id_card, social_security_card or upload
    photo_taken_on                             optional: when the photo was taken, YYYY-MM-DD
"""

from __future__ import annotations

import datetime as dt
import re
import uuid
import zipfile
from collections.abc import Sequence
from contextlib import ExitStack
from pathlib import PurePosixPath

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from models import BulkKind, EnrolmentRow, EnrolmentStatus, Pensioner, ReferenceSource, Scheme
from models.db import session_scope

from .actors import SystemActor, regions_cover
from .bulk_jobs import (
    CsvFileError,
    CsvRow,
    RowError,
    count_row,
    count_rows,
    fail_job,
    finish_job,
    flag_duplicates,
    parse_csv,
    read_csv_text,
    record_row_failure,
    start_job,
)
from .context import Services
from .error_codes import ErrorCode
from .errors import ServiceError
from .pensioners import create_pensioner, national_id_hash
from .references import enrol_photo
from .rules.national_id import NationalIdError, parse_national_id
from .rules.regions import is_region_code, region_matches

__all__ = [
    "REQUIRED_COLUMNS",
    "OPTIONAL_COLUMNS",
    "MAX_ROWS",
    "validate_rows",
    "run_enrolment_job",
]

REQUIRED_COLUMNS = ("name", "national_id", "region_code")
OPTIONAL_COLUMNS = ("residence_region_code", "phone", "external_ref", "schemes", "photo", "photo_source",
                    "photo_taken_on")
MAX_ROWS = 200_000
"""Rows accepted in one file."""
_PHONE = re.compile(r"^\+?[0-9 -]{5,20}$")


def validate_rows(
    rows: Sequence[CsvRow],
    *,
    regions: Sequence[str],
    today: dt.date,
    photo_names: set[str] | None,
    existing_hashes: set[str],
    secret: str,
) -> None:
    """Check every row without writing (errors are appended to each row)."""
    numbers: dict[int, str] = {}
    for row in rows:
        v = row.values
        if not v.get("name"):
            row.errors.append(RowError("name", ErrorCode.NAME_REQUIRED, "the name is empty"))
        elif len(v["name"]) > 100:
            row.errors.append(RowError("name", ErrorCode.NAME_TOO_LONG, "at most 100 characters"))
        try:
            parsed = parse_national_id(v.get("national_id", ""), today=today)
        except NationalIdError as exc:
            row.errors.append(RowError("national_id", exc.code, f"national ID number {exc}"))
        else:
            numbers[row.line] = parsed.number
            if national_id_hash(secret, parsed.number) in existing_hashes:
                row.errors.append(RowError("national_id", ErrorCode.PENSIONER_EXISTS, "already enrolled"))
        region = v.get("region_code", "")
        if not is_region_code(region):
            row.errors.append(RowError("region_code", ErrorCode.REGION_CODE_INVALID, "six-digit division code"))
        elif "*" not in regions and not any(region_matches(region, r) for r in regions):
            row.errors.append(RowError("region_code", ErrorCode.REGION_FORBIDDEN, "outside your regions"))
        residence = v.get("residence_region_code", "")
        if residence and not is_region_code(residence):
            row.errors.append(
                RowError("residence_region_code", ErrorCode.REGION_CODE_INVALID, "six-digit division code")
            )
        if v.get("phone") and not _PHONE.match(v["phone"]):
            row.errors.append(RowError("phone", ErrorCode.PHONE_INVALID, "digits, spaces, '-' and a leading '+'"))
        schemes = [s.strip() for s in v.get("schemes", "").split(";") if s.strip()]
        unknown = sorted(set(schemes) - set(Scheme.ALL))
        if unknown:
            row.errors.append(RowError("schemes", ErrorCode.SCHEME_INVALID, f"unknown schemes {unknown}"))
        if len(v.get("external_ref", "")) > 64:
            row.errors.append(RowError("external_ref", ErrorCode.EXTERNAL_REF_TOO_LONG, "at most 64 characters"))
        photo = v.get("photo", "")
        if photo_names is not None:
            if not photo:
                row.errors.append(RowError("photo", ErrorCode.PHOTO_REQUIRED, "name the reference photo in the zip"))
            elif photo not in photo_names:
                row.errors.append(RowError("photo", ErrorCode.PHOTO_NOT_IN_ZIP, f"{photo} is not in the zip"))
        elif photo:
            row.errors.append(RowError("photo", ErrorCode.PHOTOS_ZIP_MISSING, "a photo is named but no zip was sent"))
        row.errors.extend(_photo_origin_errors(v, today=today))
    flag_duplicates(rows, key=lambda row: numbers.get(row.line), field_name="national_id",
                    code=ErrorCode.NATIONAL_ID_DUPLICATE, what="ID number")


def _photo_origin_errors(values: dict[str, str], *, today: dt.date) -> list[RowError]:
    """The photo's source and date, as the single upload checks them."""
    errors = []
    source = values.get("photo_source", "")
    if source and source not in ReferenceSource.UPLOADED:
        errors.append(RowError("photo_source", ErrorCode.REFERENCE_SOURCE_INVALID,
                               f"one of {', '.join(sorted(ReferenceSource.UPLOADED))}"))
    taken = values.get("photo_taken_on", "")
    if taken:
        try:
            taken_on = dt.date.fromisoformat(taken)
        except ValueError:
            errors.append(RowError("photo_taken_on", ErrorCode.TAKEN_ON_INVALID, "a date, YYYY-MM-DD"))
        else:
            if taken_on > today:
                errors.append(RowError("photo_taken_on", ErrorCode.TAKEN_ON_INVALID,
                                       "a photo cannot be taken in the future"))
    return errors


def _zip_index(archive: zipfile.ZipFile, max_photo_bytes: int) -> dict[str, zipfile.ZipInfo]:
    """Photos by their path in the zip and by bare file name; oversized entries left out."""
    index: dict[str, zipfile.ZipInfo] = {}
    for info in archive.infolist():
        if info.is_dir() or info.file_size > max_photo_bytes:
            continue
        index[info.filename] = info
    for info in list(index.values()):
        index.setdefault(PurePosixPath(info.filename).name, info)
    return index


def run_enrolment_job(services: Services, job_id: uuid.UUID) -> str:
    """Validate and enrol every row of the job's CSV; returns the final state."""
    secret = services.settings.secret_key.get_secret_value()
    start = start_job(services, job_id, kind=BulkKind.ENROLMENT)
    if isinstance(start, str):
        return start
    photos_key, regions, done_lines = start.photos_key, start.regions, start.done_lines
    try:
        rows = parse_csv(read_csv_text(services.store.read(start.csv_key)), required=REQUIRED_COLUMNS,
                         max_rows=MAX_ROWS)
    except CsvFileError as exc:
        return fail_job(services, job_id, f"{exc.code}: {exc.message}")

    with ExitStack() as stack:
        archive = None
        photo_index: dict[str, zipfile.ZipInfo] | None = None
        if photos_key:
            path = stack.enter_context(services.store.local_path(photos_key))
            try:
                archive = stack.enter_context(zipfile.ZipFile(path))
                photo_index = _zip_index(archive, services.settings.max_photo_bytes)
            except zipfile.BadZipFile:
                return fail_job(services, job_id, "photos_zip_invalid: the photos file is not a zip")
        now = services.clock()
        with session_scope(services.sessions) as db:
            hashes = set()
            numbers = []
            for row in rows:
                try:
                    numbers.append(national_id_hash(secret, parse_national_id(row.values.get("national_id", ""), today=now.date()).number))
                except NationalIdError:
                    pass
            for first in range(0, len(numbers), 1000):
                hashes |= _enrolled_hashes(db, numbers[first:first + 1000], regions=regions)
            count_rows(db, job_id, len(rows))
            db.commit()
        # rows enrolled by an earlier run of this job are "existing" now: skip them below
        validate_rows(rows, regions=regions, today=now.date(),
                      photo_names=set(photo_index) if photo_index is not None else None,
                      existing_hashes=hashes, secret=secret)
        for row in rows:
            if row.line in done_lines:
                continue
            if row.errors:
                record_row_failure(services, job_id, row.line, row.errors)
                continue
            photo = archive.read(photo_index[row.values["photo"]]) if archive is not None and photo_index else None
            _enrol_row(services, job_id, row, photo=photo, regions=regions)

    return finish_job(services, job_id)


def _enrolled_hashes(db, hashes: Sequence[str], *, regions: Sequence[str]) -> set[str]:
    """Which of these national ID hashes are enrolled where the requester can see them
    (those rows are refused as `pensioner_exists`). IDs enrolled only in other regions
    are not told apart from new ones: their rows are enrolled on hold (create_pensioner)."""
    rows = db.execute(
        select(Pensioner.national_id_hash, Pensioner.region_code, Pensioner.residence_region_code).where(
            Pensioner.national_id_hash.in_(list(hashes)), Pensioner.enrolment_status != EnrolmentStatus.CLOSED)
    ).all()
    return {h for h, paying, residence in rows if regions_cover(regions, paying) or regions_cover(regions, residence)}


def _enrol_row(services: Services, job_id: uuid.UUID, row: CsvRow, *, photo: bytes | None,
               regions: Sequence[str]) -> None:
    v = row.values
    schemes = [s.strip() for s in v.get("schemes", "").split(";") if s.strip()] or ["basic_pension"]
    requester = SystemActor(kind="bulk", actor_id=f"bulk:{job_id}", regions=tuple(regions))
    with session_scope(services.sessions) as db:
        now = services.clock()
        try:
            pensioner = create_pensioner(
                db, keyring=services.keyring, secret=services.settings.secret_key.get_secret_value(),
                enrolled_by=requester, name=v["name"], national_id=v["national_id"], region_code=v["region_code"],
                phone=v.get("phone") or None, residence_region_code=v.get("residence_region_code") or None,
                now=now, schemes=schemes, external_ref=v.get("external_ref") or None,
            )
            if photo is not None:
                taken_on = v.get("photo_taken_on")
                enrol_photo(db, services=services, pensioner_id=pensioner.id, photo=photo, now=now,
                            added_by=requester, source=v.get("photo_source") or None,
                            taken_on=dt.date.fromisoformat(taken_on) if taken_on else None)
            db.add(EnrolmentRow(id=uuid.uuid4(), job_id=job_id, line=row.line, pensioner_id=pensioner.id, errors=[]))
            count_row(db, job_id, created=1)
            db.commit()
            return
        except ServiceError as exc:
            db.rollback()
            error = RowError("photo" if exc.code in _PHOTO_CODES else "national_id" if "exists" in exc.code else "row",
                             exc.code, exc.message)
        except IntegrityError:
            db.rollback()
            error = RowError("national_id", ErrorCode.PENSIONER_EXISTS, "already enrolled (by another upload)")
    record_row_failure(services, job_id, row.line, [error])


_PHOTO_CODES = frozenset({
    "no_face", "multiple_faces", "face_too_small", "face_cut_off", "too_dark", "too_bright", "blurry",
    "not_frontal", "unreadable_image",
})
