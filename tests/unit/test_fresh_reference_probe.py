"""Which probe a passed certification's face is checked against an anchor with, before it
is kept as a fresh reference: the one the engine compared that anchor with."""

from __future__ import annotations

import numpy as np

from certify import Assessment
from certify.references import Reference, ReferenceClass
from service.references import probe_for_anchor


def _assessment(shrunk: np.ndarray | None) -> Assessment:
    return Assessment(
        decision="passed", reasons=(), match_distance=0.3, actions=(), scores={}, timings_ms={}, key_frames=(),
        thresholds_version="t", engine_version="e", probe_embedding=np.zeros(128), id_card_probe_embedding=shrunk,
    )


def test_an_id_card_anchor_is_checked_against_the_probe_shrunk_to_its_size():
    shrunk = np.ones(128)
    anchor = Reference(np.zeros(128), ReferenceClass.ID_CARD)
    assert np.array_equal(probe_for_anchor(_assessment(shrunk), anchor), shrunk)


def test_other_anchors_and_older_assessments_use_the_probe_as_recorded():
    shrunk = np.ones(128)
    for quality_class in (ReferenceClass.FULL, ReferenceClass.CARD):
        used = probe_for_anchor(_assessment(shrunk), Reference(np.zeros(128), quality_class))
        assert np.array_equal(used, np.zeros(128))
    # an assessment made without an ID-card reference has no shrunk probe
    used = probe_for_anchor(_assessment(None), Reference(np.zeros(128), ReferenceClass.ID_CARD))
    assert np.array_equal(used, np.zeros(128))
