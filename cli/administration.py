"""The operator's administration, straight on the database: `enrol`, and the `staff`,
`apikey`, `link` and `agency` groups. Each command calls the same use case as the API's
equivalent, as the operator (service/actors.py `OPERATOR`), so the audit log reads alike
whichever door was used."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from service.settings import get_settings

from .context import services_for_command

__all__ = [
    "agency_app",
    "agency_set",
    "apikey_app",
    "apikey_create",
    "enrol",
    "link_app",
    "link_create",
    "staff_activate",
    "staff_add",
    "staff_app",
    "staff_deactivate",
    "staff_password",
]

link_app = typer.Typer(help="One-time pensioner links.", no_args_is_help=True)
staff_app = typer.Typer(help="Staff accounts.", no_args_is_help=True)
apikey_app = typer.Typer(help="Agency API keys.", no_args_is_help=True)
agency_app = typer.Typer(help="Pension agencies (period rules, signing keys).", no_args_is_help=True)


def enrol(
    name: Annotated[str, typer.Option(help="Full name")],
    national_id: Annotated[str, typer.Option(help="GB 11643 national ID number")],
    region: Annotated[str, typer.Option(help="Paying region code (6 digits)")],
    photos: Annotated[list[Path], typer.Argument(exists=True, dir_okay=False)],
    phone: Annotated[str | None, typer.Option()] = None,
) -> None:
    """Enrol one pensioner with one or more reference photos (all or nothing)."""
    from models.db import session_scope
    from service.actors import OPERATOR
    from service.enrolment import add_reference_photo, enrol_pensioner
    from service.errors import ServiceError

    with services_for_command() as services, session_scope(services.sessions) as db:
        now = services.clock()
        pensioner = enrol_pensioner(
            db,
            services=services,
            enrolled_by=OPERATOR,
            name=name,
            national_id=national_id,
            region_code=region,
            phone=phone,
            now=now,
        )
        for photo in photos:
            try:
                add_reference_photo(
                    db, services=services, pensioner_id=pensioner.id,
                    photo=photo.read_bytes(), added_by=OPERATOR, now=now,
                )
            except ServiceError as exc:
                raise ServiceError(exc.code, f"{photo}: {exc.message}") from None
        db.commit()
        typer.echo(json.dumps({"id": str(pensioner.id), "references": len(photos)}))


@link_app.command("create")
def link_create(
    pensioner: Annotated[str, typer.Option(help="Pensioner id")],
    ttl_days: Annotated[int | None, typer.Option(help="Days the link stays valid")] = None,
) -> None:
    """Make a one-time link for a pensioner; prints the URL to send (shown only once)."""
    import uuid

    from api.routes.links import link_url
    from models.db import session_scope
    from service.audit import record_audit
    from service.links import create_link

    try:
        pensioner_id = uuid.UUID(pensioner)
    except ValueError:
        raise typer.BadParameter("not a pensioner id", param_hint="--pensioner") from None
    settings = get_settings()
    ttl_s = settings.link_ttl_s if ttl_days is None else ttl_days * 86400
    with services_for_command(settings) as services, session_scope(services.sessions) as db:
        now = services.clock()
        issued = create_link(
            db, secret=settings.secret_key.get_secret_value(), pensioner_id=pensioner_id,
            created_by="cli", ttl_s=min(ttl_s, settings.max_link_ttl_s), now=now,
        )
        record_audit(
            db, actor_type="operator", actor_id="cli", action="link.create",
            subject_type="pensioner", subject_id=str(pensioner_id), now=now,
            details={"link_id": str(issued.link.id)},
        )
        db.commit()
        typer.echo(json.dumps({
            "id": str(issued.link.id),
            "url": link_url(settings.public_base_url, issued.token),
            "expires_at": issued.link.expires_at.isoformat(),
        }))


@staff_app.command("add")
def staff_add(
    username: Annotated[str, typer.Option()],
    region: Annotated[str, typer.Option(help="Region code the account works in")],
    role: Annotated[str, typer.Option(help="staff, reviewer or admin")] = "staff",
    name: Annotated[str, typer.Option(help="Display name")] = "",
    password: Annotated[
        str, typer.Option(prompt=True, hide_input=True, confirmation_prompt=True)
    ] = "",
) -> None:
    """Create a staff account (the password is asked for and stored as an argon2 hash)."""
    from models.db import session_scope
    from service.accounts import create_staff

    with services_for_command() as services, session_scope(services.sessions) as db:
        user = create_staff(
            db, username=username, password=password, display_name=name or username,
            role=role, region_code=region, now=services.clock(),
        )
        db.commit()
        typer.echo(json.dumps({"id": str(user.id), "username": user.username, "role": user.role}))


def _change_staff(username: str, change) -> None:  # noqa: ANN001 - change(db, user, now) -> int
    from models.db import session_scope
    from service.accounts import get_staff_by_username

    with services_for_command() as services, session_scope(services.sessions) as db:
        user = get_staff_by_username(db, username)
        ended = change(db, user, services.clock())
        db.commit()
        typer.echo(json.dumps({"username": user.username, "active": user.active, "sign_ins_ended": ended}))


@staff_app.command("password")
def staff_password(
    username: Annotated[str, typer.Option()],
    password: Annotated[
        str, typer.Option(prompt="New password", hide_input=True, confirmation_prompt=True)
    ] = "",
) -> None:
    """Set a new password; every sign-in made with the old one ends at once."""
    from service.accounts import set_staff_password

    _change_staff(username, lambda db, user, now: set_staff_password(db, user=user, password=password, now=now))


@staff_app.command("deactivate")
def staff_deactivate(username: Annotated[str, typer.Option()]) -> None:
    """Deactivate an account: it cannot sign in, and its sign-ins end at once."""
    from service.accounts import set_staff_active

    _change_staff(username, lambda db, user, now: set_staff_active(db, user=user, active=False, now=now))


@staff_app.command("activate")
def staff_activate(username: Annotated[str, typer.Option()]) -> None:
    """Activate an account again (it signs in anew)."""
    from service.accounts import set_staff_active

    _change_staff(username, lambda db, user, now: set_staff_active(db, user=user, active=True, now=now))


@apikey_app.command("create")
def apikey_create(
    agency: Annotated[str, typer.Option(help="Agency name")],
    scope: Annotated[list[str], typer.Option(help="Repeat for each scope, e.g. results:read")],
    region: Annotated[list[str], typer.Option(help="Repeat for each region code")],
) -> None:
    """Create an agency API key; the key is printed once and never stored."""
    from models.db import session_scope
    from service.accounts import create_api_key

    with services_for_command() as services, session_scope(services.sessions) as db:
        row, key = create_api_key(
            db, agency=agency, scopes=scope, regions=region, now=services.clock()
        )
        db.commit()
        typer.echo(json.dumps({"id": str(row.id), "key": key, "scopes": row.scopes, "regions": row.regions}))


@agency_app.command("set")
def agency_set(
    region: Annotated[str, typer.Argument(help="Region code the agency pays (province, city or county)")],
    name: Annotated[str, typer.Option(help="Agency name")],
    period_kind: Annotated[str, typer.Option(help="calendar_year or rolling_12_months")] = "calendar_year",
    grace_days: Annotated[int, typer.Option(help="Days after the period before records are overdue")] = 0,
    suspend_after_days: Annotated[int | None, typer.Option(help="Suspend overdue records after N days")] = None,
    data_match_source: Annotated[list[str] | None, typer.Option(help="Accepted proof-of-life source (repeat)")] = None,
) -> None:
    """Create or change the agency of a region; prints its public key (PEM)."""
    from models.db import session_scope
    from service.actors import OPERATOR
    from service.agencies import public_key_pem, set_agency

    with services_for_command() as services, session_scope(services.sessions) as db:
        agency = set_agency(
            db, keyring=services.keyring, actor=OPERATOR, region_code=region, name=name,
            now=services.clock(), period_kind=period_kind, grace_days=grace_days,
            suspend_after_days=suspend_after_days, data_match_sources=list(data_match_source or []),
        )
        db.commit()
        typer.echo(json.dumps({"id": str(agency.id), "region": agency.region_code,
                               "key_id": agency.signing_key_id}, ensure_ascii=False))
        typer.echo(public_key_pem(agency), nl=False)
