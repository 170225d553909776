"""The process's identity index: a copy of the `identity_templates` rows, kept in step.

The database is the only store. A process reads every row once (at start: `certify
serve`, `certify worker`; otherwise on its first search) and then, before each search,
the rows past the highest `seq` it holds. Numbers handed out by the database are not
committed in order, so a number skipped over is remembered as a hole and asked for again
for `HOLE_TTL_S` (a transaction that rolled back leaves a hole for ever). An RQ work
horse inherits its worker's index and reads only what is new; the worker itself reads
the new rows before each job (workers/worker.py).

Templates are protected by the active template key (`TemplateKeys`); a row still under
an older key that is configured is turned into the active key's space as it is read
(Q_new Q_old^T t, exact), so a key rollover never mixes spaces.
"""

from __future__ import annotations

import base64
import logging
import threading
import time
import uuid
from dataclasses import dataclass, field

import numpy as np
from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from certify.identity_index import IdentityIndex
from certify.templates import protect, template_matrix
from models import IdentityTemplate, TemplateKind

from .infra.crypto import Keyring, keyed_hash
from .settings import Settings

__all__ = ["TemplateKeys", "LiveIdentityIndex", "HOLE_TTL_S", "TEMPLATE_DTYPE", "DERIVED_KEY_ID"]

log = logging.getLogger(__name__)

HOLE_TTL_S = 600.0
"""How long a skipped `seq` is asked for again (longer than any enrolment transaction)."""

TEMPLATE_DTYPE = np.dtype("<f8")

DERIVED_KEY_ID = "derived"
"""The template key made from `secret_key` when `identity_template_keys` is unset."""


@dataclass
class TemplateKeys:
    """The template keys: the first protects, every one can be read."""

    keys: dict[str, bytes]
    active_key_id: str
    _matrices: dict[str, np.ndarray] = field(default_factory=dict, repr=False)

    @classmethod
    def of(cls, settings: Settings) -> TemplateKeys:
        derived = keyed_hash(settings.secret_key.get_secret_value(), "identity templates", purpose="template_key")
        keys = {DERIVED_KEY_ID: derived.encode()}
        if settings.identity_template_keys is None:
            return cls(keys=keys, active_key_id=DERIVED_KEY_ID)
        parsed = Keyring.parse(settings.identity_template_keys.get_secret_value())
        return cls(keys={**parsed.keys, **keys}, active_key_id=parsed.active_key_id)

    def matrix(self, key_id: str) -> np.ndarray:
        if key_id not in self._matrices:
            self._matrices[key_id] = template_matrix(self.keys[key_id])
        return self._matrices[key_id]

    def protect(self, embedding: np.ndarray) -> bytes:
        """The active key's template of an embedding, as stored."""
        return protect(embedding, self.matrix(self.active_key_id)).astype(TEMPLATE_DTYPE).tobytes()

    def to_active(self, template: bytes, key_id: str) -> np.ndarray | None:
        """A stored template in the active key's space (None: its key is not configured)."""
        vector = np.frombuffer(template, dtype=TEMPLATE_DTYPE)
        if key_id == self.active_key_id:
            return vector
        if key_id not in self.keys:
            return None
        return (vector @ self.matrix(key_id)) @ self.matrix(self.active_key_id).T

    @property
    def fingerprint(self) -> str:
        """Names the active key in logs without showing it."""
        return base64.b32encode(self.keys[self.active_key_id][:5]).decode().lower()


class LiveIdentityIndex:
    """The references and the recent probes of this process, as two IdentityIndex."""

    def __init__(self, keys: TemplateKeys) -> None:
        self.keys = keys
        self.references = IdentityIndex()
        self.probes = IdentityIndex()
        self.max_seq = 0
        self.unreadable = 0
        """Rows under a template key that is no longer configured (skipped)."""
        self._holes: dict[int, float] = {}
        self._lock = threading.Lock()

    def refresh(self, db: Session, *, batch: int = 20_000) -> int:
        """Read the rows this process has not seen; returns how many were added."""
        with self._lock:
            added = 0
            now = time.monotonic()
            self._holes = {s: t for s, t in self._holes.items() if now - t < HOLE_TTL_S}
            condition = IdentityTemplate.seq > self.max_seq
            if self._holes:
                condition = or_(condition, IdentityTemplate.seq.in_(list(self._holes)))
            query = (
                select(
                    IdentityTemplate.seq, IdentityTemplate.kind, IdentityTemplate.owner_id,
                    IdentityTemplate.pensioner_id, IdentityTemplate.region_code,
                    IdentityTemplate.quality_class, IdentityTemplate.template, IdentityTemplate.key_id,
                    IdentityTemplate.created_at,
                )
                .where(condition)
                .order_by(IdentityTemplate.seq)
                .execution_options(yield_per=batch)
            )
            seen: list[int] = []
            for rows in db.execute(query).partitions(batch):
                added += self._add(rows)
                seen.extend(row.seq for row in rows)
            expected = self.max_seq + 1
            for seq in seen:
                self._holes.pop(seq, None)
                for missing in range(expected, seq):
                    self._holes.setdefault(missing, now)
                expected = max(expected, seq + 1)
                self.max_seq = max(self.max_seq, seq)
            return added

    def _add(self, rows) -> int:
        added = 0
        for kind, index in ((TemplateKind.REFERENCE, self.references), (TemplateKind.PROBE, self.probes)):
            chosen, vectors = [], []
            for row in rows:
                if row.kind != kind:
                    continue
                vector = self.keys.to_active(row.template, row.key_id)
                if vector is None:
                    self.unreadable += 1
                    continue
                chosen.append(row)
                vectors.append(vector)
            if chosen:
                added += index.add(
                    keys=[row.owner_id for row in chosen],
                    templates=np.stack(vectors),
                    owners=[row.pensioner_id for row in chosen],
                    region_codes=[row.region_code for row in chosen],
                    labels=[row.quality_class for row in chosen],
                    t_s=[row.created_at.timestamp() for row in chosen],
                )
        return added

    def has(self, owner_id: uuid.UUID) -> bool:
        return owner_id in self.references or owner_id in self.probes
