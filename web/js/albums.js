// The album picker: search the library's albums and play one, in order, from the next track
// (the session then drifts on from its last track). The plan it starts shows in journey.js.
import { call, post, searchList } from './search-list.js';

const minutes = (s) => `${Math.round(s / 60)} min`;

export class Albums {
  /** `onPlan(answer)` gets the server's answer ({next, plan}); `toast(text)` tells the listener. */
  constructor(doc, fp, { owner, onPlan, toast }) {
    this.fp = encodeURIComponent(fp);
    this.onPlan = onPlan;
    this.toast = toast;
    this.search = searchList(doc, {
      input: doc.getElementById('album-search'),
      list: doc.getElementById('album-results'),
      find: async (q) => (await call(`/api/albums?limit=20&query=${encodeURIComponent(q)}`)).albums,
      row: (a) => ({
        label: `${a.title} — ${a.artist}`,
        detail: `${a.tracks} tracks · ${minutes(a.duration)}`,
        button: 'Play album',
        data: ['album', a.id],
        enabled: owner,
        act: () => this.play(a),
      }),
      none: 'No album matches.',
      toast,
    });
  }

  async play(album) {
    try {
      const r = await post(`/api/sessions/${this.fp}/album`, { album: album.id });
      this.onPlan(r);
      this.search.clear();
      this.toast(`Next: the album ${album.title}`);
    } catch (e) {
      this.toast(`Cannot play the album: ${e.message}`);
    }
  }
}
