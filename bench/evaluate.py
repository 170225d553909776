"""Face-match error rates and ISO/IEC 30107-3 style PAD error rates on ../shared/data,
judged leave-one-subject-out.

    PYTHONPATH=. python bench/evaluate.py [--data ../shared/data] [--quick]

Face match, by reference condition. Every usable photo of people/ is a reference as it
is, and degraded as agencies hold it: a 358 x 441 social-security-card crop (JPEG 75),
a 102 x 126 resident-ID crop (JPEG 60), greyscale. Probes are the original photos of
the same person (genuine) and of everyone else (impostor), and the fused probe of every
video (impostors against every photo). Each pair is judged in the band of the
reference's quality class (Thresholds.match_band): accepted, review, rejected. As in
the engine, `id_card` references are compared with the probe shrunk to an ID photo's
eye distance (certify.match.at_eye_distance): the photo probe directly, the video
probes through assess(id_card_probes=True).

Probe fusion: for every video, the single best frame, the median of per-frame distances
and the mean embedding of the probe frames are compared (genuine: the same clip's other
frames are not used; the Obama clips against a frame of the other clip; impostor: every
photo of people/ and every other subject's clip).

Liveness / PAD (bench/manifest.json): each presentation is assessed with NO reference,
so the match cannot hide a liveness error; a presentation is ACCEPTED when the only
reason left is no_reference. APCER per attack type, BPCER over bona fide clips. The
presentation-attack thresholds that were measured on these clips (planar motion, screen
edges, cut spike, identity spread) are also judged leave-one-subject-out: for each
subject, the threshold is derived by the rule below from every clip NOT showing that
subject, and the subject's clips are decided with it. Rule: the midpoint between the
most bona-fide-like attack and the most attack-like bona fide when they are apart;
otherwise the value that catches every training attack.

Deepfakes and generated talking heads ("Added 2026-12"): the face the video shows is
enrolled (a frame of the clip at 0.5 s, or the identity's photo for generated clips)
and the clip is given the challenge it happens to perform (the actions the engine sees
in it): the attacker who can make the generator follow the prompt. Accepted = passed.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import pickle
import sys
import tempfile
from collections import defaultdict
from dataclasses import dataclass, field, replace
from pathlib import Path

import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench import attacks  # noqa: E402
from certify import (  # noqa: E402
    CURRENT_THRESHOLDS,
    ENGINE_VERSION,
    Assessment,
    PhotoCheck,
    Reason,
    VideoLimits,
    assess,
    check_reference_photo,
    decode_video,
    load_dlib_backend,
    load_image,
    parse_challenge,
)
from certify.backend import FaceBox  # noqa: E402
from certify.decide import decide  # noqa: E402
from certify.match import (  # noqa: E402
    ID_CARD_PROBE_INTEROCULAR_PX,
    at_eye_distance,
    embedding_distance,
    match_verdict,
    reference_distances,
)
from certify.references import Reference, ReferenceClass  # noqa: E402

MANIFEST = Path(__file__).with_name("manifest.json")
LIMITS = VideoLimits(max_duration_s=40.0)
IMAGE_EXTENSIONS = {".jpg", ".jpeg", ".png"}
TH = CURRENT_THRESHOLDS

CONDITIONS = {
    "original": None,
    "card_358x441_q75": ((358, 441), 75, False),
    "id_102x126_q60": ((102, 126), 60, False),
    "greyscale": (None, 90, True),
}
"""Reference conditions: (size, JPEG quality, greyscale)."""

HEAD_WIDTH_FRACTION = 0.55
"""An ID photo's face box is about this share of the photo's width (head and shoulders)."""


# ---------------------------------------------------------------------------------------
# reference conditions


def id_photo_crop(
    rgb: np.ndarray, box: tuple[int, int, int, int], size: tuple[int, int], quality: int, grey: bool = False
) -> np.ndarray:
    """The photo as an agency would hold it: cropped head-and-shoulders around the face
    box (top, right, bottom, left), shrunk to `size`, optionally greyscale, JPEG."""
    top, right, bottom, left = box
    width = (right - left) / HEAD_WIDTH_FRACTION
    height = width * size[1] / size[0]
    cx, cy = (left + right) / 2.0, (top + bottom) / 2.0
    pad = int(max(width, height))
    big = cv2.copyMakeBorder(rgb, pad, pad, pad, pad, cv2.BORDER_REPLICATE)
    x0, y0 = int(cx - width / 2) + pad, int(cy - 0.48 * height) + pad
    crop = big[y0 : y0 + int(height), x0 : x0 + int(width)]
    return _as_held(cv2.resize(crop, size, interpolation=cv2.INTER_AREA), quality, grey)


def degrade_reference(rgb: np.ndarray, box: tuple[int, int, int, int], condition: str) -> np.ndarray:
    """The photo in one of the CONDITIONS."""
    spec = CONDITIONS[condition]
    if spec is None:
        return rgb
    size, quality, grey = spec
    if size is None:
        return _as_held(rgb, quality, grey)
    return id_photo_crop(rgb, box, size, quality, grey)


def _as_held(out: np.ndarray, quality: int, grey: bool) -> np.ndarray:
    if grey:
        out = cv2.cvtColor(cv2.cvtColor(out, cv2.COLOR_RGB2GRAY), cv2.COLOR_GRAY2RGB)
    ok, data = cv2.imencode(".jpg", cv2.cvtColor(out, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, quality])
    return cv2.cvtColor(cv2.imdecode(data, cv2.IMREAD_COLOR), cv2.COLOR_BGR2RGB)


OWN_FRAME_MIN_GAP_MS = 1000
"""A clip's own reference frame lies at least this far (in time) from each of its probe
frames, so that the pair is not one picture compared with itself."""


def own_frame_reference(path: Path, probe_t_ms: list[int], backend) -> tuple[np.ndarray, PhotoCheck] | None:
    """A reference photo made from the clip's own recording: among frames every 0.5 s at
    least OWN_FRAME_MIN_GAP_MS from every probe frame (half that for short clips), the
    usable one with the least yaw. None when no frame qualifies."""
    frames = decode_video(path, limits=LIMITS, with_audio=False).frames
    for gap in (OWN_FRAME_MIN_GAP_MS, OWN_FRAME_MIN_GAP_MS // 2):
        best: tuple[np.ndarray, PhotoCheck] | None = None
        for frame in frames[::5]:
            if any(abs(frame.t_ms - t) < gap for t in probe_t_ms):
                continue
            rgb = frame.rgb
            check = check_reference_photo(rgb, backend=backend)
            if check.ok and (best is None or abs(check.quality["yaw_deg"]) < abs(best[1].quality["yaw_deg"])):
                best = (rgb, check)
        if best is not None:
            return best
    return None


def report_own_recording_references(
    video_probes: dict[str, tuple[str, Assessment]], data: Path, backend
) -> dict[str, float]:
    """Every clip's fused probe against a frame of its own recording made into a
    reference in each of the CONDITIONS, impostors against every other subject's; prints
    the table and the closest different-person pair per reference class (the rule of the
    thresholds table's accept distances). Returns the genuine accept rate per condition."""
    print()
    print("Videos against a reference photo made from their own recording (a frame >= "
          f"{OWN_FRAME_MIN_GAP_MS} ms from every probe frame, degraded like the photos above; impostors: "
          "every other subject's such reference; same session, so an upper bound: the years between a "
          "card photo and today are in the photo pairs above)")
    print(f"  {'condition':18s} {'refused':>7s} {'genuine':>7s} {'accept':>6s} {'review':>6s} {'reject':>6s} "
          f"{'impostor':>8s} {'imp.acc':>7s} {'imp.rev':>7s} gen.max imp.min")
    own: dict[str, tuple[str, np.ndarray, PhotoCheck]] = {}
    for file, (subject, result) in video_probes.items():
        if result.probe_embedding is not None:
            made = own_frame_reference(data / file, list(result.details.get("probe_t_ms", [])), backend)
            if made is not None:
                own[file] = (subject, *made)
    own_accept: dict[str, float] = {}
    closest: dict[str, tuple[float, str]] = {}
    different: list[tuple[float, str, str, str]] = []  # (distance, class, probe subject, reference subject)
    as_recorded: list[tuple[float, bool]] = []  # id_card pairs with the probe not shrunk
    shrunk: list[tuple[float, bool]] = []  # the same pairs as the engine compares them
    for condition in CONDITIONS:
        enrolled_own = {}
        for file, (subject, rgb, check) in own.items():
            ref = check_reference_photo(degrade_reference(rgb, check.face_box, condition), backend=backend)  # type: ignore[arg-type]
            enrolled_own[file] = (subject, ref)
        genuine, impostor = [], []
        for file, (subject, result) in video_probes.items():
            if result.probe_embedding is None:
                continue
            for ref_file, (ref_subject, ref) in enrolled_own.items():
                if not ref.ok:
                    continue
                pair = (embedding_distance(ref.embedding, result.probe_for(ref.quality_class)), ref.quality_class)
                if ref_file == file:
                    genuine.append(pair)
                elif ref_subject != subject:
                    impostor.append(pair)
                    different.append((*pair, subject, ref_subject))
                    if pair[0] < closest.get(pair[1], (9.0, ""))[0]:
                        closest[pair[1]] = (pair[0], f"{Path(file).stem} vs {Path(ref_file).stem}")
                else:
                    continue
                if ref.quality_class == ReferenceClass.ID_CARD:
                    as_recorded.append((embedding_distance(ref.embedding, result.probe_embedding), ref_file == file))
                    shrunk.append((pair[0], ref_file == file))
        refused = sum(not ref.ok for _, ref in enrolled_own.values())
        ga, gr, gj = _verdict_counts(genuine)
        ia, ir, _ = _verdict_counts(impostor)
        n = max(len(genuine), 1)
        own_accept[condition] = ga / n
        print(f"  {condition:18s} {refused:7d} {len(genuine):7d} {ga / n:6.3f} {gr / n:6.3f} {gj / n:6.3f} "
              f"{len(impostor):8d} {ia:7d} {ir:7d} {max((d for d, _ in genuine), default=float('nan')):.3f}   "
              f"{min((d for d, _ in impostor), default=float('nan')):.3f}")
    print("  closest different-person pair by reference class (the thresholds table's accept distance is "
          "this minus 0.05, to 0.01): " + ", ".join(
              f"{c} {closest[c][0]:.3f} [{closest[c][1]}] (table {TH.match_band(c)[0]:.2f})"
              for c in ("full", "card", "id_card") if c in closest))
    subjects = sorted({s for _, _, a, b in different for s in (a, b)})
    for c in ("full", "card", "id_card"):
        folds = [min((d for d, k, a, b in different if k == c and held_out not in (a, b)), default=float("nan"))
                 for held_out in subjects]
        if any(f == f for f in folds):
            print(f"  {c}: the accept distance by the same rule leaving each subject out: "
                  f"{round(np.nanmin(folds) - 0.05, 2):.2f}-{round(np.nanmax(folds) - 0.05, 2):.2f}")
    for label, pairs in (("as recorded", as_recorded), ("shrunk (engine)", shrunk)):
        if pairs:
            g = np.array([d for d, same in pairs if same])
            i_ = np.array([d for d, same in pairs if not same])
            print(f"  id_card references, probe {label}: genuine median {np.median(g):.3f} max {g.max():.3f}, "
                  f"accepted {np.mean(g <= TH.match_accept_distance_id_card):.3f}; closest different-person "
                  f"pair {i_.min():.3f}, pairs under 0.46 {int((i_ < 0.46).sum())}")
    return own_accept


@dataclass
class Enrolled:
    label: str
    embedding: np.ndarray
    quality_class: str
    refused: str | None = None
    id_card_probe: np.ndarray | None = None
    """The photo shrunk to an ID photo's eye distance (as a probe against `id_card`)."""

    def probe(self, quality_class: str) -> np.ndarray:
        """This photo as a probe against a reference of `quality_class`."""
        if quality_class == ReferenceClass.ID_CARD and self.id_card_probe is not None:
            return self.id_card_probe
        return self.embedding


def photo_id_card_probe(rgb: np.ndarray, check: PhotoCheck, backend) -> np.ndarray:
    """A reference photo's face shrunk to ID_CARD_PROBE_INTEROCULAR_PX and embedded."""
    top, right, bottom, left = check.face_box  # type: ignore[misc]
    points = backend.landmarker.landmarks(cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY), FaceBox(left, top, right, bottom))
    return backend.embedder.embed(*at_eye_distance(rgb, points, ID_CARD_PROBE_INTEROCULAR_PX))


