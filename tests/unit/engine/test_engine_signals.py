"""The presentation-attack signals as pure functions, on pictures whose truth is known
by construction (no models, no data files): a textured plane moved by homographies,
a picture cut to another, a face drawn inside a screen-like rectangle."""

from __future__ import annotations

import dataclasses

import cv2
import numpy as np

from certify import CURRENT_THRESHOLDS
from certify.backend import FaceBox
from certify.geometry import head_pose, interocular_px, landmark_box
from certify.planar import PLANAR_MIN_POSE_CHANGE_DEG, claimed_pose_change, planar_scores
from certify.screen import frame_sides, screen_scores
from certify.splice import cut_scores
from certify.tracking import FaceObservation
from certify.video import Frame

from .synthetic import FRAME_H, FRAME_W, Pose, landmarks

RNG = np.random.default_rng(11)


def _texture(seed: int, cell_px: int = 4) -> np.ndarray:
    """Random texture with detail at cell_px (4: skin-like grain; 32: a room's layout)."""
    rng = np.random.default_rng(seed)
    coarse = rng.normal(128, 45, (FRAME_H // cell_px, FRAME_W // cell_px)).astype(np.float32)
    return np.clip(cv2.resize(coarse, (FRAME_W, FRAME_H), interpolation=cv2.INTER_CUBIC), 0, 255).astype(np.uint8)


def _observation(index: int, t_ms: int, points: np.ndarray, yaw_deg: float) -> FaceObservation:
    left, top, right, bottom = landmark_box(points)
    return FaceObservation(
        index=index, t_ms=t_ms, box=FaceBox(left, top, right, bottom), landmarks=points,
        yaw_deg=yaw_deg, interocular_px=interocular_px(points), face_width_px=right - left,
    )


def _tilted(angle_deg: float, dx: float) -> np.ndarray:
    """The homography of a picture turned about its vertical axis by angle_deg and
    moved dx pixels sideways."""
    a = np.radians(angle_deg)
    f = float(FRAME_W)
    corners = np.array([[-1, -1, 0], [1, -1, 0], [1, 1, 0], [-1, 1, 0]], float) * [FRAME_W / 2, FRAME_H / 2, 0]
    rot = np.array([[np.cos(a), 0, np.sin(a)], [0, 1, 0], [-np.sin(a), 0, np.cos(a)]])
    moved = corners @ rot.T + [0, 0, f]
    projected = moved[:, :2] * (f / moved[:, 2:3]) + [FRAME_W / 2 + dx, FRAME_H / 2]
    return cv2.getPerspectiveTransform(
        (corners[:, :2] + [FRAME_W / 2, FRAME_H / 2]).astype(np.float32), projected.astype(np.float32)
    )


def _picture_turning(*, parallax: bool) -> tuple[list[Frame], list[FaceObservation]]:
    """A face-sized textured region 'turning' 0 -> 30 degrees over 3 s while drifting
    sideways (as a hand moves a print). Flat: the whole
    picture follows one homography. With parallax: the centre of the face (nose, inner
    cheeks) moves further than its rim, as a real head's does."""
    base = _texture(3)
    face = landmarks(Pose())
    frames, observations = [], []
    inner = np.zeros((FRAME_H, FRAME_W), np.float32)
    cx, cy = face.mean(axis=0)
    cv2.circle(inner, (int(cx), int(cy)), 40, 1.0, -1)
    inner = cv2.GaussianBlur(inner, (0, 0), 10)
    grid_x, grid_y = np.meshgrid(np.arange(FRAME_W, dtype=np.float32), np.arange(FRAME_H, dtype=np.float32))
    for n, t in enumerate(range(0, 3000, 100)):
        angle = 30.0 * t / 3000
        h = _tilted(angle, dx=40.0 * t / 1000)
        picture = cv2.warpPerspective(base, h, (FRAME_W, FRAME_H), borderMode=cv2.BORDER_REFLECT)
        if parallax:
            # a head's centre stands ~0.6 interocular units (35 px here) in front of its
            # rim: turning by `angle` moves it sideways by 35 * sin(angle) more
            shift = (35 * np.sin(np.radians(angle)) * inner).astype(np.float32)
            picture = cv2.remap(picture, grid_x - shift, grid_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)
        points = cv2.perspectiveTransform(face.reshape(-1, 1, 2), h).reshape(-1, 2)
        frames.append(Frame(t_ms=t, gray=picture, scale=1.0))
        observations.append(_observation(n, t, points.astype(np.float32), yaw_deg=angle * 1.5))
    return frames, observations


def test_a_tilted_flat_picture_is_explained_by_one_homography():
    frames, observations = _picture_turning(parallax=False)
    scores = planar_scores(frames, observations)
    assert scores is not None and scores.windows >= 3
    assert scores.nonplanar_fraction < CURRENT_THRESHOLDS.planar_max_nonplanar_fraction / 2


def test_a_face_whose_centre_moves_against_its_rim_is_not_planar():
    frames, observations = _picture_turning(parallax=True)
    scores = planar_scores(frames, observations)
    assert scores is not None
    assert scores.nonplanar_fraction > CURRENT_THRESHOLDS.planar_max_nonplanar_fraction


def test_no_claimed_turn_means_no_planar_verdict():
    frames, observations = _picture_turning(parallax=False)
    still = [dataclasses.replace(o, yaw_deg=0.0) for o in observations]
    assert planar_scores(frames, still) is None


def _posed(index: int, points: np.ndarray) -> FaceObservation:
    """An observation whose pose is read from its landmarks, as certify.tracking does."""
    pose = head_pose(points, FRAME_W, FRAME_H)
    return dataclasses.replace(_observation(index, index * 100, points, pose.yaw_deg), pitch_deg=pose.pitch_deg)


def _camera_moved(points: np.ndarray, dx: float, dy: float, roll_deg: float, scale: float) -> np.ndarray:
    """What a moving phone does to a still face: shift, in-plane turn and scale."""
    m = cv2.getRotationMatrix2D((FRAME_W / 2, FRAME_H / 2), roll_deg, scale)
    m[:, 2] += (dx, dy)
    return (points @ m[:, :2].T + m[:, 2]).astype(np.float32)


def test_a_still_face_under_a_shaking_phone_claims_no_turn():
    # the still face slides by up to 12% of the picture: its pose in the camera's frame
    # changes by several degrees, none of which is the head turning
    still = landmarks(Pose(centre=(FRAME_W / 2 - 40, FRAME_H / 2)))
    a = _posed(0, still)
    for dx, dy, roll, scale in ((80, 0, 0, 1.0), (0, -50, 0, 1.0), (60, 40, 3, 1.05), (-70, 30, -3, 0.95)):
        b = _posed(4, _camera_moved(still, dx, dy, roll, scale))
        raw = abs(b.yaw_deg - a.yaw_deg) + abs(b.pitch_deg - a.pitch_deg)
        assert raw > 2.0  # what the camera-frame pose alone would claim
        assert claimed_pose_change(a, b, FRAME_W, FRAME_H) < 1.0


def _jaw_dropped(points: np.ndarray, down: float, aside: float) -> np.ndarray:
    """The same face with its mouth opened: the jaw line below the mouth, the lower lip
    and the chin go `down` interocular units (most at the chin), and `aside` to the
    image-right; the mouth corners follow by a third."""
    out = points.copy()
    unit = interocular_px(points)
    share = np.array([0.3, 0.6, 0.85, 1.0, 0.85, 0.6, 0.3])
    out[5:12] += unit * np.stack([aside * share, down * share], axis=1)
    for lower_lip in (slice(55, 60), slice(64, 68)):
        out[lower_lip] += unit * np.array([aside, down])
    out[[48, 54], 1] += unit * down / 3.0
    return out.astype(np.float32)


def test_an_open_mouth_claims_no_turn():
    # a jaw dropping straight down, and a little to one side, as a real one often does:
    # the chin and the mouth corners are three of the six points the pose is read from,
    # so the pose as read turns (by tens of degrees when the chin goes aside), the head
    # does not
    still = landmarks(Pose())
    a = _posed(0, still)
    for down, aside in ((0.8, 0.0), (0.8, 0.15), (0.6, 0.2)):
        for moved in (False, True):
            opened = _jaw_dropped(still, down, aside)
            if moved:  # also while the phone shakes
                opened = _camera_moved(opened, 40.0, -20.0, 2.0, 1.03)
            b = _posed(4, opened)
            raw = abs(b.yaw_deg - a.yaw_deg) + abs(b.pitch_deg - a.pitch_deg)
            assert raw > PLANAR_MIN_POSE_CHANGE_DEG  # what the pose alone would claim
            assert claimed_pose_change(a, b, FRAME_W, FRAME_H) < 1.0


def test_a_turning_head_and_a_tilted_picture_keep_their_claimed_turn():
    # a head turning 10 degrees, also while the phone shifts
    a = _posed(0, landmarks(Pose()))
    for shift in (0.0, 60.0):
        b = _posed(4, _camera_moved(landmarks(Pose(yaw_deg=10.0)), shift, 0.0, 0.0, 1.0))
        assert claimed_pose_change(a, b, FRAME_W, FRAME_H) > 7.0
    # a print tilted about its vertical axis while a hand moves it sideways: the landmark
    # model claims a turn (here: yaw_deg set as in the flat-picture test) that no
    # similarity explains
    frames, observations = _picture_turning(parallax=False)
    first, last = observations[10], observations[14]
    assert claimed_pose_change(first, last, FRAME_W, FRAME_H) >= PLANAR_MIN_POSE_CHANGE_DEG


def test_a_cut_is_a_spike_of_picture_change_and_smooth_motion_is_not():
    a, b = _texture(1, cell_px=32), _texture(2, cell_px=32)
    frames = []
    for n in range(40):
        picture = a if n < 20 else b
        drift = np.float32([[1, 0, n * 1.5], [0, 1, 0]])  # a camera panning smoothly
        frames.append(Frame(t_ms=n * 100, gray=cv2.warpAffine(picture, drift, (FRAME_W, FRAME_H),
                                                             borderMode=cv2.BORDER_REFLECT), scale=1.0))
    cut = cut_scores(frames, [], min_spike=6.0)
    assert cut.cut_t_ms == (2000,)
    assert cut.spike >= 6.0
    smooth = cut_scores(frames[:20], [], min_spike=6.0)
    assert smooth.cut_t_ms == ()
    assert smooth.spike < 3.0


def _shaken(pictures: list[np.ndarray], seed: int) -> list[Frame]:
    """Each picture moved by a hand-held phone's random walk (shift and tilt, 10 fps)."""
    rng = np.random.default_rng(seed)
    pos, vel = np.zeros(3), np.zeros(3)
    frames = []
    for n, picture in enumerate(pictures):
        vel = 0.6 * vel + rng.normal(0, [0.02 * FRAME_W, 0.02 * FRAME_H, 1.0])
        pos = np.clip(0.9 * pos + vel, [-0.06 * FRAME_W, -0.06 * FRAME_H, -3.0], [0.06 * FRAME_W, 0.06 * FRAME_H, 3.0])
        m = cv2.getRotationMatrix2D((FRAME_W / 2, FRAME_H / 2), float(pos[2]), 1.08)
        m[:, 2] += pos[:2]
        moved = cv2.warpAffine(picture, m, (FRAME_W, FRAME_H), borderMode=cv2.BORDER_REFLECT)
        frames.append(Frame(t_ms=n * 100, gray=moved, scale=1.0))
    return frames


def test_a_cut_in_a_shaking_hand_stands_out_once_the_shake_is_undone():
    th = CURRENT_THRESHOLDS
    a, b = _texture(1, cell_px=16), _texture(2, cell_px=16)
    spliced = _shaken([a] * 20 + [b] * 20, seed=3)
    cut = cut_scores(spliced, [], min_spike=th.cut_min_spike, min_aligned_spike=th.cut_min_aligned_spike)
    assert cut.aligned_spike >= th.cut_min_aligned_spike
    assert cut.aligned_spike_t_ms == 2000
    assert 2000 in cut.cut_t_ms
    steady = cut_scores(_shaken([a] * 40, seed=3), [], min_spike=th.cut_min_spike,
                        min_aligned_spike=th.cut_min_aligned_spike)
    assert steady.aligned_spike < th.cut_min_aligned_spike
    assert steady.cut_t_ms == ()


def _noisy(picture: np.ndarray, t_ms: int) -> Frame:
    noisy = np.clip(picture.astype(np.float32) + RNG.normal(0, 2, picture.shape), 0, 255).astype(np.uint8)
    return Frame(t_ms=t_ms, gray=noisy, scale=1.0)


def test_one_jerk_of_the_phone_is_not_a_cut():
    # a still room, then the hand jerks the phone (a step of 6% of the picture and a tilt)
    # and holds it there: every cell changes at once, as at a cut, but the room is the same
    th = CURRENT_THRESHOLDS
    room = _texture(1, cell_px=64)
    jerk = cv2.getRotationMatrix2D((FRAME_W / 2, FRAME_H / 2), 2.0, 1.0)
    jerk[:, 2] += (0.06 * FRAME_W, 0.03 * FRAME_H)
    moved = cv2.warpAffine(room, jerk, (FRAME_W, FRAME_H), borderMode=cv2.BORDER_REFLECT)
    frames = [_noisy(room if n < 15 else moved, n * 100) for n in range(30)]
    scores = cut_scores(frames, [], min_spike=th.cut_min_spike, min_aligned_spike=th.cut_min_aligned_spike)
    assert scores.cut_t_ms == ()
    assert scores.spike < th.cut_min_spike / 2


def test_slow_motion_s_repeated_frames_do_not_make_a_moving_scene_a_cut():
    # every picture shown twice (x0.5 slow motion, or a phone repeating frames in low light):
    # half the sample pairs do not change at all, and a moving pair is compared only with
    # the pairs that moved
    th = CURRENT_THRESHOLDS
    room = _texture(3, cell_px=32)
    pictures = []
    for n in range(20):
        jitter = np.float32([[1, 0, (n % 3) * 12.0], [0, 1, (n % 2) * 9.0]])  # a restless scene
        pictures.append(cv2.warpAffine(room, jitter, (FRAME_W, FRAME_H), borderMode=cv2.BORDER_REFLECT))
    frames = [Frame(t_ms=k * 100, gray=pictures[k // 2], scale=1.0) for k in range(40)]
    scores = cut_scores(frames, [], min_spike=th.cut_min_spike, min_aligned_spike=th.cut_min_aligned_spike)
    assert scores.cut_t_ms == ()
    assert scores.spike < th.cut_min_spike / 2


def test_an_exposure_step_is_not_a_cut():
    scene = _texture(1, cell_px=32).astype(np.float32)
    frames = []
    for n in range(30):
        gain, offset = (1.0, 0.0) if n < 15 else (0.5, 20.0)  # auto-exposure steps down
        picture = np.clip(scene * gain + offset + RNG.normal(0, 2, scene.shape), 0, 255).astype(np.uint8)
        frames.append(Frame(t_ms=n * 100, gray=picture, scale=1.0))
    assert cut_scores(frames, [], min_spike=6.0).cut_t_ms == ()


def _screen_box(points: np.ndarray) -> tuple[float, float, float, float]:
    """(left, top, right, bottom) of a screen's rectangle around the face's landmarks."""
    left, top = points.min(axis=0) - [70, 90]
    right, bottom = points.max(axis=0) + [70, 80]
    return left, top, right, bottom


def _face_picture(with_screen: bool) -> tuple[np.ndarray, np.ndarray]:
    gray = cv2.GaussianBlur(_texture(5), (0, 0), 3)
    points = landmarks(Pose())
    for (x, y) in points.astype(int):
        cv2.circle(gray, (int(x), int(y)), 2, 30, -1)
    if with_screen:
        left, top, right, bottom = _screen_box(points)
        cv2.rectangle(gray, (int(left), int(top)), (int(right), int(bottom)), 15, 8)
    return gray, points


def test_a_face_inside_a_rectangle_is_enclosed_on_four_sides():
    gray, points = _face_picture(with_screen=True)
    sides = frame_sides(gray, points)
    assert all(coverage >= 0.7 for coverage in sides.values()), sides
    bare, points = _face_picture(with_screen=False)
    assert all(coverage < 0.7 for coverage in frame_sides(bare, points).values())


def test_a_striped_wall_behind_the_face_is_a_pattern_not_a_screen():
    """Blinds, curtain folds or a striped wall put a line beside the face on every stripe;
    one of them always runs the face's whole height, but a screen's edge is one line."""
    gray, points = _face_picture(with_screen=False)
    left, top, right, bottom = _screen_box(points)
    for x in range(8, FRAME_W, 16):  # stripes from top to bottom of the picture
        if not left + 40 < x < right - 40:
            cv2.line(gray, (x, 0), (x, FRAME_H - 1), 20, 3)
    cv2.line(gray, (int(left), int(top)), (int(right), int(top)), 15, 8)  # a shelf above
    cv2.line(gray, (int(left), int(bottom)), (int(right), int(bottom)), 15, 8)  # and below
    sides = frame_sides(gray, points)
    assert sides["T"] >= 0.7 and sides["B"] >= 0.7, sides
    assert sides["L"] == 0.0 and sides["R"] == 0.0, sides
    # the same picture with only two stripes a side (a door frame) keeps them as edges
    door, _ = _face_picture(with_screen=False)
    for x in (left, left - 20, right, right + 20):
        cv2.line(door, (int(x), 0), (int(x), FRAME_H - 1), 20, 3)
    sides = frame_sides(door, points)
    assert sides["L"] >= 0.7 and sides["R"] >= 0.7, sides


def test_stripes_that_end_at_a_screens_edge_leave_the_edge():
    """A striped picture shown on a screen: its stripes stop at the screen's edge, with the
    room beyond, so the edge still counts (a striped wall goes on behind the head)."""
    gray, points = _face_picture(with_screen=False)
    left, top, right, bottom = _screen_box(points)
    for x in range(int(left) + 8, int(right), 12):
        if not left + 110 < x < right - 110:
            cv2.line(gray, (x, int(top)), (x, int(bottom)), 20, 3)
    cv2.rectangle(gray, (int(left), int(top)), (int(right), int(bottom)), 15, 8)
    sides = frame_sides(gray, points)
    assert all(coverage >= 0.7 for coverage in sides.values()), sides


def test_screen_score_counts_enclosed_frames():
    gray, points = _face_picture(with_screen=True)
    frames = [Frame(t_ms=100 * n, gray=gray, scale=1.0) for n in range(4)]
    observations = [_observation(n, 100 * n, points, 0.0) for n in range(4)]
    scores = screen_scores(frames, observations)
    assert scores is not None and scores.enclosed_fraction == 1.0 and scores.mean_sides == 4.0
