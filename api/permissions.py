"""Who may do what: every permission of the API, and which regions a caller sees.

Authentication (who is calling: a `Principal` from a bearer token or a staff sign-in)
is api/auth.py; everything after that is here. A route names its permission with one
`Annotated` alias below and finds single resources with one `visible_*` function, so a
newcomer reads the whole policy in this file.

| question | answer | where |
|---|---|---|
| Who may read evidence (scores, key frames, reference photos)? | reviewers, administrators, the operator, and API keys with `evidence:read`; only for pensioners *paid* in their regions (staff assisting across regions never). Every read names a reason and is audited. Caseworkers see reference photos only to approve them (the pensioner's paying or residence region; audited). | `EvidenceReaderDep`, `may_see_evidence_of`, `visible_evidence_attempt`; `visible_reference` |
| Who may approve a reference photo? | a caseworker of the pensioner's paying region who did not take it; a photo taken outside the paying region only a reviewer (administrator, operator) of the paying region. The use case holds the rule, for every door. | `CaseworkerDep` + `visible_reference`; service/reference_review.py |
| Who may decide an enrolment on hold? | a reviewer (administrator, operator) who sees both enrolments' paying regions. | `ReviewerDep` + `visible_hold`; service/holds.py |
| Who sees which region? | staff, reviewers and administrators: the region of their account and everything inside it (a province covers its cities and counties); an API key: its regions; the operator: every region. | `Principal.regions`; service/actors.py `regions_cover` |
| Who sees a pensioner? | the paying region, and (to assist at home) the residence region. Results, records, certificates, evidence, reviews and proof-of-life events belong to the paying region only. | `visible_pensioner`, `visible_record`, ... |
| Who sees an attempt's certificates? | the pensioner's own browser (a link pass of theirs) and `may_read_results`: the paying region's staff-side accounts, API keys with `results:read`, the operator. | `CallerDep`, `may_read_certificates` |
| What does a refusal look like? | a resource outside one's regions answers 404, as if it did not exist (nothing leaks about other regions); a region *named* in the request answers 403 `region_forbidden`; a missing role 403 `forbidden`, a missing scope 403 `scope_missing`. | |

| permission | who | for |
|---|---|---|
| `AnyPrincipalDep` | anyone signed in or with a key | who am I, the agencies of one's regions |
| `CaseworkerDep` | staff, reviewers, administrators, the operator | caseload, cases, pensioners, sessions, lockouts, reference photos to approve |
| `EnrolerDep` | staff, administrators, the operator; keys with `pensioners:write` | enrolment, reference photos, bulk enrolment |
| `LinkIssuerDep` | caseworkers; keys with `pensioners:write` | one-time pensioner links |
| `InPersonCertifierDep` | staff, administrators, the operator | in-person certification |
| `ReviewerDep` | reviewers, administrators, the operator | the review queue, its decisions, enrolments on hold, reversing a wrong death report (of the paying region) |
| `EvidenceReaderDep` | reviewers, administrators, the operator; keys with `evidence:read` | scores, key frames, reference photos |
| `CertificateReaderDep` | caseworkers; keys with `results:read` | certificates and their QR codes |
| `ResultsReaderDep` | keys with `results:read`; administrators, the operator | the results feed, records, proof-of-life events, statistics (dashboard, fairness, charts, monthly report) |
| `ExportReaderDep` | keys with `export:read`; administrators, the operator | streamed and background exports |
| `RecordsWriterDep` | keys with `records:write`; administrators, the operator | suspension, proof-of-life and death imports (one by one or a file of deaths), certificate revocation |
| `WebhookManagerDep` | keys with `webhooks:manage`; administrators, the operator | webhooks and their deliveries |
| `AgencyAdminDep` | administrators, the operator | agency configuration |
| `MetricsReaderDep` | the metrics token (anyone when none is set) | /metrics |
| `LinkHolderDep` | the pensioner's browser with the page pass of a usable link | consent and self-service sessions |
| `CallerDep` | anyone: the answer depends on who asks | an attempt's result, appeal and certificates |

Routes that need none of these are listed, with why, in tests/unit/test_permissions.py.
"""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Callable, Iterable
from functools import cached_property
from typing import Annotated, Protocol, TypeVar