def _verdict_counts(pairs: list[tuple[float, str]]) -> tuple[int, int, int]:
    verdicts = [match_verdict(d, TH, c) for d, c in pairs]
    return verdicts.count("match"), verdicts.count("uncertain"), verdicts.count("mismatch")


# ---------------------------------------------------------------------------------------
# presentations


def assess_clip(path: Path, challenge: str, backend, *, mirrored: bool, id_card_probes: bool = False) -> Assessment:
    """One presentation: the clip decoded within LIMITS, assessed with the challenge and
    no reference (so that the match cannot hide a liveness error); `id_card_probes` also
    embeds the probe frames as they are compared with an ID-card reference."""
    video = decode_video(path, limits=LIMITS)
    return assess(video, parse_challenge(challenge, mirrored=mirrored), [], backend=backend,
                  id_card_probes=id_card_probes)


def performed_challenge(first: Assessment) -> str | None:
    """The challenge a clip happens to perform: up to three distinct actions the engine saw
    in it (assessed once with any challenge), in order; None when it saw none. Used for
    clips whose actions SOURCES.md does not time (manifest positive "seen")."""
    seen = [a["name"] for a in first.details.get("actions_seen", [])]
    unique = list(dict.fromkeys(seen))[:3]
    return ",".join(unique) if unique else None


