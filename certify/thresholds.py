"""The one versioned table of decision thresholds.

Every `Assessment` records `thresholds.version`, so any result can be explained later
with the exact numbers that produced it. Change a value => change the version.

How each value was chosen is written next to it. Three kinds of origin:
- physiology / geometry (what a blink or a head turn physically is), the preferred kind,
  because it transfers to people and cameras we have never seen;
- measured on ../shared/data (named files), only where there is no physical anchor
  (face-match distances, image-quality levels), with a margin and the measurement stated;
- policy (how much doubt goes to a human reviewer rather than to a refusal).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

__all__ = ["Thresholds", "CURRENT_THRESHOLDS"]


@dataclass(frozen=True, slots=True)
class Thresholds:
    version: str

    # --- face match (dlib ResNet embeddings, Euclidean distance) -----------------------
    match_accept_distance: float
    """At or below: the same person. Measured on people/ (all 3,900+ pairs): the closest
    different-person pairs of photos are 0.45-0.50 and different young East-Asian men in
    videos/ come within 0.43-0.47, so 0.40 keeps a margin below every impostor seen
    (FMR 0 here) while keeping most genuine photo-vs-video pairs (0.25-0.40). The rule
    of match_accept_distance_card gives the same value."""
    match_reject_distance: float
    """Above: a different person. Between accept and reject goes to a human (review);
    0.50 is where impostor pairs start to be common in people/, so refusing above it
    costs few genuine pensioners."""
    match_accept_distance_card: float
    """Accept distance against a `card` reference (certify.references). Rule: every
    class's accept distance is the closest different-person pair seen with references of
    that class minus 0.05, to the nearest 0.01 (bench/evaluate.py, "videos against a
    reference photo made from their own recording": the engine's fused probe against a
    frame of every other clip, as it is and degraded like a card or an ID photo). The
    closest pairs are different young East-Asian men, the population certify serves:
    full 0.446 (accept 0.40), card 0.452 (0.40), id_card 0.444 (0.39); leaving each
    subject out in turn gives 0.40-0.41, 0.40-0.42 and 0.39-0.41. A degraded reference
    raises genuine distances but hardly moves these impostors (their closest single
    frames: 0.442 original, 0.433 greyscale, 0.433 ID-size), so the classes share about
    one accept distance and a degraded reference sends more pensioners to review, not
    more impostors through. (Until 2026.12-2 the card and id_card bands were the full
    band moved up by the median rise of genuine distances, 0.42 and 0.46: measured
    2026-12-07, 2 impostor pairs of 482 were then accepted against ID-size references.)"""
    match_reject_distance_card: float
    """Reject distance against a `card` reference: genuine distances spread further
    against degraded references (people/ photo pairs: 90th percentile 0.45 greyscale
    against 0.43 original), so rejection starts later than for `full`."""
    match_accept_distance_id_card: float
    """Accept distance against an `id_card` reference (102 x 126 px, JPEG ~60), by the
    rule of match_accept_distance_card. Since engine 0.6.2 such references are compared
    with the probe shrunk to their size (certify.match.at_eye_distance); measured so, the
    closest different-person pair is 0.439 (m7's clip against vr1's ID-size frame; 0.444
    with the probe as recorded), which by the same rule still gives 0.39 (folds
    0.39-0.43)."""
    match_reject_distance_id_card: float
    """Reject distance against an `id_card` reference (genuine people/ photo pairs reach
    0.48 at the 90th percentile against ID-size references)."""
    reference_min_interocular_px: float
    """Smallest eye distance of a reference photo (reference_too_small below). Measured
    (bench/evaluate.py, photos of people/ scaled down, JPEG 60): at 18 px genuine pairs
    stay apart from impostors (genuine 95th percentile 0.55, impostor 0.1% quantile
    0.64); at 14 px and below they overlap (genuine median 0.50-0.56). A 102 x 126 ID
    photo has 18-25 px."""
    reference_card_min_interocular_px: float
    """Below this eye distance a reference is `id_card` class."""
    reference_full_min_interocular_px: float
    """From this eye distance (and in colour) a reference is `full` class; between the two,
    or greyscale, `card`."""

    # --- quality -----------------------------------------------------------------------
    min_face_fraction: float
    """Share of sampled frames that must show a face; policy: half the recording."""
    min_interocular_px: float
    """Smallest eye distance in ORIGINAL video pixels (face_too_small). dlib's embedding
    chip is 150 px wide with eyes ~45 px apart; below 30 px the chip is mostly upscaled
    blur."""
    min_brightness: float
    """Mean face luma (0-255) below which the face is too dark (too_dark: "turn on a
    light"). Well-lit faces in videos/ are 100-170. A dim face is brightened before the
    landmark model and the embedder see it (certify.exposure, gain up to 4, so down to
    luma 32). 40 measured (bench/robustness.py, 2026-12-07, engine 0.6.6): at 35% light
    (face luma 35-68) 1 of 18 bona fide clips refused too_dark instead of 4 at 50 (the same
    at 35 and 40); one more is refused on its challenge (the 256 px talking head, whose
    200 ms turn is read as a nod in the dark), no attack accepted; at 12% light every clip is still refused
    as too dark or faceless. 40 rather than 35 keeps a margin above the gain's floor (32)."""
    max_brightness: float
    """Mean face luma above which the face is washed out."""
    max_overexposed_fraction: float
    """Share of face pixels burnt out (>= 250) above which the face is too bright."""
    min_sharpness: float
    """Variance of the Laplacian of the face normalised to 128 px wide; measured: the
    sharp frames of videos/ are 20-80, motion blur and defocus drop under 8."""
    max_frontal_yaw_deg: float
    """A frame is frontal when |yaw| is within this; needed for matching (not_frontal
    when no frame of the video is frontal)."""
    min_frontal_frames: int
    """Frontal, sharp frames needed to compute a face match."""
    max_cut_off_fraction: float
    """Share of face frames with landmarks outside the picture above which face_cut_off."""
    multiple_faces_min_fraction: float
    """Share of detector runs that must see a second face of comparable size before
    multiple_faces: one spurious detection (videos/webcam_static_room_m9.mp4) is not a
    second person."""

    # --- active liveness ---------------------------------------------------------------
    blink_min_lid_drop: float
    """A blink lowers the upper eyelid by at least this fraction of its open position
    (the person's own 70th percentile). Physiology: a blink covers the pupil (> 60%);
    0.5 leaves room for a 10 fps sample landing before the lid is fully down. Smiles
    narrow the eye from below (cheeks) and leave the upper lid, which is why the upper
    lid is measured, not the eye aspect ratio (videos/frontal_glasses_smile_m6.mp4)."""
    blink_max_ms: int
    """Longest eye closure still counted as a blink: slow blinks of older people last up
    to about a second; longer is closing the eyes or looking down."""
    turn_min_yaw_deg: float
    """A head turn moves yaw at least this far from the person's own frontal baseline.
    Geometry: 15 degrees is clearly visible and far above the 2-4 degree noise of pose
    from landmarks, while comfortable for older necks."""
    nod_min_pitch_deg: float
    """A nod lowers the head (pitch) at least this far below the baseline and back."""
    open_mouth_min_mar: float
    """Inner-lip opening over mouth width for an open mouth: speech peaks at 0.2-0.4
    (videos/talking_*), a deliberately opened mouth is 0.5-0.8 (frontal_mouth_open_m5)."""
    action_min_ms: int
    """An action must hold for at least this long (two samples at 10 fps), so a single
    mis-tracked frame is never an action."""

    # --- read-aloud digits --------------------------------------------------------------
    min_speech_ms: int
    """Voice activity needed for the digits step: four syllables take >= 600 ms."""
    syllable_tolerance: int
    """Syllable nuclei may differ from the expected count by this much (merged or split
    syllables are common in connected speech)."""
    speech_min_lip_motion: float
    """Mean change of the inner-lip opening between samples while the voice is on
    (interocular units), below which the voice does not come from these lips. Measured
    (certify.speech): 0.051-0.100 in talking clips with their own sound, 0.003-0.031
    with speech laid onto faces that do not talk."""
    speech_min_lip_motion_ratio: float
    """Lip motion while voiced over lip motion in the pauses, below which the lips move
    to something else than this voice. Own sound 0.86-2.8, shifted sound 0.56-1.77: the
    threshold only catches clear cases (policy: a pensioner is not refused on a signal
    that overlaps this much)."""
    av_sync_max_lag_ms: int
    """Largest audio-video offset searched for the reported mouth-loudness correlation
    (a phone's capture skew is < 100 ms)."""

    # --- passive presentation-attack detection -----------------------------------------
    planar_max_nonplanar_fraction: float
    """Share of tracked face points that one homography cannot explain (certify.planar),
    median over the windows where the landmarks claim the head turned or nodded; below
    it, the "head turn" is a flat picture being tilted. Geometry: a real turn moves the
    nose across the cheeks and leaves 20-70% of the points unexplained (measured on
    videos/: 0.21 for the outdoor film m7, 0.33-0.65 the others); a flat picture leaves
    only tracking errors (prints, screens, a painting and a statue photo animated by
    bench/attacks.py, fast or slow, framed or filling the picture: 0.00-0.085). 0.12
    sits between, nearer the pictures (policy: the signal is judged only around the
    challenged actions since 2026.12-1; the leave-one-subject-out rule, the midpoint of
    the classes, gives 0.14-0.23 per fold, stricter for live people than this table)."""
    no_motion_max_landmark_shift: float
    """Landmark motion (interocular units, 90th percentile between consecutive samples)
    below which the face is frozen."""
    no_motion_max_pixel_change: float
    """Mean absolute luma change in the face between consecutive samples (0-255) below
    which the picture is frozen: sensor noise alone of a live camera exceeds it."""
    discontinuity_max_embedding_distance: float
    """Two frames of one recording further apart than this are two different people
    (a face swapped without a cut). Spliced clips are caught by cuts (cut_min_spike),
    so this only needs to catch a swap to someone clearly different without refusing
    expressive faces: genuine within-video spreads reach 0.54 (talking_speech_woman_vr4)
    and 0.63 (the grimaces of selfie_funny_faces_long_f5); 0.68 is the 1st percentile of
    impostor pairs in people/ (bench/evaluate.py), so 99% of swaps to a random other
    person are caught (the leave-one-subject-out rule, fitted to the three spliced clips
    alone, gives 0.57-0.64 per fold)."""
    cut_min_spike: float
    """A picture change between consecutive samples this many times the median change of
    its neighbours, in the quietest quarter of the picture (certify.splice; exposure-
    normalised thumbnails, the camera's motion undone, repeated frames left out of the
    neighbours), is a cut: a continuous recording changes smoothly. Measured (engine
    0.6.5): bona fide clips as recorded peak at 3.78 (a zoom jump in an edited clip;
    phone and webcam selfies at most 2.5); under the degradations of bench/robustness.py
    at most 4.76 (15 fps), 3.27 under hand shake, 3.18 slowed x0.5, and 5.16 when a hand
    is brought over the face (a hand covering most of a face-filling 256 px picture at
    once changes every cell, 10.1, and is refused as it was before); the spliced clips
    (bench/evaluate.py) 8.79-16.01, the stage clip's shot change 10.34; a news broadcast
    with a picture change (ffpp_real_004) 9.63, refused. 6.3 is the midpoint of 3.78 and
    8.79, the rule the leave-one-subject-out evaluation applies per fold (6.28-9.99
    across folds). Until engine 0.6.4 the change was taken as recorded and the table said
    7.0: one jerk of a shaken phone reached 7.01 and refused a live selfie."""
    cut_min_aligned_spike: float
    """The same cut measure once the camera's own motion between the two samples is undone
    (an affine fit, certify.splice): the quietest quarter of 1 - cell correlation per
    100 ms, this many times its neighbours' median. Added for hand-held phones: shake
    inflates every picture change, and a splice joined to a fast-moving clip fell to 3.7
    on cut_spike (bench/robustness.py hand_shake). Measured: bona fide clips of
    ../shared/data at most 2.12 as recorded (the zoom jump of older_m60s_jackiechan_tpsmm),
    2.02 under hand shake and 2.19 at 15 fps; the m2+m4 splice 3.70 as made, 5.65 shaken,
    4.52 shaken at 15 fps; the stage clip's shot change 7.40; the news broadcast's picture
    change (ffpp_real_004) 3.56. 3.0 is about the midpoint of 2.2 and 3.7, the
    leave-one-subject-out rule of bench/evaluate.py."""
    screen_min_enclosed_fraction: float
    """Share of examined frames in which the face is enclosed on 3+ sides by straight
    screen-like edges (certify.screen) from which the recording is a screen replay or a
    picture held up. Measured (bench/evaluate.py): every bona fide clip 0.00 since engine
    0.6.7 (a TV news studio measured 0.25 before: the stripes of its video wall, now told
    apart as a pattern, certify.screen.SIDE_MAX_PARALLEL_LINES); the monitor replay of
    m1 0.92, simulated hand-held screens 1.00, pictures held up in a room 0.50-0.83; the
    phone replay of m9 only 0.08 (a thumb hides one edge; it fails its challenge
    instead). 0.375 was the midpoint of the studio's 0.25 and 0.50. Kept, as policy: the
    midpoint of 0.00 and 0.50 would be 0.25, but the clips here show few homes, whose
    door frames, shelves and pictures give a live person 1-2 sides, sometimes 3; every
    replay and picture this signal catches measures 0.50 or more. Leave-one-subject-out
    (the rule takes the m9 phone's 0.08 as the closest attack): 0.04-0.46 per fold, no
    bona fide clip refused."""

    def to_json(self) -> dict[str, object]:
        return asdict(self)

    def match_band(self, quality_class: str) -> tuple[float, float]:
        """(accept, reject) distances against a reference of this quality class."""
        if quality_class == "id_card":
            return self.match_accept_distance_id_card, self.match_reject_distance_id_card
        if quality_class == "card":
            return self.match_accept_distance_card, self.match_reject_distance_card
        return self.match_accept_distance, self.match_reject_distance


CURRENT_THRESHOLDS = Thresholds(
    version="2026.12-5",
    match_accept_distance=0.40,
    match_reject_distance=0.50,
    match_accept_distance_card=0.40,
    match_reject_distance_card=0.52,
    match_accept_distance_id_card=0.39,
    match_reject_distance_id_card=0.56,
    reference_min_interocular_px=18.0,
    reference_card_min_interocular_px=28.0,
    reference_full_min_interocular_px=40.0,
    min_face_fraction=0.5,
    min_interocular_px=30.0,
    min_brightness=40.0,
    max_brightness=220.0,
    max_overexposed_fraction=0.30,
    min_sharpness=8.0,
    max_frontal_yaw_deg=25.0,
    min_frontal_frames=1,
    max_cut_off_fraction=0.5,
    multiple_faces_min_fraction=0.3,
    blink_min_lid_drop=0.5,
    blink_max_ms=1200,
    turn_min_yaw_deg=15.0,
    nod_min_pitch_deg=12.0,
    open_mouth_min_mar=0.5,
    action_min_ms=150,
    min_speech_ms=600,
    syllable_tolerance=1,
    speech_min_lip_motion=0.03,
    speech_min_lip_motion_ratio=0.7,
    av_sync_max_lag_ms=200,
    planar_max_nonplanar_fraction=0.12,
    no_motion_max_landmark_shift=0.004,
    no_motion_max_pixel_change=0.6,
    discontinuity_max_embedding_distance=0.68,
    cut_min_spike=6.3,
    cut_min_aligned_spike=3.0,
    screen_min_enclosed_fraction=0.375,
)
"""The thresholds in force; `Assessment.thresholds_version` names them."""
