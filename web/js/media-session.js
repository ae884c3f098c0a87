// The lock screen, the notification and the headset buttons: what plays (title, artist, album
// and a picture) and the controls (play, pause, stop, next track) through the Media Session
// API, where the browser has it. The picture is the file's cover art once the page has loaded
// it, else the page's own generated cover (its gradient and initial), drawn as a PNG.

/** The generated cover for `t` as a PNG data URL (`size` px square), or null without canvas. */
export function generatedCover(doc, t, hue, size = 256) {
  const canvas = doc.createElement?.('canvas');
  const g = canvas?.getContext?.('2d');
  if (!g) return null;
  canvas.width = size;
  canvas.height = size;
  const h = hue(`${t.artist}${t.title}`);
  const fill = g.createLinearGradient(0, 0, size, size);
  fill.addColorStop(0, `hsl(${h} 55% 42%)`);
  fill.addColorStop(1, `hsl(${(h + 70) % 360} 50% 22%)`);
  g.fillStyle = fill;
  g.fillRect(0, 0, size, size);
  g.fillStyle = 'rgba(255, 255, 255, 0.85)';
  g.font = `600 ${Math.round(size * 0.45)}px system-ui, sans-serif`;
  g.textAlign = 'center';
  g.textBaseline = 'middle';
  g.fillText((t.title || '?').trim().slice(0, 1).toUpperCase(), size / 2, size / 2);
  return canvas.toDataURL('image/png');
}

export class MediaSession {
  /**
   * @param {Navigator} nav
   * @param {{play: Function, pause: Function, stop: Function, next: Function}} actions
   * @param {{doc?: Document, hue?: (text: string) => number}} [looks] how the page draws its
   *   generated cover (the same hue as the page's).
   */
  constructor(nav, actions, { doc = globalThis.document, hue = () => 0 } = {}) {
    this.ms = 'mediaSession' in nav ? nav.mediaSession : null;
    this.doc = doc;
    this.hue = hue;
    this.drawn = { key: null, art: [] }; // the last generated cover, drawn once per track
    if (!this.ms) return;
    for (const [action, fn] of Object.entries({ play: actions.play, pause: actions.pause, stop: actions.stop, nexttrack: actions.next })) {
      try {
        this.ms.setActionHandler?.(action, () => fn());
      } catch {
        // This browser has no such action.
      }
    }
  }

  /**
   * What plays now, with `cover` ({ src, sizes }) once the file's art has loaded, else (null)
   * the page's generated cover.
   */
  show(t, cover = null) {
    if (!this.ms || !globalThis.MediaMetadata) return;
    const artwork = cover ? [cover] : this.generated(t);
    this.ms.metadata = new MediaMetadata({ title: t.title ?? '', artist: t.artist ?? '', album: t.album ?? '', artwork });
  }

  generated(t) {
    const key = `${t.artist}\n${t.title}`;
    if (this.drawn.key !== key) {
      const png = generatedCover(this.doc, t, this.hue);
      this.drawn = { key, art: png ? [{ src: png, sizes: '256x256', type: 'image/png' }] : [] };
    }
    return this.drawn.art;
  }

  playing(on) {
    if (this.ms) this.ms.playbackState = on ? 'playing' : 'paused';
  }
}
