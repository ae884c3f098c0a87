// The page: wires the session, its events and the StreamController to the player UI. Titles
// follow the audio (the controller announces a track when playback reaches it), the status
// pill follows the controller's state, and every kind of trouble goes through the
// controller's one recovery path.
import { StreamController } from './stream-controller.js';
import { label } from './player-state.js';
import { resolveSession, bootstrap, sessionState, control, shareUrl, Events } from './session.js';
import { View } from './view.js';
import { Steering } from './steer.js';

const params = new URLSearchParams(location.search);
const audio = document.getElementById('audio');
const view = new View(document);
const options = {};
if (params.get('player')) options.player = params.get('player');
if (params.get('keep')) options.keepSeconds = Number(params.get('keep'));
if (params.get('giveup')) options.giveUpMs = Number(params.get('giveup')) * 1000;
const ctl = new StreamController(audio, options);
let boot = null;
let events = null;
let owner = false;
let nextUp = null;
let steering = null;
const recent = [];

window.drift = { ctl, get boot() { return boot; }, get owner() { return owner; }, get steering() { return steering; } };

async function init() {
  try {
    boot = await resolveSession();
  } catch (e) {
    view.error(`Cannot reach Drift: ${e.message}`);
    return;
  }
  const keep = new URLSearchParams(location.search);
  keep.set('session', boot.fingerprint);
  history.replaceState(null, '', `?${keep}`);
  view.setShare(shareUrl(boot.fingerprint), `/listen/${boot.fingerprint}.m3u`);
  try {
    const state = await sessionState(boot.fingerprint);
    owner = state.owner === true;
    // What this station played before the page opened (the last one is playing now).
    recent.push(...(state.history ?? []).slice(0, -1).reverse().slice(0, 8));
    view.recent(recent);
  } catch {
    owner = false;
  }
  view.setOwner(owner);
  steering = new Steering(document, boot.fingerprint, {
    owner,
    onNext: (t) => { nextUp = t; view.next(t); },
    toast: (text) => view.toast(text),
  });
  steering.refresh();
  events = new Events(boot.eventsUrl, handlers, (why) => {
    if (ctl.active) ctl.recover(why);
    else setTimeout(() => events.connect(), 2000);
  });
  events.connect();
  if (params.get('autoplay') === '1') play();
}

const handlers = {
  hello(e) {
    // A restarted server: the player reconnects in place (it notices too when it probes).
    if (boot && e.instanceId !== ctl.instanceId && ctl.active) {
      ctl.instanceId = e.instanceId;
      ctl.softRestart('the server restarted');
    }
    if (boot) boot.instanceId = e.instanceId;
    place(e.nowPlaying, e.next);
  },
  heartbeat(e) {
    place(e.nowPlaying, e.next);
    view.listeners(e.listeners);
  },
  track(e) {
    ctl.addCue(e.position, { ...e.track, source: 'sse' });
  },
  splice(e) {
    nextUp = null;
    ctl.splice(e.position);
  },
  restart(e) {
    ctl.softRestart(e.reason, Math.round((e.retryAfter ?? 0.5) * 1000));
  },
};

/** Puts now playing and next up on the timeline at their stream positions. */
function place(now, next) {
  if (now && typeof now.start === 'number') ctl.addCue(now.start, { ...now, source: 'sse' });
  if (next && typeof next.start === 'number') ctl.addCue(next.start, { ...next, source: 'sse' });
  nextUp = next ?? null;
  showNext();
}

function showNext() {
  const upcoming = ctl.cues.after(ctl.position);
  const n = upcoming ? upcoming.info : nextUp;
  view.next(n);
}

function play() {
  if (!boot) return;
  view.error(null);
  ctl.start({
    streamUrl: boot.streamUrl,
    fmp4Url: boot.fmp4Url,
    instanceId: boot.instanceId,
    probe: () => bootstrap(boot.fingerprint),
  });
}

function toggle() {
  if (ctl.active) ctl.stop('stopped by the listener');
  else play();
}

