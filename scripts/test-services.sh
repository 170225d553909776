#!/usr/bin/env bash
# Makes sure what the tests talk to is present and running: PostgreSQL, Redis, ffmpeg and
# Chromium with a Chinese font (for the browser tests and their screenshots). Installs missing system packages with apt-get when
# run as root; starts the servers when they are installed but not running.
set -euo pipefail

missing=()
command -v ffmpeg >/dev/null || missing+=(ffmpeg)
command -v chromium >/dev/null || missing+=(chromium)
command -v espeak-ng >/dev/null || missing+=(espeak-ng)
command -v redis-server >/dev/null || missing+=(redis-server)
command -v pg_ctlcluster >/dev/null || missing+=(postgresql)
{ command -v fc-list >/dev/null && [ -n "$(fc-list :lang=zh 2>/dev/null)" ]; } || missing+=(fonts-wqy-microhei)
# Safari's engine for tests/e2e/test_webkit_flow.py: WebKitGTK's WebDriver and MiniBrowser
# under Xvfb, recording MP4 with GStreamer (openh264enc in -bad, AAC from libav, mp4mux
# in -good); the Python plugin loader runs the `autovideoflip` GStreamer 1.22 lacks
# (tests/e2e/gstreamer/), and gst-inspect-1.0 tells whether it is needed
command -v WebKitWebDriver >/dev/null || missing+=(webkit2gtk-driver)
command -v Xvfb >/dev/null || missing+=(xvfb)
command -v gst-inspect-1.0 >/dev/null || missing+=(gstreamer1.0-tools)
for package in gstreamer1.0-plugins-good gstreamer1.0-plugins-bad gstreamer1.0-libav \
               gstreamer1.0-python3-plugin-loader python3-gst-1.0 gir1.2-gst-plugins-base-1.0; do
    dpkg-query -W -f '${Status}' "$package" 2>/dev/null | grep -q 'ok installed' || missing+=("$package")
done
if ((${#missing[@]})); then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
        echo "test-services: installing ${missing[*]}"
        apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
    else
        echo "test-services: missing ${missing[*]}; install them with apt-get" >&2
        exit 1
    fi
fi

if ! pg_isready -q -h 127.0.0.1 -p 5432; then
    echo "test-services: starting PostgreSQL"
    pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n1)" main start
    for _ in $(seq 30); do pg_isready -q -h 127.0.0.1 -p 5432 && break; sleep 1; done
fi
if ! psql -h 127.0.0.1 -U postgres -d test -tAc 'select 1' >/dev/null 2>&1; then
    # a freshly installed server: make the `test` database the tests expect
    su postgres -c "psql -tAc \"create database test\"" >/dev/null 2>&1 || true
fi

if ! redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1; then
    echo "test-services: starting Redis"
    redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no >/dev/null
    for _ in $(seq 30); do redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1 && break; sleep 0.2; done
fi
