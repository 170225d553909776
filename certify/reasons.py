"""Reason codes: why a certification attempt did not pass, in words a person can act on.

Every `failed` or `review` decision carries one or more of these codes. They are stable
strings: the API returns them, the pages translate them, agencies filter on them. Add
new codes at the end of their group; never rename one.
"""

from __future__ import annotations

from enum import StrEnum

__all__ = ["Reason", "ProcessingReason", "REASON_GROUPS"]


class Reason(StrEnum):
    # --- quality: the pensioner can fix these by recording again -------------------------
    NO_FACE = "no_face"
    MULTIPLE_FACES = "multiple_faces"
    FACE_TOO_SMALL = "face_too_small"
    TOO_DARK = "too_dark"
    TOO_BRIGHT = "too_bright"
    BLURRY = "blurry"
    FACE_CUT_OFF = "face_cut_off"
    NOT_FRONTAL = "not_frontal"
    VIDEO_TOO_SHORT = "video_too_short"
    VIDEO_TOO_LONG = "video_too_long"
    UNREADABLE_VIDEO = "unreadable_video"
    VIDEO_RESOLUTION_TOO_HIGH = "video_resolution_too_high"
    REFERENCE_TOO_SMALL = "reference_too_small"
    """A reference photo whose face is smaller than any match can rely on."""

    # --- active liveness: the recording does not show the issued challenge ----------------
    CHALLENGE_NOT_FOLLOWED = "challenge_not_followed"

    # --- read-aloud digits ----------------------------------------------------------------
    NO_AUDIO = "no_audio"
    NO_SPEECH = "no_speech"
    DIGITS_MISMATCH = "digits_mismatch"
    AUDIO_VIDEO_MISMATCH = "audio_video_mismatch"

    # --- passive presentation-attack detection --------------------------------------------
    PLANAR_MOTION = "planar_motion"
    NO_MOTION = "no_motion"
    SCREEN_REPLAY = "screen_replay"
    DISCONTINUITY = "discontinuity"

    # --- face match -----------------------------------------------------------------------
    FACE_MISMATCH = "face_mismatch"
    MATCH_UNCERTAIN = "match_uncertain"
    NO_REFERENCE = "no_reference"


class ProcessingReason(StrEnum):
    """Reasons the service adds around the engine (an attempt's outcome, not the video's
    content): the same stable strings as `Reason`, translated by the same catalogue."""

    VIDEO_REUSED = "video_reused"
    """The recording is an earlier recording of the same pensioner sent again."""
    PROCESSING_CRASHED = "processing_crashed"
    """Processing died too often (a video that crashes the decoder, for example); the
    attempt is set aside as `error` instead of crashing workers for ever."""
    CERTIFIED_AFTER_DEATH = "certified_after_death"
    """A death is reported for the pensioner (and not reversed): whatever the engine
    found, a person decides (the attempt goes to review, never to passed)."""
    FACE_MATCHES_OTHER_PENSIONER = "face_matches_other_pensioner"
    """The live face matches another pensioner's reference better than the claimed
    pensioner's (identity search): a reviewer looks; never `passed`."""
    FACE_CERTIFIED_OTHER_PENSIONER = "face_certified_other_pensioner"
    """The same live face recently certified another pensioner (one person recording
    for several): a reviewer looks; never `passed`."""


REASON_GROUPS: dict[str, frozenset[Reason]] = {
    "quality": frozenset(
        {
            Reason.NO_FACE,
            Reason.MULTIPLE_FACES,
            Reason.FACE_TOO_SMALL,
            Reason.TOO_DARK,
            Reason.TOO_BRIGHT,
            Reason.BLURRY,
            Reason.FACE_CUT_OFF,
            Reason.NOT_FRONTAL,
            Reason.VIDEO_TOO_SHORT,
            Reason.VIDEO_TOO_LONG,
            Reason.UNREADABLE_VIDEO,
            Reason.VIDEO_RESOLUTION_TOO_HIGH,
            Reason.REFERENCE_TOO_SMALL,
        }
    ),
    "liveness": frozenset({Reason.CHALLENGE_NOT_FOLLOWED}),
    "speech": frozenset(
        {Reason.NO_AUDIO, Reason.NO_SPEECH, Reason.DIGITS_MISMATCH, Reason.AUDIO_VIDEO_MISMATCH}
    ),
    "attack": frozenset(
        {Reason.PLANAR_MOTION, Reason.NO_MOTION, Reason.SCREEN_REPLAY, Reason.DISCONTINUITY}
    ),
    "match": frozenset({Reason.FACE_MISMATCH, Reason.MATCH_UNCERTAIN, Reason.NO_REFERENCE}),
}
"""Which part of the check each code comes from (for reports and per-reason metrics)."""