@dataclass
class Presentation:
    kind: str
    name: str
    subjects: frozenset[str]
    result: Assessment
    bona_fide: bool
    pad_reasons: frozenset[Reason] = field(default_factory=frozenset)


PAD_SIGNALS: dict[str, tuple[str, bool, frozenset[str]]] = {
    "planar_max_nonplanar_fraction": (
        "planar_nonplanar_fraction", False, frozenset({"animated_still", "close_print_slow_tilt"}),
    ),
    "screen_min_enclosed_fraction": (
        "screen_enclosed_fraction", True, frozenset({"screen_replay", "simulated_screen_replay"}),
    ),
    "cut_min_spike": ("cut_spike", True, frozenset({"face_splice", "multi_person_stage"})),
    "cut_min_aligned_spike": ("aligned_cut_spike", True, frozenset({"face_splice", "multi_person_stage"})),
    "discontinuity_max_embedding_distance": ("identity_spread", True, frozenset({"face_splice"})),
}
"""Thresholds measured on these clips: (the score it judges, attack when higher, the
attack types the signal is there to catch)."""

VIDEO_PEOPLE = {"obama": "barack_obama"}
"""Video subjects who also have photos in people/ (their pairs are genuine)."""


def _decide(p: Presentation, th: dict[str, float]) -> bool:
    """Accepted under the table with the measured PAD thresholds `th`: the engine's own
    rule (certify.decide) re-made on the stored signals."""
    assert p.result.signals is not None
    _, reasons, _ = decide(p.result.signals, replace(TH, **th))
    return set(reasons) <= {Reason.NO_REFERENCE}


