"""Face-match error rates and ISO/IEC 30107-3 style PAD error rates on ../shared/data.

    PYTHONPATH=. python bench/evaluate.py [--data ../shared/data]

Face match: every usable photo of people/ (PhotoCheck ok) and the best frame of every
bona fide video are embedded; all same-label pairs are genuine, all others impostors.
FNMR is read at the distance where the impostor FMR is 1% and 0.1%.

Liveness / PAD (bench/manifest.json): each presentation is assessed with NO reference,
so the match cannot hide a liveness error; a presentation is ACCEPTED when the only
reason left is no_reference. APCER per attack type = accepted attacks / attacks of that
type (replays of the real data, and attacks made from it at run time: stills animated
like a hand-held print, frozen stills, live clips replayed on a simulated hand-held
screen, prints filling the picture tilted slowly by 40 degrees, splices of two
people's clips); BPCER = bona fide presentations (with the challenge they perform) not accepted.
Attack videos are generated at run time in a temporary folder (bench/attacks.py).
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import sys
import tempfile
from collections import defaultdict
from pathlib import Path

import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench import attacks  # noqa: E402
from certify import (  # noqa: E402
    Reason,
    VideoLimits,
    assess,
    check_reference_photo,
    decode_video,
    load_dlib_backend,
    load_image,
    parse_challenge,
)

MANIFEST = Path(__file__).with_name("manifest.json")
LIMITS = VideoLimits(max_duration_s=40.0)
IMAGE_EXTENSIONS = {".jpg", ".jpeg", ".png"}


def _accepted(result) -> bool:
    return set(result.reasons) <= {Reason.NO_REFERENCE}


def _run(path: Path, challenge: str, backend, mirrored: bool = False):
    video = decode_video(path, limits=LIMITS)
    return assess(video, parse_challenge(challenge, mirrored=mirrored), [], backend=backend)


def _fnmr_at_fmr(genuine: np.ndarray, impostor: np.ndarray, fmr: float) -> tuple[float, float]:
    threshold = float(np.quantile(impostor, fmr)) if len(impostor) else 0.0
    # accept at distance < threshold: at most `fmr` of impostors fall below it
    return float(np.mean(genuine >= threshold)), threshold


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=os.environ.get("CERTIFY_DATA_DIR", "../shared/data"))
    args = parser.parse_args()
    data = Path(args.data)
    cv2.setNumThreads(1)
    manifest = json.loads(MANIFEST.read_text())
    mirrored = bool(manifest["mirrored"])
    backend = load_dlib_backend()

    # ---- bona fide -------------------------------------------------------------------
    labels: list[str] = []
    embeddings: list[np.ndarray] = []
    bona_fide: list[tuple[str, bool, list[str]]] = []
    wrong_challenge: list[tuple[str, bool, list[str]]] = []
    for item in manifest["videos"]:
        path = data / item["file"]
        if item["positive"]:
            result = _run(path, item["positive"], backend, mirrored)
            bona_fide.append((item["file"], _accepted(result), [r.value for r in result.reasons]))
            if result.probe_embedding is not None:
                labels.append("video:" + item["subject"])
                embeddings.append(result.probe_embedding)
        negative = _run(path, item["negative"], backend, mirrored)
        wrong_challenge.append((item["file"], _accepted(negative), [r.value for r in negative.reasons]))

    for photo in sorted((data / "people").glob("*/*")):
        if photo.parent.name.startswith("_") or photo.suffix.lower() not in IMAGE_EXTENSIONS:
            continue
        check = check_reference_photo(load_image(photo.read_bytes()), backend=backend)
        if check.ok:
            labels.append("person:" + photo.parent.name)
            embeddings.append(check.embedding)
    genuine, impostor = [], []
    for (la, ea), (lb, eb) in itertools.combinations(zip(labels, embeddings, strict=True), 2):
        (genuine if la == lb else impostor).append(float(np.linalg.norm(ea - eb)))
    g, i = np.array(genuine), np.array(impostor)
    fnmr1, t1 = _fnmr_at_fmr(g, i, 0.01)
    fnmr01, t01 = _fnmr_at_fmr(g, i, 0.001)

    # ---- attacks ---------------------------------------------------------------------
    outcomes: dict[str, list[tuple[str, bool, list[str]]]] = defaultdict(list)
    outcomes["replay_wrong_challenge"] = wrong_challenge
    for item in manifest["replays"]:
        result = _run(data / item["file"], item["challenge"], backend, mirrored)
        outcomes["screen_replay"].append((item["file"], _accepted(result), [r.value for r in result.reasons]))
    for item in manifest["multi_person"]:
        result = _run(data / item["file"], item["challenge"], backend, mirrored)
        outcomes["multi_person_stage"].append((item["file"], _accepted(result), [r.value for r in result.reasons]))
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        for n, item in enumerate(manifest["simulated_screen_replays"]):
            replay = attacks.screen_replay(
                data / item["source"], folder / f"screen{n}.mp4",
                start_s=item["start_s"], seconds=item["seconds"],
            )
            result = _run(replay, item["challenge"], backend, mirrored)
            outcomes["simulated_screen_replay"].append(
                (f"{item['source']} [{item['challenge']}]", _accepted(result), [r.value for r in result.reasons])
            )
        for n, still in enumerate(manifest["stills"]):
            moving = attacks.animated_still(data / still, folder / f"still{n}.mp4")
            frozen = attacks.frozen_still(data / still, folder / f"frozen{n}.mp4")
            for challenge in manifest["still_challenges"]:
                result = _run(moving, challenge, backend, mirrored)
                outcomes["animated_still"].append(
                    (f"{still} [{challenge}]", _accepted(result), [r.value for r in result.reasons])
                )
            close = attacks.animated_still(
                data / still, folder / f"close{n}.mp4", seconds=6.0, turns=0.5, max_yaw_deg=40.0, close=True
            )
            for challenge in manifest["close_print_challenges"]:
                result = _run(close, challenge, backend, mirrored)
                outcomes["close_print_slow_tilt"].append(
                    (f"{still} [{challenge}]", _accepted(result), [r.value for r in result.reasons])
                )
            result = _run(frozen, "blink", backend, mirrored)
            outcomes["static_video"].append((still, _accepted(result), [r.value for r in result.reasons]))
        for n, item in enumerate(manifest["splices"]):
            spliced = attacks.splice(
                data / item["first"], data / item["second"], folder / f"splice{n}.mp4",
                first_s=tuple(item["first_s"]), second_s=tuple(item["second_s"]),
            )
            result = _run(spliced, item["challenge"], backend, mirrored)
            outcomes["face_splice"].append(
                (f"{Path(item['first']).stem}+{Path(item['second']).stem}", _accepted(result),
                 [r.value for r in result.reasons])
            )

    # ---- report ----------------------------------------------------------------------
    print("Face match (dlib ResNet embeddings; photos of people/ + best frame of each video)")
    print(f"  genuine pairs {len(g)}, impostor pairs {len(i)}")
    print(f"  genuine distance median {np.median(g):.3f}, max {g.max():.3f}; "
          f"impostor min {i.min():.3f}, 1st percentile {np.quantile(i, 0.01):.3f}")
    print(f"  FMR 1%:   threshold {t1:.3f}  FNMR {fnmr1:.3f}")
    print(f"  FMR 0.1%: threshold {t01:.3f}  FNMR {fnmr01:.3f}")
    print()
    print("Presentation attacks (accepted = no reason but no_reference)")
    print(f"  {'attack type':24s} {'n':>3s} {'accepted':>8s} {'APCER':>6s}")
    apcers = {}
    for kind, rows in outcomes.items():
        accepted = sum(ok for _, ok, _ in rows)
        apcers[kind] = accepted / len(rows) if rows else 0.0
        print(f"  {kind:24s} {len(rows):3d} {accepted:8d} {apcers[kind]:6.3f}")
        for name, ok, reasons in rows:
            if ok:
                print(f"      ACCEPTED: {name} {reasons}")
    rejected = [(f, r) for f, ok, r in bona_fide if not ok]
    bpcer = len(rejected) / len(bona_fide) if bona_fide else 0.0
    print(f"  {'bona fide (BPCER)':24s} {len(bona_fide):3d} {len(bona_fide) - len(rejected):8d} {bpcer:6.3f}")
    for name, reasons in rejected:
        print(f"      REJECTED: {name} {reasons}")
    print(f"fnmr_at_fmr_1pct={fnmr1:.3f} fnmr_at_fmr_0.1pct={fnmr01:.3f} "
          f"apcer_max={max(apcers.values()):.3f} bpcer={bpcer:.3f}")


if __name__ == "__main__":
    main()
