"""Quality reason codes on real frames degraded with OpenCV (dlib models, no fakes).

A real bona fide clip (videos/talking_speech_man_suit_vr1.mp4: frontal, well lit,
sharp, face ~90 px between the eyes) passes the quality gate; the same frames made dark,
burnt out, blurred, small or pushed half out of the picture each fail with the code a
pensioner can act on. not_frontal uses the stretch of the m1 clip where he keeps his
head turned (SOURCES.md: 2.0-5.7 s).
"""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from certify import REASON_GROUPS, Reason, assess, parse_challenge
from certify.video import DecodedVideo, Frame

pytestmark = pytest.mark.data

CLIP = "videos/talking_speech_man_suit_vr1.mp4"
QUALITY = REASON_GROUPS["quality"]


def _degraded(video: DecodedVideo, change) -> DecodedVideo:
    frames = tuple(
        Frame(t_ms=f.t_ms, gray=np.ascontiguousarray(change(f.gray)), scale=f.scale) for f in video.frames
    )
    return DecodedVideo(info=video.info, frames=frames)


def _quality_reasons(video: DecodedVideo, backend) -> set[Reason]:
    result = assess(video, parse_challenge("blink"), [], backend=backend)
    return set(result.reasons) & QUALITY


def _smaller(gray: np.ndarray) -> np.ndarray:
    """The whole picture at a quarter size in the middle of a plain frame: the person
    sits four times further from the camera."""
    h, w = gray.shape
    small = cv2.resize(gray, (w // 4, h // 4), interpolation=cv2.INTER_AREA)
    canvas = np.full_like(gray, int(gray.mean()))
    y, x = (h - small.shape[0]) // 2, (w - small.shape[1]) // 2
    canvas[y : y + small.shape[0], x : x + small.shape[1]] = small
    return canvas


def _shifted_out(gray: np.ndarray) -> np.ndarray:
    """The picture moved right until about a fifth of the face leaves the frame (much
    more and the face detector no longer finds it: no_face)."""
    h, w = gray.shape
    shift = np.float32([[1, 0, 0.36 * w], [0, 1, 0]])
    return cv2.warpAffine(gray, shift, (w, h), borderMode=cv2.BORDER_REPLICATE)


def test_the_clean_clip_has_no_quality_reason(decoded, backend):
    assert _quality_reasons(decoded(CLIP), backend) == set()


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (lambda g: (g.astype(np.float32) * 0.2).astype(np.uint8), Reason.TOO_DARK),
        (lambda g: np.clip(g.astype(np.float32) * 1.6 + 90, 0, 255).astype(np.uint8), Reason.TOO_BRIGHT),
        (lambda g: cv2.GaussianBlur(g, (0, 0), 3.0), Reason.BLURRY),
        (_smaller, Reason.FACE_TOO_SMALL),
        (_shifted_out, Reason.FACE_CUT_OFF),
    ],
    ids=["darkened", "overexposed", "blurred", "far_away", "partly_out"],
)
def test_a_degraded_clip_fails_with_the_actionable_reason(decoded, backend, change, expected):
    reasons = _quality_reasons(_degraded(decoded(CLIP), change), backend)
    assert expected in reasons
    # one thing to fix: a dark face is not also called blurry, a far face not "no face"
    assert Reason.NO_FACE not in reasons
    if expected is Reason.TOO_DARK:
        assert Reason.BLURRY not in reasons


def test_a_head_kept_turned_is_not_frontal(decoded, backend):
    video = decoded("videos/selfie_phone_headturn_nod_m1.mp4")
    turned = tuple(f for f in video.frames if 2200 <= f.t_ms <= 5400)
    reasons = _quality_reasons(DecodedVideo(info=video.info, frames=turned), backend)
    assert Reason.NOT_FRONTAL in reasons


def test_the_stage_clip_is_not_one_person_facing_the_camera(decoded, backend):
    # SOURCES.md: shot cuts, several people, faces ~85 px; not a selfie
    video = decoded("videos/negative_stage_multishot_hamilton.mp4")
    result = assess(video, parse_challenge("blink"), [], backend=backend)
    assert result.decision == "failed"
    assert {Reason.MULTIPLE_FACES, Reason.DISCONTINUITY} & set(result.reasons)
    assert result.details.get("cut_t_ms"), "the shot changes are found as cuts"


@pytest.mark.parametrize(
    ("clip", "challenge", "light", "luma"),
    [
        # the light of an evening room: 45% darker, face luma under 90
        ("videos/talking_speech_man_suit_vr1.mp4", "blink", 0.55, (50, 90)),
        ("videos/frontal_mouth_open_m5.mp4", "open_mouth,blink", 0.55, (50, 90)),
        # grey values at 45% put these faces at luma 40-50 (bench/robustness.py's 35% light
        # does the same through the video range): too_dark until thresholds 2026.12-5
        ("videos/child_talking_audio_f3.mp4", "open_mouth,blink", 0.45, (40, 50)),
        ("videos/dfdc_real_f_indoor_ayhm23.mp4", "blink", 0.45, (40, 50)),
    ],
)
def test_a_dim_room_still_shows_the_actions(decoded, backend, clip, challenge, light, luma):
    # the landmark predictor sees the face with an exposure gain; quality is judged on the
    # real pixels
    dim = _degraded(decoded(clip), lambda g: (g.astype(np.float32) * light).astype(np.uint8))
    result = assess(dim, parse_challenge(challenge), [], backend=backend)
    assert luma[0] <= result.scores["quality_brightness"] < luma[1]
    assert result.reasons == (Reason.NO_REFERENCE,)