from fastapi import Depends
from sqlalchemy.orm import Session

from models import (
    Attempt,
    BulkKind,
    Certificate,
    EnrolmentJob,
    ExportJob,
    FaceReference,
    LifeEvent,
    Pensioner,
    PensionerLink,
    QualificationRecord,
    Review,
    StaffRole,
    Webhook,
)
from service.actors import REVIEWING_KINDS, regions_cover, sees_pensioner, sees_region
from service.error_codes import ErrorCode
from service.errors import ForbiddenError, InvalidInputError, NotFoundError
from service.holds import get_hold
from service.links import link_for_pass, pensioner_of_pass
from service.pensioners import get_pensioner
from service.reference_review import get_reference
from service.reviews import get_review
from service.rules.regions import is_region_code, region_prefix

from .auth import (
    AGENCY_KIND,
    OPERATOR_KIND,
    BearerDep,
    OptionalPrincipalDep,
    Principal,
    PrincipalDep,
    UnauthorizedError,
)
from .credentials import LinkPassDep
from .deps import DbDep, NowDep, ServicesDep

__all__ = [
    # scopes of agency API keys
    "RESULTS_READ",
    "EXPORT_READ",
    "PENSIONERS_WRITE",
    "RECORDS_WRITE",
    "EVIDENCE_READ",
    "WEBHOOKS_MANAGE",
    "API_KEY_SCOPES",
    # kinds of principal by what they may do
    "CASEWORKER_KINDS",
    "ENROLER_KINDS",
    "IN_PERSON_KINDS",
    "REVIEWER_KINDS",
    "EVIDENCE_KINDS",
    "SCOPE_EXEMPT_KINDS",
    "AGENCY_ADMIN_KINDS",
    "ASSISTING_KINDS",
    # one alias per permission
    "AnyPrincipalDep",
    "CaseworkerDep",
    "EnrolerDep",
    "LinkIssuerDep",
    "InPersonCertifierDep",
    "ReviewerDep",
    "EvidenceReaderDep",
    "CertificateReaderDep",
    "ResultsReaderDep",
    "ExportReaderDep",
    "RecordsWriterDep",
    "WebhookManagerDep",
    "AgencyAdminDep",
    "MetricsReaderDep",
    "LinkHolderDep",
    "Caller",
    "CallerDep",
    # what a principal may see
    "may_see_evidence",
    "may_see_evidence_of",
    "may_read_results",
    "may_read_certificates",
    "allowed_prefixes",
    "check_region_filter",
    "check_sees_region",
    "rows_in_regions",
    "visible_pensioner",
    "visible_record",
    "visible_certificate",
    "visible_evidence_attempt",
    "visible_reference_photo",
    "visible_reference",
    "visible_review",
    "visible_hold",
    "visible_life_event",
    "visible_export",
    "visible_enrolment",
    "visible_death_reports",
    "visible_webhook",
    "visible_link",
]

# --- scopes of agency API keys (service/accounts.py SCOPES is the same set) ------------

RESULTS_READ = "results:read"
"""The results feed, single records, proof-of-life events, certificates."""
EXPORT_READ = "export:read"
"""Streamed exports and background export jobs."""
PENSIONERS_WRITE = "pensioners:write"
"""Enrolment (single and bulk), reference photos, one-time links."""
RECORDS_WRITE = "records:write"
"""Suspending payment, importing proof-of-life events, revoking certificates."""
EVIDENCE_READ = "evidence:read"
"""Biometric evidence: scores, key frames, reference photos."""
WEBHOOKS_MANAGE = "webhooks:manage"
"""Registering and removing webhooks, reading their delivery log."""

