"""The random challenge a pensioner must perform on camera.

Directions are from the pensioner's own point of view: `turn_left` means the pensioner
turns their head to their own left. A front camera recording that is NOT mirrored (what
browsers' MediaRecorder produces) then shows the nose moving toward image-RIGHT; a
mirrored recording shows it moving toward image-left. `Challenge.mirrored` says which.
"""

from __future__ import annotations

import random
import secrets
from dataclasses import dataclass
from enum import StrEnum

__all__ = [
    "Action",
    "Challenge",
    "ChallengeError",
    "issue_challenge",
    "parse_challenge",
    "DIGIT_COUNT",
]

DIGIT_COUNT = 4
"""How many digits a read-aloud step asks for (each is one syllable in Mandarin)."""


class Action(StrEnum):
    BLINK = "blink"
    TURN_LEFT = "turn_left"
    TURN_RIGHT = "turn_right"
    NOD = "nod"
    OPEN_MOUTH = "open_mouth"


class ChallengeError(ValueError):
    """A challenge description that cannot be used (unknown action, bad digits)."""


@dataclass(frozen=True, slots=True)
class Challenge:
    """Actions to perform in this order, optionally followed by digits to read aloud."""

    actions: tuple[Action, ...]
    digits: str | None = None
    mirrored: bool = False
    """True when the recording is mirrored (left and right swapped in the image)."""

    def __post_init__(self) -> None:
        if not self.actions and not self.digits:
            raise ChallengeError("a challenge needs at least one action or digits")
        if self.digits is not None and (
            len(self.digits) != DIGIT_COUNT or not self.digits.isdigit()
        ):
            raise ChallengeError(f"digits must be {DIGIT_COUNT} characters 0-9")

    def to_json(self) -> dict[str, object]:
        return {
            "actions": [a.value for a in self.actions],
            "digits": self.digits,
            "mirrored": self.mirrored,
        }

    @classmethod
    def from_json(cls, data: dict[str, object]) -> Challenge:
        actions = data.get("actions") or []
        digits = data.get("digits")
        if not isinstance(actions, list | tuple):
            raise ChallengeError("a challenge's actions must be a list")
        return parse_challenge(
            ",".join(str(a) for a in actions),
            digits=str(digits) if digits is not None else None,
            mirrored=bool(data.get("mirrored", False)),
        )


def parse_challenge(text: str, *, digits: str | None = None, mirrored: bool = False) -> Challenge:
    """Parse "blink,turn_left" (as typed on the command line) into a Challenge."""
    names = [part.strip() for part in text.split(",") if part.strip()]
    try:
        actions = tuple(Action(name) for name in names)
    except ValueError as exc:
        known = ", ".join(a.value for a in Action)
        raise ChallengeError(f"{exc}; known actions: {known}") from None
    return Challenge(actions=actions, digits=digits or None, mirrored=mirrored)


def issue_challenge(
    *,
    min_actions: int = 2,
    max_actions: int = 3,
    with_digits: bool = False,
    rng: random.Random | None = None,
) -> Challenge:
    """A fresh random challenge: 2-3 different actions in random order (+ digits).

    Uses the operating system's CSPRNG unless `rng` is given (tests). Left and right
    turns are never both asked in one challenge, so a pensioner turns only one way and
    the order of actions still carries most of the randomness.
    """
    pick = rng or secrets.SystemRandom()
    count = pick.randint(min_actions, max_actions)
    pool = list(Action)
    chosen: list[Action] = []
    while len(chosen) < count:
        action = pick.choice(pool)
        pool.remove(action)
        if action in (Action.TURN_LEFT, Action.TURN_RIGHT):
            other = Action.TURN_RIGHT if action is Action.TURN_LEFT else Action.TURN_LEFT
            if other in pool:
                pool.remove(other)
        chosen.append(action)
    digits = "".join(str(pick.randrange(10)) for _ in range(DIGIT_COUNT)) if with_digits else None
    return Challenge(actions=tuple(chosen), digits=digits)