async function skip() {
  if (!owner) return view.toast('Only the station’s owner can skip.');
  try {
    await control(boot.fingerprint, 'skip');
    view.toast('Skipping…');
  } catch (e) {
    view.toast(`Skip failed: ${e.message}`);
  }
}

async function refresh() {
  if (owner) {
    try {
      await control(boot.fingerprint, 'refresh');
      return;
    } catch {
      // Fall through: reconnect this page only.
    }
  }
  ctl.softRestart('refreshed by the listener');
}

function save() {
  const { blob, seconds } = ctl.saveBlob(60);
  let href;
  let name = `${(view.current?.artist ? view.current.artist + ' - ' : '') + (view.current?.title ?? 'Drift')}.mp3`;
  if (blob.size > 0) {
    href = URL.createObjectURL(blob);
    view.toast(`Saved the last ${Math.round(seconds)} s.`);
  } else {
    href = `/api/sessions/${boot.fingerprint}/save?seconds=60`;
    name = '';
  }
  const a = document.createElement('a');
  a.href = href;
  a.download = name.replace(/[\\/:*?"<>|]/g, '_');
  document.body.append(a);
  a.click();
  a.remove();
  if (href.startsWith('blob:')) setTimeout(() => URL.revokeObjectURL(href), 10000);
}

async function share() {
  const url = shareUrl(boot.fingerprint);
  view.showShare();
  try {
    await navigator.clipboard.writeText(url);
    view.toast('Link copied: anyone with it hears this station.');
  } catch {
    view.toast('Copy the link below to share this station.');
  }
}

ctl.addEventListener('state', (e) => {
  const { state } = e.detail;
  view.state(state, label(state, ctl.bufferedAhead), ctl.active);
  if (state === 'error') view.error(`Cannot reach the server (${e.detail.reason ?? 'no answer'}). Drift keeps trying.`);
  else view.error(null);
  if ('mediaSession' in navigator) navigator.mediaSession.playbackState = ctl.active ? 'playing' : 'paused';
});
ctl.addEventListener('buffer', (e) => {
  view.buffer(e.detail.ahead);
  if (ctl.state === 'reconnecting') view.state(ctl.state, label(ctl.state, e.detail.ahead), true);
  const cue = ctl.cues.at(e.detail.position);
  if (cue) view.progress(e.detail.position - cue.pos, cue.info.duration);
  showNext();
});
ctl.addEventListener('metadata', (e) => {
  const t = e.detail;
  if (view.current && view.current.title !== t.title) {
    recent.unshift(view.current);
    recent.length = Math.min(recent.length, 8);
    view.recent(recent);
  }
  view.nowPlaying(t);
  steering?.refresh();
  if ('mediaSession' in navigator && globalThis.MediaMetadata) {
    navigator.mediaSession.metadata = new MediaMetadata({
      title: t.title, artist: t.artist ?? '', album: t.album ?? '',
      artwork: t.id ? [{ src: `/api/tracks/${t.id}/cover`, sizes: '512x512' }] : [],
    });
  }
});
ctl.addEventListener('reconnected', () => {
  if (events && !events.open) events.connect();
  view.toast(null);
});
ctl.addEventListener('instance', () => events?.connect());

view.on('play', toggle);
view.on('skip', skip);
view.on('save', save);
view.on('share', share);
view.on('refresh', refresh);
view.on('retry', () => { ctl.stop('retry', true); play(); });
document.addEventListener('keydown', (e) => {
  if (e.target.closest?.('input, textarea') || e.ctrlKey || e.metaKey || e.altKey) return;
  const act = { ' ': toggle, n: skip, N: skip, s: save, S: save, l: share, L: share, r: refresh, R: refresh }[e.key];
  if (act) {
    e.preventDefault();
    act();
  }
});
if ('mediaSession' in navigator) {
  const ms = navigator.mediaSession;
  ms.setActionHandler?.('play', () => { if (!ctl.active) play(); });
  ms.setActionHandler?.('pause', () => ctl.stop('paused'));
  ms.setActionHandler?.('stop', () => ctl.stop('stopped'));
  try { ms.setActionHandler?.('nexttrack', skip); } catch { /* not supported here */ }
}

init();