API_KEY_SCOPES = frozenset(
    {RESULTS_READ, EXPORT_READ, PENSIONERS_WRITE, RECORDS_WRITE, EVIDENCE_READ, WEBHOOKS_MANAGE}
)

# --- kinds of principal by what they may do ------------------------------------------

CASEWORKER_KINDS = frozenset({OPERATOR_KIND, StaffRole.ADMIN, StaffRole.STAFF, StaffRole.REVIEWER})
"""Staff-side people: open sessions, follow pensioners, make links, read certificates."""
ENROLER_KINDS = frozenset({OPERATOR_KIND, StaffRole.ADMIN, StaffRole.STAFF})
"""Enrol pensioners and add reference photos (and so do keys with pensioners:write)."""
IN_PERSON_KINDS = frozenset({OPERATOR_KIND, StaffRole.STAFF, StaffRole.ADMIN})
"""Certify a pensioner seen in person."""
REVIEWER_KINDS = REVIEWING_KINDS
"""Decide reviews and enrolments on hold (service/actors.py: the use cases' same set)."""
EVIDENCE_KINDS = frozenset({OPERATOR_KIND, StaffRole.ADMIN, StaffRole.REVIEWER})
"""See biometric evidence (and so do keys with evidence:read)."""
SCOPE_EXEMPT_KINDS = frozenset({OPERATOR_KIND, StaffRole.ADMIN})
"""Pass every scope check of the agency endpoints."""
AGENCY_ADMIN_KINDS = frozenset({OPERATOR_KIND, StaffRole.ADMIN})
"""Configure agencies."""
ASSISTING_KINDS = frozenset({StaffRole.STAFF, StaffRole.REVIEWER, StaffRole.ADMIN})
"""Staff accounts: a session they open is an assisted one, recorded with their id."""


def _has_scope(principal: Principal, scope: str) -> bool:
    return principal.kind == AGENCY_KIND and scope in principal.scopes


# --- one alias per permission --------------------------------------------------------


def _any_principal(principal: PrincipalDep) -> Principal:
    return principal


AnyPrincipalDep = Annotated[Principal, Depends(_any_principal)]
"""Anyone signed in or holding a key (what they then see is limited to their regions)."""


def _caseworker(principal: PrincipalDep) -> Principal:
    if principal.kind in CASEWORKER_KINDS:
        return principal
    raise ForbiddenError(ErrorCode.FORBIDDEN, "this needs a staff account")


CaseworkerDep = Annotated[Principal, Depends(_caseworker)]
"""Staff-side people who open sessions and follow pensioners (in their regions)."""


def _enroler(principal: PrincipalDep) -> Principal:
    if principal.kind in ENROLER_KINDS or _has_scope(principal, PENSIONERS_WRITE):
        return principal
    raise ForbiddenError(ErrorCode.FORBIDDEN, "enrolment needs a staff account or an enrolment API key")


EnrolerDep = Annotated[Principal, Depends(_enroler)]
"""May create pensioners and add reference photos (in their regions)."""


def _link_issuer(principal: PrincipalDep) -> Principal:
    if principal.kind in CASEWORKER_KINDS or _has_scope(principal, PENSIONERS_WRITE):
        return principal
    raise ForbiddenError(ErrorCode.FORBIDDEN, "links are made by staff or an enrolment API key")


LinkIssuerDep = Annotated[Principal, Depends(_link_issuer)]
"""May make, list and withdraw a pensioner's one-time links."""


def _in_person_certifier(principal: CaseworkerDep) -> Principal:
    if principal.kind in IN_PERSON_KINDS:
        return principal
    raise ForbiddenError(ErrorCode.FORBIDDEN, "in-person certification is done by community staff")


InPersonCertifierDep = Annotated[Principal, Depends(_in_person_certifier)]
"""Community staff who saw the pensioner (a reviewer is a caseworker, but not this)."""


