"""The engine's pure logic on scripted faces (certify.fakes): no models, no data files.

Action order, decision rules and quality reasons, each from a synthetic timeline whose
truth the test states. The real models on real recordings are in test_engine_real.py.
"""

from __future__ import annotations

import numpy as np
import pytest

from certify import CURRENT_THRESHOLDS, Reason, assess, parse_challenge
from certify.actions import find_actions, match_challenge
from certify.challenge import Action
from certify.match import frame_score, select_probe_frames
from certify.tracking import FaceObservation, track_faces

from .synthetic import FRAME_H, FRAME_W, Pose, scripted_video, unit_vector

TH = CURRENT_THRESHOLDS
ME = unit_vector(1)


def _live(t_ms: int, *, blink_at=(1500,), turn_at: tuple[int, int] | None = (2500, 3300),
          yaw_deg: float = 30.0, mouth_at: tuple[int, int] | None = None,
          nod_at: tuple[int, int] | None = None) -> Pose:
    """A person who blinks (one sample), turns the head, opens the mouth as told."""
    yaw = pitch = 0.0
    if turn_at and turn_at[0] <= t_ms <= turn_at[1]:
        yaw = yaw_deg
    if nod_at and nod_at[0] <= t_ms <= nod_at[1]:
        pitch = 25.0
    return Pose(
        yaw_deg=yaw,
        pitch_deg=pitch,
        eyes_closed=any(abs(t_ms - b) < 50 for b in blink_at),
        mouth_open=bool(mouth_at and mouth_at[0] <= t_ms <= mouth_at[1]),
    )


def _near(reference: np.ndarray, distance: float, seed: int = 7) -> np.ndarray:
    """A reference embedding exactly `distance` away from `reference`."""
    direction = unit_vector(seed)
    direction -= direction.dot(reference) * reference / reference.dot(reference)
    return reference + distance * direction / np.linalg.norm(direction)


def _assess(timeline, challenge: str, references=(), **kwargs):
    video, backend = scripted_video(timeline, embedding=ME, **kwargs)
    return assess(video, parse_challenge(challenge), list(references), backend=backend)


# --- actions and their order -----------------------------------------------------------


def test_actions_are_found_with_their_times_and_direction():
    video, backend = scripted_video(lambda t: _live(t, mouth_at=(4000, 4400)))
    events = find_actions(track_faces(video.frames, backend), TH, mirrored=False)
    kinds = [(e.action, e.peak_ms) for e in events]
    assert (Action.BLINK, 1500) in kinds
    # nose toward image-right, not mirrored: the pensioner's own left
    assert any(a is Action.TURN_LEFT and 2500 <= t <= 3300 for a, t in kinds)
    assert not any(a is Action.TURN_RIGHT for a, _ in kinds)
    assert any(a is Action.OPEN_MOUTH and 4000 <= t <= 4400 for a, t in kinds)
    mirrored = find_actions(track_faces(video.frames, backend), TH, mirrored=True)
    assert any(e.action is Action.TURN_RIGHT for e in mirrored)


def test_challenge_in_order_passes_and_reversed_order_fails():
    ok = _assess(_live, "blink,turn_left", [_near(ME, 0.2)])
    assert ok.decision == "passed", ok.reasons
    assert [a.name for a in ok.actions] == ["blink", "turn_left"]
    assert ok.actions[0].t_ms < ok.actions[1].t_ms
    reversed_order = _assess(_live, "turn_left,blink", [_near(ME, 0.2)])
    assert reversed_order.decision == "failed"
    assert Reason.CHALLENGE_NOT_FOLLOWED in reversed_order.reasons


def test_an_action_repeated_later_satisfies_the_order():
    timeline = lambda t: _live(t, blink_at=(1000, 4200))  # noqa: E731
    result = _assess(timeline, "turn_left,blink", [_near(ME, 0.2)])
    assert result.decision == "passed", result.reasons
    assert result.actions[-1].t_ms == 4200


