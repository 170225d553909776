"""certify: decide from a selfie video whether a pensioner is alive, present and enrolled.

A pure library: frames and reference embeddings in, frozen evidence out. It never reads
the environment, a database or a queue; the only I/O is decoding a file it is handed.
"""

from __future__ import annotations

from .challenge import Action, Challenge, ChallengeError, issue_challenge, parse_challenge
from .evidence import ActionEvidence, Assessment, Decision, KeyFrame, PhotoCheck
from .images import ImageError, load_image
from .reasons import REASON_GROUPS, Reason
from .video import (
    DecodedVideo,
    Frame,
    VideoError,
    VideoInfo,
    VideoLimits,
    decode_video,
    probe_video,
)

__all__ = [
    "Action",
    "ActionEvidence",
    "Assessment",
    "Challenge",
    "ChallengeError",
    "DecodedVideo",
    "Decision",
    "Frame",
    "ImageError",
    "KeyFrame",
    "PhotoCheck",
    "REASON_GROUPS",
    "Reason",
    "VideoError",
    "VideoInfo",
    "VideoLimits",
    "decode_video",
    "issue_challenge",
    "load_image",
    "parse_challenge",
    "probe_video",
]
