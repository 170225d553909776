"""Running the service: serve, worker, maintain, sweep, demo, and the `db`, `uploads` and
`keys` groups (migrations, abandoned uploads, data key rotation)."""

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
from typing import Annotated

import typer

from service.settings import Settings, get_settings

from .context import services_for_command

__all__ = [
    "QueuesOption",
    "STARTUP_FAILURE_EXIT",
    "STOP_GRACE_S",
    "StopRequested",
    "db_app",
    "db_upgrade",
    "demo",
    "keys_app",
    "keys_rewrap",
    "maintain",
    "serve",
    "sweep",
    "uploads_app",
    "stats_app",
    "stats_refresh",
    "uploads_purge",
    "worker",
]

db_app = typer.Typer(help="Database schema.", no_args_is_help=True)
stats_app = typer.Typer(help="Agency statistics: the summaries behind /agency/dashboard.", no_args_is_help=True)
uploads_app = typer.Typer(help="Resumable uploads.", no_args_is_help=True)
keys_app = typer.Typer(help="Data keys (rotation).", no_args_is_help=True)

STARTUP_FAILURE_EXIT = 3
"""Exit code of `certify serve` when the API could not start (uvicorn's own)."""

STOP_GRACE_S = 15
"""How long `certify serve` waits for its workers and housekeeping to stop before killing them."""


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
    from service.housekeeping.maintenance import maintain_forever

    with services_for_command(settings, install=True) as services:
        maintain_forever(services, stop)


def maintain(
    once: Annotated[bool, typer.Option(help="Run one pass and exit (for cron).")] = False,
) -> None:
    """Housekeeping: enqueue attempts that missed the queue, re-enqueue stuck ones, purge
    raw videos past their retention. `certify serve` does this itself; run one `certify
    maintain` per deployment when the API runs with several replicas or not at all."""
    from service.housekeeping.maintenance import run_maintenance_pass

    _logging()
    settings = get_settings()
    if once:
        with services_for_command(settings, install=True) as services:
            report = run_maintenance_pass(services, force_retention=True)
            typer.echo(json.dumps(report.__dict__))
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


def serve(
    host: str = "127.0.0.1",
    port: int = 8000,
    workers: Annotated[int, typer.Option(
        help="Worker processes to start (0: none). With two or more, the first one takes only certifications."
    )] = 1,
    demo: Annotated[bool, typer.Option(
        help="Development only: enrol demo pensioners from the data folder, make demo sign-ins "
        "and print a 'try it' block (links, sign-ins, a curl line) once the API is up."
    )] = True,
) -> None:
    """Run everything: migrations, embedded Redis if REDIS_URL is unset, workers, the API.

    SIGTERM or SIGINT stops all of it: the API finishes its requests, the workers their
    jobs, then the embedded Redis saves and stops, and the command exits 0."""
    import uvicorn

    from api import create_app
    from models.migrate import upgrade
    from service.context import build_services
    from service.demo import load_demo_data, retire_demo_accounts
    from service.infra.embedded_redis import EmbeddedRedis

    from .try_it import announce_when_started, base_url_for, prepare_try_it

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
        try_it = None
        if settings.environment != "development":
            # demo pensioners and sign-ins (whose password is public) are for development only
            retire_demo_accounts(services)
        elif demo and settings.demo_data:
            load_demo_data(services, settings.data_dir)
            try_it = prepare_try_it(services, base_url=base_url_for(settings, host=host, port=port))

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
        server = uvicorn.Server(uvicorn.Config(create_app(services=services), host=host, port=port, log_config=None))
        if try_it:
            announce_when_started(server, try_it, stop)
        with contextlib.suppress(KeyboardInterrupt):
            server.run()
        if not server.started:
            raise SystemExit(STARTUP_FAILURE_EXIT)
    except StopRequested as request:
        log.info("%s: stopping", request)
    finally:
        for signum in (signal.SIGTERM, signal.SIGINT):  # a second signal must not cut the cleanup short
            signal.signal(signum, lambda *_: log.info("already stopping"))
        stop.set()
        _stop_children(children, grace_s=STOP_GRACE_S, log=log)
        if dispatcher is not None:
            dispatcher.join(timeout=STOP_GRACE_S)
        if services is not None:
            services.close()
        if embedded is not None:
            embedded.stop()
        log.info("stopped")


def demo() -> None:
    """Enrol the demo pensioners from the data folder (skips those already there)."""
    from service.demo import load_demo_data

    _logging()
    with services_for_command() as services:
        added = load_demo_data(services, services.settings.data_dir)
        typer.echo(f"{added} demo pensioners added")


def sweep() -> None:
    """Run the records sweep now (open new periods, mark overdue, suspend where configured)."""
    from service.housekeeping.sweep import run_sweep

    with services_for_command() as services:
        typer.echo(json.dumps(run_sweep(services).to_json()))


@stats_app.command("refresh")
def stats_refresh() -> None:
    """Rebuild the agency statistics summaries now (the maintenance pass does this every
    CERTIFY_STATS_REFRESH_INTERVAL_S)."""
    from service.housekeeping.maintenance import refresh_stats_now
    from service.stats.summaries import last_refresh

    with services_for_command() as services:
        refresh_stats_now(services)
        with services.sessions() as db:
            done = last_refresh(db)
            seconds = done.seconds if done else 0.0
        typer.echo(json.dumps({"refreshed": True, "seconds": round(seconds, 2)}))


@uploads_app.command("purge")
def uploads_purge() -> None:
    """Delete unfinished uploads whose upload window has closed (serve does this itself)."""
    from service.uploads import purge_abandoned_uploads

    with services_for_command() as services:
        total = 0
        while purged := purge_abandoned_uploads(services):
            total += purged
        typer.echo(f"{total} abandoned uploads deleted")


@keys_app.command("rewrap")
def keys_rewrap(
    check: Annotated[bool, typer.Option("--check", help="Only count; exit 1 if anything is under an older key")] = False,
) -> None:
    """Re-encrypt every encrypted column and blob under the first key of CERTIFY_DATA_KEYS.

    Rotate by putting the new key first (keep the old one after it), running this, and
    dropping the old key once `certify keys rewrap --check` exits 0."""
    from service.housekeeping.rewrap import rewrap_all

    with services_for_command() as services:
        report = rewrap_all(services, check_only=check)
        active_key_id = services.keyring.active_key_id
    typer.echo(json.dumps(report.to_json()))
    if check and (set(report.by_key) - {active_key_id} or report.templates.templates_under_other_keys):
        raise typer.Exit(1)
