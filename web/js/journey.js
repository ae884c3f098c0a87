// Journeys on the page: "Drift to…" a track found by search in about N minutes, and what the
// session is doing with its plan: "on the way to X — n tracks left" (or the album it plays)
// with the planned path and a Cancel button. The album picker (albums.js) shows its plan here.

import { line } from './steer.js';
import { call, post, searchList } from './search-list.js';

const tracks = (n) => `${n} track${n === 1 ? '' : 's'} left`;

/** The sentence for a plan of the session's state (`plan`), or null without one. */
export function describe(plan) {
  if (!plan) return null;
  if (plan.kind === 'journey') {
    const to = plan.destination ? line(plan.destination) : 'the destination';
    return plan.left === 0 ? `Arrived at ${to}` : `On the way to ${to} — ${tracks(plan.left)}`;
  }
  const album = plan.album?.title ?? 'an album';
  return plan.left === 0 ? `Last track of ${album}` : `Playing the album ${album} — ${tracks(plan.left)}`;
}

export class Journey {
  /** `onNext(track)` shows a new next-up; `toast(text)` tells the listener what happened. */
  constructor(doc, fp, { owner, onNext, toast }) {
    this.doc = doc;
    this.fp = encodeURIComponent(fp);
    this.owner = owner;
    this.onNext = onNext;
    this.toast = toast;
    this.status = doc.getElementById('journey-status');
    this.text = doc.getElementById('journey-text');
    this.path = doc.getElementById('journey-path');
    this.cancelButton = doc.getElementById('journey-cancel');
    this.minutes = doc.getElementById('journey-minutes');
    this.plan = null;
    this.cancelButton.disabled = !owner;
    this.cancelButton.addEventListener('click', () => this.cancel());
    this.search = searchList(doc, {
      input: doc.getElementById('journey-search'),
      list: doc.getElementById('journey-results'),
      find: async (q) => (await call(`/api/tracks?limit=10&query=${encodeURIComponent(q)}`)).tracks,
      row: (t) => ({
        label: line(t),
        button: 'Drift here',
        data: ['destination', t.id],
        enabled: owner,
        act: () => this.start(t.id),
      }),
      none: 'Nothing matches.',
      toast,
    });
    // The path shortens as tracks play: look again now and then, not only on track changes.
    setInterval(() => { if (this.plan) this.refresh(); }, 10_000);
  }

  /** Reloads the session's plan. */
  async refresh() {
    try {
      const state = await call(`/api/sessions/${this.fp}`);
      this.show(state.plan ?? null);
    } catch { /* the next refresh tries again */ }
  }

  show(plan) {
    this.plan = plan;
    this.status.hidden = !plan;
    if (!plan) return;
    this.status.dataset.kind = plan.kind;
    this.text.textContent = describe(plan);
    this.cancelButton.textContent = plan.kind === 'journey' ? 'Cancel journey' : 'Stop the album';
    this.path.replaceChildren(...(plan.path ?? []).map((t) => {
      const li = this.doc.createElement('li');
      li.textContent = line(t);
      return li;
    }));
  }

  async start(track) {
    const minutes = Number(this.minutes.value);
    try {
      const r = await post(`/api/sessions/${this.fp}/journey`, { track, minutes });
      this.onNext(r.next);
      this.show(r.plan);
      this.search.clear();
      this.toast(describe(r.plan) ?? 'Journey planned');
    } catch (e) {
      this.toast(`Cannot plan the journey: ${e.message}`);
    }
  }

  async cancel() {
    const kind = this.plan?.kind === 'album' ? 'album' : 'journey';
    try {
      const r = await call(`/api/sessions/${this.fp}/${kind}`, { method: 'DELETE' });
      this.onNext(r.next);
      this.show(null);
      this.toast(kind === 'album' ? 'Album stopped: drifting on' : 'Journey cancelled: drifting on');
    } catch (e) {
      this.toast(`Cannot cancel: ${e.message}`);
    }
  }
}
