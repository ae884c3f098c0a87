// Volume and mute on the page: a slider and a mute button that act on the audio element (never
// on the stream: every listener of a station hears the same mix), remembered per browser, and
// the keys M (mute) and ↑ / ↓ (louder / quieter by a tenth).

const KEY = 'drift.volume';

// The speaker (as the other controls' icons: 24×24, filled), with sound waves or a cross.
const SPEAKER = 'M3 9h4l5-4v14l-5-4H3z';
const WAVES = 'M14 8.3v2a2 2 0 0 1 0 3.4v2a4 4 0 0 0 0-7.4zM14 4.5v2a6 6 0 0 1 0 11v2a8 8 0 0 0 0-15z';
const CROSS = 'M15 9.4l1.4-1.4 2.1 2.1 2.1-2.1 1.4 1.4-2.1 2.1 2.1 2.1-1.4 1.4-2.1-2.1-2.1 2.1L15 13.6l2.1-2.1z';

/** The remembered `{ volume, muted }` (volume 0…1), or full and unmuted. */
export function loadVolume(storage) {
  try {
    const v = JSON.parse(storage?.getItem(KEY) ?? 'null');
    const volume = Number(v?.volume);
    return {
      volume: Number.isFinite(volume) ? Math.min(1, Math.max(0, volume)) : 1,
      muted: v?.muted === true,
    };
  } catch {
    return { volume: 1, muted: false };
  }
}

export function saveVolume(storage, { volume, muted }) {
  try {
    storage?.setItem(KEY, JSON.stringify({ volume, muted }));
  } catch {
    // Private mode or a full storage: the setting lasts as long as the page.
  }
}

/** `volume` moved by `step` (a tenth up or down), kept within 0…1 and on whole percents. */
export const nudge = (volume, step) => Math.round(Math.min(1, Math.max(0, volume + step)) * 100) / 100;

export class Volume {
  constructor(doc, audio, storage) {
    this.audio = audio;
    this.storage = storage;
    this.slider = doc.getElementById('volume');
    this.button = doc.getElementById('mute');
    this.icon = doc.getElementById('mute-icon');
    const saved = loadVolume(storage);
    audio.volume = saved.volume;
    audio.muted = saved.muted;
    this.slider.addEventListener('input', () => this.set(Number(this.slider.value) / 100, false));
    this.button.addEventListener('click', () => this.toggleMute());
    this.show();
  }

  set(volume, muted = this.audio.muted) {
    this.audio.volume = volume;
    // Turning the volume up from zero, or down to it, is what a person means by (un)muting.
    this.audio.muted = volume === 0 ? true : muted && this.audio.muted;
    saveVolume(this.storage, { volume: this.audio.volume, muted: this.audio.muted });
    this.show();
  }

  toggleMute() {
    const muted = !this.audio.muted;
    // Unmuting at zero would stay silent: come back at half volume.
    if (!muted && this.audio.volume === 0) this.audio.volume = 0.5;
    this.audio.muted = muted;
    saveVolume(this.storage, { volume: this.audio.volume, muted });
    this.show();
  }

  louder() { this.set(nudge(this.audio.volume, 0.1), false); }
  quieter() { this.set(nudge(this.audio.volume, -0.1)); }

  show() {
    const { volume, muted } = this.audio;
    this.slider.value = String(Math.round((muted ? 0 : volume) * 100));
    this.button.setAttribute('aria-pressed', String(muted));
    this.icon.setAttribute('d', `${SPEAKER}${muted || volume === 0 ? CROSS : WAVES}`);
    this.button.title = `${muted ? 'Unmute' : 'Mute'} (M)`;
  }
}
