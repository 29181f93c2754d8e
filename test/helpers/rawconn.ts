// A raw socket to the daemon for framing and fuzz tests: write arbitrary bytes, collect reply frames, see the close.

import net from 'node:net';

export class RawConn {
  private buf = Buffer.alloc(0);
  readonly replies: Buffer[] = [];
  closed = false;
  readonly closedAt: Promise<void>;
  private waiters: Array<() => void> = [];

  private constructor(readonly sock: net.Socket) {
    sock.on('data', (d: Buffer) => {
      this.buf = Buffer.concat([this.buf, d]);
      while (this.buf.length >= 2 && this.buf.length >= this.buf.readUInt16LE(0) && this.buf.readUInt16LE(0) >= 8) {
        const n = this.buf.readUInt16LE(0);
        this.replies.push(Buffer.from(this.buf.subarray(0, n)));
        this.buf = this.buf.subarray(n);
      }
      this.wake();
    });
    sock.on('error', () => { /* close follows */ });
    this.closedAt = new Promise((resolve) => sock.on('close', () => { this.closed = true; this.wake(); resolve(); }));
  }

  static open(path: string): Promise<RawConn> {
    return new Promise((resolve, reject) => {
      const s = net.connect(path);
      s.once('connect', () => resolve(new RawConn(s)));
      s.once('error', reject);
    });
  }

  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }

  write(b: Buffer): void {
    this.sock.write(b);
  }

  /** Wait until `n` replies arrived (or the connection closed, or the timeout passed). */
  async waitReplies(n: number, timeoutMs = 5000): Promise<Buffer[]> {
    const end = Date.now() + timeoutMs;
    while (this.replies.length < n && !this.closed && Date.now() < end) {
      await new Promise<void>((r) => { this.waiters.push(r); setTimeout(r, 50); });
    }
    return this.replies;
  }

  end(): void {
    this.sock.destroy();
  }
}

/**
 * `n` connections that send nothing (or `first` once each); the daemon may close some. Resolves once all connected.
 * A connect refused with EAGAIN (the listen backlog is full on a busy machine) is tried again, so all `n` arrive.
 */
export async function connectMany(path: string, n: number, first?: Buffer): Promise<{ socks: net.Socket[]; closed(): number; close(): void }> {
  const socks: net.Socket[] = [];
  const gone = new Set<net.Socket>();
  const one = (tries = 0): Promise<void> => new Promise<void>((resolve) => {
    const s = net.connect(path);
    let connected = false;
    s.on('error', (e: NodeJS.ErrnoException) => {
      if (!connected && e.code === 'EAGAIN' && tries < 200) {
        s.destroy();
        setTimeout(() => void one(tries + 1).then(resolve), 10);
      }
      /* otherwise: closed by the daemon, counted by the caller */
    });
    s.once('connect', () => { connected = true; socks.push(s); if (first) s.write(first); resolve(); });
    s.once('close', () => { if (connected) gone.add(s); else if (tries >= 200) resolve(); });
    s.resume(); // replies are dropped; reading them is how a close by the daemon is seen
  });
  for (let i = 0; i < n; i += 50) await Promise.all(Array.from({ length: Math.min(50, n - i) }, () => one()));
  return {
    socks,
    closed: () => gone.size,
    close: () => { for (const s of socks) s.destroy(); },
  };
}
