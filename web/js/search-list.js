// A search box and its list of results, as steering, journeys and the album picker each have
// one: search when the listener pauses typing, say when nothing matches or the search failed,
// and give every result a label, an optional detail line and one action button.

export async function call(url, init) {
  const r = await fetch(url, { cache: 'no-store', ...init });
  const body = await r.json().catch(() => ({}));
  if (!r.ok) throw new Error(body.error || `HTTP ${r.status}`);
  return body;
}

/** POSTs `body` as JSON to `url` and returns the answer (see `call`). */
export const post = (url, body) => call(url, {
  method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body),
});

/**
 * Wires `input` to `list`: `find(query)` resolves to the items for a non-empty query, and
 * `row(item)` to what each one shows: `{ label, detail?, button, data: [key, value], enabled,
 * act }` (`act()` runs when its button is clicked). `none` is the line shown when nothing
 * matches; `toast(text)` hears about a failed search. Returns `clear()`, which empties both.
 */
export function searchList(doc, { input, list, find, row, none, toast }) {
  let timer = null;
  input.addEventListener('input', () => {
    clearTimeout(timer);
    timer = setTimeout(() => show(input.value), 200);
  });
  const line = (text) => {
    const li = doc.createElement('li');
    li.textContent = text;
    return li;
  };
  async function show(query) {
    if (!query.trim()) {
      list.replaceChildren();
      return;
    }
    let items;
    try {
      items = await find(query);
    } catch (e) {
      toast(`Search failed: ${e.message}`);
      return;
    }
    if (!items.length) {
      list.replaceChildren(line(none));
      return;
    }
    list.replaceChildren(...items.map((item) => {
      const r = row(item);
      const li = doc.createElement('li');
      const label = doc.createElement('span');
      label.textContent = r.label;
      if (r.detail) {
        const detail = doc.createElement('small');
        detail.textContent = r.detail;
        label.append(detail);
      }
      const b = doc.createElement('button');
      b.textContent = r.button;
      b.disabled = !r.enabled;
      b.dataset[r.data[0]] = r.data[1];
      b.addEventListener('click', r.act);
      li.append(label, b);
      return li;
    }));
  }
  return {
    clear() {
      list.replaceChildren();
      input.value = '';
    },
  };
}
