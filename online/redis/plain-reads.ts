/**
 * Reads of a single Redis as plain commands on a connection of their own: one `MULTI`, the
 * `HGETALL` of each whole-hash key and the `HMGET` + `EXISTS` of each field group's key, `EXEC`,
 * written as one buffer, and the `EXEC` reply parsed straight from the socket's bytes into the
 * answers `lua/read-entities.lua` gives (one string per whole hash, its fields and values joined
 * by newlines; per field group key its values joined, or 0 / 1 when none is found), without a
 * JavaScript string per field.
 *
 * Why not the script: inside Lua every field and value of a reply becomes a Lua string, and the
 * joined text another: redis-server's CPU per 100-row `recommendation_v1` read of
 * `bench:peers`' data (≈ 1,150 hash fields) was 0.85–1.2 ms through the script against
 * 0.32–0.6 ms for the same commands sent plainly inside `MULTI` (docs/benchmarks.md). Why not ioredis: a pipeline of 200 commands costs the client
 * ≈ 2.7 ms (a command object and promise per command, a string per field), against one buffer
 * and one parse here. `MULTI`/`EXEC` keeps what the script gave: every key of one read is read
 * at one instant, and a key holding none of the fields is told from a missing key (`EXISTS`)
 * in the same instant.
 *
 * The connection is an optimisation beside the store's ioredis client: it connects in the
 * background (`connect`), and until it is ready the store reads through the script. A broken
 * connection fails the reads in flight on it (transient errors) and is reconnected on a later
 * read, at most once a second.
 */
import { connect as netConnect, type Socket } from 'node:net';
import { respBuffer, RespArgs } from './resp-buffer.ts';

/** A field group: keys read for the same field names (a request's `ReadPlan.fieldNames`). */
export interface PlainFieldGroup {
  keys: readonly string[];
  names: readonly string[];
}

/** The answers of one read, as `lua/read-entities.lua` gives them. */
export interface PlainReadReply {
  /** Per whole-hash key: `field\nvalue\n…` (empty when the key does not exist). */
  hashes: string[];
  /** Per group, per key: its values joined by `\n` (empty where absent); 0 no key, 1 none found. */
  fields: (string | number)[][];
}

export interface PlainReadTarget {
  host: string;
  port: number;
  username?: string;
  password?: string;
  db: number;
  connectTimeoutMs: number;
}

/**
 * Where a `redis://[user:password@]host[:port][/db]` URL points, or null for anything else
 * (`rediss://`, query options, a socket path): such stores read through the script only.
 */
export function plainReadTarget(url: string, connectTimeoutMs: number): PlainReadTarget | null {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return null;
  }
  if (u.protocol !== 'redis:' || u.search !== '' || u.hash !== '' || u.hostname === '') return null;
  const path = u.pathname.replace(/^\//, '');
  if (!/^\d*$/.test(path)) return null;
  const host = u.hostname.replace(/^\[(.*)\]$/, '$1');
  return {
    host,
    port: u.port === '' ? 6379 : Number(u.port),
    ...(u.username !== '' ? { username: decodeURIComponent(u.username) } : {}),
    ...(u.password !== '' ? { password: decodeURIComponent(u.password) } : {}),
    db: path === '' ? 0 : Number(path),
    connectTimeoutMs,
  };
}

/** A Redis error reply, named as ioredis names them (`isPermanentReply` classifies it). */
class ReplyError extends Error {
  override name = 'ReplyError';
}

/** What a command inside the `MULTI` answers (0: a whole hash, `HGETALL`). */
const VALUES = 1;
const EXISTS = 2;

interface Pending {
  /** Replies expected before the `EXEC` reply: `+OK` (or `+QUEUED`) each. */
  acks: number;
  /** Per command inside the `MULTI`: HASH, VALUES or EXISTS; null for the handshake. */
  kinds: Uint8Array | null;
  /** Per command inside the `MULTI`: its key. */
  keys: string[];
  /** The first error reply while queueing (`EXEC` then answers EXECABORT). */
  error: string | null;
  /** Parsed `EXEC` elements so far (the array header read: `started`). */
  started: boolean;
  out: (string | number)[];
  found: boolean[];
  resolve(out: (string | number)[], found: boolean[]): void;
  reject(e: Error): void;
}

