// The page: wires the session, its events and the StreamController to the player UI. Titles
// follow the audio (the controller announces a track when playback reaches it), the status
// pill follows the controller's state, and every kind of trouble goes through the
// controller's one recovery path. Until the server can give the page a station (a first
// library scan, a server away) the page waits and says why, and a Play pressed meanwhile starts
// the audio by itself as soon as it can.
import { StreamController } from './stream-controller.js';
import { label, autostart, WAITING } from './player-state.js';
import { resolveSession, bootstrap, sessionState, control, shareUrl, libraryStatus, Events } from './session.js';
import { waitForStation, watchLibrary } from './startup.js';
import { preparing, growing, percent } from './library-status.js';
import { View, hue } from './view.js';
import { MediaSession } from './media-session.js';
import { Steering } from './steer.js';
import { Marks } from './marks.js';
import { Journey } from './journey.js';
import { Albums } from './albums.js';
import { Outputs } from './outputs.js';
import { Volume } from './volume.js';

const params = new URLSearchParams(location.search);
const audio = document.getElementById('audio');
const volume = new Volume(document, audio, globalThis.localStorage);
const view = new View(document);
const lockScreen = new MediaSession(navigator, {
  play: () => { if (!ctl.active && !ctl.fsm.intent) toggle(); },
  pause: () => ctl.stop('paused'),
  stop: () => ctl.stop('stopped'),
  next: () => skip(),
}, { doc: document, hue });
const options = {};
if (params.get('player')) options.player = params.get('player');
// `?codec=mp3` keeps MP3 where the page would take Opus.
if (params.get('codec')) options.codec = params.get('codec');
// `?relay=URL`: play an Icecast relay's mount of this station (docs/SCALING.md); the page
// still talks to Drift for everything else. Titles then come with the audio, as ICY.
const relay = params.get('relay');
if (relay) Object.assign(options, { relay: true, codec: 'mp3' });
if (params.get('keep')) options.keepSeconds = Number(params.get('keep'));
if (params.get('giveup')) options.giveUpMs = Number(params.get('giveup')) * 1000;
const ctl = new StreamController(audio, { ...options, initialState: 'loading' });
let boot = null;
let events = null;
let owner = false;
let marks = null;
let nextUp = null;
let steering = null;
let journey = null;
const recent = [];
let waitStep = null; // why the page has no station yet: { event, message, library, delayMs }
let wakeWait = null; // ends the current wait at once (Retry, coming back online)

window.drift = { ctl, get boot() { return boot; }, get owner() { return owner; }, get steering() { return steering; } };

async function init() {
  view.setWaiting(true);
  boot = await waitForStation({
    resolve: () => resolveSession(),
    onWait: (step) => {
      waitStep = step;
      ctl.fsm.send(step.event, step.message);
      showWaiting();
    },
    sleep: (ms) => new Promise((r) => {
      const t = setTimeout(r, ms);
      wakeWait = () => { clearTimeout(t); r(); };
    }),
  });
  waitStep = null;
  wakeWait = null;
  view.preparing(null);
  view.error(null);
  view.setWaiting(false);
  ctl.fsm.send('ready');
  // A Play pressed while the page waited starts the audio now, without another click.
  if (autostart(ctl.state, ctl.fsm.intent) || params.get('autoplay') === '1') play();
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
  marks = new Marks(document, boot.fingerprint, { owner, toast: (text) => view.toast(text) });
  if (view.current) marks.show(view.current);
  journey = new Journey(document, boot.fingerprint, {
    owner,
    onNext: (t) => { nextUp = t; view.next(t); },
    toast: (text) => view.toast(text),
  });
  new Albums(document, boot.fingerprint, {
    owner,
    onPlan: (r) => { nextUp = r.next; view.next(r.next); journey.show(r.plan); },
    toast: (text) => view.toast(text),
  });
  journey.refresh();
  new Outputs(document, boot.fingerprint, { owner, toast: (text) => view.toast(text) });
  events = new Events(boot.eventsUrl, handlers, (why) => {
    if (ctl.active) ctl.recover(why);
    else setTimeout(() => events.connect(), 2000);
  });
  events.connect();
  followLibrary();
}

