// Love and ban on the page: a heart and a Ban button by the now-playing title (the owner's),
// the track's play, skip and love counts, and the undo list of banned tracks ("Banned", each
// with an Unban button). Bans are library-wide: a banned track never plays again in any
// session until it is unbanned here.

import { call, post } from './search-list.js';

/** "3 plays · 1 skip · 2 loves" from a track's `marks`. */
export function countsText(m) {
  if (!m) return '';
  const n = (k, one) => `${m[k] ?? 0} ${one}${m[k] === 1 ? '' : 's'}`;
  return [n('plays', 'play'), n('skips', 'skip'), n('loves', 'love')].join(' · ');
}

export class Marks {
  /** `toast(text)` tells the listener what happened. */
  constructor(doc, fp, { owner, toast }) {
    this.doc = doc;
    this.fp = encodeURIComponent(fp);
    this.owner = owner;
    this.toast = toast;
    this.track = null;
    this.marks = null;
    const $ = (id) => doc.getElementById(id);
    this.box = $('marks');
    this.loveBtn = $('love');
    this.banBtn = $('ban');
    this.counts = $('counts');
    this.bansBox = $('bans-box');
    this.list = $('bans');
    this.box.hidden = false;
    this.loveBtn.disabled = this.banBtn.disabled = !owner;
    if (!owner) this.loveBtn.title = this.banBtn.title = 'Only the station’s owner can love or ban';
    this.loveBtn.addEventListener('click', () => this.love());
    this.banBtn.addEventListener('click', () => this.ban());
    this.refreshBans();
  }

  /** The track playing now: its counts and whether it is loved (from the session's state). */
  async show(track) {
    this.track = track;
    this.render(null);
    if (!track?.id) return;
    try {
      const s = await call(`/api/sessions/${this.fp}`);
      const known = [s.nowPlaying, s.next].find((t) => t?.id === track.id);
      if (this.track === track && known) this.render(known.marks);
    } catch { /* the counts wait for the next track */ }
  }

  render(marks) {
    this.marks = marks;
    const loved = marks?.loved === true;
    this.loveBtn.setAttribute('aria-pressed', String(loved));
    this.loveBtn.textContent = loved ? '♥ Loved' : '♡ Love';
    this.counts.textContent = countsText(marks);
  }

  async love() {
    if (!this.track?.id) return;
    const loved = !(this.marks?.loved === true);
    try {
      const r = await post(`/api/sessions/${this.fp}/love`, { track: this.track.id, loved });
      this.render(r.track.marks);
    } catch (e) {
      this.toast(`Could not love this track: ${e.message}`);
    }
  }

  async ban() {
    if (!this.track?.id) return;
    try {
      const r = await post(`/api/sessions/${this.fp}/ban`, { track: this.track.id });
      this.render(r.track.marks);
      this.toast(`Banned “${r.track.title}”: it will not play again (undo under Banned).`);
    } catch (e) {
      this.toast(`Could not ban this track: ${e.message}`);
    }
    this.refreshBans();
  }

  /** Reloads the undo list. */
  async refreshBans() {
    let bans;
    try {
      bans = (await call('/api/bans')).bans ?? [];
    } catch {
      return;
    }
    this.list.replaceChildren(...bans.map((b) => this.banRow(b)));
    this.bansBox.hidden = bans.length === 0;
  }

  banRow(b) {
    const li = this.doc.createElement('li');
    const text = this.doc.createElement('span');
    text.textContent = `${b.title ?? b.id}${b.artist ? ' — ' + b.artist : ''}`;
    const when = this.doc.createElement('small');
    when.textContent = ` banned ${new Date(b.bannedAt).toLocaleString()}`;
    text.append(when);
    const undo = this.doc.createElement('button');
    undo.textContent = 'Unban';
    undo.className = 'unban';
    undo.addEventListener('click', async () => {
      try {
        await call(`/api/bans/${encodeURIComponent(b.id)}`, { method: 'DELETE' });
        this.toast(`“${b.title ?? b.id}” may play again.`);
      } catch (e) {
        this.toast(`Could not unban: ${e.message}`);
      }
      this.refreshBans();
      if (this.track?.id === b.id) this.show(this.track);
    });
    li.append(text, undo);
    return li;
  }
}
