"""The `certify` command line: serve, worker, check, enrol, demo, db upgrade."""

from __future__ import annotations

import json
import logging
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Annotated

import typer

from service.settings import Settings, get_settings

app = typer.Typer(
    help="certify: proof-of-life certification for pensions.",
    no_args_is_help=True,
    add_completion=False,
)
db_app = typer.Typer(help="Database schema.", no_args_is_help=True)
app.add_typer(db_app, name="db")



def _logging(verbose: bool = False) -> None:
    from service.logs import configure_logging

    configure_logging(get_settings(), level=logging.DEBUG if verbose else logging.INFO)


@db_app.command("upgrade")
def db_upgrade(revision: str = "head") -> None:
    """Apply the Alembic migrations to DATABASE_URL."""
    from models.migrate import upgrade

    settings = get_settings()
    upgrade(settings.database_url, revision)
    typer.echo(f"database at {revision}: {settings.database_url.split('@')[-1]}")


@app.command()
def worker(
    burst: Annotated[bool, typer.Option(help="Stop when the queue is empty.")] = False,
    simple: Annotated[bool, typer.Option(help="Run jobs in this process (no fork).")] = False,
) -> None:
    """Run one RQ worker: loads the face models once, then processes certification jobs."""
    from workers.worker import run_worker

    _logging()
    run_worker(get_settings(), burst=burst, simple=simple)


def _maintain_forever(settings: Settings, stop: threading.Event) -> None:
    from service.context import build_services
    from service.maintenance import maintain_forever
    from workers.runtime import install_services

    services = build_services(settings)
    install_services(services)  # RQ's registry cleanup may run the job failure callback here
    try:
        maintain_forever(services, stop)
    finally:
        services.close()


@app.command()
def maintain(
    once: Annotated[bool, typer.Option(help="Run one pass and exit (for cron).")] = False,
) -> None:
    """Housekeeping: enqueue attempts that missed the queue, re-enqueue stuck ones, purge
    raw videos past their retention. `certify serve` does this itself; run one `certify
    maintain` per deployment when the API runs with several replicas or not at all."""
    from service.context import build_services
    from service.maintenance import run_maintenance_pass
    from workers.runtime import install_services

    _logging()
    settings = get_settings()
    if once:
        services = build_services(settings)
        install_services(services)
        try:
            report = run_maintenance_pass(services, force_retention=True)
            typer.echo(json.dumps(report.__dict__))
        finally:
            services.close()
        return
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        _maintain_forever(settings, stop)
    except KeyboardInterrupt:
        stop.set()


@app.command()
def serve(
    host: str = "127.0.0.1",
    port: int = 8000,
    workers: Annotated[int, typer.Option(help="Worker processes to start (0: none).")] = 1,
    demo: Annotated[bool, typer.Option(help="Enrol demo pensioners from the data folder.")] = True,
) -> None:
    """Run everything: migrations, embedded Redis if REDIS_URL is unset, workers, the API."""
    import uvicorn

    from api import create_app
    from models.migrate import upgrade
    from service.context import build_services
    from service.demo import load_demo_data
    from service.embedded_redis import EmbeddedRedis

    _logging()
    log = logging.getLogger("certify.serve")
    settings = get_settings()
    embedded: EmbeddedRedis | None = None
    if not settings.redis_url:
        embedded = EmbeddedRedis(settings.var_dir / "redis.rdb")
        settings = settings.model_copy(update={"redis_url": embedded.url})
        log.info("embedded Redis at %s", embedded.url)
    upgrade(settings.database_url)
    services = build_services(settings)
    if demo and settings.demo_data:
        load_demo_data(services, settings.data_dir)

    env = dict(os.environ, REDIS_URL=settings.redis_url or "", DATABASE_URL=settings.database_url)
    children = [
        subprocess.Popen([sys.executable, "-m", "cli.main", "worker"], env=env)
        for _ in range(workers)
    ]
    stop = threading.Event()
    dispatcher = threading.Thread(target=_maintain_forever, args=(settings, stop), daemon=True)
    dispatcher.start()
    try:
        log.info("API on http://%s:%d (docs at /docs)", host, port)
        # log_config=None: uvicorn's loggers go through our scrubbing handler (text or JSON)
        uvicorn.run(create_app(services=services), host=host, port=port, log_config=None)
    finally:
        stop.set()
        for child in children:
            child.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + 15
        for child in children:
            try:
                child.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                child.kill()
        services.close()
        if embedded is not None:
            embedded.stop()


@app.command()
def check(
    video: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="Selfie video")],
    reference: Annotated[
        list[Path], typer.Option("--reference", "-r", exists=True, dir_okay=False)
    ],
    challenge: Annotated[str, typer.Option(help="Actions in order, e.g. blink,turn_left")],
    digits: Annotated[str | None, typer.Option(help="Four digits read aloud")] = None,
    mirrored: Annotated[bool, typer.Option(help="The recording is mirrored")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object")] = False,
) -> None:
    """Run the certification pipeline locally on one video and print the decision."""
    from certify import (
        ChallengeError,
        ImageError,
        VideoError,
        assess,
        check_reference_photo,
        decode_video,
        load_dlib_backend,
        load_image,
        parse_challenge,
    )

    try:
        parsed = parse_challenge(challenge, digits=digits, mirrored=mirrored)
    except ChallengeError as exc:
        raise typer.BadParameter(str(exc), param_hint="--challenge") from None
    backend = load_dlib_backend()
    embeddings = []
    for path in reference:
        try:
            photo = check_reference_photo(load_image(path.read_bytes()), backend=backend)
        except ImageError as exc:
            raise typer.BadParameter(f"{path}: {exc}", param_hint="--reference") from None
        if photo.embedding is None:
            reason = photo.reason.value if photo.reason else "unusable"
            raise typer.BadParameter(f"{path}: {reason}", param_hint="--reference")
        embeddings.append(photo.embedding)
    try:
        decoded = decode_video(video)
    except VideoError as exc:
        report = {"decision": "failed", "reasons": [exc.reason.value], "match_distance": None,
                  "actions": [], "timings_ms": {}, "error": exc.message}
    else:
        report = assess(decoded, parsed, embeddings, backend=backend).to_json()
    if as_json:
        typer.echo(json.dumps(report, ensure_ascii=False))
    else:
        typer.echo(format_report(report))
    raise typer.Exit(0 if report["decision"] == "passed" else 1)


