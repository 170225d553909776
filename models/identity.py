"""Protected face templates for the identity search (one face behind several pensions).

One row per searchable face: an enrolled reference (`kind` reference) or the fused probe
of a certification attempt (`kind` probe). `template` is the face's embedding turned by
the secret rotation of `certify.templates` (128 float64, little-endian), under the
template key `key_id`; the embedding itself stays encrypted on its own row. The rows are
the only store of the search index: every process rebuilds its in-memory index from
them and reads the new ones by `seq` (service/identity_index.py).
"""

from __future__ import annotations

import datetime as dt
import uuid
from enum import StrEnum

from sqlalchemy import ForeignKey, Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, utcnow

__all__ = ["IdentityTemplate", "TemplateKind"]


class TemplateKind(StrEnum):
    REFERENCE = "reference"
    """An enrolled reference photo's face (`owner_id` is the face_references id)."""
    PROBE = "probe"
    """A certification attempt's fused live face (`owner_id` is the attempts id)."""


class IdentityTemplate(Base):
    __tablename__ = "identity_templates"

    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    """Increasing: a process's index reads the rows past the last one it holds."""
    kind: Mapped[str] = mapped_column(String(16))
    owner_id: Mapped[uuid.UUID] = mapped_column(unique=True)
    pensioner_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("pensioners.id"), index=True)
    region_code: Mapped[str] = mapped_column(String(6))
    """The pensioner's paying region when the face was added (the search partition)."""
    quality_class: Mapped[str] = mapped_column(String(16))
    """The reference's class (full, card, id_card): its accept distance; `full` for a probe."""
    template: Mapped[bytes] = mapped_column(LargeBinary)
    key_id: Mapped[str] = mapped_column(String(32))
    """Which template key turned it (`certify keys rewrap` re-protects the others)."""
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
