"""Who acts, as the use cases see it: a kind, an id and the regions it sees.

The API's `Principal` (api/auth.py) is one; the command line and background jobs use a
`SystemActor`. Use cases that depend on who acts (which reference photos need a second
look, which duplicate enrolments may be told) take an `Actor`, so every door applies
the same rule.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from models import Pensioner, StaffRole

from .rules.regions import region_matches

__all__ = ["Actor", "SystemActor", "regions_cover", "sees_region", "sees_pensioner", "REVIEWING_KINDS", "OPERATOR"]

REVIEWING_KINDS = frozenset({"operator", StaffRole.REVIEWER, StaffRole.ADMIN})
"""Kinds of actor whose decision counts as a reviewer's (in the regions they see)."""


class Actor(Protocol):
    @property
    def kind(self) -> str:
        """operator | staff | reviewer | admin | agency | a system kind (cli, bulk)"""
        ...

    @property
    def actor_id(self) -> str: ...

    @property
    def regions(self) -> tuple[str, ...]:
        """Region codes the actor sees; ("*",) means every region."""
        ...


@dataclass(frozen=True)
class SystemActor:
    """An actor that is not a request: the command line, a background job."""

    kind: str
    actor_id: str
    regions: tuple[str, ...] = ("*",)


OPERATOR = SystemActor(kind="operator", actor_id="cli")
"""The command line, run by whoever operates the service (every region)."""


def regions_cover(regions: Sequence[str], code: str | None) -> bool:
    """True when the region `code` lies inside one of `regions` ("*": all of them)."""
    if code is None:
        return False
    return "*" in regions or any(region_matches(code, r) for r in regions)


def sees_region(actor: Actor, code: str | None) -> bool:
    return regions_cover(actor.regions, code)


def sees_pensioner(actor: Actor, pensioner: Pensioner) -> bool:
    """Paying region, or (for staff assisting away from home) the residence region."""
    return sees_region(actor, pensioner.region_code) or sees_region(actor, pensioner.residence_region_code)