def test_a_one_sample_glitch_of_one_eye_is_not_a_blink():
    def wink(t: int) -> Pose:
        return Pose()

    video, backend = scripted_video(wink)
    observations = list(track_faces(video.frames, backend))
    # one sample where only the image-left eye's lids collapse: a landmark glitch
    glitch = observations[15]
    points = glitch.landmarks.copy()
    points[37, 1] = points[41, 1] = points[36, 1]
    points[38, 1] = points[40, 1] = points[39, 1]
    from certify.tracking import _measure

    observations[15] = _measure(15, video.frames[15], glitch.box, points, False, 0)
    events = find_actions(observations, TH, mirrored=False)
    assert not [e for e in events if e.action is Action.BLINK]


def test_a_quick_blink_in_a_shaking_hand_is_a_blink():
    rng = np.random.default_rng(5)
    shake = {t: (float(rng.normal(0, 8)), float(rng.normal(0, 8))) for t in range(0, 5000, 10)}

    def shaking(t: int) -> Pose:  # the face jumps ~8 px between samples; one sample closed
        dx, dy = shake[t - t % 10]
        return Pose(eyes_closed=t == 2000, centre=(FRAME_W / 2 + dx, FRAME_H / 2 + dy))

    video, backend = scripted_video(shaking, jitter=0.0)
    events = find_actions(track_faces(video.frames, backend), TH, mirrored=False)
    assert [e.peak_ms for e in events if e.action is Action.BLINK] == [2000]


def test_match_challenge_reports_what_is_missing():
    video, backend = scripted_video(lambda t: _live(t, turn_at=None))
    events = find_actions(track_faces(video.frames, backend), TH, mirrored=False)
    matched, missing = match_challenge(events, parse_challenge("blink,nod,open_mouth"))
    assert [e.action for e in matched] == [Action.BLINK]
    assert missing == (Action.NOD, Action.OPEN_MOUTH)


def test_a_nod_must_come_back_up():
    nod = _assess(lambda t: _live(t, turn_at=None, nod_at=(2500, 3000)), "nod", [_near(ME, 0.2)])
    assert nod.decision == "passed", nod.reasons
    head_stays_down = _assess(
        lambda t: _live(t, turn_at=None, nod_at=(2500, 99999)), "nod", [_near(ME, 0.2)]
    )
    assert Reason.CHALLENGE_NOT_FOLLOWED in head_stays_down.reasons


# --- the decision ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("distance", "decision", "reason"),
    [
        (0.25, "passed", None),
        ((TH.match_accept_distance + TH.match_reject_distance) / 2, "review", Reason.MATCH_UNCERTAIN),
        (TH.match_reject_distance + 0.1, "failed", Reason.FACE_MISMATCH),
    ],
)
def test_match_distance_decides_between_passed_review_and_failed(distance, decision, reason):
    result = _assess(_live, "blink", [_near(ME, distance)])
    assert result.decision == decision
    assert result.match_distance == pytest.approx(distance, abs=1e-6)
    assert result.reasons == (() if reason is None else (reason,))
    assert result.scores["match_distance"] == pytest.approx(distance, abs=1e-6)


def test_the_best_reference_counts():
    result = _assess(_live, "blink", [_near(ME, 0.9, seed=3), _near(ME, 0.2, seed=4)])
    assert result.decision == "passed"
    assert result.details["reference_distances"] == [pytest.approx(0.9, abs=1e-3), pytest.approx(0.2, abs=1e-3)]


def test_no_reference_goes_to_review_and_failures_win_over_review():
    assert _assess(_live, "blink").reasons == (Reason.NO_REFERENCE,)
    both = _assess(_live, "open_mouth")
    assert both.decision == "failed"
    assert both.reasons == (Reason.CHALLENGE_NOT_FOLLOWED, Reason.NO_REFERENCE)


def test_every_result_carries_versions_scores_and_timings():
    result = _assess(_live, "blink,turn_left", [_near(ME, 0.2)])
    assert result.thresholds_version == TH.version
    for name in ("identity_spread", "cut_spike", "screen_enclosed_fraction", "quality_brightness"):
        assert name in result.scores
    assert {"track", "quality", "actions", "embed", "attacks", "match"} <= set(result.timings_ms)
    payload = result.to_json()
    assert payload["actions"][0] == {"name": "blink", "t_ms": 1500, "strength": pytest.approx(payload["actions"][0]["strength"])}


