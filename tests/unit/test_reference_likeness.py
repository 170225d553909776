"""The approval page's words come from the engine's own accept/reject distances."""

from certify import CURRENT_THRESHOLDS
from service.reference_review import likeness


def test_likeness_follows_the_engine_verdict_bands():
    accept, reject = CURRENT_THRESHOLDS.match_accept_distance, CURRENT_THRESHOLDS.match_reject_distance
    assert likeness(None) == "no_enrolled"
    assert likeness(accept) == "same"
    assert likeness(accept + 1e-6) == "unsure"
    assert likeness(reject) == "unsure"
    assert likeness(reject + 1e-6) == "different"
