/**
 * A command as the Redis protocol sends it (RESP: `*<n>\r\n`, then `$<bytes>\r\n<arg>\r\n` per
 * part), written in one pass into one Buffer: the bytes ioredis's `Command#toWritable` produces
 * for string arguments (which it builds by string concatenation, five strings per argument,
 * that the socket then flattens and encodes to UTF-8 again). The stream worker's script calls
 * carry ~22 arguments per event with every view, and that text was the largest single source
 * of its garbage.
 *
 * @example
 * respBuffer('evalsha', ['<sha>', '1', 'k', 'v']); // <Buffer 2a 35 0d 0a 24 37 …>
 */
export function respBuffer(name: string, args: readonly string[]): Buffer {
  const n = args.length;
  const head = `*${n + 1}\r\n$${Buffer.byteLength(name)}\r\n${name}\r\n`;
  const lens = new Array<number>(n);
  let total = Buffer.byteLength(head);
  for (let i = 0; i < n; i++) {
    const l = Buffer.byteLength(args[i]!);
    lens[i] = l;
    total += l + 5 + digits(l); // `$`, the length, CRLF, the bytes, CRLF
  }
  const buf = Buffer.allocUnsafe(total);
  let o = buf.write(head, 0, 'utf8');
  for (let i = 0; i < n; i++) {
    const s = args[i]!;
    const l = lens[i]!;
    o = writeLength(buf, o, l);
    // As many bytes as UTF-16 units: every unit is ASCII, and latin1 writes the same bytes.
    if (l > 0) o += l === s.length ? buf.write(s, o, 'latin1') : buf.write(s, o, l, 'utf8');
    buf[o++] = 13;
    buf[o++] = 10;
  }
  return buf;
}

/** `$<l>\r\n` at `o`; the offset after it. */
function writeLength(buf: Buffer, o: number, l: number): number {
  buf[o++] = 36; // $
  if (l < 10) buf[o++] = 48 + l;
  else if (l < 100) {
    buf[o++] = 48 + ((l / 10) | 0);
    buf[o++] = 48 + (l % 10);
  } else o += buf.write(String(l), o, 'latin1');
  buf[o++] = 13;
  buf[o++] = 10;
  return o;
}

/** Decimal digits of a non-negative integer. */
function digits(x: number): number {
  let d = 1;
  while (x >= 10) {
    x = Math.floor(x / 10);
    d++;
  }
  return d;
}
