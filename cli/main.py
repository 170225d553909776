"""The `certify` command line: serve, worker, check, enrol, demo, db upgrade, and the
agency commands: bulk-enrol, export, verify, sweep, agency set."""

from __future__ import annotations

import contextlib
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
    from service.infra.logs import configure_logging

    configure_logging(get_settings(), level=logging.DEBUG if verbose else logging.INFO)


@db_app.command("upgrade")
def db_upgrade(revision: str = "head") -> None:
    """Apply the Alembic migrations to DATABASE_URL."""
    from models.migrate import upgrade

    settings = get_settings()
    upgrade(settings.database_url, revision)
    typer.echo(f"database at {revision}: {settings.database_url.split('@')[-1]}")


def _lanes(values: list[str] | None):
    from service.jobs import LANES, parse_lanes

    if not values:
        return LANES
    try:
        return parse_lanes(values)
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--queues") from None


QueuesOption = Annotated[
    list[str] | None,
    typer.Option(
        "--queues",
        help="Listen only to these queues (certify, notify, bulk; comma-separated or repeated), "
        "always in that order of priority. Default: all three.",
    ),
]


@app.command()
def worker(
    burst: Annotated[bool, typer.Option(help="Stop when the queues are empty.")] = False,
    simple: Annotated[bool, typer.Option(help="Run jobs in this process (no fork).")] = False,
    queues: QueuesOption = None,
) -> None:
    """Run one RQ worker: loads the face models once, then takes jobs from the queues in
    priority order: certifications, then webhooks, then bulk jobs (enrolments, exports,
    the records sweep). `--queues certify` dedicates it to certifications."""
    from workers.worker import run_worker

    lanes = _lanes(queues)
    _logging()
    run_worker(get_settings(), burst=burst, simple=simple, lanes=lanes)


def _maintain_forever(settings: Settings, stop: threading.Event) -> None:
    from service.context import build_services
    from service.housekeeping.maintenance import maintain_forever
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
    from service.housekeeping.maintenance import run_maintenance_pass
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


class StopRequested(BaseException):
    """SIGTERM or SIGINT asked `certify serve` to stop (a BaseException, so that no
    `except Exception` on the way swallows it)."""

    def __init__(self, signum: int) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


def _request_stop(signum: int, _frame: object) -> None:
    raise StopRequested(signum)


def _stop_children(children: list[subprocess.Popen], *, grace_s: float, log: logging.Logger) -> None:
    """SIGTERM every child (RQ workers stop warm: the job in hand ends, the scheduler
    stops), then SIGKILL the process group of any still running after `grace_s`."""
    for child in children:
        if child.poll() is None:
            child.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + grace_s
    for child in children:
        try:
            child.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            log.warning("worker %d did not stop within %.0f s; killing it", child.pid, grace_s)
            with contextlib.suppress(ProcessLookupError):
                os.killpg(child.pid, signal.SIGKILL)  # its work horse and scheduler too
            child.wait()


