// The album picker: search the library's albums and play one, in order, from the next track
// (the session then drifts on from its last track). The plan it starts shows in journey.js.
import { call } from './steer.js';
import { onTyping } from './journey.js';

const minutes = (s) => `${Math.round(s / 60)} min`;

export class Albums {
  /** `onPlan(answer)` gets the server's answer ({next, plan}); `toast(text)` tells the listener. */
  constructor(doc, fp, { owner, onPlan, toast }) {
    this.doc = doc;
    this.fp = encodeURIComponent(fp);
    this.owner = owner;
    this.onPlan = onPlan;
    this.toast = toast;
    this.input = doc.getElementById('album-search');
    this.results = doc.getElementById('album-results');
    onTyping(this.input, (q) => this.search(q));
  }

  async search(query) {
    if (!query.trim()) {
      this.results.replaceChildren();
      return;
    }
    let data;
    try {
      data = await call(`/api/albums?limit=20&query=${encodeURIComponent(query)}`);
    } catch (e) {
      this.toast(`Album search failed: ${e.message}`);
      return;
    }
    if (!data.albums.length) {
      const li = this.doc.createElement('li');
      li.textContent = 'No album matches.';
      this.results.replaceChildren(li);
      return;
    }
    this.results.replaceChildren(...data.albums.map((a) => {
      const li = this.doc.createElement('li');
      const label = this.doc.createElement('span');
      label.textContent = `${a.title} — ${a.artist}`;
      const meta = this.doc.createElement('small');
      meta.textContent = `${a.tracks} tracks · ${minutes(a.duration)}`;
      label.append(meta);
      const b = this.doc.createElement('button');
      b.textContent = 'Play album';
      b.disabled = !this.owner;
      b.dataset.album = a.id;
      b.addEventListener('click', () => this.play(a));
      li.append(label, b);
      return li;
    }));
  }

  async play(album) {
    try {
      const r = await call(`/api/sessions/${this.fp}/album`, {
        method: 'POST', headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ album: album.id }),
      });
      this.onPlan(r);
      this.results.replaceChildren();
      this.input.value = '';
      this.toast(`Next: the album ${album.title}`);
    } catch (e) {
      this.toast(`Cannot play the album: ${e.message}`);
    }
  }
}
