#!/usr/bin/env bash
# Creates .venv and installs certify into it. Idempotent and quick when nothing changed.
#
#   scripts/install.sh          runtime only
#   scripts/install.sh test     runtime + test tools
#
# dlib is never compiled: it comes from the prebuilt dlib-bin wheel, and face_recognition
# (whose metadata asks for the `dlib` sdist) is installed with --no-deps.
set -euo pipefail
cd "$(dirname "$0")/.."
extra="${1:-}"
python="${PYTHON:-python3}"

[ -x .venv/bin/python ] || "$python" -m venv .venv
stamp=".venv/.installed-$(cat pyproject.toml requirements/constraints.txt | sha256sum | cut -c1-16)${extra:+-$extra}"
if [ ! -f "$stamp" ]; then
    pip=(.venv/bin/python -m pip --disable-pip-version-check)
    "${pip[@]}" install -q --upgrade "pip>=24"
    # --only-binary makes pip fail loudly instead of compiling dlib if anything asks for it.
    "${pip[@]}" install -q --only-binary=dlib,dlib-bin -c requirements/constraints.txt \
        -e ".${extra:+[$extra]}"
    "${pip[@]}" install -q --no-deps face_recognition==1.3.0
    .venv/bin/python -c "import face_recognition, dlib, cv2, av" \
        || { echo "install.sh: face_recognition stack does not import" >&2; exit 1; }
    rm -f .venv/.installed-*
    touch "$stamp"
fi
