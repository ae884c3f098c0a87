#!/usr/bin/env bash
# What one listener of each stream format costs Drift: CPU seconds per second of audio and
# bytes per listener-hour, for one session with one listener of that format. The station clock
# runs at 10x so 20 s of wall time are ~200 s of audio (the render, MP3 and Opus encoders work
# exactly as at 1x, only sooner). Usage: scripts/stream-cost.sh [DRIFT_BINARY]
# (default target/release/drift; build it with `cargo build --release`).
set -euo pipefail
BIN=${1:-target/release/drift}
WARMUP=10
SECONDS_MEASURED=20
PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
DATA=$(mktemp -d)
trap 'kill $SERVER 2>/dev/null || true; rm -rf "$DATA"' EXIT

# A session parks 10 s (clock) after its listener left: 1 s of wall time, before the next format.
"$BIN" serve --data-dir "$DATA" --listen "127.0.0.1:$PORT" --time-scale 10 --idle-timeout 10 \
    --sessions-per-minute 0 >/dev/null 2>&1 &
SERVER=$!
until curl -sf "http://127.0.0.1:$PORT/health" | grep -q '"scanComplete":true'; do sleep 0.5; done

# user + system CPU of the server so far, in seconds.
cpu() { awk -v hz="$(getconf CLK_TCK)" '{ print ($14 + $15) / hz }' "/proc/$SERVER/stat"; }
position() { curl -sf "http://127.0.0.1:$PORT/api/sessions/$1" | python3 -c 'import json, sys; print(json.load(sys.stdin)["position"])'; }

printf '%-12s %18s %22s %14s\n' format 'CPU s per audio s' 'MB per listener-hour' 'kbps received'
for suffix in '' .opus .opus.mp4; do
    FP=$(curl -sf -X POST "http://127.0.0.1:$PORT/api/sessions" | python3 -c 'import json, sys; print(json.load(sys.stdin)["fingerprint"])')
    OUT="$DATA/out$suffix"
    curl -sN "http://127.0.0.1:$PORT/stream/$FP$suffix" -o "$OUT" &
    LISTENER=$!
    sleep "$WARMUP"
    c0=$(cpu); p0=$(position "$FP"); b0=$(stat -c %s "$OUT")
    sleep "$SECONDS_MEASURED"
    c1=$(cpu); p1=$(position "$FP"); b1=$(stat -c %s "$OUT")
    kill "$LISTENER"
    python3 - "$suffix" "$c0" "$c1" "$p0" "$p1" "$b0" "$b1" <<'EOF'
import sys
name = {"": "mp3", ".opus": "ogg opus", ".opus.mp4": "opus fmp4"}[sys.argv[1]]
c0, c1, p0, p1, b0, b1 = map(float, sys.argv[2:])
audio = p1 - p0
rate = (b1 - b0) / audio
print(f"{name:<12} {(c1 - c0) / audio:18.4f} {rate * 3600 / 1e6:22.1f} {rate * 8 / 1000:14.1f}")
EOF
    sleep 5
done
