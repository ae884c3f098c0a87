// Which session this page listens to, and its event channel. A page opened with
// `?session=FP` listens to that session (a shared link); otherwise it reuses the station this
// browser created before, or creates one (the server sets the owner cookie).

const KEY = 'drift.session';

/**
 * Fetches JSON. A failure says which kind it is, because the page answers them differently:
 * no answer at all (`unreachable`: the fetch itself failed) or an HTTP answer with an error
 * (`status`, and from a JSON body `code`, `body`; `retryAfter` seconds from the header).
 */
export async function json(url, init, fetcher = globalThis.fetch) {
  let r;
  try {
    r = await fetcher(url, { cache: 'no-store', ...init });
  } catch (cause) {
    const e = new Error('no answer from the server');
    e.unreachable = true;
    e.cause = cause;
    throw e;
  }
  const body = await r.json().catch(() => null);
  if (!r.ok) {
    const said = body && typeof body.error === 'string' ? body.error : null;
    const e = new Error(said || `HTTP ${r.status}`);
    e.status = r.status;
    e.code = body?.code;
    e.body = body;
    const after = Number.parseFloat(r.headers?.get?.('retry-after') ?? '');
    if (Number.isFinite(after)) e.retryAfter = after;
    throw e;
  }
  return body ?? {};
}

/** The session's bootstrap: { fingerprint, streamUrl, fmp4Url, eventsUrl, instanceId, … }. */
export const bootstrap = (fp) => json(`/stream/bootstrap?session=${encodeURIComponent(fp)}`);
export const sessionState = (fp) => json(`/api/sessions/${encodeURIComponent(fp)}`);
export const control = (fp, action) =>
  json(`/api/sessions/${encodeURIComponent(fp)}/${action}`, { method: 'POST' });
/** The library's scan progress (library-status.js reads it); null from a server without it. */
export const libraryStatus = () => json('/api/library').catch((e) => {
  if (e.status === 404) return null;
  throw e;
});

/** Resolves the page's session and writes it into the address bar (the share link). */
export async function resolveSession(loc = location, store = localStorage) {
  const params = new URLSearchParams(loc.search);
  const candidates = [params.get('session'), store.getItem(KEY)].filter(Boolean);
  for (const fp of candidates) {
    try {
      return await bootstrap(fp);
    } catch (e) {
      if (e.status !== 404) throw e;
    }
  }
  const created = await json('/api/sessions', { method: 'POST' });
  store.setItem(KEY, created.fingerprint);
  return created;
}

export function shareUrl(fp, loc = location) {
  return `${loc.origin}/?session=${encodeURIComponent(fp)}`;
}

/**
 * The SSE channel. `handlers` get each event's parsed payload by name; `onLost` is called
 * once when the channel drops (the page sends that into the player's one recovery path and
 * calls `open()` again once the stream is back).
 */
export class Events {
  constructor(url, handlers, onLost) {
    this.url = url;
    this.handlers = handlers;
    this.onLost = onLost;
    this.es = null;
  }

  get open() {
    return this.es !== null;
  }

  connect() {
    this.close();
    const es = new EventSource(this.url);
    this.es = es;
    for (const name of ['hello', 'heartbeat', 'track', 'splice', 'restart']) {
      es.addEventListener(name, (m) => {
        let data;
        try { data = JSON.parse(m.data); } catch { return; }
        this.handlers[name]?.(data);
      });
    }
    es.onerror = () => {
      if (this.es !== es) return;
      this.close();
      this.onLost('the event channel dropped');
    };
  }

  close() {
    this.es?.close();
    this.es = null;
  }
}