def format_report(report: dict) -> str:
    """A short human-readable rendering of an assessment's JSON."""
    lines = [f"decision: {report['decision']}"]
    if report.get("reasons"):
        lines.append(f"reasons:  {', '.join(report['reasons'])}")
    distance = report.get("match_distance")
    lines.append(f"match distance: {'-' if distance is None else f'{distance:.3f}'}")
    for action in report.get("actions", []):
        lines.append(
            f"  action {action['name']:<11} at {action['t_ms'] / 1000:6.2f} s"
            f"  strength {action['strength']:.2f}"
        )
    for name, value in sorted(report.get("scores", {}).items()):
        lines.append(f"  score {name:<24} {value:.3f}")
    timings = report.get("timings_ms", {})
    if timings:
        lines.append("timings: " + ", ".join(f"{k} {v:.0f} ms" for k, v in timings.items()))
    if report.get("thresholds_version"):
        lines.append(f"thresholds: {report['thresholds_version']}  engine: {report.get('engine_version')}")
    if report.get("error"):
        lines.append(f"error: {report['error']}")
    return "\n".join(lines)


@app.command()
def enrol(
    name: Annotated[str, typer.Option(help="Full name")],
    national_id: Annotated[str, typer.Option(help="GB 11643 national ID number")],
    region: Annotated[str, typer.Option(help="Paying region code (6 digits)")],
    photos: Annotated[list[Path], typer.Argument(exists=True, dir_okay=False)],
    phone: Annotated[str | None, typer.Option()] = None,
) -> None:
    """Enrol one pensioner with one or more reference photos (all or nothing)."""
    from models.db import session_scope
    from service.context import build_services
    from service.errors import ServiceError
    from service.pensioners import create_pensioner
    from service.references import enrol_photo

    services = build_services(get_settings())
    try:
        with session_scope(services.sessions) as db:
            now = services.clock()
            pensioner = create_pensioner(
                db,
                keyring=services.keyring,
                secret=services.settings.secret_key.get_secret_value(),
                name=name,
                national_id=national_id,
                region_code=region,
                phone=phone,
                now=now,
            )
            for photo in photos:
                try:
                    enrol_photo(
                        db, services=services, pensioner_id=pensioner.id,
                        photo=photo.read_bytes(), now=now, created_by="cli",
                    )
                except ServiceError as exc:
                    raise ServiceError(exc.code, f"{photo}: {exc.message}") from None
            db.commit()
            typer.echo(json.dumps({"id": str(pensioner.id), "references": len(photos)}))
    except ServiceError as exc:
        typer.echo(f"error: {exc.code}: {exc.message}", err=True)
        raise typer.Exit(2) from None
    finally:
        services.close()


staff_app = typer.Typer(help="Staff accounts.", no_args_is_help=True)
app.add_typer(staff_app, name="staff")
apikey_app = typer.Typer(help="Agency API keys.", no_args_is_help=True)
app.add_typer(apikey_app, name="apikey")


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
    from service.context import build_services
    from service.errors import ServiceError

    services = build_services(get_settings())
    try:
        with session_scope(services.sessions) as db:
            user = create_staff(
                db, username=username, password=password, display_name=name or username,
                role=role, region_code=region, now=services.clock(),
            )
            db.commit()
            typer.echo(json.dumps({"id": str(user.id), "username": user.username, "role": user.role}))
    except ServiceError as exc:
        typer.echo(f"error: {exc.code}: {exc.message}", err=True)
        raise typer.Exit(2) from None
    finally:
        services.close()


@apikey_app.command("create")
def apikey_create(
    agency: Annotated[str, typer.Option(help="Agency name")],
    scope: Annotated[list[str], typer.Option(help="Repeat for each scope, e.g. results:read")],
    region: Annotated[list[str], typer.Option(help="Repeat for each region code")],
) -> None:
    """Create an agency API key; the key is printed once and never stored."""
    from models.db import session_scope
    from service.accounts import create_api_key
    from service.context import build_services
    from service.errors import ServiceError

    services = build_services(get_settings())
    try:
        with session_scope(services.sessions) as db:
            row, key = create_api_key(
                db, agency=agency, scopes=scope, regions=region, now=services.clock()
            )
            db.commit()
            typer.echo(json.dumps({"id": str(row.id), "key": key, "scopes": row.scopes, "regions": row.regions}))
    except ServiceError as exc:
        typer.echo(f"error: {exc.code}: {exc.message}", err=True)
        raise typer.Exit(2) from None
    finally:
        services.close()


@app.command()
def demo() -> None:
    """Enrol the demo pensioners from the data folder (skips those already there)."""
    from service.context import build_services
    from service.demo import load_demo_data

    _logging()
    settings = get_settings()
    services = build_services(settings)
    try:
        added = load_demo_data(services, settings.data_dir)
        typer.echo(f"{added} demo pensioners added")
    finally:
        services.close()


def main() -> None:
    app()


if __name__ == "__main__":
    main()