/** Shows why the page cannot play yet: the library's progress, or what went wrong. */
function showWaiting() {
  view.waitingTitle(ctl.fsm.intent);
  if (!waitStep) return;
  const lib = waitStep.library;
  if (waitStep.event === 'preparing' || lib) {
    const p = lib ? preparing(lib) : { headline: waitStep.message, fraction: null, detail: '' };
    const hint = p.done ? ''
      : ctl.fsm.intent ? 'Play is on: the music starts by itself as soon as the first tracks are ready.'
        : 'Press Play now if you like: the music starts by itself as soon as the first tracks are ready.';
    view.preparing({ ...p, percent: percent(p.fraction), hint });
  } else {
    view.preparing(null);
  }
  view.error(waitStep.event === 'preparing' ? null : waitStep.message, 'Try now');
}

/** While the library keeps growing under music that plays: a small line, gone when done. */
function followLibrary() {
  watchLibrary({
    getStatus: libraryStatus,
    onStatus: (status) => view.libraryLine(status ? growing(status) : null),
    sleep: (ms) => new Promise((r) => setTimeout(r, ms)),
  });
}

const handlers = {
  hello(e) {
    // A restarted server: the player reconnects in place (it notices too when it probes).
    if (boot) ctl.serverInstance(e.instanceId);
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
    streamUrl: relay ?? boot.streamUrl,
    fmp4Url: relay ? null : boot.fmp4Url,
    opusMp4Url: relay ? null : boot.streams?.find((s) => s.codec === 'opus' && s.container === 'mp4')?.url,
    instanceId: boot.instanceId,
    probe: () => bootstrap(boot.fingerprint),
  });
}

function toggle() {
  if (ctl.active) ctl.stop('stopped by the listener');
  else if (boot) play();
  else if (ctl.fsm.intent) ctl.fsm.send('stop', 'the listener changed their mind');
  else {
    // Asked from the click, so browsers that want a gesture for play() remember this one.
    audio.play().catch(() => {});
    ctl.fsm.send('wantPlay');
  }
}

/** Before the page has a station, its buttons say why they cannot act yet. */
function noStation() {
  if (boot) return false;
  view.toast(ctl.state === 'preparing'
    ? 'Nothing plays yet: Drift is still preparing your library.'
    : 'Not connected to Drift yet: it keeps trying.');
  return true;
}

async function skip() {
  if (noStation()) return;
  if (!owner) return view.toast('Only the station’s owner can skip.');
  try {
    await control(boot.fingerprint, 'skip');
    view.toast('Skipping…');
  } catch (e) {
    view.toast(`Skip failed: ${e.message}`);
  }
}

async function refresh() {
  if (!boot) return wakeWait?.();
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
  if (noStation()) return;
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
  if (noStation()) return;
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
  const { state, intent } = e.detail;
  view.state(state, label(state, ctl.bufferedAhead, intent, typeof ctl.trouble?.status === 'number'), ctl.active || intent);
  if (WAITING.includes(state)) showWaiting();
  else if (state === 'error') view.error(playbackTrouble(e.detail.reason));
  else view.error(null);
  lockScreen.playing(ctl.active);
});
/** The error once the buffer ran dry: what the server said if it answered, else no answer. */
function playbackTrouble(reason) {
  const t = ctl.trouble;
  if (t && typeof t.status === 'number') return `Drift says: ${t.message}. The page keeps trying.`;
  return `Cannot reach the server (${reason ?? 'no answer'}). Drift keeps trying.`;
}

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
  marks?.show(t);
  journey?.refresh();
  // The lock screen shows the generated cover until the file's own art has loaded.
  lockScreen.show(t);
});
view.onCover((cover) => { if (view.current) lockScreen.show(view.current, cover); });
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
view.on('retry', () => {
  if (!boot) return wakeWait?.();
  ctl.stop('retry', true);
  play();
});
addEventListener('online', () => wakeWait?.());
document.addEventListener('keydown', (e) => {
  if (e.target.closest?.('input, textarea') || e.ctrlKey || e.metaKey || e.altKey) return;
  const act = {
    ' ': toggle, n: skip, N: skip, s: save, S: save, l: share, L: share, r: refresh, R: refresh,
    m: () => volume.toggleMute(), M: () => volume.toggleMute(),
    ArrowUp: () => volume.louder(), ArrowDown: () => volume.quieter(),
  }[e.key];
  if (act) {
    e.preventDefault();
    act();
  }
});

init();
