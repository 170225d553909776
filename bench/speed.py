"""Core-seconds per video: the engine vs. naive "detect and encode every frame".

Cuts a 6 s 720p30 clip from videos/selfie_phone_blinks_expressions_m2.mp4 (at run time,
into a temporary folder), pins OpenCV to one thread and decodes single-threaded, then
measures CPU time (time.process_time) of:
- engine: decode_video + assess (models loaded beforehand, as in a worker), with one
  full-size reference, and again with an ID-card-size reference added (the probe frames
  are then also embedded shrunk to an ID photo's eye distance: certify.match);
- naive: decode every frame to RGB, HOG-detect at full resolution and compute one
  embedding per frame (face_recognition's defaults).
The naive pipeline is measured on NAIVE_FRAMES frames and scaled to the whole clip.

    PYTHONPATH=. python bench/speed.py [--data ../shared/data]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import av
import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.attacks import cut  # noqa: E402
from certify import assess, decode_video, load_dlib_backend, parse_challenge  # noqa: E402
from certify.references import Reference, ReferenceClass  # noqa: E402

SOURCE = "videos/selfie_phone_blinks_expressions_m2.mp4"
CLIP_SECONDS = 6.0
NAIVE_FRAMES = 12
"""Naive frames actually measured (each ~0.5 s); the total is scaled to all frames."""
ENGINE_RUNS = 5
"""Engine runs; the median is reported."""


def _naive_seconds_per_frame(path: Path, backend) -> tuple[float, int]:
    detector = backend.detector
    total_frames = 0
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        stream.thread_type = "NONE"
        total_frames = stream.frames or 0
    spent = 0.0
    measured = 0
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        stream.thread_type = "NONE"
        for frame in container.decode(stream):
            start = time.process_time()
            rgb = frame.to_ndarray(format="rgb24")
            gray = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
            for box in detector.detect(gray, upsample=1)[:1]:
                points = backend.landmarker.landmarks(gray, box)
                backend.embedder.embed(rgb, points)
            spent += time.process_time() - start
            measured += 1
            if measured >= NAIVE_FRAMES:
                break
    return spent / measured, total_frames


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=os.environ.get("CERTIFY_DATA_DIR", "../shared/data"))
    args = parser.parse_args()
    cv2.setNumThreads(1)
    backend = load_dlib_backend()
    with tempfile.TemporaryDirectory() as tmp:
        clip = cut(Path(args.data) / SOURCE, Path(tmp) / "clip720p.mp4", 0.0, CLIP_SECONDS)
        challenge = parse_challenge("blink")
        full = [Reference(np.zeros(128))]
        engine_s, decode_s, last, video = _engine_core_s(clip, challenge, full, backend)
        id_card_s, _, with_id, _ = _engine_core_s(
            clip, challenge, [*full, Reference(np.zeros(128), ReferenceClass.ID_CARD)], backend)
        per_frame, frames = _naive_seconds_per_frame(clip, backend)
        naive_s = per_frame * frames
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    print(f"machine load average (1/5/15 min): {load} on {os.cpu_count()} cores "
          "(core-seconds grow when other processes share the caches)")
    print(f"clip: {CLIP_SECONDS:g} s, {video.info.width}x{video.info.height}, {frames} frames")
    print(f"engine: {engine_s:.3f} core-s (decode {decode_s:.3f}); stages ms: "
          + ", ".join(f"{k}={v:.0f}" for k, v in last.timings_ms.items()))
    print(f"engine with an ID-card reference: {id_card_s:.3f} core-s; embed stage "
          f"{with_id.timings_ms['embed']:.0f} ms")
    print(f"naive: {per_frame * 1000:.0f} core-ms/frame x {frames} frames = {naive_s:.1f} core-s")
    print(f"core_s_per_video={engine_s:.3f} core_s_with_id_card_reference={id_card_s:.3f} "
          f"naive_core_s_per_video={naive_s:.2f} ratio={naive_s / engine_s:.1f}")


def _engine_core_s(clip: Path, challenge, references, backend):
    """Median of ENGINE_RUNS (core-s, of which decoding), the last assessment and video."""
    runs = []
    for _ in range(ENGINE_RUNS):
        start = time.process_time()
        video = decode_video(clip)
        decoded = time.process_time()
        last = assess(video, challenge, references, backend=backend)
        runs.append((time.process_time() - start, decoded - start))
    runs.sort()
    engine_s, decode_s = runs[len(runs) // 2]
    return engine_s, decode_s, last, video


if __name__ == "__main__":
    main()
