// A small HTTP proxy on 127.0.0.1 in front of `drift serve`, for the trouble tests: the page,
// its API calls, its event channel and its stream all go through it (one origin), and the test
// can make the network misbehave in ways a browser's offline switch cannot: cut every open
// connection at once, refuse new connections for a while, or stall a stream (keep its response
// open but stop forwarding the body). It counts the audio stream requests (`/stream/{fp}…`,
// not `/stream/bootstrap`) open right now, the most ever open at once, and all so far.
import { createServer, request } from 'node:http';
import { once } from 'node:events';

/** True for a request of audio (MP3, fMP4 or Ogg), not the bootstrap JSON under /stream/. */
export const isStream = (url) => /^\/stream\/(?!bootstrap)[^/?]+/.test(url);

export class TroubleProxy {
  /** `target` is the upstream port on 127.0.0.1 (it may die and come back on that port). */
  constructor(target) {
    this.target = target;
    this.sockets = new Set(); // client sockets, for cutting
    this.upstreams = new Set(); // upstream requests, for cutting
    this.streams = new Set(); // open stream exchanges: { url, opened, res, up, stalled, closed }
    this.refusing = false;
    this.stallNew = false;
    this.totalStreams = 0;
    this.peakStreams = 0;
    this.log = []; // { at (ms, Date.now()), url, stream } per request, for timing
    this.server = createServer((req, res) => this.forward(req, res));
    this.server.on('connection', (socket) => {
      if (this.refusing) {
        socket.destroy();
        return;
      }
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
    });
  }

  async listen() {
    this.server.listen(0, '127.0.0.1');
    await once(this.server, 'listening');
    this.port = this.server.address().port;
    return this;
  }

  get base() {
    return `http://127.0.0.1:${this.port}`;
  }

  /** Stream requests open right now (the page has not closed them, nor has the proxy). */
  get openStreams() {
    return this.streams.size;
  }

  forward(req, res) {
    const stream = isStream(req.url);
    this.log.push({ at: Date.now(), url: req.url, stream });
    if (this.log.length > 5000) this.log.splice(0, 2500);
    let entry = null;
    if (stream) {
      entry = { url: req.url, opened: Date.now(), res, up: null, stalled: this.stallNew, bytes: 0 };
      this.streams.add(entry);
      this.totalStreams++;
      this.peakStreams = Math.max(this.peakStreams, this.streams.size);
      // Closed by the page (abort), by the proxy (cut), or at the end of the response.
      res.on('close', () => {
        this.streams.delete(entry);
        entry.up?.destroy();
      });
    }
    const up = request({
      host: '127.0.0.1', port: this.target, method: req.method, path: req.url, headers: req.headers,
      agent: false, // one upstream connection per request: cutting one never touches another
    }, (upRes) => {
      res.writeHead(upRes.statusCode, upRes.headers);
      res.flushHeaders();
      if (entry) entry.up = upRes;
      upRes.on('data', (chunk) => {
        if (entry?.stalled) return; // swallowed: the page sees an open pipe with nothing in it
        if (entry) entry.bytes += chunk.length;
        if (!res.write(chunk)) {
          upRes.pause();
          res.once('drain', () => upRes.resume());
        }
      });
      upRes.on('end', () => { if (!entry?.stalled) res.end(); });
      upRes.on('error', () => res.destroy());
      upRes.on('aborted', () => res.destroy());
    });
    this.upstreams.add(up);
    up.on('close', () => this.upstreams.delete(up));
    up.on('error', () => {
      // The server is away: as a failed connection would look to the page.
      if (!res.headersSent) res.socket?.destroy();
      else res.destroy();
    });
    req.pipe(up);
    res.on('close', () => up.destroy());
  }

  /** Cuts every open connection at once, page side and server side (a dropped network). */
  cutAll() {
    for (const s of this.sockets) s.destroy();
    for (const u of this.upstreams) u.destroy();
  }

  /** While on, new connections are closed as soon as they are accepted. */
  refuse(on) {
    this.refusing = on;
  }

  /**
   * Stalls the open stream responses: they stay open but no more of their body is forwarded
   * (what a wedged middlebox or a half-dead network path looks like). With `next`, stream
   * responses opened from now on stall too, until `stall(false)`.
   */
  stall(on = true, { next = false } = {}) {
    for (const e of this.streams) e.stalled = on;
    this.stallNew = on && next;
  }

  /** The stream exchanges that are stalled and still open. */
  get stalledOpen() {
    return [...this.streams].filter((e) => e.stalled).length;
  }

  async close() {
    this.cutAll();
    this.server.close();
    this.server.closeAllConnections?.();
  }
}
