"""Which probe an assessment offers a reference of each class (Assessment.probe_for): the
one the engine compared it with. The fresh-reference check against an anchor and
bench/evaluate.py both use it."""

from __future__ import annotations

import numpy as np
import pytest

from certify import Assessment
from certify.references import ReferenceClass


def _assessment(probe: np.ndarray | None, shrunk: np.ndarray | None) -> Assessment:
    return Assessment(
        decision="passed", reasons=(), match_distance=0.3, actions=(), scores={}, timings_ms={}, key_frames=(),
        thresholds_version="t", engine_version="e", probe_embedding=probe, id_card_probe_embedding=shrunk,
    )


def test_an_id_card_reference_is_offered_the_probe_shrunk_to_its_size():
    shrunk = np.ones(128)
    assert np.array_equal(_assessment(np.zeros(128), shrunk).probe_for(ReferenceClass.ID_CARD), shrunk)


def test_other_references_and_older_assessments_get_the_probe_as_recorded():
    shrunk = np.ones(128)
    for quality_class in (ReferenceClass.FULL, ReferenceClass.CARD):
        assert np.array_equal(_assessment(np.zeros(128), shrunk).probe_for(quality_class), np.zeros(128))
    # an assessment made without an ID-card reference has no shrunk probe
    assert np.array_equal(_assessment(np.zeros(128), None).probe_for(ReferenceClass.ID_CARD), np.zeros(128))


def test_without_a_probe_there_is_nothing_to_offer():
    with pytest.raises(ValueError):
        _assessment(None, None).probe_for(ReferenceClass.FULL)
