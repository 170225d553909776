from __future__ import annotations

import pytest
from pydantic import ValidationError

from service.settings import Settings


def test_defaults_are_embedded_development_settings(monkeypatch):
    for name in ("DATABASE_URL", "REDIS_URL", "CERTIFY_DATABASE_URL", "CERTIFY_REDIS_URL"):
        monkeypatch.delenv(name, raising=False)
    settings = Settings()
    assert settings.database_url.startswith("sqlite:///")
    assert settings.redis_url is None


def test_plain_database_and_redis_urls_are_read(monkeypatch):
    monkeypatch.setenv("DATABASE_URL", "postgresql+psycopg://u@h/db")
    monkeypatch.setenv("REDIS_URL", "redis://h:6379/2")
    settings = Settings()
    assert settings.database_url == "postgresql+psycopg://u@h/db"
    assert settings.redis_url == "redis://h:6379/2"


def test_default_secrets_are_refused_outside_development():
    with pytest.raises(ValidationError) as caught:
        Settings(environment="production")
    message = str(caught.value)
    assert "CERTIFY_SECRET_KEY" in message and "CERTIFY_DATA_KEYS" in message
    Settings(
        environment="production",
        secret_key="s" * 32,
        data_keys="p1:" + "A" * 43 + "=",
        api_token="t" * 32,
    )
