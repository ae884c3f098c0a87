#!/usr/bin/env bash
# Installs what the build and the test suite need when it is missing: cmake (opusic-sys builds
# its bundled libopus with it), Debian's ffmpeg (a real decoder and client, and the encoder of
# every format the format tests generate), Chromium and Firefox ESR (the two MSE engines), PulseAudio (a null sink for Firefox), Debian's icecast2 (the Icecast output's tests push to it),
# WebKitGTK's WebDriver and Xvfb (Safari's engine on Linux, which has no headless mode), and the npm packages of the browser tests. Safe to run again: it only installs what is absent.
set -euo pipefail
cd "$(dirname "$0")/.."

need=()
command -v cmake >/dev/null || need+=(cmake)
command -v ffmpeg >/dev/null || need+=(ffmpeg)
command -v ffprobe >/dev/null || need+=(ffmpeg)
[ -x /usr/bin/chromium ] || need+=(chromium)
[ -x /usr/bin/firefox-esr ] || need+=(firefox-esr)
command -v pulseaudio >/dev/null || need+=(pulseaudio pulseaudio-utils)
[ -x /usr/bin/icecast2 ] || need+=(icecast2)
[ -x /usr/bin/WebKitWebDriver ] || need+=(webkit2gtk-driver)
# WebKitGTK plays media through GStreamer; plugins-bad is only a recommendation of its package.
for pkg in gstreamer1.0-plugins-good gstreamer1.0-plugins-bad; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "ok installed" || need+=("$pkg")
done
command -v xvfb-run >/dev/null || need+=(xvfb xauth)
if [ ${#need[@]} -gt 0 ]; then
  echo "installing: ${need[*]}"
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

if [ -f package.json ] && [ ! -d node_modules ]; then
  npm ci --no-audit --no-fund
fi
