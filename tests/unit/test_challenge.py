from __future__ import annotations

import random

import pytest

from certify.challenge import Action, Challenge, ChallengeError, issue_challenge, parse_challenge


def test_issued_challenges_have_two_or_three_distinct_actions_and_one_turn_direction():
    rng = random.Random(7)
    seen_orders = set()
    for _ in range(500):
        challenge = issue_challenge(rng=rng)
        actions = challenge.actions
        assert 2 <= len(actions) <= 3
        assert len(set(actions)) == len(actions)
        assert not {Action.TURN_LEFT, Action.TURN_RIGHT} <= set(actions)
        assert challenge.digits is None
        seen_orders.add(actions)
    # the order carries randomness: many different sequences come out
    assert len(seen_orders) > 40


def test_digits_are_four_decimal_characters():
    challenge = issue_challenge(with_digits=True, rng=random.Random(1))
    assert challenge.digits is not None and len(challenge.digits) == 4
    assert challenge.digits.isdigit()


def test_parse_round_trips_through_json():
    challenge = parse_challenge("blink, turn_left,open_mouth", digits="3815", mirrored=True)
    assert challenge.actions == (Action.BLINK, Action.TURN_LEFT, Action.OPEN_MOUTH)
    assert Challenge.from_json(challenge.to_json()) == challenge


@pytest.mark.parametrize(
    ("text", "digits"), [("blink,wave", None), ("", None), ("blink", "12a4"), ("blink", "123")]
)
def test_bad_challenges_are_refused(text, digits):
    with pytest.raises(ChallengeError):
        parse_challenge(text, digits=digits)