def _reviewer(principal: PrincipalDep) -> Principal:
    if principal.kind not in REVIEWER_KINDS:
        raise ForbiddenError(ErrorCode.FORBIDDEN, "this needs one of: reviewer, admin")
    return principal


ReviewerDep = Annotated[Principal, Depends(_reviewer)]
"""Decides attempts sent to review and enrolments on hold (in their regions)."""


def may_see_evidence(principal: Principal | None) -> bool:
    """Scores, key frames and action timelines: biometric evidence (of some region)."""
    if principal is None:
        return False
    return principal.kind in EVIDENCE_KINDS or _has_scope(principal, EVIDENCE_READ)


def _evidence_reader(principal: PrincipalDep) -> Principal:
    if not may_see_evidence(principal):
        raise ForbiddenError(
            ErrorCode.EVIDENCE_FORBIDDEN, "biometric evidence needs a reviewer account or evidence:read"
        )
    return principal


EvidenceReaderDep = Annotated[Principal, Depends(_evidence_reader)]
"""May read biometric evidence of pensioners paid in its regions (each read audited)."""


def _certificate_reader(principal: PrincipalDep) -> Principal:
    if principal.kind == AGENCY_KIND and RESULTS_READ not in principal.scopes:
        raise ForbiddenError(ErrorCode.SCOPE_MISSING, f"certificates need an API key with {RESULTS_READ}")
    if principal.kind != AGENCY_KIND and principal.kind not in CASEWORKER_KINDS:
        raise ForbiddenError(ErrorCode.FORBIDDEN, "not allowed")
    return principal


CertificateReaderDep = Annotated[Principal, Depends(_certificate_reader)]
"""May read certificates of its (paying) regions."""


def _with_scope(scope: str) -> Callable[[Principal], Principal]:
    """An agency endpoint's check: an API key with `scope` (administrators and the
    operator pass every scope)."""

    def check(principal: PrincipalDep) -> Principal:
        if principal.kind in SCOPE_EXEMPT_KINDS or _has_scope(principal, scope):
            return principal
        raise ForbiddenError(ErrorCode.SCOPE_MISSING, f"this needs an API key with scope {scope}")

    return check


ResultsReaderDep = Annotated[Principal, Depends(_with_scope(RESULTS_READ))]
"""Reads results, records and proof-of-life events of its regions."""
ExportReaderDep = Annotated[Principal, Depends(_with_scope(EXPORT_READ))]
"""Exports the results of its regions."""
RecordsWriterDep = Annotated[Principal, Depends(_with_scope(RECORDS_WRITE))]
"""Changes records of its regions: suspension, proof-of-life events, revoking certificates."""
WebhookManagerDep = Annotated[Principal, Depends(_with_scope(WEBHOOKS_MANAGE))]
"""Manages the webhooks of its regions."""


def _agency_admin(principal: PrincipalDep) -> Principal:
    if principal.kind not in AGENCY_ADMIN_KINDS:
        raise ForbiddenError(ErrorCode.FORBIDDEN, "configuring agencies needs an admin account")
    return principal


AgencyAdminDep = Annotated[Principal, Depends(_agency_admin)]
"""Configures the agencies of its regions."""


def _metrics_reader(services: ServicesDep, bearer: BearerDep) -> None:
    token = services.settings.metrics_token
    if token is None:
        return
    sent = (bearer or "").encode("utf-8", "surrogateescape")
    if not secrets.compare_digest(sent, token.get_secret_value().encode()):
        raise UnauthorizedError(ErrorCode.UNAUTHORIZED, "metrics need the metrics token")


MetricsReaderDep = Annotated[None, Depends(_metrics_reader)]
"""With `CERTIFY_METRICS_TOKEN` set, only `Authorization: Bearer <that token>`."""


def _link_holder(db: DbDep, services: ServicesDep, now: NowDep, page_pass: LinkPassDep) -> PensionerLink:
    return link_for_pass(db, secret=services.settings.secret_key.get_secret_value(), page_pass=page_pass, now=now)


