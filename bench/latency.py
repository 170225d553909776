"""Upload-to-result latency through the real service.

Starts `certify serve` (SQLite, embedded Redis, one worker process, no demo data) on a
free port in a temporary directory, enrols a pensioner with a frame of the clip as the
reference photo, then for each run: opens a session, uploads the clip over HTTP and polls
the attempt until it has a final status. Prints each run and the median.

    python bench/latency.py --data ../shared/data [--clip videos/frontal_mouth_open_m5.mp4] [--runs 5]

The challenge is the server's random one, so the decision varies; the full pipeline runs
either way (decode, track, actions, attacks, match), which is what the latency measures.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bench.harness import free_port  # noqa: E402
from service.rules.national_id import compose_national_id  # noqa: E402

TOKEN = "bench-operator-token"
FINAL = {"passed", "failed", "review", "error"}


def _request(url: str, *, method: str = "GET", body: bytes | None = None,
             headers: dict[str, str] | None = None) -> dict:
    req = urllib.request.Request(url, data=body, method=method, headers=headers or {})
    with urllib.request.urlopen(req, timeout=60) as response:
        return json.loads(response.read())


def _multipart(field: str, filename: str, data: bytes, content_type: str) -> tuple[bytes, str]:
    boundary = uuid.uuid4().hex
    head = (
        f"--{boundary}\r\nContent-Disposition: form-data; name=\"{field}\"; "
        f"filename=\"{filename}\"\r\nContent-Type: {content_type}\r\n\r\n"
    ).encode()
    return head + data + f"\r\n--{boundary}--\r\n".encode(), f"multipart/form-data; boundary={boundary}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=REPO.parent / "shared" / "data")
    parser.add_argument("--clip", default="videos/frontal_mouth_open_m5.mp4")
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    clip = args.data / args.clip
    video = clip.read_bytes()

    with tempfile.TemporaryDirectory() as tmp:
        reference = Path(tmp) / "reference.jpg"
        subprocess.run(["ffmpeg", "-loglevel", "error", "-y", "-ss", "0.5", "-i", str(clip),
                        "-frames:v", "1", "-q:v", "2", str(reference)], check=True)
        port = free_port()
        env = dict(os.environ, CERTIFY_VAR_DIR=f"{tmp}/var", DATABASE_URL=f"sqlite:///{tmp}/var/certify.db",
                   CERTIFY_API_TOKEN=TOKEN, PYTHONPATH=str(REPO))
        env.pop("REDIS_URL", None)
        server = subprocess.Popen(
            [sys.executable, "-m", "cli.main", "serve", "--port", str(port), "--no-demo"],
            cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
        )
        api = f"http://127.0.0.1:{port}"
        auth = {"Authorization": f"Bearer {TOKEN}"}
        try:
            for _ in range(120):
                try:
                    if _request(f"{api}/readyz").get("ready"):
                        break
                except (urllib.error.URLError, ConnectionError):
                    pass
                time.sleep(0.5)
            else:
                raise SystemExit("certify serve did not become ready")
            time.sleep(3)  # let the worker finish loading its models
            latencies = []
            for run in range(args.runs):
                # a new pensioner per run: the same clip twice would be caught as re-used
                national_id = compose_national_id("110105", dt.date(1950, 1, 1), run)
                pensioner = _request(
                    f"{api}/v1/pensioners", method="POST",
                    body=json.dumps({"name": "基准", "national_id": national_id,
                                     "region_code": "110105"}).encode(),
                    headers={**auth, "Content-Type": "application/json"},
                )
                body, ctype = _multipart("photo", "ref.jpg", reference.read_bytes(), "image/jpeg")
                _request(f"{api}/v1/pensioners/{pensioner['id']}/references", method="POST",
                         body=body, headers={**auth, "Content-Type": ctype})
                session = _request(f"{api}/v1/pensioners/{pensioner['id']}/sessions",
                                   method="POST", body=b"{}",
                                   headers={**auth, "Content-Type": "application/json"})
                body, ctype = _multipart("video", clip.name, video, "video/mp4")
                started = time.perf_counter()
                attempt = _request(f"{api}{session['upload_url']}", method="POST", body=body,
                                   headers={"X-Session-Nonce": session["nonce"], "Content-Type": ctype})
                while attempt["status"] not in FINAL:
                    time.sleep(0.05)
                    attempt = _request(f"{api}/v1/attempts/{attempt['id']}")
                elapsed = time.perf_counter() - started
                latencies.append(elapsed)
                print(f"run {run + 1}: {elapsed:.2f} s  {attempt['status']} {attempt['reasons']}")
        finally:
            server.send_signal(signal.SIGINT)
            try:
                server.wait(timeout=30)
            except subprocess.TimeoutExpired:
                server.kill()
    print(f"clip={args.clip} bytes={len(video)} runs={len(latencies)} "
          f"upload_to_result_median_s={statistics.median(latencies):.2f} "
          f"min_s={min(latencies):.2f} max_s={max(latencies):.2f}")


if __name__ == "__main__":
    main()
