"""Chinese resident identity numbers (GB 11643-1999): 17 digits and a check character."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from ..error_codes import ErrorCode

__all__ = [
    "NationalId",
    "NationalIdError",
    "parse_national_id",
    "check_character",
    "compose_national_id",
    "PROVINCES",
]

_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK = "10X98765432"
_PATTERN = re.compile(r"^[0-9]{17}[0-9X]$")

PROVINCES = frozenset(
    {"11", "12", "13", "14", "15", "21", "22", "23", "31", "32", "33", "34", "35", "36", "37",
     "41", "42", "43", "44", "45", "46", "50", "51", "52", "53", "54", "61", "62", "63", "64",
     "65", "71", "81", "82"}
)
"""First two digits of the administrative division codes (GB/T 2260) of provinces."""


class NationalIdError(ValueError):
    """Why a national ID number is invalid; `code` is a stable machine-readable string."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True, slots=True)
class NationalId:
    number: str
    birth_date: dt.date
    region_code: str
    """The six-digit division code where the number was issued (not necessarily residence)."""
    sex: str
    """"M" or "F" from the sequence digit."""

    @property
    def masked(self) -> str:
        """First 3 and last 4 characters shown, the rest hidden, for pages and logs."""
        return f"{self.number[:3]}{'*' * 11}{self.number[-4:]}"


def check_character(first17: str) -> str:
    """The GB 11643 check character for the first 17 digits."""
    total = sum(int(d) * w for d, w in zip(first17, _WEIGHTS, strict=True))
    return _CHECK[total % 11]


def parse_national_id(text: str, *, today: dt.date | None = None) -> NationalId:
    number = text.strip().upper()
    if not _PATTERN.match(number):
        raise NationalIdError(ErrorCode.NATIONAL_ID_FORMAT, "must be 17 digits followed by a digit or X")
    if number[:2] not in PROVINCES:
        raise NationalIdError(ErrorCode.NATIONAL_ID_REGION, "does not start with a province code")
    try:
        birth = dt.date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        raise NationalIdError(ErrorCode.NATIONAL_ID_BIRTH_DATE, "contains an impossible birth date") from None
    if birth.year < 1890 or birth > (today or dt.date.today()):
        raise NationalIdError(ErrorCode.NATIONAL_ID_BIRTH_DATE, "contains an impossible birth date")
    if check_character(number[:17]) != number[17]:
        raise NationalIdError(ErrorCode.NATIONAL_ID_CHECK_DIGIT, "the check character does not match")
    return NationalId(
        number=number,
        birth_date=birth,
        region_code=number[:6],
        sex="M" if int(number[16]) % 2 else "F",
    )


def compose_national_id(region_code: str, birth_date: dt.date, sequence: int) -> str:
    """A well-formed number (with its check character), for demo data and tests."""
    first17 = f"{region_code}{birth_date:%Y%m%d}{sequence:03d}"
    return first17 + check_character(first17)