const RECONNECT_MS = 1000;
/** The bytes of last answers a connection keeps (about as many again in their text). */
const LAST_BYTES = 8 << 20;

export class PlainReadConnection {
  readonly #target: PlainReadTarget;
  #socket: Socket | null = null;
  #ready = false;
  #closed = false;
  #lastAttempt = -Infinity;
  #attempt: Promise<void> | null = null;
  readonly #pending: Pending[] = [];
  /** Unparsed bytes (a reply split across reads). */
  #buf: Buffer = Buffer.alloc(0);
  /** Where a joined reply is assembled before one UTF-8 decode. */
  #scratch: Buffer = Buffer.allocUnsafe(1 << 16);
  /**
   * Per key, its last answer's bytes and text: a key answered with the same bytes again takes
   * the same string (which the read plan's cache of joined rows then finds at once). Bounded at
   * {@link LAST_BYTES} bytes (see `#remember`).
   */
  readonly #last = new Map<string, { raw: Buffer; text: string; any: boolean }>();
  #lastBytes = 0;
  /** Answers found in {@link #last} and not found (and not kept) since it filled. */
  #hitsFull = 0;
  #missesFull = 0;
  #full = false;
  // One element's parse: its text, and whether any value was present.
  #text = '';
  #any = false;

  constructor(target: PlainReadTarget) {
    this.#target = target;
  }

  /** Connected, and `AUTH` / `SELECT` answered. */
  get ready(): boolean {
    return this.#ready;
  }

  /**
   * Starts connecting unless connected, connecting, closed or tried less than a second ago;
   * resolves when the attempt is over, whatever its outcome (never rejects).
   */
  connect(): Promise<void> {
    if (this.#ready || this.#closed) return Promise.resolve();
    if (this.#attempt) return this.#attempt;
    const now = performance.now();
    if (now - this.#lastAttempt < RECONNECT_MS) return Promise.resolve();
    this.#lastAttempt = now;
    this.#attempt = new Promise<void>((resolve) => {
      const t = this.#target;
      const socket = netConnect({ host: t.host, port: t.port });
      this.#socket = socket;
      this.#buf = Buffer.alloc(0);
      socket.setNoDelay(true);
      socket.setTimeout(t.connectTimeoutMs);
      const done = (): void => {
        this.#attempt = null;
        resolve();
      };
      socket.once('timeout', () => socket.destroy(new Error('connect timed out')));
      socket.on('data', (chunk: Buffer) => {
        if (this.#socket === socket) this.#onData(chunk);
      });
      socket.on('error', () => {}); // reported through 'close'
      socket.once('close', () => {
        if (this.#socket === socket) {
          this.#socket = null;
          this.#ready = false;
          this.#failAll(new Error('Redis read connection closed'));
        }
        done();
      });
      socket.once('connect', () => {
        socket.setTimeout(0);
        const hello: string[][] = [];
        if (t.password !== undefined)
          hello.push(
            t.username !== undefined ? ['AUTH', t.username, t.password] : ['AUTH', t.password],
          );
        if (t.db !== 0) hello.push(['SELECT', String(t.db)]);
        if (hello.length === 0) {
          this.#ready = !this.#closed;
          done();
          return;
        }
        this.#pending.push({
          acks: hello.length,
          kinds: null,
          keys: [],
          error: null,
          started: false,
          out: [],
          found: [],
          resolve: () => {
            this.#ready = !this.#closed;
            done();
          },
          reject: () => {
            socket.destroy();
          },
        });
        socket.write(commandsBuffer(hello));
      });
    });
    return this.#attempt;
  }