@app.command()
def serve(
    host: str = "127.0.0.1",
    port: int = 8000,
    workers: Annotated[int, typer.Option(
        help="Worker processes to start (0: none). With two or more, the first one takes only certifications."
    )] = 1,
    demo: Annotated[bool, typer.Option(help="Enrol demo pensioners from the data folder.")] = True,
) -> None:
    """Run everything: migrations, embedded Redis if REDIS_URL is unset, workers, the API.

    SIGTERM or SIGINT stops all of it: the API finishes its requests, the workers their
    jobs, then the embedded Redis saves and stops, and the command exits 0."""
    import uvicorn

    from api import create_app
    from models.migrate import upgrade
    from service.context import build_services
    from service.demo import load_demo_data
    from service.infra.embedded_redis import EmbeddedRedis

    _logging()
    log = logging.getLogger("certify.serve")
    settings = get_settings()
    # uvicorn takes SIGTERM/SIGINT while it serves and raises them again once it has shut
    # down; outside it (start-up, and that re-raise) they land here and unwind to `finally`
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, _request_stop)
    embedded: EmbeddedRedis | None = None
    services = None
    children: list[subprocess.Popen] = []
    stop = threading.Event()
    dispatcher: threading.Thread | None = None
    try:
        if not settings.redis_url:
            embedded = EmbeddedRedis(settings.var_dir / "redis.rdb")
            settings = settings.model_copy(update={"redis_url": embedded.url})
            log.info("embedded Redis at %s", embedded.url)
        upgrade(settings.database_url)
        services = build_services(settings)
        if demo and settings.demo_data:
            load_demo_data(services, settings.data_dir)

        from service.jobs import embedded_worker_lanes

        env = dict(os.environ, REDIS_URL=settings.redis_url or "", DATABASE_URL=settings.database_url)
        for lanes in embedded_worker_lanes(workers):
            # a process group of its own: a terminal's Ctrl+C reaches only `serve`, which
            # stops the workers itself, and a worker that hangs is killed with its children
            children.append(subprocess.Popen(
                [sys.executable, "-m", "cli.main", "worker", "--queues", ",".join(lanes)],
                env=env, start_new_session=True,
            ))
        dispatcher = threading.Thread(target=_maintain_forever, args=(settings, stop), daemon=True)
        dispatcher.start()
        docs = " (docs at /docs)" if settings.serves_api_docs else ""
        log.info("API on http://%s:%d%s", host, port, docs)
        # log_config=None: uvicorn's loggers go through our scrubbing handler (text or JSON)
        uvicorn.run(create_app(services=services), host=host, port=port, log_config=None)
    except StopRequested as request:
        log.info("%s: stopping", request)
    finally:
        for signum in (signal.SIGTERM, signal.SIGINT):  # a second signal must not cut the cleanup short
            signal.signal(signum, lambda *_: log.info("already stopping"))
        stop.set()
        _stop_children(children, grace_s=15, log=log)
        if dispatcher is not None:
            dispatcher.join(timeout=15)
        if services is not None:
            services.close()
        if embedded is not None:
            embedded.stop()
        log.info("stopped")


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
    from service.actors import OPERATOR
    from service.context import build_services
    from service.enrolment import add_reference_photo, enrol_pensioner
    from service.errors import ServiceError

    services = build_services(get_settings())
    try:
        with session_scope(services.sessions) as db:
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
    except ServiceError as exc:
        typer.echo(f"error: {exc.code}: {exc.message}", err=True)
        raise typer.Exit(2) from None
    finally:
        services.close()


link_app = typer.Typer(help="One-time pensioner links.", no_args_is_help=True)
app.add_typer(link_app, name="link")
uploads_app = typer.Typer(help="Resumable uploads.", no_args_is_help=True)
app.add_typer(uploads_app, name="uploads")


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
    from service.context import build_services
    from service.errors import ServiceError
    from service.links import create_link

    settings = get_settings()
    services = build_services(settings)
    try:
        pensioner_id = uuid.UUID(pensioner)
    except ValueError:
        raise typer.BadParameter("not a pensioner id", param_hint="--pensioner") from None
    ttl_s = settings.link_ttl_s if ttl_days is None else ttl_days * 86400
    try:
        with session_scope(services.sessions) as db:
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
    except ServiceError as exc:
        typer.echo(f"error: {exc.code}: {exc.message}", err=True)
        raise typer.Exit(2) from None
    finally:
        services.close()


@uploads_app.command("purge")
def uploads_purge() -> None:
    """Delete unfinished uploads whose upload window has closed (serve does this itself)."""
    from service.context import build_services
    from service.uploads import purge_abandoned_uploads

    services = build_services(get_settings())
    try:
        total = 0
        while purged := purge_abandoned_uploads(services):
            total += purged
        typer.echo(f"{total} abandoned uploads deleted")
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


def _change_staff(username: str, change) -> None:  # noqa: ANN001 - change(db, user, now) -> int
    from models.db import session_scope
    from service.accounts import get_staff_by_username
    from service.context import build_services
    from service.errors import ServiceError

    services = build_services(get_settings())
    try:
        with session_scope(services.sessions) as db:
            user = get_staff_by_username(db, username)
            ended = change(db, user, services.clock())
            db.commit()
            typer.echo(json.dumps({"username": user.username, "active": user.active, "sign_ins_ended": ended}))
    except ServiceError as exc:
        typer.echo(f"error: {exc.code}: {exc.message}", err=True)
        raise typer.Exit(2) from None
    finally:
        services.close()


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


