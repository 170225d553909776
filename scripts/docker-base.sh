#!/usr/bin/env bash
# Build a Python 3.11 base image from Debian's own packages, for machines that reach the
# Debian mirror but not Docker Hub:
#   MIRROR=<URL of a Debian mirror this machine reaches> scripts/docker-base.sh
# then
#   docker build --network host --build-arg PYTHON_IMAGE=certify-base:bookworm -t certify .
# EXTRA_CA=/path/ca.crt adds a certificate authority the build must trust (a TLS-
# inspecting proxy between the builder and PyPI); pip is told to use the system bundle.
set -euo pipefail
TAG="${TAG:-certify-base:bookworm}"
MIRROR="${MIRROR:?set MIRROR to the URL of a Debian mirror (the one apt-get uses here: see /etc/apt/sources.list*)}"
root="$(mktemp -d)"
chmod 755 "$root"  # mktemp makes it 0700: the image's / must be readable by its non-root user
trap 'rm -rf "$root"' EXIT

debootstrap --variant=minbase \
  --include=python3.11,python3.11-venv,python3-pip,python-is-python3,ca-certificates \
  bookworm "$root" "$MIRROR"
if [ -n "${EXTRA_CA:-}" ]; then
  cp "$EXTRA_CA" "$root/usr/local/share/ca-certificates/extra-ca.crt"
  chroot "$root" update-ca-certificates
fi
chroot "$root" apt-get clean
rm -rf "$root"/var/lib/apt/lists/*

tar -C "$root" -c . | docker import \
  --change 'ENV LANG=C.UTF-8 PIP_CERT=/etc/ssl/certs/ca-certificates.crt' \
  --change 'CMD ["python3"]' - "$TAG"
docker run --rm "$TAG" python -c "import sys, venv; print('base ok', sys.version.split()[0])"
