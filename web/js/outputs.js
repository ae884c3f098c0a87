// Icecast output on the page (the session owner's): push this station to an Icecast server as
// a source, see each output's state (connecting, streaming, retrying, failed) and last error,
// and remove it. The password is typed into its own field, sent once inside the address, and
// never shown again: the server lists addresses without it.

/** The address to POST from what the owner typed: `icecast://USER@HOST:PORT/MOUNT` (a user
 * is optional, default `source`) and the password, %-escaped so ':' '@' ',' in it are safe. */
export function composeUrl(address, password) {
  const a = address.trim();
  const m = /^icecast:\/\/(?:([^:@/]*)(?::[^@/]*)?@)?([^/]+\/.+)$/.exec(a);
  if (!m) throw new Error('The address looks like icecast://HOST:PORT/MOUNT');
  if (!password) throw new Error('The source password is missing');
  const user = m[1] || 'source';
  return `icecast://${user}:${encodeURIComponent(password)}@${m[2]}`;
}

/** "1.2 MB sent · 3 reconnects" for an output's counters. */
export function countersText(o) {
  const mb = (o.bytesSent ?? 0) / 1e6;
  const sent = mb >= 1 ? `${mb.toFixed(1)} MB sent` : `${Math.round((o.bytesSent ?? 0) / 1e3)} kB sent`;
  const r = o.reconnects ?? 0;
  return `${sent} · ${r} reconnect${r === 1 ? '' : 's'}`;
}

async function call(url, init) {
  const r = await fetch(url, { cache: 'no-store', ...init });
  const body = r.status === 204 ? {} : await r.json().catch(() => ({}));
  if (!r.ok) throw new Error(body.error || `HTTP ${r.status}`);
  return body;
}

export class Outputs {
  /** Only an owner sees the section; `toast(text)` tells what happened. */
  constructor(doc, fp, { owner, toast }) {
    const $ = (id) => doc.getElementById(id);
    this.doc = doc;
    this.base = `/api/sessions/${encodeURIComponent(fp)}/outputs`;
    this.toast = toast;
    this.box = $('outputs-box');
    this.list = $('outputs');
    this.address = $('output-address');
    this.password = $('output-password');
    this.box.hidden = !owner;
    if (!owner) return;
    $('output-form').addEventListener('submit', (e) => { e.preventDefault(); this.add(); });
    this.refresh();
    this.timer = setInterval(() => { if (this.box.open) this.refresh(); }, 5000);
  }

  async refresh() {
    try {
      this.render((await call(this.base)).outputs ?? []);
    } catch { /* shown on the next refresh */ }
  }

  async add() {
    let url;
    try {
      url = composeUrl(this.address.value, this.password.value);
    } catch (e) {
      return this.toast(e.message);
    }
    try {
      await call(this.base, {
        method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ url }),
      });
      this.password.value = '';
      this.toast('Icecast output added');
    } catch (e) {
      this.toast(e.message);
    }
    this.refresh();
  }

  async remove(id) {
    try {
      await call(`${this.base}/${id}`, { method: 'DELETE' });
    } catch (e) {
      this.toast(e.message);
    }
    this.refresh();
  }

  render(outputs) {
    const d = this.doc;
    this.list.replaceChildren(...outputs.map((o) => {
      const li = d.createElement('li');
      li.dataset.state = o.state;
      const text = d.createElement('span');
      text.textContent = o.url;
      const state = d.createElement('small');
      state.className = 'output-state';
      state.textContent = `${o.state} · ${countersText(o)}`;
      text.append(state);
      if (o.lastError && o.state !== 'streaming') {
        const err = d.createElement('small');
        err.className = 'output-error';
        err.textContent = o.lastError;
        text.append(d.createElement('br'), err);
      }
      const rm = d.createElement('button');
      rm.textContent = 'Remove';
      rm.addEventListener('click', () => this.remove(o.id));
      li.append(text, rm);
      return li;
    }));
  }
}