def _rule(bona: list[float], attack: list[float], higher: bool) -> float | None:
    """Midpoint between the most attack-like bona fide and the most bona-fide-like
    attack when they are apart; when they overlap, just past every bona fide value (a
    live person is not refused on a signal that cannot tell)."""
    if not bona or not attack:
        return None
    if higher:  # attack when value >= threshold
        lo, hi = max(bona), min(attack)
        return (lo + hi) / 2 if lo < hi else lo + 1e-6
    lo, hi = max(attack), min(bona)  # attack when value < threshold
    return (lo + hi) / 2 if lo < hi else hi - 1e-6


def derive_thresholds(train: list[Presentation]) -> dict[str, float]:
    """Every measured PAD threshold from the training presentations, by the rule."""
    derived = {}
    for name, (score, higher, kinds) in PAD_SIGNALS.items():
        bona = [p.result.scores[score] for p in train if p.bona_fide and score in p.result.scores]
        attack = [p.result.scores[score] for p in train if p.kind in kinds and score in p.result.scores]
        value = _rule(bona, attack, higher)
        derived[name] = value if value is not None else getattr(TH, name)
    return derived


# ---------------------------------------------------------------------------------------


_PAD_SCORES = {score for score, _, _ in PAD_SIGNALS.values()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=os.environ.get("CERTIFY_DATA_DIR", "../shared/data"))
    parser.add_argument("--quick", action="store_true", help="photos and a few clips only (CI)")
    parser.add_argument("--cache", type=Path, default=None,
                        help="keep assessments in this pickle file between runs (same engine only)")
    args = parser.parse_args()
    data = Path(args.data)
    cv2.setNumThreads(1)
    manifest = json.loads(MANIFEST.read_text())
    mirrored = bool(manifest["mirrored"])
    backend = load_dlib_backend()

    cache: dict[tuple[str, str], Assessment] = {}
    if args.cache is not None and args.cache.exists():
        cache = pickle.loads(args.cache.read_bytes())

    def run(path: Path, challenge: str) -> Assessment:
        key = (f"{ENGINE_VERSION}|{TH.version}|{path.name}|{path.stat().st_size}", challenge)
        if key not in cache or "/tmp" in str(path):
            cache[key] = assess_clip(path, challenge, backend, mirrored=mirrored, id_card_probes=True)
        return cache[key]

    def run_seen(path: Path) -> tuple[Assessment, str]:
        """Assessed with the challenge it happens to perform (up to three seen actions)."""
        first = run(path, "blink")
        challenge = performed_challenge(first)
        if challenge is None:
            return first, "blink"
        return run(path, challenge), challenge

    # ---- photos and reference conditions ------------------------------------------------
    photos = []
    for path in sorted((data / "people").glob("*/*")):
        if path.parent.name.startswith("_") or path.suffix.lower() not in IMAGE_EXTENSIONS:
            continue
        if path.parent.name == "vasa1_l3_synthetic_older_m":
            continue  # a generated identity: used only for the generated-video attack
        rgb = load_image(path.read_bytes())
        check = check_reference_photo(rgb, backend=backend)
        if check.ok:
            photos.append((path.parent.name, path, rgb, check))
    references: dict[str, list[Enrolled]] = {c: [] for c in CONDITIONS}
    for person, path, rgb, check in photos:
        for condition in CONDITIONS:
            degraded = degrade_reference(rgb, check.face_box, condition)  # type: ignore[arg-type]
            ref = check_reference_photo(degraded, backend=backend)
            references[condition].append(
                Enrolled(f"{person}/{path.name}", ref.embedding, ref.quality_class,
                         None if ref.ok else (ref.reason.value if ref.reason else "?"),
                         photo_id_card_probe(rgb, check, backend) if condition == "original" else None)
            )

    # ---- bona fide videos and their fused probes -----------------------------------------
    bona_items = manifest["videos"] + manifest["videos_2026_12"]
    if args.quick:
        bona_items = bona_items[:3]
    presentations: list[Presentation] = []
    video_probes: dict[str, tuple[str, Assessment]] = {}
    for item in bona_items:
        path = data / item["file"]
        if item["positive"] == "seen":
            result, challenge = run_seen(path)
        elif item["positive"]:
            result, challenge = run(path, item["positive"]), item["positive"]
        else:
            result, challenge = None, None
        if result is not None:
            presentations.append(
                Presentation("bona_fide", f"{item['file']} [{challenge}]", frozenset({item["subject"]}), result, True)
            )
            video_probes[item["file"]] = (item["subject"], result)
        negative = run(path, item["negative"])
        if item["file"] not in video_probes:
            video_probes[item["file"]] = (item["subject"], negative)
        presentations.append(
            Presentation("replay_wrong_challenge", f"{item['file']} [{item['negative']}]",
                         frozenset({item["subject"]}), negative, False)
        )

    # ---- attacks ------------------------------------------------------------------------
    if not args.quick:
        for item in manifest["replays"]:
            subject = "m1" if "m1" in item["file"] else "m9"
            presentations.append(Presentation("screen_replay", item["file"], frozenset({subject}),
                                              run(data / item["file"], item["challenge"]), False))
        for item in manifest["multi_person"]:
            presentations.append(Presentation("multi_person_stage", item["file"], frozenset({"hamilton"}),
                                              run(data / item["file"], item["challenge"]), False))
        subject_of = {v["file"]: v["subject"] for v in bona_items}
        with tempfile.TemporaryDirectory() as tmp:
            folder = Path(tmp)
            for n, item in enumerate(manifest["simulated_screen_replays"]):
                replay = attacks.screen_replay(data / item["source"], folder / f"screen{n}.mp4",
                                               start_s=item["start_s"], seconds=item["seconds"])
                presentations.append(Presentation(
                    "simulated_screen_replay", f"{item['source']} [{item['challenge']}]",
                    frozenset({subject_of.get(item["source"], item["source"])}),
                    run(replay, item["challenge"]), False))
            for n, still in enumerate(manifest["stills"]):
                who = frozenset({f"still:{still}"})
                moving = attacks.animated_still(data / still, folder / f"still{n}.mp4")
                for challenge in manifest["still_challenges"]:
                    presentations.append(Presentation("animated_still", f"{still} [{challenge}]", who,
                                                      run(moving, challenge), False))
                close = attacks.animated_still(data / still, folder / f"close{n}.mp4", seconds=6.0,
                                               turns=0.5, max_yaw_deg=40.0, close=True)
                for challenge in manifest["close_print_challenges"]:
                    presentations.append(Presentation("close_print_slow_tilt", f"{still} [{challenge}]", who,
                                                      run(close, challenge), False))
                frozen = attacks.frozen_still(data / still, folder / f"frozen{n}.mp4")
                presentations.append(Presentation("static_video", still, who, run(frozen, "blink"), False))
            for n, item in enumerate(manifest["splices"]):
                spliced = attacks.splice(data / item["first"], data / item["second"], folder / f"splice{n}.mp4",
                                         first_s=tuple(item["first_s"]), second_s=tuple(item["second_s"]))
                presentations.append(Presentation(
                    "face_splice", f"{Path(item['first']).stem}+{Path(item['second']).stem}",
                    frozenset({subject_of.get(item["first"], "?"), subject_of.get(item["second"], "?")}),
                    run(spliced, item["challenge"]), False))

    # ---- deepfakes and generated talking heads (the enrolled face, the performed challenge)
    synthetic: list[tuple[str, str, str, Assessment | None, str]] = []
    if not args.quick:
        for kind in ("deepfake", "generated"):
            for item in manifest[kind + "s" if kind == "deepfake" else kind]:
                path = data / item["file"]
                if "reference" in item:
                    photo = load_image((data / item["reference"]).read_bytes())
                    ref = check_reference_photo(photo, backend=backend)
                else:  # the first usable frame after 0.5 s: the face the video shows
                    frames = decode_video(path, limits=LIMITS).frames
                    for frame in frames[5:]:
                        ref = check_reference_photo(frame.rgb, backend=backend)
                        if ref.ok:
                            break
                _, challenge = run_seen(path)
                if not ref.ok:
                    synthetic.append((kind, item["file"], challenge, None, f"reference refused: {ref.reason}"))
                    continue
                video = decode_video(path, limits=LIMITS)
                enrolled = [Reference(ref.embedding, ReferenceClass(ref.quality_class))]
                result = assess(video, parse_challenge(challenge, mirrored=mirrored), enrolled, backend=backend)
                synthetic.append((kind, item["file"], challenge, result, ""))

    if args.cache is not None:
        args.cache.write_bytes(pickle.dumps({k: v for k, v in cache.items() if "/tmp" not in k[0]}))

    # ======================================================================================
    # report: face match by reference condition
    print("Face match by reference condition (people/ photos; probe = another photo of the same "
          "person or of anyone else; judged in the reference's class band)")
    print(f"  {'condition':18s} {'refused':>7s} {'classes':24s} {'genuine':>7s} {'accept':>6s} {'review':>6s} "
          f"{'reject':>6s} {'impostor':>8s} {'imp.acc':>7s} {'imp.rev':>7s} gen.med imp.min")
    originals = references["original"]
    for condition, enrolled in references.items():
        classes = defaultdict(int)
        for e in enrolled:
            if e.refused is None:
                classes[e.quality_class] += 1
        refused = sum(e.refused is not None for e in enrolled)
        rows = [(condition, True)]
        if "id_card" in classes:  # the same pairs with the probe not shrunk (engine 0.6.1)
            rows.append(("  as recorded", False))
        for label, shrink in rows:
            genuine, impostor = _photo_pairs(enrolled, originals, video_probes, shrink=shrink)
            ga, gr, gj = _verdict_counts(genuine)
            ia, ir, _ = _verdict_counts(impostor)
            g = np.array([d for d, _ in genuine])
            i_ = np.array([d for d, _ in impostor])
            print(f"  {label:18s} {refused:7d} {dict(classes)!s:24s} {len(g):7d} {ga / len(g):6.3f} {gr / len(g):6.3f} "
                  f"{gj / len(g):6.3f} {len(i_):8d} {ia:7d} {ir:7d} {np.median(g):.3f}   {i_.min():.3f}")

    # probe fusion and video impostors
    print()
    print("Probe fusion (each clip's probe frames against every other clip's and every photo's "
          "embedding; Obama clips against a frame of the other clip)")
    cross = {c["video"]: c["reference"] for c in manifest["cross_clip_references"]}
    for fusion in ("best", "median", "mean"):
        genuine, impostor = [], []
        for file, (subject, result) in video_probes.items():
            embeddings = list(result.probe_embeddings)
            if not embeddings:
                continue
            if file in cross:
                photo = load_image((data / cross[file]).read_bytes())
                ref = check_reference_photo(photo, backend=backend)
                if ref.ok:
                    genuine.append(_fused_distance(embeddings, ref.embedding, fusion))
            for other_subject, other_result in video_probes.values():
                if other_subject == subject or other_result.probe_embedding is None:
                    continue
                impostor.append(_fused_distance(embeddings, other_result.probe_embedding, fusion))
        i_ = np.array(impostor)
        print(f"  {fusion:6s} genuine (cross-clip) {[round(x, 3) for x in genuine]}  video impostors n={len(i_)} "
              f"min {i_.min():.3f} 1st pct {np.quantile(i_, 0.01):.3f} accepted(full band) {(i_ <= TH.match_accept_distance).sum()}")

    own_accept = report_own_recording_references(video_probes, data, backend)

    # ---- PAD report, plain and leave-one-subject-out -------------------------------------
    print()
    print("Presentation attacks (accepted = no reason but no_reference), with the thresholds table "
          f"{TH.version} and leave-one-subject-out (LOSO)")
    table = {name: getattr(TH, name) for name in PAD_SIGNALS}
    kinds = defaultdict(list)
    for p in presentations:
        kinds[p.kind].append(p)
    all_subjects = sorted({s for p in presentations for s in p.subjects})
    loso_accept: dict[int, bool] = {}
    fold_values: dict[str, list[float]] = defaultdict(list)
    for subject in all_subjects:
        train = [p for p in presentations if subject not in p.subjects]
        test = [(k, p) for k, p in enumerate(presentations) if subject in p.subjects]
        th = derive_thresholds(train)
        for name, value in th.items():
            fold_values[name].append(value)
        for k, p in test:
            loso_accept[k] = loso_accept.get(k, True) and _decide(p, th)
    print(f"  {'type':26s} {'n':>3s} {'acc(table)':>10s} {'APCER':>6s} {'acc(LOSO)':>9s} {'APCER':>6s}")
    summary = {}
    for kind, rows in kinds.items():
        idx = [presentations.index(p) for p in rows]
        table_acc = sum(_decide(p, table) for p in rows)
        loso_acc = sum(loso_accept[k] for k in idx)
        label = "bona fide (BPCER)" if kind == "bona_fide" else kind
        if kind == "bona_fide":
            t_rate, l_rate = 1 - table_acc / len(rows), 1 - loso_acc / len(rows)
        else:
            t_rate, l_rate = table_acc / len(rows), loso_acc / len(rows)
        summary[kind] = (t_rate, l_rate)
        print(f"  {label:26s} {len(rows):3d} {table_acc:10d} {t_rate:6.3f} {loso_acc:9d} {l_rate:6.3f}")
        for k, p in zip(idx, rows, strict=True):
            by_table, by_loso = _decide(p, table), loso_accept[k]
            if p.bona_fide != by_table or p.bona_fide != by_loso:
                verdict = "REJECTED" if p.bona_fide else "ACCEPTED"
                where = "table+LOSO" if by_table == by_loso else ("table" if p.bona_fide != by_table else "LOSO")
                print(f"      {verdict} ({where}): {p.name} {[r.value for r in p.result.reasons]} "
                      f"{ {k2: round(v, 3) for k2, v in p.result.scores.items() if k2 in _PAD_SCORES} }")
    print("  LOSO thresholds (rule) per fold: " + "; ".join(
        f"{n} {min(v):.3f}-{max(v):.3f} (table {table[n]})" for n, v in fold_values.items()))

    if synthetic:
        print()
        print("Deepfakes and generated talking heads (enrolled face, the challenge the clip performs; accepted = passed)")
        by_kind = defaultdict(list)
        for kind, file, challenge, result, note in synthetic:
            accepted = result is not None and result.decision == "passed"
            by_kind[kind].append(accepted)
            shown = note or (
                f"{result.decision} {[r.value for r in result.reasons]} d={result.match_distance:.3f} "
                f"{ {k: round(v, 3) for k, v in result.scores.items() if k in _PAD_SCORES} }"
            )
            print(f"  {kind:9s} {'ACCEPTED' if accepted else 'refused '} {file} [{challenge}] {shown}")
        for kind, accepted in by_kind.items():
            summary[kind] = (sum(accepted) / len(accepted), float("nan"))
            print(f"  APCER {kind}: {sum(accepted)}/{len(accepted)} = {sum(accepted) / len(accepted):.3f}")

    pa = [v for k, v in summary.items() if k not in ("bona_fide", "deepfake", "generated")]
    bp = summary.get("bona_fide", (0.0, 0.0))
    print(f"evaluate bpcer={bp[0]:.3f} bpcer_loso={bp[1]:.3f} "
          f"apcer_max={max((t for t, _ in pa), default=0):.3f} apcer_max_loso={max((loso for _, loso in pa), default=0):.3f} "
          f"apcer_deepfake={summary.get('deepfake', (float('nan'),))[0]:.3f} "
          f"apcer_generated={summary.get('generated', (float('nan'),))[0]:.3f} "
          f"own_card_accept={own_accept.get('card_358x441_q75', float('nan')):.3f} "
          f"own_id_accept={own_accept.get('id_102x126_q60', float('nan')):.3f}")