LinkHolderDep = Annotated[PensionerLink, Depends(_link_holder)]
"""The usable link whose page pass (X-Link-Pass) the pensioner's browser sends: it acts
for that one pensioner (403 `link_pass_missing` / `link_pass_invalid` otherwise)."""


class Caller:
    """Who asks about an attempt: maybe a principal, maybe the pensioner's own browser
    (the page pass of a link of theirs), maybe only someone who knows the attempt id.
    Refuses nothing itself; the route answers by what the caller may see."""

    def __init__(self, principal: Principal | None, pass_owner: Callable[[], uuid.UUID | None]) -> None:
        self.principal = principal
        self._pass_owner = pass_owner

    @cached_property
    def pass_pensioner_id(self) -> uuid.UUID | None:
        """The pensioner whose usable link the request's page pass belongs to (looked up
        once, when first asked)."""
        return self._pass_owner()

    def is_pensioner(self, pensioner_id: uuid.UUID) -> bool:
        """The request comes from this pensioner's own browser."""
        return self.pass_pensioner_id == pensioner_id

    def acts_for(self, pensioner: Pensioner) -> bool:
        """A principal who sees the pensioner, or the pensioner's own browser."""
        return (self.principal is not None and sees_pensioner(self.principal, pensioner)) or self.is_pensioner(
            pensioner.id
        )


def _caller(
    principal: OptionalPrincipalDep, page_pass: LinkPassDep, db: DbDep, services: ServicesDep, now: NowDep
) -> Caller:
    secret = services.settings.secret_key.get_secret_value()
    return Caller(principal, lambda: pensioner_of_pass(db, secret=secret, page_pass=page_pass, now=now))


CallerDep = Annotated[Caller, Depends(_caller)]
"""Whoever asks about an attempt (see `Caller`)."""


# --- what a principal may see ----------------------------------------------------------


def may_see_evidence_of(principal: Principal | None, pensioner: Pensioner) -> bool:
    """Evidence belongs to the paying region: staff assisting across regions never see it."""
    return (
        principal is not None and may_see_evidence(principal) and sees_region(principal, pensioner.region_code)
    )


def may_read_results(principal: Principal | None, pensioner: Pensioner) -> bool:
    """A credential of the pensioner's paying region that reads results: its staff,
    reviewers and administrators, an agency key with `results:read`, or the operator.
    (Staff of the region the pensioner lives in assist, but the result is the paying
    region's.)"""
    if principal is None or not sees_region(principal, pensioner.region_code):
        return False
    if principal.kind == AGENCY_KIND:
        return RESULTS_READ in principal.scopes
    return principal.kind in CASEWORKER_KINDS


def may_read_certificates(caller: Caller, pensioner: Pensioner) -> bool:
    """An attempt's certificates: the pensioner's own browser, or `may_read_results`."""
    return may_read_results(caller.principal, pensioner) or caller.is_pensioner(pensioner.id)


def allowed_prefixes(principal: Principal) -> tuple[str, ...] | None:
    """SQL LIKE prefixes of the principal's regions, for lists; None means every region."""
    if "*" in principal.regions:
        return None
    return tuple(region_prefix(r) for r in principal.regions)


_REGION_REFUSAL = "this key or account may not see that region"


def check_sees_region(principal: Principal, region_code: str, *, refusal: str = _REGION_REFUSAL) -> None:
    """403 `region_forbidden` unless `region_code` lies inside the principal's regions
    (the request names the region, so there is nothing to hide)."""
    if not regions_cover(principal.regions, region_code):
        raise ForbiddenError(ErrorCode.REGION_FORBIDDEN, refusal)


def check_region_filter(principal: Principal, region: str | None, *, refusal: str = _REGION_REFUSAL) -> str | None:
    """The region a request names (a filter, a webhook's region), if the principal may
    ask for it: 400 `region_code_invalid` for no division code, else `check_sees_region`."""
    if region is None:
        return None
    if not is_region_code(region):
        raise InvalidInputError(ErrorCode.REGION_CODE_INVALID, "region must be a six-digit division code")
    check_sees_region(principal, region, refusal=refusal)
    return region


