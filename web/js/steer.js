// Steering on the page: the directions the music can drift in from the current track (each
// with the tracks that lie that way), and a library search to pick the next track. Choosing
// either updates "next up" at once from the server's answer.

export async function call(url, init) {
  const r = await fetch(url, { cache: 'no-store', ...init });
  const body = await r.json().catch(() => ({}));
  if (!r.ok) throw new Error(body.error || `HTTP ${r.status}`);
  return body;
}

export const line = (t) => `${t.title}${t.artist ? ' — ' + t.artist : ''}`;

export class Steering {
  /** `onNext(track)` shows a new next-up; `toast(text)` tells the listener what happened. */
  constructor(doc, fp, { owner, onNext, toast }) {
    this.doc = doc;
    this.fp = encodeURIComponent(fp);
    this.owner = owner;
    this.onNext = onNext;
    this.toast = toast;
    this.box = doc.getElementById('directions');
    this.results = doc.getElementById('results');
    this.input = doc.getElementById('search');
    let timer = null;
    this.input.addEventListener('input', () => {
      clearTimeout(timer);
      timer = setTimeout(() => this.search(this.input.value), 200);
    });
    this.chosen = null;
  }

  /** Reloads the directions for the track playing now. */
  async refresh() {
    let data;
    try {
      data = await call(`/api/sessions/${this.fp}/directions`);
    } catch {
      return;
    }
    const dirs = data.directions ?? [];
    if (!dirs.length) {
      this.box.replaceChildren(this.hint('No direction leads anywhere from here yet.'));
      return;
    }
    this.box.replaceChildren(...dirs.map((d) => {
      const b = this.doc.createElement('button');
      b.className = `direction${this.chosen === d.name ? ' chosen' : ''}`;
      b.dataset.direction = d.name;
      b.disabled = !this.owner;
      b.title = `${d.description}${this.owner ? '' : ' (only the station’s owner can steer)'}`;
      const strong = this.doc.createElement('strong');
      strong.textContent = d.name;
      const small = this.doc.createElement('small');
      small.textContent = d.preview.map(line).join(' · ');
      b.append(strong, small);
      b.addEventListener('click', () => this.steer(d.name));
      return b;
    }));
  }

  hint(text) {
    const p = this.doc.createElement('p');
    p.className = 'hint';
    p.textContent = text;
    return p;
  }

  async steer(direction) {
    try {
      const r = await call(`/api/sessions/${this.fp}/steer`, {
        method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ direction }),
      });
      this.chosen = direction;
      this.onNext(r.next);
      this.toast(r.next ? `Drifting ${direction}: next is ${line(r.next)}` : `Drifting ${direction}`);
      this.refresh();
    } catch (e) {
      this.toast(`Cannot steer: ${e.message}`);
    }
  }

  async search(query) {
    if (!query.trim()) {
      this.results.replaceChildren();
      return;
    }
    let data;
    try {
      data = await call(`/api/tracks?limit=20&query=${encodeURIComponent(query)}`);
    } catch (e) {
      this.toast(`Search failed: ${e.message}`);
      return;
    }
    if (!data.tracks.length) {
      const li = this.doc.createElement('li');
      li.textContent = 'Nothing matches.';
      this.results.replaceChildren(li);
      return;
    }
    this.results.replaceChildren(...data.tracks.map((t) => {
      const li = this.doc.createElement('li');
      const label = this.doc.createElement('span');
      label.textContent = line(t);
      const meta = this.doc.createElement('small');
      const f = t.features;
      meta.textContent = f ? `${Math.round(f.bpm)} BPM · ${f.keyName}` : '';
      label.append(meta);
      const b = this.doc.createElement('button');
      b.textContent = 'Play next';
      b.disabled = !this.owner;
      b.dataset.track = t.id;
      b.addEventListener('click', () => this.queue(t.id));
      li.append(label, b);
      return li;
    }));
  }

  async queue(trackId) {
    try {
      const r = await call(`/api/sessions/${this.fp}/next`, {
        method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ trackId }),
      });
      this.onNext(r.next);
      this.toast(r.next ? `Next: ${line(r.next)}` : 'Queued');
    } catch (e) {
      this.toast(`Cannot queue: ${e.message}`);
    }
  }
}
