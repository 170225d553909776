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
    assert "input_value" not in message  # no other setting's value in the error
    Settings(
        environment="production",
        secret_key="s" * 32,
        data_keys="p1:" + "A" * 43 + "=",
        api_token="t" * 32,
        metrics_token="m" * 32,
    )


_PRODUCTION_SECRETS = {"secret_key": "s" * 32, "data_keys": "p1:" + "A" * 43 + "=", "api_token": "t" * 32}


def test_production_refuses_open_metrics_unless_asked_for():
    for token in (None, ""):
        with pytest.raises(ValidationError) as caught:
            Settings(environment="production", metrics_token=token, **_PRODUCTION_SECRETS)
        assert "CERTIFY_METRICS_TOKEN" in str(caught.value) and "CERTIFY_METRICS_PUBLIC" in str(caught.value)
    assert Settings(environment="production", metrics_public=True, **_PRODUCTION_SECRETS).metrics_token is None
    assert Settings(environment="test", metrics_token="", **_PRODUCTION_SECRETS).metrics_token is None


def test_api_docs_are_served_outside_production_unless_set():
    assert Settings().serves_api_docs
    production = Settings(environment="production", metrics_public=True, **_PRODUCTION_SECRETS)
    assert not production.serves_api_docs
    assert production.model_copy(update={"api_docs": True}).serves_api_docs