class _InRegion(Protocol):
    @property
    def region_code(self) -> str: ...


_Row = TypeVar("_Row", bound=_InRegion)


def rows_in_regions(principal: Principal, rows: Iterable[_Row]) -> list[_Row]:
    """The rows (agencies, webhooks: anything with a region_code) the principal sees."""
    return [row for row in rows if sees_region(principal, row.region_code)]


def visible_pensioner(db: Session, principal: Principal, pensioner_id: uuid.UUID) -> Pensioner:
    """A pensioner of the paying or the residence region; 404 for anyone else."""
    pensioner = get_pensioner(db, pensioner_id)
    if not sees_pensioner(principal, pensioner):
        raise NotFoundError(ErrorCode.PENSIONER_NOT_FOUND, "no such pensioner")
    return pensioner


def _paying_region_of(db: Session, pensioner_id: uuid.UUID) -> str | None:
    pensioner = db.get(Pensioner, pensioner_id)
    return pensioner.region_code if pensioner is not None else None


def visible_record(db: Session, principal: Principal, record_id: uuid.UUID) -> QualificationRecord:
    """A qualification record of the paying region."""
    record = db.get(QualificationRecord, record_id)
    if record is None or not sees_region(principal, _paying_region_of(db, record.pensioner_id)):
        raise NotFoundError(ErrorCode.RECORD_NOT_FOUND, "no such qualification record")
    return record


def visible_certificate(db: Session, principal: Principal, certificate_id: uuid.UUID) -> Certificate:
    """A certificate of the paying region."""
    certificate = db.get(Certificate, certificate_id)
    if certificate is None or not sees_region(principal, _paying_region_of(db, certificate.pensioner_id)):
        raise NotFoundError(ErrorCode.CERTIFICATE_NOT_FOUND, "no such certificate")
    return certificate


def visible_evidence_attempt(db: Session, principal: Principal, attempt_id: uuid.UUID) -> tuple[Attempt, Pensioner]:
    """An attempt whose evidence an `EvidenceReaderDep` may read: of the paying region."""
    attempt = db.get(Attempt, attempt_id)
    pensioner = db.get(Pensioner, attempt.pensioner_id) if attempt is not None else None
    if attempt is None or pensioner is None or not may_see_evidence_of(principal, pensioner):
        raise NotFoundError(ErrorCode.ATTEMPT_NOT_FOUND, "no such attempt")
    return attempt, pensioner


def visible_reference_photo(
    db: Session, principal: Principal, pensioner_id: uuid.UUID, reference_id: uuid.UUID
) -> FaceReference:
    """An enrolled reference photo as evidence: of the paying region, with a stored photo."""
    reference = db.get(FaceReference, reference_id)
    pensioner = db.get(Pensioner, pensioner_id)
    if (
        reference is None
        or pensioner is None
        or reference.pensioner_id != pensioner.id
        or not may_see_evidence_of(principal, pensioner)
        or not reference.photo_key
    ):
        raise NotFoundError(ErrorCode.REFERENCE_NOT_FOUND, "no such reference photo")
    return reference


def visible_reference(db: Session, principal: Principal, reference_id: uuid.UUID) -> tuple[FaceReference, Pensioner]:
    """A reference photo for caseworkers: of the paying or the residence region (who may
    approve it is the use case's rule, service/reference_review.py)."""
    reference = get_reference(db, reference_id)
    pensioner = db.get(Pensioner, reference.pensioner_id)
    if pensioner is None or not sees_pensioner(principal, pensioner):
        raise NotFoundError(ErrorCode.REFERENCE_NOT_FOUND, "no such reference photo")
    return reference, pensioner


