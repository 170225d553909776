#!/usr/bin/env bash
# Smoke-test a built image: non-root, models inside (the engine runs with no network),
# and the whole service (API + worker, embedded Redis + SQLite) answering.
#   scripts/docker-smoke.sh IMAGE VIDEO REFERENCE_PHOTO CHALLENGE
# e.g. scripts/docker-smoke.sh certify:local clip.mp4 face.jpg open_mouth,blink
set -euo pipefail
IMAGE="$1"; VIDEO="$2"; PHOTO="$3"; CHALLENGE="$4"; PORT="${PORT:-8765}"
in="$(mktemp -d)"; chmod 755 "$in"
cp "$VIDEO" "$in/video"; cp "$PHOTO" "$in/photo"; chmod 644 "$in"/*
name="certify-smoke-$$"
trap 'docker rm -f "$name" >/dev/null 2>&1 || true; rm -rf "$in"' EXIT

echo "user: $(docker run --rm "$IMAGE" id -u)"
test "$(docker run --rm "$IMAGE" id -u)" != 0
echo "engine, no network:"
docker run --rm --network none -v "$in:/in:ro" "$IMAGE" \
  certify check /in/video --reference /in/photo --challenge "$CHALLENGE" --json \
  | python3 -c "import json, sys; d = json.load(sys.stdin); print(' ', d['decision'], d['reasons'], d['match_distance'])"

docker run -d --name "$name" --network host "$IMAGE" \
  certify serve --host 127.0.0.1 --port "$PORT" --no-demo >/dev/null
for _ in $(seq 1 90); do curl -sf "http://127.0.0.1:$PORT/readyz" >/dev/null && break; sleep 2; done
echo "readyz: $(curl -s "http://127.0.0.1:$PORT/readyz")"
curl -sf "http://127.0.0.1:$PORT/readyz" >/dev/null