@app.command()
def verify(
    cert: Annotated[str, typer.Argument(help="The certificate text (CRT1....) or a file holding it")],
    public_key: Annotated[
        Path, typer.Option("--public-key", "-k", exists=True, dir_okay=False,
                           help="The issuing agency's public key (PEM, from /v1/agencies/REGION/public-key)")
    ],
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object")] = False,
) -> None:
    """Check a signed certificate offline with the agency's public key (exit 0: valid)."""
    import datetime as dt

    from cryptography.hazmat.primitives.serialization import load_pem_public_key

    from service.certificates import CertificateError, verify_token

    text = cert.strip()
    if not text.startswith(("CRT", "CRQ")) and Path(text).is_file():
        text = Path(text).read_text().strip()
    try:
        key = load_pem_public_key(public_key.read_bytes())
    except ValueError as exc:
        raise typer.BadParameter(f"not a PEM public key: {exc}", param_hint="--public-key") from None
    try:
        verified = verify_token(text, key)  # type: ignore[arg-type]
    except CertificateError as exc:
        report = {"valid": False, "code": exc.code, "message": str(exc)}
    except TypeError:
        report = {"valid": False, "code": "key_not_ed25519", "message": "the key is not an Ed25519 key"}
    else:
        expired = verified.expired(dt.date.today())
        report = {"valid": not expired, "code": "expired" if expired else "ok", "payload": verified.payload}
    if as_json:
        typer.echo(json.dumps(report, ensure_ascii=False))
    elif report["valid"] or report["code"] == "expired":
        p = report["payload"]
        typer.echo(f"{'VALID' if report['valid'] else 'EXPIRED'}: certificate {p['id']}")
        typer.echo(f"  pensioner {p['pensioner']['national_id_masked']} ({p['pensioner'].get('id', '-')})")
        typer.echo(f"  scheme {p['scheme']}, period {p['period']}, method {p['method']}")
        typer.echo(f"  certified {p.get('certified_at', '-')}, valid until {p['valid_until']}")
        typer.echo(f"  issuer {p['issuer'].get('name', '-')} ({p['issuer'].get('region', '-')}, key {p['issuer']['key_id']})")
    else:
        typer.echo(f"INVALID: {report['code']}: {report['message']}")
    raise typer.Exit(0 if report["valid"] else 1)


API_URL_ENV = "CERTIFY_API_URL"
"""Where the agency commands find the service (default http://127.0.0.1:8000)."""
API_KEY_ENV = "CERTIFY_API_KEY"
"""The agency API key (or operator token) the agency commands send."""
POLL_INTERVAL_S = 0.5
"""How often the agency commands ask a background job for its progress."""


def _api_client(api: str | None, token: str | None):
    import httpx

    url = api or os.environ.get(API_URL_ENV) or "http://127.0.0.1:8000"
    key = token or os.environ.get(API_KEY_ENV) or os.environ.get("CERTIFY_API_TOKEN")
    if not key:
        raise typer.BadParameter(f"give --token or set {API_KEY_ENV}", param_hint="--token")
    return httpx.Client(base_url=url, headers={"Authorization": f"Bearer {key}"}, timeout=600)


def _fail_on_error(response) -> dict:
    if response.status_code >= 400:
        try:
            error = response.json()["error"]
            typer.echo(f"error: {error['code']}: {error['message']}", err=True)
        except (ValueError, KeyError):
            typer.echo(f"error: HTTP {response.status_code}: {response.text[:300]}", err=True)
        raise typer.Exit(2)
    return response.json()