def visible_review(db: Session, principal: Principal, attempt_id: uuid.UUID) -> tuple[Review, Attempt, Pensioner]:
    """The review of an attempt of the paying region."""
    review, attempt, pensioner = get_review(db, attempt_id=attempt_id)
    if not sees_region(principal, pensioner.region_code):
        raise NotFoundError(ErrorCode.REVIEW_NOT_FOUND, "no review for this attempt")
    return review, attempt, pensioner


def visible_hold(
    db: Session, principal: Principal, review_id: uuid.UUID
) -> tuple[Review, Pensioner, Pensioner | None]:
    """An enrolment on hold, seen from either enrolment's paying region (who may decide
    it is the use case's rule, service/holds.py)."""
    review, held, other = get_hold(db, review_id=review_id)
    if not (sees_region(principal, held.region_code) or (other is not None and sees_region(principal, other.region_code))):
        raise NotFoundError(ErrorCode.REVIEW_NOT_FOUND, "no such review")
    return review, held, other


def visible_life_event(db: Session, principal: Principal, event_id: uuid.UUID) -> LifeEvent:
    """A proof-of-life event of the paying region."""
    event = db.get(LifeEvent, event_id)
    if event is None or not sees_region(principal, _paying_region_of(db, event.pensioner_id)):
        raise NotFoundError(ErrorCode.LIFE_EVENT_NOT_FOUND, "no such event")
    return event


def visible_export(db: Session, principal: Principal, job_id: uuid.UUID) -> ExportJob:
    """An export, to its requester or to a principal that sees every region it covers."""
    job = db.get(ExportJob, job_id)
    if job is None:
        raise NotFoundError(ErrorCode.EXPORT_NOT_FOUND, "no such export")
    if job.requested_by == principal.actor_id:
        return job
    region = job.filters.get("region")
    covered = [region] if region else job.principal_regions
    if "*" in principal.regions or ("*" not in covered and all(regions_cover(principal.regions, r) for r in covered)):
        return job
    raise NotFoundError(ErrorCode.EXPORT_NOT_FOUND, "no such export")


def _visible_bulk_job(db: Session, principal: Principal, job_id: uuid.UUID, kind: str) -> EnrolmentJob | None:
    job = db.get(EnrolmentJob, job_id)
    if job is None or job.kind != kind or not (job.requested_by == principal.actor_id or principal.kind == OPERATOR_KIND):
        return None
    return job


def visible_enrolment(db: Session, principal: Principal, job_id: uuid.UUID) -> EnrolmentJob:
    """A bulk enrolment, to its requester or the operator."""
    job = _visible_bulk_job(db, principal, job_id, BulkKind.ENROLMENT)
    if job is None:
        raise NotFoundError(ErrorCode.ENROLMENT_NOT_FOUND, "no such enrolment")
    return job


def visible_death_reports(db: Session, principal: Principal, job_id: uuid.UUID) -> EnrolmentJob:
    """A file of deaths (bulk job), to its requester or the operator."""
    job = _visible_bulk_job(db, principal, job_id, BulkKind.DEATHS)
    if job is None:
        raise NotFoundError(ErrorCode.DEATH_REPORTS_NOT_FOUND, "no such file of deaths")
    return job


def visible_webhook(db: Session, principal: Principal, webhook_id: uuid.UUID) -> Webhook:
    """A webhook of the principal's regions."""
    webhook = db.get(Webhook, webhook_id)
    if webhook is None or not sees_region(principal, webhook.region_code):
        raise NotFoundError(ErrorCode.WEBHOOK_NOT_FOUND, "no such webhook")
    return webhook


def visible_link(db: Session, principal: Principal, link_id: uuid.UUID) -> PensionerLink:
    """A one-time link of a pensioner the principal sees."""
    link = db.get(PensionerLink, link_id)
    if link is None or not sees_pensioner(principal, get_pensioner(db, link.pensioner_id)):
        raise NotFoundError(ErrorCode.LINK_NOT_FOUND, "no such link")
    return link
