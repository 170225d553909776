"""Which principal may do what, and the region checks every route applies.

Resources outside a principal's regions answer 404 (as if they did not exist), never
403, so region isolation does not leak which pensioners exist elsewhere.
"""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import Depends
from sqlalchemy.orm import Session

from models import Pensioner, StaffRole
from service.errors import ForbiddenError, NotFoundError
from service.pensioners import get_pensioner

from .auth import Principal, PrincipalDep

__all__ = [
    "visible_pensioner",
    "may_see_evidence",
    "EnrolerDep",
    "CaseworkerDep",
    "ENROL_SCOPE",
    "EVIDENCE_SCOPE",
]

ENROL_SCOPE = "pensioners:write"
EVIDENCE_SCOPE = "evidence:read"


def visible_pensioner(db: Session, principal: Principal, pensioner_id: uuid.UUID) -> Pensioner:
    pensioner = get_pensioner(db, pensioner_id)
    if not principal.sees_pensioner(pensioner):
        raise NotFoundError("pensioner_not_found", "no such pensioner")
    return pensioner


def may_see_evidence(principal: Principal | None) -> bool:
    """Scores, key frames and action timelines: biometric evidence."""
    if principal is None:
        return False
    if principal.kind in ("operator", StaffRole.ADMIN, StaffRole.REVIEWER):
        return True
    return principal.kind == "agency" and EVIDENCE_SCOPE in principal.scopes


def _enroler(principal: PrincipalDep) -> Principal:
    if principal.kind in ("operator", StaffRole.ADMIN, StaffRole.STAFF):
        return principal
    if principal.kind == "agency" and ENROL_SCOPE in principal.scopes:
        return principal
    raise ForbiddenError("forbidden", "enrolment needs a staff account or an enrolment API key")


EnrolerDep = Annotated[Principal, Depends(_enroler)]
"""May create pensioners and add reference photos (in their regions)."""


def _caseworker(principal: PrincipalDep) -> Principal:
    if principal.kind in ("operator", StaffRole.ADMIN, StaffRole.STAFF, StaffRole.REVIEWER):
        return principal
    raise ForbiddenError("forbidden", "this needs a staff account")


CaseworkerDep = Annotated[Principal, Depends(_caseworker)]
"""Staff-side people who open sessions and follow pensioners (in their regions)."""
