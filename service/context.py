"""The objects a process needs, built once from Settings and passed down (no globals)."""

from __future__ import annotations

import datetime as dt
import os
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING

from redis import Redis
from rq import Queue
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from models import utcnow
from models.db import make_engine, make_session_factory

from .infra.blob_crypto import EncryptedBlobStore
from .infra.crypto import Keyring
from .infra.destinations import Resolver, resolve_host
from .infra.limits import RateLimiter
from .infra.queue import connect_redis, make_queue
from .infra.storage import BlobStore, LocalBlobStore
from .jobs import LANES, Lane, queue_name
from .login_throttle import KeyedLocks
from .settings import Settings

if TYPE_CHECKING:
    from certify import FaceBackend

    from .identity_index import LiveIdentityIndex

__all__ = ["Services", "build_services", "build_store"]


@dataclass
class Services:
    settings: Settings
    engine: Engine
    sessions: sessionmaker[Session]
    store: BlobStore
    keyring: Keyring
    clock: Callable[[], dt.datetime] = utcnow
    """The current time (UTC); tests replace it to move past expiries."""
    resolve: Resolver = resolve_host
    """Host name to addresses, once per outgoing request (webhooks); tests replace it to
    answer for names no DNS server of theirs knows."""
    pid: int = field(default_factory=os.getpid)
    login_locks: KeyedLocks = field(default_factory=KeyedLocks, repr=False)
    """Staff sign-ins of one account or address take turns in this process."""
    _backend: FaceBackend | None = field(default=None, repr=False)
    _backend_lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @cached_property
    def redis(self) -> Redis:
        if not self.settings.redis_url:
            raise RuntimeError("no Redis URL configured (certify serve starts an embedded one)")
        return connect_redis(self.settings.redis_url)

    @cached_property
    def limiter(self) -> RateLimiter:
        """Rate-limit counters: in Redis, or in this process while Redis is unreachable."""
        return RateLimiter(lambda: self.redis, clock=lambda: self.clock().timestamp())

    @cached_property
    def queues(self) -> dict[Lane, Queue]:
        """One queue per lane, in priority order (see service/jobs.py)."""
        return {lane: make_queue(self.redis, queue_name(self.settings.queue_name, lane)) for lane in LANES}

    def queue_for(self, lane: Lane) -> Queue:
        return self.queues[lane]

    @property
    def queue(self) -> Queue:
        """The certification queue (the most urgent lane)."""
        return self.queues[Lane.CERTIFY]

    @cached_property
    def identity_index(self) -> LiveIdentityIndex:
        """This process's identity index (service/identity_index.py), filled from the
        database on first use and kept in step before each search."""
        from .identity_index import LiveIdentityIndex, TemplateKeys

        return LiveIdentityIndex(TemplateKeys.of(self.settings))

    def face_backend(self) -> FaceBackend:
        """The face models, loaded on first use and then kept for the life of the process."""
        if self._backend is None:
            with self._backend_lock:
                if self._backend is None:
                    from certify import load_dlib_backend

                    self._backend = load_dlib_backend()
        return self._backend

    def after_fork(self) -> None:
        """In a forked child (an RQ work horse): drop connections inherited from the parent."""
        if self.pid == os.getpid():
            return
        self.engine.dispose(close=False)
        self.__dict__.pop("redis", None)
        self.__dict__.pop("queues", None)
        self.__dict__.pop("limiter", None)
        self.pid = os.getpid()

    def close(self) -> None:
        self.engine.dispose()
        if "redis" in self.__dict__:
            self.redis.close()


def build_store(settings: Settings, keyring: Keyring) -> BlobStore:
    """Local files or an S3 bucket, encrypted at rest unless `encrypt_blobs` is off."""
    store: BlobStore
    if settings.storage_backend == "s3":
        from .infra.s3_storage import S3BlobStore, connect_s3

        client = connect_s3(
            settings.s3_endpoint_url,
            access_key=settings.s3_access_key.get_secret_value() if settings.s3_access_key else "",
            secret_key=settings.s3_secret_key.get_secret_value() if settings.s3_secret_key else "",
            region=settings.s3_region,
        )
        store = S3BlobStore(client, settings.s3_bucket)
    else:
        store = LocalBlobStore(settings.blob_dir)
    if settings.encrypt_blobs:
        store = EncryptedBlobStore(store, keyring)
    return store


def build_services(settings: Settings) -> Services:
    engine = make_engine(settings.database_url)
    keyring = Keyring.parse(settings.data_keys.get_secret_value())
    return Services(
        settings=settings,
        engine=engine,
        sessions=make_session_factory(engine),
        store=build_store(settings, keyring),
        keyring=keyring,
    )