def test_a_different_face_mid_video_is_a_discontinuity():
    other = unit_vector(99)

    video, backend = scripted_video(_live, embedding=ME)
    # the scripted embedder returns, per frame, the embedding of its face: swap the
    # last third to another person (no cut: the frames stay continuous)
    script = backend.embedder.script  # type: ignore[attr-defined]
    for marker in list(script)[len(script) * 2 // 3 :]:
        script[marker] = [type(f)(box=f.box, landmarks=f.landmarks, embedding=other) for f in script[marker]]
    result = assess(video, parse_challenge("blink"), [_near(ME, 0.2)], backend=backend)
    assert Reason.DISCONTINUITY in result.reasons
    assert result.scores["identity_spread"] > TH.discontinuity_max_embedding_distance


# --- quality ---------------------------------------------------------------------------


def test_no_face():
    result = _assess(lambda t: None, "blink", [ME])
    assert result.decision == "failed"
    assert result.reasons == (Reason.NO_FACE,)
    assert result.match_distance is None


def test_a_second_person_is_multiple_faces():
    beside = lambda t: [Pose(centre=(140.0, 240.0))]  # noqa: E731
    result = _assess(_live, "blink", [_near(ME, 0.2)], extra_faces=beside)
    assert Reason.MULTIPLE_FACES in result.reasons
    # a small face far behind (a poster) is not a second person
    poster = lambda t: [Pose(centre=(80.0, 80.0), iod_px=15.0)]  # noqa: E731
    assert Reason.MULTIPLE_FACES not in _assess(_live, "blink", [_near(ME, 0.2)], extra_faces=poster).reasons


def test_face_too_small_too_dark_too_bright_blurry():
    small = _assess(lambda t: Pose(iod_px=12.0), "blink", [ME])
    assert Reason.FACE_TOO_SMALL in small.reasons
    dark = _assess(_live, "blink", [ME], brightness=20.0, texture=10.0)
    assert Reason.TOO_DARK in dark.reasons
    bright = _assess(_live, "blink", [ME], brightness=250.0, texture=4.0)
    assert Reason.TOO_BRIGHT in bright.reasons
    blurry = _assess(_live, "blink", [ME], texture=0.0)
    assert Reason.BLURRY in blurry.reasons


def test_face_cut_off_and_not_frontal():
    cut = _assess(lambda t: Pose(centre=(620.0, 240.0)), "blink", [ME])
    assert Reason.FACE_CUT_OFF in cut.reasons
    profile = _assess(lambda t: Pose(yaw_deg=45.0), "blink", [ME])
    assert Reason.NOT_FRONTAL in profile.reasons


def test_a_frozen_picture_is_no_motion():
    video, backend = scripted_video(lambda t: Pose(), embedding=ME, texture=30.0, jitter=0.0)
    frozen = type(video)(
        info=video.info,
        frames=tuple(
            type(f)(t_ms=f.t_ms, gray=_with_marker(video.frames[0].gray, f.gray[0, 0]), scale=1.0)
            for f in video.frames
        ),
    )
    result = assess(frozen, parse_challenge("blink"), [ME], backend=backend)
    assert Reason.NO_MOTION in result.reasons


def _with_marker(gray: np.ndarray, marker: int) -> np.ndarray:
    copy = gray.copy()
    copy[:4, :4] = marker
    return copy


def test_a_bowed_head_is_not_taken_as_a_probe_frame():
    def face(i: int, pitch: float) -> FaceObservation:
        return FaceObservation(index=i, t_ms=i * 1000, box=None, landmarks=np.zeros((68, 2)), yaw_deg=0.0,
                               pitch_deg=pitch, lid_left=0.3, lid_right=0.3, sharpness=60.0)

    rest = -7.0  # the person's own resting pitch (a phone held below the face)
    upright, bowed = face(0, rest), face(1, rest + 35.0)
    assert frame_score(upright, 0.3, rest) > 0.9
    assert frame_score(bowed, 0.3, rest) == 0.0
    faces = [face(0, rest), face(1, rest + 35.0), face(2, rest + 2.0), face(3, rest + 38.0), face(4, rest - 3.0)]
    chosen = select_probe_frames(faces, lid_open=0.3, rest_pitch_deg=rest)
    assert 1 not in chosen and 3 not in chosen
    assert set(chosen) <= {0, 2, 4}
