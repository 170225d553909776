"""Logging: one line per record (text or JSON) carrying the request and attempt ids, with
personal data scrubbed before anything is written.

Nothing biometric or identifying may reach a log: the service never logs names,
embeddings or raw IDs on purpose, and `RedactingFilter` is the net under that rule. It
masks national ID numbers, mainland mobile numbers, bearer tokens, link tokens in query
strings and runs of floats that look like a face embedding, in the message, its
arguments and the formatted traceback.
"""

from __future__ import annotations

import contextvars
import datetime as dt
import json
import logging
import re
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import IO, Any

__all__ = [
    "configure_logging",
    "RedactingFilter",
    "ContextFilter",
    "JsonFormatter",
    "redact",
    "request_id_var",
    "attempt_id_var",
    "log_context",
    "TEXT_FORMAT",
    "make_handler",
]

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s [%(request_id)s %(attempt_id)s]: %(message)s"
"""The human-readable line format (`log_format=text`)."""

request_id_var: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="-")
attempt_id_var: contextvars.ContextVar[str] = contextvars.ContextVar("attempt_id", default="-")

_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    # runs of 8+ floats: an embedding or landmark array printed by accident
    (re.compile(r"(?:[-+]?\d*\.\d+(?:[eE][-+]?\d+)?[,;\s\]\[]+){8,}"), "[vector] "),
    # GB 11643 national ID numbers (18 characters, last may be X) and old 15-digit ones
    (re.compile(r"(?<![0-9A-Za-z])\d{17}[\dXx](?![0-9A-Za-z])"), "[national-id]"),
    (re.compile(r"(?<![0-9A-Za-z])\d{15}(?![0-9A-Za-z])"), "[national-id]"),
    # mainland mobile numbers, with an optional +86
    (re.compile(r"(?<!\d)(?:\+?86[- ]?)?1[3-9]\d{9}(?!\d)"), "[phone]"),
    (re.compile(r"(?i)\b(bearer\s+)[A-Za-z0-9._~+/=-]+"), r"\1[token]"),
    (re.compile(r"(?i)([?&](?:token|nonce|key|link|t)=)[^&\s\"']+"), r"\1[redacted]"),
)


def redact(text: str) -> str:
    """`text` with identifying numbers, tokens and vectors masked."""
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    return text


class RedactingFilter(logging.Filter):
    """Scrubs each record before any handler formats it (install it on handlers)."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # noqa: BLE001 - a bad format string must not lose the record
            message = str(record.msg)
        record.msg = redact(message)
        record.args = None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        return True


class ContextFilter(logging.Filter):
    """Adds `request_id` and `attempt_id` from the current context to every record."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "request_id"):
            record.request_id = request_id_var.get()
        if not hasattr(record, "attempt_id"):
            record.attempt_id = attempt_id_var.get()
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line: ts, level, logger, message, request_id, attempt_id, exc."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "ts": dt.datetime.fromtimestamp(record.created, dt.UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", "-"),
            "attempt_id": getattr(record, "attempt_id", "-"),
            "process": record.process,
        }
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            entry["exc"] = record.exc_text
        return json.dumps(entry, ensure_ascii=False)


def make_handler(*, fmt: str = "text", stream: IO[str] | None = None) -> logging.Handler:
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.addFilter(ContextFilter())
    handler.addFilter(RedactingFilter())
    handler.setFormatter(JsonFormatter() if fmt == "json" else logging.Formatter(TEXT_FORMAT))
    return handler


def configure_logging(
    settings: Any = None, *, level: int = logging.INFO, stream: IO[str] | None = None
) -> logging.Handler:
    """Route every logger (uvicorn's and RQ's included) through one scrubbing handler."""
    fmt = getattr(settings, "log_format", "text") if settings is not None else "text"
    handler = make_handler(fmt=fmt, stream=stream)
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access", "rq.worker", "rq"):
        logger = logging.getLogger(name)
        for old in list(logger.handlers):
            logger.removeHandler(old)
        logger.propagate = True
    return handler


@contextmanager
def log_context(*, request_id: str | None = None, attempt_id: str | None = None) -> Iterator[None]:
    """Set the ids carried by log records inside the block."""
    tokens = []
    if request_id is not None:
        tokens.append((request_id_var, request_id_var.set(request_id)))
    if attempt_id is not None:
        tokens.append((attempt_id_var, attempt_id_var.set(attempt_id)))
    try:
        yield
    finally:
        for var, token in reversed(tokens):
            var.reset(token)
