// Steering on the page: the directions the music can drift in from the current track (each
// with the tracks that lie that way), and a library search to pick the next track. Choosing
// either updates "next up" at once from the server's answer.

import { call, post, searchList } from './search-list.js';

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
    searchList(doc, {
      input: doc.getElementById('search'),
      list: doc.getElementById('results'),
      find: async (q) => (await call(`/api/tracks?limit=20&query=${encodeURIComponent(q)}`)).tracks,
      row: (t) => ({
        label: line(t),
        detail: t.features ? `${Math.round(t.features.bpm)} BPM · ${t.features.keyName}` : '',
        button: 'Play next',
        data: ['track', t.id],
        enabled: this.owner,
        act: () => this.queue(t.id),
      }),
      none: 'Nothing matches.',
      toast,
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
      const r = await post(`/api/sessions/${this.fp}/steer`, { direction });
      this.chosen = direction;
      this.onNext(r.next);
      this.toast(r.next ? `Drifting ${direction}: next is ${line(r.next)}` : `Drifting ${direction}`);
      this.refresh();
    } catch (e) {
      this.toast(`Cannot steer: ${e.message}`);
    }
  }

  async queue(trackId) {
    try {
      const r = await post(`/api/sessions/${this.fp}/next`, { trackId });
      this.onNext(r.next);
      this.toast(r.next ? `Next: ${line(r.next)}` : 'Queued');
    } catch (e) {
      this.toast(`Cannot queue: ${e.message}`);
    }
  }
}
