"""certify.bystanders on real media: second faces beside the pensioner's.

Helpers are real photos of shared/data/people composed beside real selfie clips at
test time (OpenCV, side by side, bottom-aligned as someone leaning in beside the
pensioner); the stage clip and a multi-face photo are real multi-person media as they
are. Single-person clips must stay silent.
"""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from certify import assess, embedding_distance, load_image, parse_challenge
from certify.bystanders import Bystanders, find_bystanders
from certify.tracking import track_faces
from certify.video import Frame
from service.watch import WatchRules

pytestmark = pytest.mark.data

M1 = "videos/selfie_phone_headturn_nod_m1.mp4"
M2 = "videos/selfie_phone_blinks_expressions_m2.mp4"
M3 = "videos/selfie_webcam_blinks_m3.mp4"
SAME = WatchRules().same_face_max_distance


def _beside(frames, helper_rgb: np.ndarray, *, height_share: float = 0.5, seconds: float = 6.0) -> list[Frame]:
    """Each frame with the helper's photo beside it (its height a share of the frame's)."""
    out = []
    for frame in frames:
        if frame.t_ms > seconds * 1000:
            break
        rgb = frame.rgb
        height = rgb.shape[0]
        helper_h = int(height * height_share)
        helper_w = int(helper_rgb.shape[1] * helper_h / helper_rgb.shape[0])
        panel = np.zeros((height, helper_w, 3), np.uint8)
        panel[height - helper_h:] = cv2.resize(helper_rgb, (helper_w, helper_h), interpolation=cv2.INTER_AREA)
        out.append(Frame.from_rgb(frame.t_ms, np.hstack([rgb, panel])))
    return out


def _look(frames, backend) -> Bystanders:
    return find_bystanders(frames, track_faces(frames, backend), backend=backend)


@pytest.fixture(scope="module")
def helpers(decoded, shared_data, backend):
    """Second faces found in three pensioners' clips: one helper twice (two different
    photos of George Clooney), another helper once (Jennifer Aniston)."""
    photo = lambda rel: load_image((shared_data / rel).read_bytes())  # noqa: E731
    return {
        "m1+clooney1": _look(_beside(decoded(M1).frames, photo("people/george_clooney/1.jpg")), backend),
        "m3+clooney4": _look(_beside(decoded(M3).frames, photo("people/george_clooney/4.jpg")), backend),
        "m2+aniston1": _look(_beside(decoded(M2).frames, photo("people/jennifer_aniston/1.jpg")), backend),
    }


def test_a_helper_beside_the_pensioner_is_seen_and_embedded(helpers):
    for name, found in helpers.items():
        assert found.frames_checked >= 5, name
        assert found.share >= 0.8, (name, found)
        assert found.most_faces == 2, (name, found)
        assert 0.25 <= found.relative_width <= 0.7, (name, found)
        assert found.embedding is not None and found.embedding.shape == (128,), name
        assert "embedding" not in found.to_json() and found.to_json()["embedded"] is True


def test_the_same_helper_in_two_pensioners_videos_matches_and_another_does_not(helpers):
    same = embedding_distance(helpers["m1+clooney1"].embedding, helpers["m3+clooney4"].embedding)
    assert same <= SAME, same
    for other in ("m1+clooney1", "m3+clooney4"):
        different = embedding_distance(helpers[other].embedding, helpers["m2+aniston1"].embedding)
        assert different > SAME + 0.15, (other, different)


@pytest.mark.parametrize(
    "clip",
    [M1, M2, M3, "videos/webcam_static_room_m9.mp4", "videos/selfie_winks_gaze_music_f1.mp4",
     "videos/talking_f_young_vlog.mp4"],
)
def test_single_person_clips_show_no_second_face(clip, decoded, backend):
    found = _look(decoded(clip).frames, backend)
    assert found.frames_checked >= 3
    assert found.frames_with_second_face == 0, (clip, found)
    assert found.embedding is None


def test_the_audience_of_the_stage_clip_is_a_second_face(decoded, backend):
    """Real multi-person video: the Hamilton clip's audience shot (7.5-9.2 s, SOURCES.md)."""
    found = _look(decoded("videos/negative_stage_multishot_hamilton.mp4").frames, backend)
    assert found.frames_with_second_face >= 1
    assert any(7500 <= t <= 9200 for t in found.t_ms), found.t_ms
    assert found.embedding is not None


def test_a_photo_of_two_people_held_still(shared_data, backend):
    rgb = load_image((shared_data / "people/_multi_face/kit_harington_rose_leslie.jpg").read_bytes())
    frames = [Frame.from_rgb(t, rgb) for t in range(0, 3000, 100)]
    found = find_bystanders(frames, None, backend=backend)
    assert found.frames_checked == 3 and found.frames_with_second_face == 3, found
    assert found.most_faces == 2


def test_assess_reports_bystanders_only_when_asked_and_keeps_its_decision(decoded, shared_data, backend):
    frames = _beside(decoded(M1).frames, load_image((shared_data / "people/george_clooney/1.jpg").read_bytes()))
    video = decoded(M1)
    from dataclasses import replace

    composed = replace(video, frames=tuple(frames))
    challenge = parse_challenge("turn_left")
    plain = assess(composed, challenge, [], backend=backend)
    watched = assess(composed, challenge, [], backend=backend, look_for_bystanders=True)
    assert plain.bystanders is None and "bystanders" not in plain.details
    assert watched.bystanders is not None and watched.bystanders.frames_with_second_face >= 2
    assert watched.details["bystanders"]["frames_with_second_face"] == watched.bystanders.frames_with_second_face
    assert (watched.decision, watched.reasons) == (plain.decision, plain.reasons)
