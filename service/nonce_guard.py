"""Checking a session nonce, and counting wrong ones against the caller.

A wrong nonce (or a session named for another pensioner) is the caller's failure, not
the pensioner's: it is counted per client address and per session, never toward the
pensioner's lockout (service.lockout). A client or a session that has used up its budget
of wrong nonces is answered 429 `too_many_wrong_nonces` before its nonce is even
compared, until the window ends. The counters are rate-limit counters
(service.infra.limits: Redis, or this process when Redis is down).
"""

from __future__ import annotations

import secrets
import uuid
from dataclasses import dataclass

from .error_codes import ErrorCode
from .errors import ForbiddenError, RateLimitedError
from .infra.limits import Budget, RateLimiter, hashed

__all__ = ["NonceGuard", "same_secret"]


def same_secret(given: str | None, expected: str) -> bool:
    """Constant-time comparison; a missing or non-ASCII value is simply not equal."""
    if not given:
        return False
    return secrets.compare_digest(given.encode("utf-8", "surrogateescape"), expected.encode())


@dataclass(frozen=True)
class NonceGuard:
    limiter: RateLimiter
    client: str
    """The caller's address (or another stable name of the caller)."""
    per_client: int
    per_session: int
    window_s: int

    @classmethod
    def of(cls, services, client: str | None) -> NonceGuard:
        s = services.settings
        return cls(
            services.limiter, client or "unknown", s.wrong_nonces_per_client,
            s.wrong_nonces_per_session, s.wrong_nonce_window_s,
        )

    def _budgets(self, session_id: uuid.UUID) -> list[Budget]:
        return [
            Budget("nonce_client", hashed(self.client), self.per_client, self.window_s),
            Budget("nonce_session", str(session_id), self.per_session, self.window_s),
        ]

    def refuse_if_spent(self, session_id: uuid.UUID) -> None:
        exceeded = self.limiter.over(self._budgets(session_id))
        if exceeded is not None:
            raise RateLimitedError(
                ErrorCode.TOO_MANY_WRONG_NONCES,
                "too many wrong session nonces; wait, then start again",
                scope=exceeded.budget.scope, retry_after_s=exceeded.retry_after_s,
            )

    def count_failure(self, session_id: uuid.UUID) -> None:
        self.limiter.hit(self._budgets(session_id))

    def check(self, *, session_id: uuid.UUID, expected: str, given: str | None) -> None:
        """Raise unless `given` is the session's nonce (counting it against the caller)."""
        self.refuse_if_spent(session_id)
        if not same_secret(given, expected):
            self.count_failure(session_id)
            raise ForbiddenError(ErrorCode.NONCE_MISMATCH, "the session nonce is missing or wrong")
