"""Every route names its permission (api/permissions.py), and the policy's small rules.

The app's routes are listed from the app itself, so a route added later is checked too:
it must depend on one of the permission aliases, or be allowed here on purpose.
"""

from __future__ import annotations

import typing
from pathlib import Path

import pytest
from fastapi import FastAPI, routing

from api import create_app, permissions
from api.auth import Principal
from api.credentials import NonceDep
from models import Pensioner
from service.accounts import SCOPES
from service.errors import ForbiddenError, InvalidInputError
from service.settings import Settings

PUBLIC_ROUTES = {
    # the service itself and its documentation
    ("GET", "/healthz"),
    ("GET", "/readyz"),
    ("GET", "/openapi.json"),
    ("GET", "/docs"),
    ("MOUNT", "/docs/assets"),
    # signing in and out (logout ends the sign-in its own cookie names)
    ("POST", "/v1/auth/login"),
    ("POST", "/v1/auth/logout"),
    # the one-time link's token is the credential; redeeming it hands out the page pass
    ("POST", "/v1/links/redeem"),
    # anyone may check a certificate, online or offline with the agency's public key
    ("POST", "/v1/certificates/verify"),
    ("GET", "/v1/agencies/{region_code}/public-key"),
    # the pages: static shells, everything they show comes through the checked API
    ("GET", "/"),
    ("GET", "/l"),
    ("GET", "/l/"),
    ("GET", "/l/{token}"),
    ("GET", "/r/{attempt_id}"),
    ("GET", "/i18n/{lang}.json"),
    ("GET", "/staff"),
    ("GET", "/staff/login"),
    ("GET", "/staff/cases"),
    ("GET", "/staff/cases/{pensioner_id}"),
    ("GET", "/staff/cases/{pensioner_id}/assist"),
    ("GET", "/staff/cases/{pensioner_id}/photo"),
    ("GET", "/staff/approvals"),
    ("GET", "/agency"),
    ("GET", "/agency/results"),
    ("GET", "/agency/reviews"),
    ("GET", "/agency/watch"),
    ("GET", "/agency/dashboard"),
    ("GET", "/agency/fairness"),
    ("GET", "/agency/assets/{name}"),
    ("MOUNT", "/static"),
}
"""Routes anyone may call, each for the reason noted above it."""

NONCE_ROUTES = {
    ("POST", "/v1/pensioners/{pensioner_id}/sessions/{session_id}/video"),
    ("POST", "/v1/pensioners/{pensioner_id}/sessions/{session_id}/uploads"),
    ("GET", "/v1/uploads/{upload_id}"),
    ("PUT", "/v1/uploads/{upload_id}/chunks/{index}"),
    ("POST", "/v1/uploads/{upload_id}/complete"),
}
"""The recording of a session is sent with the session's nonce (X-Session-Nonce), which
the use case checks (service/certification.py, service/uploads.py): these routes must
read it."""


def _app(tmp_path: Path) -> FastAPI:
    """The app, built only to list its routes (it connects to nothing)."""
    return create_app(Settings(var_dir=tmp_path, database_url=f"sqlite:///{tmp_path}/routes.db"))


def _routes(app: FastAPI) -> list:
    iterate = getattr(routing, "iter_route_contexts", None)  # routers included by reference
    return list(iterate(app.routes)) if iterate is not None else list(app.routes)


def _calls(dependant) -> set:
    """Every dependency callable a route's dependant reaches, however deep."""
    found = set()
    for dependency in dependant.dependencies:
        found.add(dependency.call)
        found |= _calls(dependency)
    return found


def _dependency_of(alias) -> object:
    return typing.get_args(alias)[1].dependency


def _permission_checks() -> dict[object, str]:
    aliases = {name: getattr(permissions, name) for name in permissions.__all__ if name.endswith("Dep")}
    return {_dependency_of(alias): name for name, alias in aliases.items()}


def _route_keys(app: FastAPI) -> dict[tuple[str, str], object]:
    keys = {}
    for route in _routes(app):
        dependant = getattr(route, "dependant", None)
        methods = sorted((route.methods or set()) - {"HEAD"}) or ["MOUNT"]
        for method in methods:
            keys[(method, route.path)] = dependant
    return keys


