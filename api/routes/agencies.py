"""Agencies: period rules per region and the public keys that verify their certificates."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import PlainTextResponse
from sqlalchemy import select

from models import Agency
from service.agencies import public_key_pem, set_agency
from service.error_codes import ErrorCode
from service.errors import NotFoundError

from ..agency_schemas import AgencyCreate, AgencyPublic
from ..deps import DbDep, NowDep, ServicesDep, client_ip
from ..permissions import AgencyAdminDep, AnyPrincipalDep, check_region_filter, rows_in_regions

__all__ = ["router", "list_agencies", "put_agency", "public_key"]

router = APIRouter(prefix="/v1/agencies", tags=["agency: agencies"])


def _agency(db, region_code: str) -> Agency:
    agency = db.scalar(select(Agency).where(Agency.region_code == region_code))
    if agency is None:
        raise NotFoundError(ErrorCode.AGENCY_NOT_FOUND, "no agency is configured for this region")
    return agency


@router.get("", response_model=list[AgencyPublic])
def list_agencies(db: DbDep, principal: AnyPrincipalDep) -> list[AgencyPublic]:
    """The agencies of the regions the caller sees."""
    agencies = db.scalars(select(Agency).order_by(Agency.region_code)).all()
    return [AgencyPublic.of(a, public_key_pem(a)) for a in rows_in_regions(principal, agencies)]


@router.put("/{region_code}", response_model=AgencyPublic)
def put_agency(
    region_code: str, body: AgencyCreate, request: Request, db: DbDep, services: ServicesDep,
    now: NowDep, principal: AgencyAdminDep,
) -> AgencyPublic:
    """Create or change the agency of a region (admin): period kind, grace, suspension,
    accepted proof-of-life sources. A new agency gets a fresh Ed25519 signing key."""
    check_region_filter(principal, region_code, refusal="you cannot configure this region")
    agency = set_agency(
        db, keyring=services.keyring, actor=principal, region_code=region_code, name=body.name, now=now,
        period_kind=body.period_kind, grace_days=body.grace_days, suspend_after_days=body.suspend_after_days,
        data_match_sources=body.data_match_sources, ip=client_ip(request),
    )
    db.commit()
    return AgencyPublic.of(agency, public_key_pem(agency))


@router.get("/{region_code}/public-key", response_class=PlainTextResponse)
def public_key(region_code: str, db: DbDep) -> PlainTextResponse:
    """The agency's Ed25519 public key (PEM): anyone may fetch it to verify certificates offline."""
    agency = _agency(db, region_code)
    return PlainTextResponse(
        public_key_pem(agency), headers={"X-Certify-Key-Id": agency.signing_key_id}
    )
