"""Reference photos as agencies hold them: ID-card size, card size, greyscale (real
photos of ../shared/data, dlib models), and the class bands of the decision (plain data)."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from bench.evaluate import id_photo_crop
from certify import (
    CURRENT_THRESHOLDS,
    Reason,
    assess,
    check_reference_photo,
    decode_video,
    load_image,
    parse_challenge,
)
from certify.decide import decide
from certify.geometry import interocular_px
from certify.match import ID_CARD_PROBE_INTEROCULAR_PX, at_eye_distance, embedding_distance
from certify.references import Reference, ReferenceClass, as_references, reference_class
from certify.signals import Signals

TH = CURRENT_THRESHOLDS
PHOTO = "people/george_clooney/1.jpg"
OTHER_PHOTO = "people/george_clooney/2.jpg"


@pytest.fixture(scope="module")
def original(shared_data, backend):
    rgb = load_image((shared_data / PHOTO).read_bytes())
    check = check_reference_photo(rgb, backend=backend)
    assert check.ok and check.quality_class == "full"
    return rgb, check


@pytest.mark.data
def test_an_id_card_photo_is_accepted_in_its_own_class_and_never_refuses_its_owner(original, shared_data, backend):
    rgb, check = original
    id_photo = id_photo_crop(rgb, check.face_box, (102, 126), 60)
    small = check_reference_photo(id_photo, backend=backend)
    assert small.ok, small.reason
    assert small.quality_class == "id_card"
    assert TH.reference_min_interocular_px <= small.quality["interocular_px"] < TH.reference_card_min_interocular_px
    assert small.quality["width_px"] == 102 and small.quality["height_px"] == 126
    assert 0 < small.quality["score"] < check.quality["score"]
    # the same man in another photo is never refused against the ID-card reference (a
    # blurred reference may send him to a person, never turn him away)
    probe = check_reference_photo(load_image((shared_data / OTHER_PHOTO).read_bytes()), backend=backend)
    distance = float(np.linalg.norm(probe.embedding - small.embedding))
    assert distance <= TH.match_band("id_card")[1], distance


@pytest.mark.data
def test_a_different_east_asian_man_is_not_accepted_against_an_id_size_reference(shared_data, backend):
    # vr1's frame at 6.0 s cut to a 102 x 126 JPEG-60 ID photo; m7 is another young man.
    # Their distance (0.444 on 2026-12-07) was accepted in the id_card band of 2026.12-2 (0.46).
    frames = decode_video(shared_data / "videos/talking_speech_man_suit_vr1.mp4").frames
    frame = next(f for f in frames if f.t_ms >= 6000)
    check = check_reference_photo(frame.rgb, backend=backend)
    assert check.ok
    small = check_reference_photo(id_photo_crop(frame.rgb, check.face_box, (102, 126), 60), backend=backend)
    assert small.ok and small.quality_class == "id_card"
    other = decode_video(shared_data / "videos/film_outdoor_talking_audio_m7.mp4")
    result = assess(other, parse_challenge("blink", mirrored=False),
                    [Reference(small.embedding, ReferenceClass.ID_CARD)], backend=backend)
    assert result.match_distance > TH.match_accept_distance_id_card, result.match_distance
    assert Reason.MATCH_UNCERTAIN in result.reasons or Reason.FACE_MISMATCH in result.reasons
    # the ID-card reference was compared with the probe frames shrunk to its eye distance
    assert result.details["id_card_probe_interocular_px"] == ID_CARD_PROBE_INTEROCULAR_PX
    assert result.id_card_probe_embedding is not None
    assert result.match_distance == pytest.approx(embedding_distance(small.embedding, result.id_card_probe_embedding))
    assert result.match_distance != pytest.approx(embedding_distance(small.embedding, result.probe_embedding))


def _eyes_at(left: tuple[float, float], right: tuple[float, float]) -> np.ndarray:
    """68 landmarks: the two eyes around the given centres, the rest of the face below."""
    points = np.zeros((68, 2))
    ring = np.array([[-6, 0], [-3, -3], [3, -3], [6, 0], [3, 3], [-3, 3]], dtype=np.float64)
    points[36:42] = np.array(left) + ring
    points[42:48] = np.array(right) + ring
    span = right[0] - left[0]
    for k in range(36):
        points[k] = (left[0] - 0.5 * span + 2 * span * (k % 6) / 5, left[1] + span * (k // 6) / 5)
    for k in range(48, 68):
        points[k] = (left[0] + span * (k - 48) / 19, left[1] + 1.2 * span)
    return points


def test_a_probe_frame_is_shrunk_to_an_id_photos_eye_distance_with_its_landmarks():
    rgb = np.zeros((720, 1280, 3), dtype=np.uint8)
    points = _eyes_at((560.0, 300.0), (660.0, 300.0))  # 100 px between the eyes
    cv2.circle(rgb, (560, 300), 8, (255, 255, 255), -1)  # a bright left eye
    small, moved = at_eye_distance(rgb, points, 23.0)
    assert interocular_px(moved) == pytest.approx(23.0, abs=0.01)
    assert small.shape[0] < 200 and small.shape[1] < 200  # cut out around the face, then shrunk
    x, y = moved[36:42].mean(axis=0)
    assert small[int(round(y)), int(round(x))].mean() > 100  # the landmarks still sit on the eye
    # a face already as small as an ID photo's is never enlarged
    tiny = _eyes_at((40.0, 50.0), (60.0, 50.0))
    same, kept = at_eye_distance(rgb, tiny, 23.0)
    assert same is rgb and kept is tiny


@pytest.mark.data
def test_a_greyscale_photo_is_card_class(original, backend):
    rgb, check = original
    grey = id_photo_crop(rgb, check.face_box, (358, 441), 85, grey=True)
    result = check_reference_photo(grey, backend=backend)
    assert result.ok and result.quality_class == "card" and result.quality["greyscale"] == 1.0


@pytest.mark.data
def test_a_face_too_small_to_compare_is_reference_too_small(original, backend):
    rgb, check = original
    factor = 12.0 / check.quality["interocular_px"]  # 12 px between the eyes
    tiny = cv2.resize(rgb, None, fx=factor, fy=factor, interpolation=cv2.INTER_AREA)
    result = check_reference_photo(tiny, backend=backend)
    assert result.reason in (Reason.REFERENCE_TOO_SMALL, Reason.NO_FACE)
    assert result.embedding is None


def test_classes_follow_eye_distance_and_colour():
    assert reference_class(interocular_px=80, greyscale=False, th=TH) is ReferenceClass.FULL
    assert reference_class(interocular_px=80, greyscale=True, th=TH) is ReferenceClass.CARD
    assert reference_class(interocular_px=30, greyscale=False, th=TH) is ReferenceClass.CARD
    assert reference_class(interocular_px=20, greyscale=False, th=TH) is ReferenceClass.ID_CARD


def _signals(distances: tuple[float, ...], classes: tuple[str, ...]) -> Signals:
    good = {"face_fraction": 1.0, "multiple_faces_fraction": 0.0, "interocular_px": 60.0,
            "brightness": 120.0, "overexposed_fraction": 0.0, "sharpness": 30.0,
            "cut_off_fraction": 0.0, "frontal_frames": 10.0}
    return Signals(duration_ms=6000, quality=good, face_tracked=True, match_distances=distances,
                   reference_classes=classes, has_references=bool(distances))


def test_each_reference_is_judged_in_its_class_band():
    between = (TH.match_reject_distance + TH.match_reject_distance_id_card) / 2
    assert decide(_signals((between,), ("full",)), TH)[:2] == ("failed", (Reason.FACE_MISMATCH,))
    assert decide(_signals((between,), ("id_card",)), TH)[:2] == ("review", (Reason.MATCH_UNCERTAIN,))
    # a degraded reference is never looser than a full one where impostors come close
    assert TH.match_accept_distance_id_card <= TH.match_accept_distance_card <= TH.match_accept_distance
    # any reference that matches is enough; the deciding one is reported
    close = TH.match_accept_distance_id_card - 0.01
    decision, reasons, match = decide(_signals((0.6, close), ("full", "id_card")), TH)
    assert decision == "passed" and match is not None and match.quality_class == "id_card"
    assert decide(_signals((TH.match_reject_distance_id_card + 0.01,), ("id_card",)), TH)[1] == (
        Reason.FACE_MISMATCH,
    )


def test_plain_embeddings_are_full_class_anchors():
    (ref,) = as_references([np.zeros(128)])
    assert isinstance(ref, Reference) and ref.quality_class is ReferenceClass.FULL and ref.anchor
