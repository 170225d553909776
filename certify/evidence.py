"""Frozen result types: what the engine found, in plain data.

`Assessment` is the whole outcome of checking one video; `PhotoCheck` is the outcome of
checking one reference photo. Both are returned, never raised: a spoof or a bad photo is
evidence, not an exception.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

import numpy as np

from .reasons import Reason
from .references import ReferenceClass
from .signals import Signals

if TYPE_CHECKING:
    from .bystanders import Bystanders

__all__ = ["Decision", "ActionEvidence", "KeyFrame", "Assessment", "PhotoCheck"]

Decision = Literal["passed", "failed", "review"]


@dataclass(frozen=True, slots=True)
class ActionEvidence:
    """One challenged action found in the video."""

    name: str
    t_ms: int
    """When the action peaked, from the start of the video."""
    strength: float
    """How strong it was relative to its threshold: 1.0 just passes, 2.0 is twice that."""

    def to_json(self) -> dict[str, object]:
        return {"name": self.name, "t_ms": self.t_ms, "strength": round(self.strength, 3)}


@dataclass(frozen=True, slots=True)
class KeyFrame:
    """A small JPEG of one moment, kept as evidence for a human reviewer."""

    t_ms: int
    label: str
    jpeg: bytes = field(repr=False)


@dataclass(frozen=True, slots=True)
class Assessment:
    """Everything decided about one video, with the numbers behind the decision."""

    decision: Decision
    reasons: tuple[Reason, ...]
    match_distance: float | None
    """Face-match distance (lower is more alike); None when no comparison was possible."""
    actions: tuple[ActionEvidence, ...]
    scores: Mapping[str, float]
    timings_ms: Mapping[str, float]
    key_frames: tuple[KeyFrame, ...]
    thresholds_version: str
    engine_version: str
    details: Mapping[str, object] = field(default_factory=dict)
    """Further evidence (per-signal detail, frame counts); JSON-serialisable values only."""
    probe_embedding: np.ndarray | None = field(default=None, repr=False, compare=False)
    """Embedding of the best frame: a passed certification may add it as a fresh
    reference, so that ageing faces keep matching. Not part of to_json()."""
    probe_embeddings: tuple[np.ndarray, ...] = field(default=(), repr=False, compare=False)
    """Embeddings of the probe frames, best-scored first (probe_embedding is their
    fusion). Not part of to_json()."""
    id_card_probe_embedding: np.ndarray | None = field(default=None, repr=False, compare=False)
    """The probe frames shrunk to an ID-card photo's eye distance, fused: what `id_card`
    references are compared with (certify.match.at_eye_distance). None unless an
    `id_card` reference was given (or asked for). Not part of to_json()."""
    fingerprint: str = ""
    """Perceptual fingerprint of the recording (certify.fingerprint), to notice the same
    video uploaded again; compare with fingerprint_similarity()."""
    model_version: str = ""
    """Embedding model of probe_embedding and of the references it was compared with."""
    signals: Signals | None = field(default=None, repr=False, compare=False)
    """What was measured (certify.signals), so that the decision can be re-made under
    other thresholds with certify.decide. Not part of to_json()."""
    bystanders: Bystanders | None = field(default=None, repr=False, compare=False)
    """Second faces beside the pensioner's (certify.bystanders), when looked for; their
    numbers are also in `details["bystanders"]`, the embedding only here."""

    def probe_for(self, quality_class: str) -> np.ndarray:
        """The fused probe as the engine compares it with a reference of `quality_class`:
        shrunk to an ID photo's eye distance for `id_card` (when it was made), else as
        recorded. ValueError when no face was embedded (probe_embedding is None)."""
        if quality_class == ReferenceClass.ID_CARD and self.id_card_probe_embedding is not None:
            return self.id_card_probe_embedding
        if self.probe_embedding is None:
            raise ValueError("no probe: no face was embedded")
        return self.probe_embedding

    def to_json(self) -> dict[str, object]:
        """A JSON-ready dict of everything except the key-frame images."""
        return {
            "decision": self.decision,
            "reasons": [r.value for r in self.reasons],
            "match_distance": None
            if self.match_distance is None
            else round(float(self.match_distance), 4),
            "actions": [a.to_json() for a in self.actions],
            "scores": {k: round(float(v), 4) for k, v in self.scores.items()},
            "timings_ms": {k: round(float(v), 1) for k, v in self.timings_ms.items()},
            "key_frames": [{"t_ms": k.t_ms, "label": k.label} for k in self.key_frames],
            "thresholds_version": self.thresholds_version,
            "engine_version": self.engine_version,
            "details": dict(self.details),
            "fingerprint": self.fingerprint,
            "model_version": self.model_version,
        }


@dataclass(frozen=True, slots=True)
class PhotoCheck:
    """The outcome of checking one reference photo for enrolment."""

    reason: Reason | None
    """None when the photo is usable; otherwise why not (no_face, multiple_faces, ...)."""
    embedding: np.ndarray | None = field(default=None, repr=False)
    """128-d face embedding when the photo is usable."""
    face_box: tuple[int, int, int, int] | None = None
    """(top, right, bottom, left) in pixels of the upright image."""
    model_version: str = ""
    quality: Mapping[str, float] = field(default_factory=dict)
    quality_class: str = ""
    """certify.references.ReferenceClass of the photo (full, card, id_card): which match
    band later certifications against it use."""

    @property
    def ok(self) -> bool:
        return self.reason is None
