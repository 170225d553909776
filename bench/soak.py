"""Soak: N real certification jobs on W forking workers, one worker SIGKILLed (with its
work horse and scheduler, as when a machine is lost) every K finished jobs and replaced.

Everything is real: a fresh PostgreSQL database made by the migrations, a redis-server of
our own on a free port, `certify worker` processes, the upload path (probe, encrypted
durable store, attempt row, enqueue) and the engine on a 5.7 s cut of a real selfie
clip that passes its challenge. The harness runs the maintenance pass (outbox sweeper,
watchdog) every second, as `certify serve` does every `maintenance_interval_s`.

Uploads are fed closed-loop (at most 2 x W waiting), so latency is upload-accepted to
outcome-recorded under full load rather than the length of a pre-filled queue.

Prints: jobs done, lost (must be 0), duplicated (must be 0), redone after a kill,
throughput per minute and per worker core, latency p50/p95.

    PYTHONPATH=. python bench/soak.py                 # 1,000 jobs, 2 workers, kill every 50
    PYTHONPATH=. python bench/soak.py --jobs 60 --kill-every 20    # the short CI mode
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import statistics
import sys
import tempfile
import time
import uuid
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from rq.job import Job  # noqa: E402
from rq.results import Result  # noqa: E402
from rq.serializers import JSONSerializer  # noqa: E402
from sqlalchemy import create_engine, func, select, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from bench.harness import (  # noqa: E402
    RedisServer,
    horse_pids,
    kill_worker,
    start_worker,
    stop_worker,
)

CLIP = "videos/frontal_mouth_open_m5.mp4"
CLIP_START_S = 1.5
"""The cut opens the mouth and then blinks: it passes the challenge below."""
CHALLENGE = "open_mouth,blink"
REFERENCE_AT_S = 0.5
MAINTENANCE_EVERY_S = 1.0
ADMIN_URL = os.environ.get("CERTIFY_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


@dataclass
class SoakReport:
    jobs: int
    workers: int
    kills: int
    done: int
    passed: int
    lost: int
    duplicated: int
    redone_after_kill: int
    wall_s: float
    throughput_per_min: float
    throughput_per_worker_core_per_min: float
    latency_p50_s: float
    latency_p95_s: float
    latency_max_s: float
    worker_cpu_s_per_job: float
    """CPU seconds the workers spent per finished job (killed runs and model loading included)."""
    jobs_per_core_min: float
    """60 / worker_cpu_s_per_job: what one dedicated core sustains, whatever else the machine runs."""
    load_average: float
    other_outcomes: dict[str, int] = field(default_factory=dict)
    """Finished attempts that did not pass, by `status:reasons` (empty when all passed)."""


def _ffmpeg(*args: str) -> None:
    import subprocess

    subprocess.run(["ffmpeg", "-loglevel", "error", "-y", *args], check=True, timeout=300)


def _settings(database_url: str, redis_url: str, var_dir: Path):
    from service.settings import Settings

    return Settings(
        environment="test",
        database_url=database_url,
        redis_url=redis_url,
        var_dir=var_dir,
        secret_key="soak-secret-key-0123456789",
        data_keys="s1:" + "c29hay1kYXRhLWtleS0zMi1ieXRlcy1sb25nLi4uLi4=",
        api_token="soak-operator-token",
        job_retry_intervals_s=(0, 5, 10),
        worker_heartbeat_interval_s=2,
        worker_heartbeat_grace_s=5,
        worker_maintenance_interval_s=30,
        maintenance_interval_s=0.0,
        stale_attempt_s=60.0,
        lockout_failures=1_000_000,
        max_failed_attempts=1_000,
        # every soak pensioner shares one face by construction (_enrol): the identity
        # search would rightly send each attempt to review; it is measured on its own
        # (bench/identity_search.py, tests/integration/test_identity_search.py)
        identity_search=False,
    )


def _enrol(services, count: int, photo: bytes) -> list[uuid.UUID]:
    """`count` pensioners sharing one reference embedding (computed once, by the real model)."""
    from certify import check_reference_photo, load_image
    from models.db import session_scope
    from service.actors import OPERATOR
    from service.pensioners import add_reference, create_pensioner
    from service.rules.national_id import compose_national_id

    check = check_reference_photo(load_image(photo), backend=services.face_backend())
    assert check.embedding is not None, check.reason
    ids = []
    now = services.clock()
    with session_scope(services.sessions) as db:
        for i in range(count):
            birth = dt.date(1940, 1, 1) + dt.timedelta(days=i // 900)
            pensioner = create_pensioner(
                db, keyring=services.keyring, secret=services.settings.secret_key.get_secret_value(),
                enrolled_by=OPERATOR, name=f"soak {i}", national_id=compose_national_id("110105", birth, i % 900 + 1),
                region_code="110105", now=now,
            )
            add_reference(
                db, keyring=services.keyring, pensioner_id=pensioner.id, embedding=check.embedding,
                model_version=check.model_version, source="enrolment", now=now,
            )
            ids.append(pensioner.id)
        db.commit()
    return ids


def _upload(services, pensioner_id: uuid.UUID, clip: Path) -> uuid.UUID:
    import shutil

    from certify import issue_challenge, parse_challenge
    from models.db import session_scope
    from service.admission import AdmissionRules
    from service.certification import open_session
    from service.intake import accept_upload
    from service.nonce_guard import NonceGuard

    with session_scope(services.sessions) as db:
        session = open_session(
            db, pensioner_id=pensioner_id, challenge=issue_challenge(), ttl_s=600,
            rules=AdmissionRules.of(services.settings), now=services.clock(),
        )
        session.challenge = parse_challenge(CHALLENGE).to_json()
        db.commit()
        session_id, nonce = session.id, session.nonce
    spool = services.settings.var_dir / "spool" / f"{uuid.uuid4().hex}.upload"
    spool.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(clip, spool)
    try:
        attempt = accept_upload(
            services, pensioner_id=pensioner_id, session_id=session_id, nonce=nonce,
            upload_path=spool, content_type="video/mp4", guard=NonceGuard.of(services, "soak"),
        )
    finally:
        spool.unlink(missing_ok=True)
    return attempt.id


def _busy_worker(procs: list, services):
    """The worker process whose RQ worker is running a job right now (its horse too)."""
    from rq import Worker

    running = {w.pid for w in Worker.all(connection=services.redis) if w.get_current_job_id()}
    for proc in procs:
        if proc.pid in running and horse_pids(proc):
            return proc
    return None


def _cpu_s(proc) -> float:
    """CPU seconds of a worker and of the work horses it has reaped."""
    import psutil

    try:
        t = psutil.Process(proc.pid).cpu_times()
    except psutil.Error:
        return 0.0
    return t.user + t.system + t.children_user + t.children_system


def _percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


def run_soak(*, jobs: int, workers: int, kill_every: int, data: Path, workdir: Path,
             timeout_s: float, quiet: bool = False) -> SoakReport:
    from models import Attempt, AttemptStatus, FaceReference, QualificationRecord
    from models.migrate import upgrade
    from service.context import build_services
    from service.housekeeping.maintenance import run_maintenance_pass
    from service.infra.queue import job_id_for
    from workers.runtime import install_services

    def say(message: str) -> None:
        if not quiet:
            print(message, flush=True)

    clip = workdir / "live.mp4"
    _ffmpeg("-ss", str(CLIP_START_S), "-i", str(data / CLIP), "-c:v", "libx264", "-preset", "ultrafast",
            "-pix_fmt", "yuv420p", "-c:a", "aac", str(clip))
    photo_path = workdir / "reference.jpg"
    _ffmpeg("-ss", str(REFERENCE_AT_S), "-i", str(data / CLIP), "-frames:v", "1", "-q:v", "2", str(photo_path))

    admin = create_engine(ADMIN_URL, isolation_level="AUTOCOMMIT")
    db_name = f"certify_soak_{uuid.uuid4().hex[:10]}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{db_name}"'))
    database_url = make_url(ADMIN_URL).set(database=db_name).render_as_string(hide_password=False)
    redis = RedisServer(workdir / "redis")
    redis.start()
    procs: list = []
    services = None
    try:
        upgrade(database_url)
        settings = _settings(database_url, redis.url, workdir / "var")
        services = build_services(settings)
        install_services(services)
        pensioners = _enrol(services, jobs, photo_path.read_bytes())
        say(f"soak: {jobs} pensioners enrolled; starting {workers} workers")
        logs = workdir / "logs"
        logs.mkdir(exist_ok=True)
        procs = [start_worker(services, logs / f"worker-{i}.log") for i in range(workers)]
        started_workers = workers

        submitted: list[uuid.UUID] = []
        cpu_by_pid: dict[int, float] = {}
        kills = 0
        next_kill = kill_every
        last_maintenance = 0.0
        done = 0
        t0 = time.monotonic()
        deadline = t0 + timeout_s
        while time.monotonic() < deadline:
            with services.sessions() as db:
                counts = dict(db.execute(
                    select(Attempt.status, func.count()).group_by(Attempt.status)).all())
            done = sum(v for k, v in counts.items() if k in AttemptStatus.FINAL)
            waiting = len(submitted) - done
            while len(submitted) < jobs and waiting < 2 * workers:
                submitted.append(_upload(services, pensioners[len(submitted)], clip))
                waiting += 1
            for proc in procs:
                cpu_by_pid[proc.pid] = max(cpu_by_pid.get(proc.pid, 0.0), _cpu_s(proc))
            victim = _busy_worker(procs, services) if kill_every and done >= next_kill else None
            if victim is not None:
                kill_worker(victim)
                procs.remove(victim)
                procs.append(start_worker(services, logs / f"worker-{started_workers}.log"))
                started_workers += 1
                kills += 1
                next_kill += kill_every
                say(f"soak: {done}/{jobs} done; killed a worker mid-job (kill {kills})")
            if time.monotonic() - last_maintenance >= MAINTENANCE_EVERY_S:
                run_maintenance_pass(services)
                last_maintenance = time.monotonic()
            if done >= jobs and len(submitted) >= jobs:
                break
            time.sleep(0.2)
        wall_s = time.monotonic() - t0
        for proc in procs:
            cpu_by_pid[proc.pid] = max(cpu_by_pid.get(proc.pid, 0.0), _cpu_s(proc))
        worker_cpu_s = sum(cpu_by_pid.values())

        # count what happened
        with services.sessions() as db:
            rows = db.execute(select(Attempt.id, Attempt.status, Attempt.created_at, Attempt.finished_at,
                                     Attempt.processing_runs, Attempt.pensioner_id, Attempt.reasons)).all()
            fresh = dict(db.execute(select(FaceReference.attempt_id, func.count())
                                    .where(FaceReference.attempt_id.is_not(None))
                                    .group_by(FaceReference.attempt_id)).all())
            records = {r.pensioner_id: r for r in db.scalars(select(QualificationRecord))}
        final = [r for r in rows if r.status in AttemptStatus.FINAL]
        lost = jobs - len(final)
        duplicated = 0
        for row in final:
            recorded = 0
            try:
                job = Job.fetch(job_id_for(row.id), connection=services.redis, serializer=JSONSerializer)
                recorded = sum(
                    1 for r in job.results()
                    if r.type == Result.Type.SUCCESSFUL and (r.return_value or {}).get("recorded")
                )
            except Exception:  # noqa: BLE001 - result expired: judged by the database alone
                recorded = 1
            record = records.get(row.pensioner_id)
            certified_by_other = (row.status == "passed" and record is not None
                                  and record.attempt_id not in (None, row.id))
            if recorded > 1 or fresh.get(row.id, 0) > 1 or certified_by_other:
                duplicated += 1
        latencies = [(r.finished_at - r.created_at).total_seconds() for r in final if r.finished_at]
        report = SoakReport(
            jobs=jobs, workers=workers, kills=kills, done=len(final),
            passed=sum(1 for r in final if r.status == "passed"), lost=lost, duplicated=duplicated,
            other_outcomes=dict(Counter(
                f"{r.status}:{'+'.join(r.reasons or [])}:runs={r.processing_runs}"
                for r in final if r.status != "passed")),
            redone_after_kill=sum(1 for r in final if (r.processing_runs or 0) > 1),
            wall_s=round(wall_s, 1),
            throughput_per_min=round(len(final) / wall_s * 60, 1),
            throughput_per_worker_core_per_min=round(len(final) / wall_s * 60 / workers, 1),
            latency_p50_s=round(statistics.median(latencies), 2) if latencies else float("nan"),
            latency_p95_s=round(_percentile(latencies, 0.95), 2),
            latency_max_s=round(max(latencies), 2) if latencies else float("nan"),
            worker_cpu_s_per_job=round(worker_cpu_s / max(1, len(final)), 2),
            jobs_per_core_min=round(60 / max(1e-9, worker_cpu_s / max(1, len(final))), 1),
            load_average=round(os.getloadavg()[0], 2),
        )
        return report
    finally:
        for proc in procs:
            stop_worker(proc)
        if services is not None:
            services.close()
        redis.kill()
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{db_name}" WITH (FORCE)'))
        admin.dispose()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--jobs", type=int, default=1000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--kill-every", type=int, default=50, help="finished jobs between kills (0: none)")
    parser.add_argument("--data", type=Path, default=Path(os.environ.get("CERTIFY_DATA_DIR", "../shared/data")))
    parser.add_argument("--timeout-s", type=float, default=3 * 3600)
    parser.add_argument("--json", action="store_true", help="print the report as one JSON object")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="certify-soak-") as folder:
        report = run_soak(jobs=args.jobs, workers=args.workers, kill_every=args.kill_every,
                          data=args.data, workdir=Path(folder), timeout_s=args.timeout_s, quiet=args.json)
    if args.json:
        print(json.dumps(asdict(report)))
    else:
        print(f"jobs {report.jobs}, workers {report.workers}, workers killed {report.kills}")
        print(f"done {report.done} (passed {report.passed}), lost {report.lost}, "
              f"duplicated {report.duplicated}, redone after a kill {report.redone_after_kill}")
        print(f"throughput {report.throughput_per_min}/min "
              f"({report.throughput_per_worker_core_per_min}/min per worker core), wall {report.wall_s} s")
        print(f"latency upload->outcome p50 {report.latency_p50_s} s, p95 {report.latency_p95_s} s, "
              f"max {report.latency_max_s} s")
        print(f"worker CPU {report.worker_cpu_s_per_job} s per job = {report.jobs_per_core_min} jobs/min "
              f"per dedicated core (machine load average {report.load_average} on {os.cpu_count()} cores)")
    return 0 if report.lost == 0 and report.duplicated == 0 else 1


if __name__ == "__main__":
    raise SystemExit(main())