def test_every_route_names_its_permission_or_is_allowed_here(tmp_path):
    checks = _permission_checks()
    nonce = _dependency_of(NonceDep)
    unchecked = []
    for key, dependant in _route_keys(_app(tmp_path)).items():
        if key in PUBLIC_ROUTES:
            continue
        calls = _calls(dependant) if dependant is not None else set()
        if key in NONCE_ROUTES:
            assert nonce in calls, f"{key} does not read the session nonce"
            continue
        if not calls & checks.keys():
            unchecked.append(key)
    assert not unchecked, (
        "these routes depend on no permission of api/permissions.py (name one, or allow the route in "
        f"tests/unit/test_permissions.py with its reason): {sorted(unchecked)}"
    )


def test_the_allow_lists_name_only_routes_that_exist(tmp_path):
    keys = _route_keys(_app(tmp_path)).keys()
    assert PUBLIC_ROUTES - keys == set()
    assert NONCE_ROUTES - keys == set()


def test_a_bare_principal_is_not_a_permission():
    """`PrincipalDep` only says someone is known; a route names what that someone may do."""
    from api.auth import PrincipalDep

    assert _dependency_of(PrincipalDep) not in _permission_checks()


def test_the_scopes_are_the_scopes_keys_are_given():
    assert permissions.API_KEY_SCOPES == SCOPES


def _principal(kind: str, *regions: str, scopes: tuple[str, ...] = ()) -> Principal:
    return Principal(kind=kind, actor_id=f"{kind}:1", regions=regions, scopes=frozenset(scopes))


def _pensioner(region: str, residence: str | None = None) -> Pensioner:
    return Pensioner(region_code=region, residence_region_code=residence)


@pytest.mark.parametrize(
    ("principal", "sees"),
    [
        (_principal("reviewer", "310000"), True),
        (_principal("admin", "310104"), True),
        (_principal("operator", "*"), True),
        (_principal("agency", "310000", scopes=("evidence:read",)), True),
        (_principal("agency", "310000", scopes=("results:read",)), False),
        (_principal("staff", "310104"), False),  # staff never see evidence
        (_principal("reviewer", "110000"), False),  # the residence region's reviewer
    ],
)
def test_evidence_belongs_to_the_paying_region(principal, sees):
    commuter = _pensioner("310104", residence="110105")
    assert permissions.may_see_evidence_of(principal, commuter) is sees


def test_residence_staff_assist_but_read_neither_evidence_nor_results():
    commuter = _pensioner("310104", residence="110105")
    beijing_staff = _principal("staff", "110105")
    shanghai_staff = _principal("staff", "310000")
    assert not permissions.may_see_evidence_of(beijing_staff, commuter)
    assert not permissions.may_read_results(beijing_staff, commuter)
    assert permissions.may_read_results(shanghai_staff, commuter)
    assert not permissions.may_read_results(_principal("agency", "310000"), commuter)
    assert permissions.may_read_results(_principal("agency", "310000", scopes=("results:read",)), commuter)


def test_a_named_region_outside_ones_own_is_refused_and_a_bad_code_is_invalid():
    guangdong = _principal("agency", "440000")
    assert permissions.check_region_filter(guangdong, None) is None
    assert permissions.check_region_filter(guangdong, "440300") == "440300"  # Shenzhen lies inside
    with pytest.raises(ForbiddenError) as refused:
        permissions.check_region_filter(guangdong, "110000")
    assert refused.value.code == "region_forbidden"
    with pytest.raises(InvalidInputError) as invalid:
        permissions.check_region_filter(guangdong, "99")
    assert invalid.value.code == "region_code_invalid"
    assert permissions.check_region_filter(_principal("operator", "*"), "110000") == "110000"


def test_list_prefixes_follow_the_regions():
    assert permissions.allowed_prefixes(_principal("operator", "*")) is None
    assert permissions.allowed_prefixes(_principal("agency", "440000", "110105")) == ("44", "110105")