  /**
   * One read in one round trip. Rejects with the connection's error (transient) or an error
   * reply (`ReplyError`); call only while {@link ready}.
   */
  read(hashKeys: readonly string[], groups: readonly PlainFieldGroup[]): Promise<PlainReadReply> {
    const socket = this.#socket;
    if (!this.#ready || !socket)
      return Promise.reject(new Error('Redis read connection not ready'));
    let n = hashKeys.length;
    for (const g of groups) n += 2 * g.keys.length;
    const kinds = new Uint8Array(n);
    const keys = hashKeys.slice();
    let i = hashKeys.length;
    for (const g of groups)
      for (const k of g.keys) {
        kinds[i++] = VALUES;
        kinds[i++] = EXISTS;
        keys.push(k, k);
      }
    const bytes = readBuffer(hashKeys, groups);
    return new Promise<PlainReadReply>((resolve, reject) => {
      this.#pending.push({
        acks: n + 1,
        kinds,
        keys,
        error: null,
        started: false,
        out: [],
        found: [],
        resolve: (out, found) => {
          const hashes = out.slice(0, hashKeys.length) as string[];
          let k = hashKeys.length;
          const fields = groups.map((g) => {
            const values: (string | number)[] = new Array(g.keys.length);
            for (let j = 0; j < g.keys.length; j++, k += 2)
              values[j] = found[k] ? out[k]! : (out[k + 1] as number);
            return values;
          });
          resolve({ hashes, fields });
        },
        reject,
      });
      socket.write(bytes);
    });
  }

  close(): void {
    this.#closed = true;
    this.#ready = false;
    this.#socket?.destroy();
    this.#socket = null;
    this.#failAll(new Error('Redis read connection closed'));
  }

  #failAll(e: Error): void {
    for (const p of this.#pending.splice(0)) p.reject(e);
  }

  #onData(chunk: Buffer): void {
    const buf = this.#buf.length === 0 ? chunk : Buffer.concat([this.#buf, chunk]);
    let pos = 0;
    while (this.#pending.length > 0) {
      const p = this.#pending[0]!;
      const next = this.#step(p, buf, pos);
      if (next < 0) break; // incomplete: wait for more bytes
      pos = next;
      if (p.acks === 0 && (p.kinds === null || (p.started && p.out.length === p.kinds.length))) {
        this.#pending.shift();
        if (p.error !== null) p.reject(new ReplyError(p.error));
        else p.resolve(p.out, p.found);
      }
    }
    this.#buf = pos === buf.length ? Buffer.alloc(0) : buf.subarray(pos);
    if (this.#pending.length === 0 && this.#buf.length > 0) {
      // Bytes no read asked for: the stream is out of step; start again on a new connection.
      this.#socket?.destroy(new Error('unexpected reply bytes'));
    }
  }

  /**
   * Parses what it can of `p` from `pos`: whole replies (an `EXEC` element at a time); the
   * offset after them, or -1 when nothing complete was there.
   */
  #step(p: Pending, buf: Buffer, pos: number): number {
    let progressed = false;
    while (p.acks > 0) {
      // `+QUEUED\r\n` (each command inside the MULTI) without searching for its end.
      if (
        pos + 9 <= buf.length &&
        buf[pos] === 43 &&
        buf[pos + 1] === 81 &&
        buf[pos + 7] === 13 &&
        buf[pos + 8] === 10
      ) {
        pos += 9;
        p.acks--;
        progressed = true;
        continue;
      }
      const end = lineEnd(buf, pos);
      if (end < 0) return progressed ? pos : -1;
      if (buf[pos] === 45 /* - */) p.error ??= buf.toString('utf8', pos + 1, end);
      pos = end + 2;
      p.acks--;
      progressed = true;
    }
    const kinds = p.kinds;
    if (kinds === null) return pos;
    if (!p.started) {
      const end = lineEnd(buf, pos);
      if (end < 0) return progressed ? pos : -1;
      if (buf[pos] === 45) {
        // EXECABORT (or any error): the whole read fails with the first queueing error.
        p.error ??= buf.toString('utf8', pos + 1, end);
        p.started = true;
        p.out.length = kinds.length;
        return end + 2;
      }
      p.started = true;
      pos = end + 2;
      progressed = true;
    }
    while (p.out.length < kinds.length) {
      const i = p.out.length;
      let next: number;
      const type = buf[pos];
      if (pos >= buf.length) return progressed ? pos : -1;
      if (type === 45) {
        const end = lineEnd(buf, pos);
        if (end < 0) return progressed ? pos : -1;
        p.error ??= buf.toString('utf8', pos + 1, end);
        p.out.push(0);
        p.found.push(false);
        pos = end + 2;
        progressed = true;
        continue;
      }
      if (kinds[i] === EXISTS) {
        // `:0\r\n` or `:1\r\n` (its LF arrived too: a reply may be cut between CR and LF)
        const end = buf[pos + 2] === 13 && pos + 3 < buf.length ? pos + 2 : lineEnd(buf, pos);
        if (end < 0) return progressed ? pos : -1;
        p.out.push(buf[pos + 1] === 48 /* 0 */ ? 0 : 1);
        p.found.push(false);
        next = end + 2;
      } else {
        // The same bytes as this key's last answer: the same text, not decoded again. A whole
        // reply is never the start of another (RESP is prefix-free), so bytes at `pos` equal
        // to a whole last answer are that answer: no need to find the reply's end first.
        const key = p.keys[i]!;
        const last = this.#last.get(key);
        const n = last === undefined ? -1 : last.raw.length;
        if (
          last !== undefined &&
          pos + n <= buf.length &&
          buf.compare(last.raw, 0, n, pos, pos + n) === 0
        ) {
          next = pos + n;
          p.out.push(last.text);
          p.found.push(last.any);
          if (this.#full) this.#hitsFull++;
        } else {
          next = skipArray(buf, pos);
          if (next < 0) return progressed ? pos : -1;
          this.#joined(buf, pos);
          p.out.push(this.#text);
          p.found.push(this.#any);
          this.#remember(key, buf, pos, next);
        }
      }
      pos = next;
      progressed = true;
    }
    return pos;
  }

  /**
   * An array of bulk strings at `pos` (an HGETALL's or an HMGET's reply), its elements joined
   * by newlines into {@link #text} (a nil as empty), {@link #any} whether any was not nil; the
   * offset after it, or -1 when incomplete.
   */
  #joined(buf: Buffer, pos: number): number {
    const len = buf.length;
    let p = pos + 1;
    let m = 0;
    let neg = false;
    if (buf[p] === 45) {
      neg = true;
      p++;
    }
    for (; p < len && buf[p] !== 13; p++) m = m * 10 + buf[p]! - 48;
    if (p + 1 >= len) return -1;
    p += 2;
    if (neg) m = 0;
    let scratch = this.#scratch;
    let o = 0;
    let any = false;
    for (let i = 0; i < m; i++) {
      if (i > 0) {
        if (o >= scratch.length) scratch = this.#grow(o, 1);
        scratch[o++] = 10;
      }
      if (p >= len) return -1;
      // `$<n>\r\n<bytes>\r\n`, or `$-1\r\n` for a nil
      let n = 0;
      let q = p + 1;
      if (buf[q] === 45) {
        for (; q < len && buf[q] !== 13; q++);
        if (q + 1 >= len) return -1;
        p = q + 2;
        continue;
      }
      for (; q < len && buf[q] !== 13; q++) n = n * 10 + buf[q]! - 48;
      const start = q + 2;
      const stop = start + n;
      if (stop + 2 > len) return -1;
      if (o + n > scratch.length) scratch = this.#grow(o, n);
      if (n < 64) for (let k = start; k < stop; k++) scratch[o++] = buf[k]!;
      else o += buf.copy(scratch, o, start, stop);
      any = true;
      p = stop + 2;
    }
    this.#text = o === 0 ? '' : scratch.toString('utf8', 0, o);
    this.#any = any;
    return p;
  }

  #remember(key: string, buf: Buffer, start: number, end: number): void {
    const n = end - start;
    if (n > LAST_BYTES >> 4) return; // a huge hash: not kept
    const old = this.#last.get(key);
    if (old === undefined && this.#lastBytes + n > LAST_BYTES) {
      // Full: keep what it holds (a working set a little larger than the bound still finds
      // most of it), unless fewer than 1 in 4 answers since it filled were found in it, over
      // at least 4 answers per key held: then start again (the working set moved).
      this.#full = true;
      this.#missesFull++;
      const seen = this.#hitsFull + this.#missesFull;
      if (seen < 4 * this.#last.size || this.#hitsFull * 4 >= seen) return;
      this.#last.clear();
      this.#lastBytes = 0;
      this.#full = false;
      this.#hitsFull = this.#missesFull = 0;
    }
    if (old !== undefined) this.#lastBytes -= old.raw.length;
    const raw = Buffer.allocUnsafe(n);
    buf.copy(raw, 0, start, end);
    this.#last.set(key, { raw, text: this.#text, any: this.#any });
    this.#lastBytes += n;
  }

  /** A scratch buffer holding its first `o` bytes and room for `n` more. */
  #grow(o: number, n: number): Buffer {
    const bigger = Buffer.allocUnsafe(Math.max(this.#scratch.length * 2, o + n + 1024));
    this.#scratch.copy(bigger, 0, 0, o);
    this.#scratch = bigger;
    return bigger;
  }
}

/** The offset after the array of bulk strings at `pos`, or -1 when it has not all arrived. */
function skipArray(buf: Buffer, pos: number): number {
  const len = buf.length;
  let p = pos + 1;
  let m = 0;
  if (buf[p] === 45) m = -1;
  else for (; p < len && buf[p] !== 13; p++) m = m * 10 + buf[p]! - 48;
  p = lineEnd(buf, p);
  if (p < 0) return -1;
  p += 2;
  for (let i = 0; i < m; i++) {
    if (p + 1 >= len) return -1;
    let q = p + 1;
    if (buf[q] === 45) {
      q = lineEnd(buf, q);
      if (q < 0) return -1;
      p = q + 2;
      continue;
    }
    let n = 0;
    for (; q < len && buf[q] !== 13; q++) n = n * 10 + buf[q]! - 48;
    p = q + 4 + n; // CRLF, the bytes, CRLF
    if (p > len) return -1;
  }
  return p;
}

/** The offset of the CR ending the line at `pos`, or -1 when its CRLF has not arrived. */
function lineEnd(buf: Buffer, pos: number): number {
  const end = buf.indexOf(13, pos);
  return end < 0 || end + 1 >= buf.length ? -1 : end;
}

/** Commands as RESP, one buffer. */
function commandsBuffer(commands: readonly (readonly string[])[]): Buffer {
  return Buffer.concat(commands.map(([name, ...args]) => respBuffer(name!, args)));
}

/** `MULTI`, per whole-hash key `HGETALL`, per group key `HMGET` + `EXISTS`, `EXEC`. */
function readBuffer(hashKeys: readonly string[], groups: readonly PlainFieldGroup[]): Buffer {
  // Room for ASCII keys and names (more is made as needed), and the worst case of one more
  // (`RespArgs.add` makes room for 3 bytes per UTF-16 unit before it writes).
  let size = 64;
  let longest = 0;
  for (const k of hashKeys) {
    size += k.length + 24;
    if (k.length > longest) longest = k.length;
  }
  for (const g of groups) {
    let names = 16;
    for (const f of g.names) names += f.length + 8;
    for (const k of g.keys) {
      size += 2 * k.length + names + 48;
      if (k.length > longest) longest = k.length;
    }
  }
  const w = new RespArgs(size + 3 * longest + 16);
  w.raw(MULTI);
  for (const k of hashKeys) {
    w.raw(HGETALL);
    w.add(k);
  }
  for (const g of groups) {
    let names = 0;
    for (const f of g.names) names += 3 * f.length + 16;
    const tail = new RespArgs(names);
    for (const f of g.names) tail.add(f);
    const tailBytes = tail.bytes();
    for (const k of g.keys) {
      w.array(g.names.length + 2);
      w.raw(HMGET_NAME);
      w.add(k);
      w.raw(tailBytes);
      w.raw(EXISTS_CMD);
      w.add(k);
    }
  }
  w.raw(EXEC);
  return w.bytes();
}

const MULTI = Buffer.from('*1\r\n$5\r\nMULTI\r\n');
const EXEC = Buffer.from('*1\r\n$4\r\nEXEC\r\n');
const HGETALL = Buffer.from('*2\r\n$7\r\nHGETALL\r\n');
const HMGET_NAME = Buffer.from('$5\r\nHMGET\r\n');
const EXISTS_CMD = Buffer.from('*2\r\n$6\r\nEXISTS\r\n');
