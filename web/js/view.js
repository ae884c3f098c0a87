// The page's DOM: everything the listener sees, updated from plain values (no logic here
// beyond formatting), so app.js reads as the session's story.

const fmt = (s) => {
  if (!Number.isFinite(s) || s < 0) return '–:––';
  const m = Math.floor(s / 60);
  return `${m}:${String(Math.floor(s % 60)).padStart(2, '0')}`;
};

/** A stable hue from a string, for the generated cover when a file has no art. */
export function hue(text) {
  let h = 0;
  for (const c of text) h = (h * 31 + c.codePointAt(0)) >>> 0;
  return h % 360;
}

export class View {
  constructor(doc) {
    this.doc = doc;
    this.$ = (id) => doc.getElementById(id);
    this.current = null;
    this.toastTimer = null;
    this.coverListeners = [];
    const img = this.$('cover-img');
    img.addEventListener('error', () => {
      img.hidden = true;
      this.coverListeners.forEach((fn) => fn(null));
    });
    img.addEventListener('load', () => {
      img.hidden = false;
      this.coverListeners.forEach((fn) => fn({ src: img.src, sizes: `${img.naturalWidth}x${img.naturalHeight}` }));
    });
  }

  /** `fn(art)` when the playing track's cover art loaded (`{ src, sizes }`) or has none (null). */
  onCover(fn) {
    this.coverListeners.push(fn);
  }

  on(action, fn) {
    const el = this.$(action);
    el?.addEventListener('click', () => fn());
  }

  state(state, text, active) {
    const s = this.$('status');
    s.dataset.state = state;
    this.$('status-text').textContent = text;
    this.$('play-icon').textContent = active ? '■' : '▶';
    this.$('play-label').textContent = active ? 'Stop' : 'Play';
    this.$('play').setAttribute('aria-label', active ? 'Stop' : 'Play');
    this.doc.body.dataset.state = state;
  }

  /** While the page has no station, the station's own buttons have nothing to act on. */
  setWaiting(waiting) {
    for (const id of ['skip', 'save', 'share', 'refresh']) this.$(id).disabled = waiting;
    this.doc.body.classList.toggle('waiting', waiting);
  }

  /**
   * The first-run panel: `p` = { headline, fraction (null: not known yet), detail, hint } from
   * library-status.js, or null to hide it.
   */
  preparing(p) {
    const box = this.$('library');
    box.hidden = !p;
    if (!p) return;
    this.$('library-text').textContent = p.headline;
    this.$('library-detail').textContent = p.detail;
    this.$('library-detail').hidden = !p.detail;
    this.$('library-hint').textContent = p.hint ?? '';
    const bar = this.$('library-bar');
    const known = p.percent !== null && p.percent !== undefined;
    bar.classList.toggle('indeterminate', !known);
    this.$('library-fill').style.width = known ? `${p.percent}%` : '';
    if (known) bar.setAttribute('aria-valuenow', String(Math.round(p.percent)));
    else bar.removeAttribute('aria-valuenow');
  }

  /** The headline before there is anything to play: a call to press Play, or its promise. */
  waitingTitle(intent) {
    this.$('title').textContent = intent ? 'Your music is on its way' : 'Press play to tune in';
  }

  /** The small line while the library grows under music that plays; null hides it. */
  libraryLine(text) {
    const el = this.$('library-line');
    el.hidden = !text;
    el.textContent = text ?? '';
  }

  setOwner(owner) {
    this.$('skip').disabled = !owner;
    this.$('role').textContent = owner ? 'Your station' : 'Listening along';
    if (!owner) this.$('skip').title = 'Only the station’s owner can skip';
  }

  setShare(url, m3u) {
    this.$('share-url').value = url;
    this.$('m3u').href = m3u;
  }

  showShare() {
    this.$('share-box').hidden = false;
    this.$('share-url').select();
  }

  nowPlaying(t) {
    this.current = t;
    this.$('title').textContent = t.title || 'Unknown title';
    this.$('artist').textContent = t.artist || '';
    this.$('album').textContent = t.album || '';
    this.doc.title = `${t.title}${t.artist ? ' · ' + t.artist : ''} — Drift`;
    const h = hue(`${t.artist}${t.title}`);
    const cover = this.$('cover');
    cover.style.background = `linear-gradient(135deg, hsl(${h} 55% 42%), hsl(${(h + 70) % 360} 50% 22%))`;
    this.$('cover-initials').textContent = (t.title || '?').trim().slice(0, 1).toUpperCase();
    const img = this.$('cover-img');
    const src = t.id ? `/api/tracks/${encodeURIComponent(t.id)}/cover` : '';
    if (img.dataset.src !== src) {
      img.dataset.src = src;
      img.hidden = true;
      if (src) img.src = src;
      else {
        img.removeAttribute('src');
        this.coverListeners.forEach((fn) => fn(null));
      }
    }
  }

  progress(elapsed, duration) {
    this.$('elapsed').textContent = fmt(elapsed);
    this.$('duration').textContent = fmt(duration);
    const pct = duration > 0 ? Math.min(100, (100 * elapsed) / duration) : 0;
    this.$('progress-fill').style.width = `${pct}%`;
  }

  buffer(ahead) {
    this.$('ahead-text').textContent = `${ahead.toFixed(1)} s`;
    this.$('ahead-fill').style.width = `${Math.min(100, (ahead / 20) * 100)}%`;
  }

  next(t) {
    this.$('next').textContent = t ? `${t.title}${t.artist ? ' — ' + t.artist : ''}` : '—';
  }

  recent(list) {
    const ol = this.$('recent');
    ol.replaceChildren(...list.map((t) => {
      const li = this.doc.createElement('li');
      li.textContent = `${t.title}${t.artist ? ' — ' + t.artist : ''}`;
      return li;
    }));
  }

  listeners(n) {
    this.$('status').title = `${n} listener${n === 1 ? '' : 's'} on this station`;
  }

  /** The error box; `action` names its button (Retry, or Try now while the page waits). */
  error(text, action = 'Retry') {
    this.$('error').hidden = !text;
    if (text) this.$('error-text').textContent = text;
    this.$('retry').textContent = action;
  }

  toast(text) {
    const t = this.$('toast');
    clearTimeout(this.toastTimer);
    t.hidden = !text;
    if (!text) return;
    t.textContent = text;
    this.toastTimer = setTimeout(() => { t.hidden = true; }, 3500);
  }
}
