"""Reference faces as agencies really hold them: small, old, sometimes greyscale.

A reference is an embedding plus what is known about the picture it came from. Its
quality class (from the face's size in pixels and whether it has colour) chooses the
match band (`Thresholds.match_band`): a 102 x 126 px ID-card photo blurs the face, so a
genuine pair lies further apart than with a sharp photo, and the band moves with it.

Classes (the rule is part of the thresholds version, `Thresholds.reference_class_rule`):
- `full`: a face at least `reference_full_min_interocular_px` between the eyes, in colour
  (a staff capture on a tablet, a frame of a passed certification, a good upload);
- `card`: a smaller face, or a greyscale one (a social security card photo, 358 x 441
  px, or a black-and-white scan);
- `id_card`: a face under `reference_card_min_interocular_px` between the eyes (the
  102 x 126 px photo of the resident ID card and the population register), down to
  `reference_min_interocular_px`, below which a photo is refused (reference_too_small).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

import numpy as np

from .thresholds import Thresholds

__all__ = ["Reference", "ReferenceClass", "reference_class", "as_references"]


class ReferenceClass(StrEnum):
    FULL = "full"
    CARD = "card"
    ID_CARD = "id_card"


@dataclass(frozen=True, slots=True)
class Reference:
    """One enrolled face: its embedding and the quality class of its picture."""

    embedding: np.ndarray
    quality_class: ReferenceClass = ReferenceClass.FULL
    anchor: bool = True
    """An official photo (ID card, card, staff capture, upload): never retired. False for
    a fresh reference kept from a passed certification."""


def reference_class(*, interocular_px: float, greyscale: bool, th: Thresholds) -> ReferenceClass:
    """The quality class of a reference photo, from its eye distance and colour."""
    if interocular_px < th.reference_card_min_interocular_px:
        return ReferenceClass.ID_CARD
    if greyscale or interocular_px < th.reference_full_min_interocular_px:
        return ReferenceClass.CARD
    return ReferenceClass.FULL


def as_references(references: Sequence[np.ndarray | Reference]) -> tuple[Reference, ...]:
    """Plain embeddings count as `full` anchors (what callers passed before classes)."""
    return tuple(
        r if isinstance(r, Reference) else Reference(np.asarray(r, dtype=np.float64))
        for r in references
    )
