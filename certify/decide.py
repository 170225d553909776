"""The decision: signals and the thresholds table in, a decision with reason codes out.

A pure function of plain data (certify.signals.Signals, certify.thresholds.Thresholds),
so a threshold change is one reviewed diff whose effect can be computed on stored
signals. Rule:
- failed: any quality reason, the challenge not performed in order (judged only when
  the quality is fine), a presentation-attack signal beyond its threshold, the
  read-aloud step failed, or a face mismatch against every reference;
- review: otherwise, when the match is in the uncertain band of the best reference (each
  reference judged in its quality class's band), or there is no reference;
- passed: everything else.
"""

from __future__ import annotations

from .evidence import Decision
from .match import MatchResult, judge_distances
from .quality import quality_reasons
from .reasons import Reason
from .signals import Signals
from .thresholds import Thresholds

__all__ = [
    "attack_reasons",
    "decide",
]

_REASON_ORDER = list(Reason)


def attack_reasons(s: Signals, th: Thresholds) -> list[Reason]:
    """The presentation-attack reasons the signals give under `th`."""
    reasons = []
    if s.planar_nonplanar_fraction is not None and s.planar_nonplanar_fraction < th.planar_max_nonplanar_fraction:
        reasons.append(Reason.PLANAR_MOTION)
    if (
        s.landmark_shift is not None
        and s.pixel_change is not None
        and s.landmark_shift < th.no_motion_max_landmark_shift
        and s.pixel_change < th.no_motion_max_pixel_change
    ):
        reasons.append(Reason.NO_MOTION)
    if s.screen_enclosed_fraction is not None and s.screen_enclosed_fraction >= th.screen_min_enclosed_fraction:
        reasons.append(Reason.SCREEN_REPLAY)
    if (
        s.cut_spike >= th.cut_min_spike
        or s.aligned_cut_spike >= th.cut_min_aligned_spike
        or s.identity_spread > th.discontinuity_max_embedding_distance
    ):
        reasons.append(Reason.DISCONTINUITY)
    return reasons


def decide(s: Signals, th: Thresholds) -> tuple[Decision, tuple[Reason, ...], MatchResult | None]:
    """(decision, reasons in catalogue order, the match that decided or None)."""
    failures = list(quality_reasons(s.quality, duration_ms=s.duration_ms, th=th))
    reviews: list[Reason] = []
    if s.face_tracked and Reason.NO_FACE not in failures:
        if s.actions_missing and not failures:
            # a recording refused for its quality is not judged on the challenge: its
            # landmarks are unreliable, and fixing the light or the distance is the one
            # thing the pensioner can do (the attack signals are still reported)
            failures.append(Reason.CHALLENGE_NOT_FOLLOWED)
        failures += attack_reasons(s, th)
    failures += s.speech_reasons
    match = judge_distances(s.match_distances, s.reference_classes, th)
    if not s.has_references:
        reviews.append(Reason.NO_REFERENCE)
    elif match is not None:
        if match.verdict == "mismatch":
            failures.append(Reason.FACE_MISMATCH)
        elif match.verdict == "uncertain":
            reviews.append(Reason.MATCH_UNCERTAIN)
    decision: Decision = "failed" if failures else ("review" if reviews else "passed")
    reasons = tuple(sorted(dict.fromkeys(failures + reviews), key=_REASON_ORDER.index))
    return decision, reasons, match
