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

/** Bytes kept free in front of {@link RespArgs}'s arguments for the command's head. */
const HEAD_ROOM = 96;

/**
 * A script call's arguments after the script (`numKeys, ...keys, ...args`) written as RESP
 * bulk strings straight into one Buffer as they are added — no argument list, no number
 * turned into a string object, one write per argument — with room in front for the command's
 * head (`*<n>`, its name, the script's sha), so {@link RespArgs.command} returns the whole
 * command without copying the arguments. The same bytes as `respBuffer(name, [first, ...])`.
 *
 * @example
 * const a = new RespArgs(1000);
 * a.add('1'); a.add('k'); a.add(42);
 * a.command('evalsha', sha); // respBuffer('evalsha', [sha, '1', 'k', '42'])
 */
export class RespArgs {
  #buf: Buffer;
  #o = HEAD_ROOM;
  /** Arguments added. */
  count = 0;

  /** `bytes`: an estimate of the arguments' size (the Buffer grows past it). */
  constructor(bytes: number) {
    this.#buf = Buffer.allocUnsafe(HEAD_ROOM + Math.max(64, bytes));
  }

  add(arg: string | number): void {
    const s = typeof arg === 'string' ? arg : String(arg);
    const n = s.length;
    // `$<bytes>\r\n<s>\r\n`: at most 3 UTF-8 bytes per UTF-16 unit, 16 for the framing.
    if (this.#o + 3 * n + 16 > this.#buf.length) this.#grow(3 * n + 16);
    const buf = this.#buf;
    // The string first, after room for its length's digits (as many as its units' count has;
    // moved when its bytes need more), then the length in front of it.
    const d = digits(n);
    const at = this.#o + d + 3;
    const l = n === 0 ? 0 : buf.write(s, at, 'utf8');
    const dl = digits(l);
    if (dl !== d) buf.copyWithin(at + dl - d, at, at + l);
    let o = writeLength(buf, this.#o, l);
    o += l;
    buf[o++] = 13;
    buf[o++] = 10;
    this.#o = o;
    this.count++;
  }

  /**
   * The command `name first ...arguments` (`*<count + 2>` and the two parts in front of the
   * arguments): written into the room kept for it, or, when they do not fit (a script's
   * source on its first call), in a new Buffer.
   */
  command(name: string, first: string): Buffer {
    const head = `*${this.count + 2}\r\n$${Buffer.byteLength(name)}\r\n${name}\r\n$${Buffer.byteLength(first)}\r\n${first}\r\n`;
    const h = Buffer.byteLength(head);
    if (h > HEAD_ROOM)
      return Buffer.concat([Buffer.from(head), this.#buf.subarray(HEAD_ROOM, this.#o)]);
    this.#buf.write(head, HEAD_ROOM - h, 'utf8');
    return this.#buf.subarray(HEAD_ROOM - h, this.#o);
  }

  /**
   * Several whole commands in one Buffer (plain reads' `MULTI` … `EXEC`): `*<n>\r\n`, a
   * command's array header, and `bytes` copied as they are (pre-encoded parts); neither counts
   * as an argument. {@link bytes} returns what was written.
   */
  array(n: number): void {
    if (this.#o + 24 > this.#buf.length) this.#grow(24);
    this.#o += this.#buf.write(`*${n}\r\n`, this.#o, 'latin1');
  }

  raw(bytes: Buffer): void {
    if (this.#o + bytes.length > this.#buf.length) this.#grow(bytes.length);
    this.#o += bytes.copy(this.#buf, this.#o);
  }

  /** What was written since the start, without a command's head. */
  bytes(): Buffer {
    return this.#buf.subarray(HEAD_ROOM, this.#o);
  }

  #grow(need: number): void {
    const next = Buffer.allocUnsafe(Math.max(2 * this.#buf.length, this.#o + need));
    this.#buf.copy(next, 0, 0, this.#o);
    this.#buf = next;
  }
}
