"""certify: decide from a selfie video whether a pensioner is alive, present and enrolled.

A pure library: frames and reference embeddings in, frozen evidence out. It never reads
the environment, a database or a queue; the only I/O is decoding a file it is handed.
"""

from __future__ import annotations

from .assess import ENGINE_VERSION, assess
from .backend import (
    FaceBackend,
    FaceBox,
    FaceDetector,
    FaceEmbedder,
    LandmarkPredictor,
    load_dlib_backend,
)
from .challenge import Action, Challenge, ChallengeError, issue_challenge, parse_challenge
from .evidence import ActionEvidence, Assessment, Decision, KeyFrame, PhotoCheck
from .fingerprint import fingerprint_similarity, is_reused_video, video_fingerprint
from .images import ImageError, load_image
from .match import embedding_distance
from .photo import check_reference_photo
from .reasons import REASON_GROUPS, ProcessingReason, Reason
from .thresholds import CURRENT_THRESHOLDS, Thresholds
from .video import (
    AudioTrack,
    DecodedVideo,
    Frame,
    VideoError,
    VideoInfo,
    VideoLimits,
    decode_video,
    probe_video,
)

__all__ = [
    "CURRENT_THRESHOLDS",
    "ENGINE_VERSION",
    "AudioTrack",
    "FaceBackend",
    "FaceBox",
    "FaceDetector",
    "FaceEmbedder",
    "LandmarkPredictor",
    "Thresholds",
    "assess",
    "check_reference_photo",
    "embedding_distance",
    "fingerprint_similarity",
    "is_reused_video",
    "load_dlib_backend",
    "video_fingerprint",
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
    "ProcessingReason",
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
