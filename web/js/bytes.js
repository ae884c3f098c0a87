// Byte helpers shared by the stream parsers and the player: one way to join byte arrays.

/** Joins byte arrays into one; a single part is returned as is (no copy). */
export function concatBytes(parts) {
  if (parts.length === 1) return parts[0];
  let total = 0;
  for (const p of parts) total += p.length;
  const out = new Uint8Array(total);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