def _follow(client, url: str, *, label: str) -> dict:
    """Poll a background job, drawing a progress bar, until it is done or failed."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn()) as bar:
        task = bar.add_task(label, total=None)
        while True:
            job = _fail_on_error(client.get(url))
            bar.update(task, total=job.get("rows_total"), completed=job.get("rows_done", 0))
            if job["state"] in ("done", "failed"):
                return job
            time.sleep(POLL_INTERVAL_S)


@app.command("bulk-enrol")
def bulk_enrol(
    csv_file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="CSV of pensioners")],
    photos: Annotated[Path | None, typer.Option(exists=True, dir_okay=False, help="Zip of reference photos")] = None,
    api: Annotated[str | None, typer.Option(help=f"Service URL (or {API_URL_ENV})")] = None,
    token: Annotated[str | None, typer.Option(help=f"API key (or {API_KEY_ENV})")] = None,
    errors_out: Annotated[Path | None, typer.Option(help="Write every refused row to this CSV")] = None,
) -> None:
    """Enrol pensioners from a CSV (+ zip of photos) through the API, with a progress bar."""
    import csv

    with _api_client(api, token) as client, ExitStackFiles(csv_file, photos) as files:
        job = _fail_on_error(client.post("/v1/enrolments", files=files))
        job = _follow(client, f"/v1/enrolments/{job['id']}", label="enrolling")
        if job["state"] == "failed":
            typer.echo(f"the file was refused: {job['error']}", err=True)
            raise typer.Exit(2)
        refused = _fail_on_error(client.get(job["rows_url"], params={"errors_only": True, "limit": 5000}))
    typer.echo(f"{job['rows_created']} enrolled, {job['rows_failed']} refused of {job['rows_total']} rows")
    for row in refused[:20]:
        typer.echo(f"  line {row['line']}: " + "; ".join(f"{e['field']}: {e['code']}" for e in row["errors"]))
    if errors_out is not None:
        from service.infra.csv_cells import SafeCsvWriter

        with errors_out.open("w", newline="", encoding="utf-8") as out:
            writer = SafeCsvWriter(csv.writer(out))  # messages quote the file: no formulas
            writer.writerow(["line", "field", "code", "message"])
            for row in refused:
                for e in row["errors"]:
                    writer.writerow([row["line"], e["field"], e["code"], e["message"]])
    raise typer.Exit(0 if job["rows_failed"] == 0 else 1)


class ExitStackFiles:
    """The multipart files of a bulk enrolment, opened and closed together."""

    def __init__(self, csv_file: Path, photos: Path | None) -> None:
        self.paths = {"csv": csv_file, "photos": photos}
        self.handles: list = []

    def __enter__(self) -> dict:
        files = {}
        for field, path in self.paths.items():
            if path is not None:
                handle = path.open("rb")
                self.handles.append(handle)
                media = "text/csv" if field == "csv" else "application/zip"
                files[field] = (path.name, handle, media)
        return files

    def __exit__(self, *exc: object) -> None:
        for handle in self.handles:
            handle.close()


@app.command()
def export(
    out: Annotated[Path, typer.Option(help="File to write")],
    fmt: Annotated[str, typer.Option("--format", help="csv or ndjson")] = "csv",
    region: Annotated[str | None, typer.Option(help="e.g. a province: 440000")] = None,
    period: Annotated[str | None, typer.Option()] = None,
    status: Annotated[str | None, typer.Option(help="due, certified, overdue, suspended, restored")] = None,
    api: Annotated[str | None, typer.Option(help=f"Service URL (or {API_URL_ENV})")] = None,
    token: Annotated[str | None, typer.Option(help=f"API key (or {API_KEY_ENV})")] = None,
) -> None:
    """Export results as a background job (progress bar), then download the file."""
    body = {"format": fmt, **{k: v for k, v in (("region", region), ("period", period), ("status", status)) if v}}
    with _api_client(api, token) as client:
        job = _fail_on_error(client.post("/v1/exports", json=body))
        job = _follow(client, f"/v1/exports/{job['id']}", label="exporting")
        if job["state"] == "failed":
            typer.echo(f"the export failed: {job['error']}", err=True)
            raise typer.Exit(2)
        with client.stream("GET", job["download_url"]) as response, out.open("wb") as target:
            if response.status_code >= 400:
                response.read()
                _fail_on_error(response)
            for chunk in response.iter_bytes():
                target.write(chunk)
    typer.echo(f"{job['rows_total']} rows written to {out} (continue the feed with since={job['cursor']})")


@app.command()
def sweep() -> None:
    """Run the records sweep now (open new periods, mark overdue, suspend where configured)."""
    from service.context import build_services
    from service.housekeeping.sweep import run_sweep

    services = build_services(get_settings())
    try:
        typer.echo(json.dumps(run_sweep(services).to_json()))
    finally:
        services.close()


keys_app = typer.Typer(help="Data keys (rotation).", no_args_is_help=True)
app.add_typer(keys_app, name="keys")


@keys_app.command("rewrap")
def keys_rewrap(
    check: Annotated[bool, typer.Option("--check", help="Only count; exit 1 if anything is under an older key")] = False,
) -> None:
    """Re-encrypt every encrypted column and blob under the first key of CERTIFY_DATA_KEYS.

    Rotate by putting the new key first (keep the old one after it), running this, and
    dropping the old key once `certify keys rewrap --check` exits 0."""
    from service.context import build_services
    from service.housekeeping.rewrap import rewrap_all

    services = build_services(get_settings())
    try:
        report = rewrap_all(services, check_only=check)
    finally:
        services.close()
    typer.echo(json.dumps(report.to_json()))
    if check and set(report.by_key) - {services.keyring.active_key_id}:
        raise typer.Exit(1)


agency_app = typer.Typer(help="Pension agencies (period rules, signing keys).", no_args_is_help=True)
app.add_typer(agency_app, name="agency")


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
    from service.context import build_services
    from service.errors import ServiceError

    services = build_services(get_settings())
    try:
        with session_scope(services.sessions) as db:
            agency = set_agency(
                db, keyring=services.keyring, actor=OPERATOR, region_code=region, name=name,
                now=services.clock(), period_kind=period_kind, grace_days=grace_days,
                suspend_after_days=suspend_after_days, data_match_sources=list(data_match_source or []),
            )
            db.commit()
            typer.echo(json.dumps({"id": str(agency.id), "region": agency.region_code,
                                   "key_id": agency.signing_key_id}, ensure_ascii=False))
            typer.echo(public_key_pem(agency), nl=False)
    except ServiceError as exc:
        typer.echo(f"error: {exc.code}: {exc.message}", err=True)
        raise typer.Exit(2) from None
    finally:
        services.close()


def main() -> None:
    app()


if __name__ == "__main__":
    main()