def _photo_pairs(
    enrolled: list[Enrolled], originals: list[Enrolled], video_probes: dict[str, tuple[str, Assessment]],
    *, shrink: bool,
) -> tuple[list[tuple[float, str]], list[tuple[float, str]]]:
    """(genuine, impostor) pairs of (distance, reference class): every other original
    photo and every clip's fused probe against each reference of one condition; with
    `shrink`, the probe as the engine compares it with the reference's class."""
    genuine, impostor = [], []
    for k, j in itertools.permutations(range(len(enrolled)), 2):
        ref = enrolled[k]
        if ref.refused is not None or originals[j].refused is not None:
            continue
        probe = originals[j].probe(ref.quality_class) if shrink else originals[j].embedding
        (genuine if ref.label.split("/")[0] == originals[j].label.split("/")[0] else impostor).append(
            (embedding_distance(ref.embedding, probe), ref.quality_class))
    for subject, result in video_probes.values():  # every clip against every photo
        if result.probe_embedding is None:
            continue
        for ref in enrolled:
            if ref.refused is None:
                probe = result.probe_for(ref.quality_class) if shrink else result.probe_embedding
                same = VIDEO_PEOPLE.get(subject) == ref.label.split("/")[0]
                (genuine if same else impostor).append((embedding_distance(ref.embedding, probe), ref.quality_class))
    return genuine, impostor


def _fused_distance(embeddings: list[np.ndarray], reference: np.ndarray, fusion: str) -> float:
    return reference_distances(embeddings, [Reference(reference)], fusion=fusion)[0]


if __name__ == "__main__":
    main()
