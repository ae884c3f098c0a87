#!/usr/bin/env python3
"""A player's view of a stream through restarts (docs/SCALING.md): reads URL with ICY titles for
SECONDS, reconnecting every RETRY seconds after the stream ends or fails, as players do, and
prints each outage (last audio byte before it to the first after it), the titles seen and when,
and the audio received as a multiple of real time.

    scripts/listen-through-restarts.py http://127.0.0.1:8001/drift.mp3 60 [RETRY=0.5] [KBPS=192]
"""
import socket, sys, time
from urllib.parse import urlparse

url, seconds = sys.argv[1], float(sys.argv[2])
retry = float(sys.argv[3]) if len(sys.argv) > 3 else 0.5
kbps = float(sys.argv[4]) if len(sys.argv) > 4 else 192
u = urlparse(url)
start = time.monotonic()
now = lambda: time.monotonic() - start
audio_bytes, last_audio, outages, titles, connects = 0, None, [], [], 0


def session():
    """One connection: returns when it ends."""
    global audio_bytes, last_audio, connects
    s = socket.create_connection((u.hostname, u.port or 80), timeout=5)
    s.sendall(f"GET {u.path} HTTP/1.0\r\nHost: {u.netloc}\r\nIcy-MetaData: 1\r\n\r\n".encode())
    buf = b""
    while b"\r\n\r\n" not in buf:
        d = s.recv(4096)
        if not d:
            return
        buf += d
    head, buf = buf.split(b"\r\n\r\n", 1)
    if b" 200" not in head.split(b"\r\n")[0]:
        return
    connects += 1
    metaint = int([l.split(b":")[1] for l in head.split(b"\r\n") if l.lower().startswith(b"icy-metaint")][0])
    left = metaint
    while now() < seconds:
        if not buf:
            buf = s.recv(65536)
            if not buf:
                return
        if left > 0:
            take = buf[:left]
            buf = buf[len(take):]
            left -= len(take)
            if outages and outages[-1][1] is None:
                outages[-1][1] = now()
            audio_bytes += len(take)
            last_audio = now()
        else:
            while len(buf) < 1:
                buf += s.recv(65536)
            n = buf[0] * 16
            while len(buf) < 1 + n:
                d = s.recv(65536)
                if not d:
                    return
                buf += d
            meta, buf = buf[1:1 + n], buf[1 + n:]
            left = metaint
            t = meta.rstrip(b"\0").decode("utf-8", "replace")
            if t.startswith("StreamTitle='"):
                t = t[len("StreamTitle='"):].split("';")[0]
                if not titles or titles[-1][1] != t:
                    titles.append((now(), t))


while now() < seconds:
    try:
        session()
    except OSError:
        pass
    if now() < seconds:
        if not outages or outages[-1][1] is not None:
            outages.append([last_audio if last_audio is not None else now(), None])
        time.sleep(retry)

real = audio_bytes / (kbps * 125) / seconds
print(f"{connects} connections, audio received {real:.2f}x real time over {seconds:.0f} s")
for a, b in outages:
    print(f"outage from {a:.1f} s: " + (f"{b - a:.1f} s without audio" if b else "no audio again"))
for t, title in titles:
    print(f"{t:6.1f} s  {title}")
