// Turn the spec's hex dumps ("000: 80 00 …", "... (zeros to 0x7f)") into Buffers.

/** Parse bytes written as hex pairs, optionally prefixed by "NNN:" offsets per line; pads with zeros to `len`. */
export function hexBytes(text: string, len?: number): Buffer {
  const bytes: number[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.replace(/^\s*[0-9a-f]{3}:/i, '').replace(/\.\.\..*$/, '');
    for (const tok of line.trim().split(/\s+/)) if (/^[0-9a-f]{2}$/i.test(tok)) bytes.push(parseInt(tok, 16));
  }
  const buf = Buffer.alloc(Math.max(len ?? 0, bytes.length));
  Buffer.from(bytes).copy(buf);
  return buf;
}
