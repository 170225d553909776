"""What measuring one recording found, as plain numbers: the input of `certify.decide`.

Measuring (certify.assess.measure) tracks the face, finds the actions, runs the
presentation-attack signals, embeds the probe frames and compares them with the
references. It applies no decision threshold of the table, except the ones that DEFINE
what is measured (what counts as a blink, a head turn, a frontal frame, a picture cut, a
spoken syllable): those are physiology and geometry, written in certify.thresholds too.
Everything a reviewer or a threshold change needs is here, so `decide` is a small pure
function and a threshold change can be judged on stored signals (bench/evaluate.py).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from .challenge import Action
from .reasons import Reason

__all__ = [
    "Signals",
]


@dataclass(frozen=True, slots=True)
class Signals:
    duration_ms: int
    quality: Mapping[str, float]
    """certify.quality.quality_scores: face share, size, light, sharpness, ..."""
    face_tracked: bool
    """A face was followed long enough to take a baseline (actions and attacks measured)."""
    actions_missing: tuple[Action, ...] = ()
    """Challenged actions not found in the challenged order."""
    planar_nonplanar_fraction: float | None = None
    """certify.planar around the challenged turns and nods; None when not judged."""
    landmark_shift: float | None = None
    pixel_change: float | None = None
    screen_enclosed_fraction: float | None = None
    cut_spike: float = 0.0
    aligned_cut_spike: float = 0.0
    """certify.splice's cut measure with the camera's own motion undone (hand shake)."""
    identity_spread: float = 0.0
    """Largest embedding distance between probe frames spread over the recording."""
    speech_reasons: tuple[Reason, ...] = ()
    """The read-aloud sub-check's own findings (certify.speech), when digits were asked."""
    match_distances: tuple[float, ...] = ()
    """Distance of the fused probe to each reference (empty when none could be compared)."""
    reference_classes: tuple[str, ...] = ()
    """Quality class of each reference, in the same order."""
    has_references: bool = False
    extra: Mapping[str, float] = field(default_factory=dict)
    """Signals recorded for reviewers and evaluation that no rule decides on yet."""
