// Client of the admin socket (qatctl, tests, benchmarks): one JSON request per line, answers matched by id.

import net from 'node:net';
import { QatmgrError, ErrorCodes, type ErrorCode } from '../errors.js';
import { ADMIN_API_VERSION, type AdminResponse } from './wire.js';

export class AdminClient {
  private parts: string[] = [];
  private nextId = 1;
  private readonly waiting = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  private closedError: Error | null = null;

  private constructor(private readonly sock: net.Socket, readonly path: string, private readonly requestTimeoutMs: number) {
    sock.setEncoding('utf8');
    sock.on('data', (c: string) => this.onData(c));
    sock.on('error', (e) => { this.closedError = e; });
    sock.on('close', () => {
      const err = this.closedError ?? new QatmgrError(ErrorCodes.QATMGR_E_ADMIN_UNREACHABLE, `${path}: the daemon closed the admin connection`);
      for (const w of this.waiting.values()) w.reject(err);
      this.waiting.clear();
    });
  }

  /** Connect within `timeoutMs`; every request must then be answered within `timeoutMs` too (a hung daemon is unreachable). */
  static connect(socketPath: string, timeoutMs = 5000): Promise<AdminClient> {
    return new Promise((resolve, reject) => {
      const sock = net.connect(socketPath);
      const t = setTimeout(() => { sock.destroy(); reject(new QatmgrError(ErrorCodes.QATMGR_E_ADMIN_UNREACHABLE, `${socketPath}: no answer within ${timeoutMs} ms`)); }, timeoutMs);
      sock.once('connect', () => { clearTimeout(t); sock.removeAllListeners('error'); resolve(new AdminClient(sock, socketPath, timeoutMs)); });
      sock.once('error', (e: NodeJS.ErrnoException) => {
        clearTimeout(t);
        const hint = e.code === 'ENOENT' || e.code === 'ECONNREFUSED' ? ' (is qatmgr running? point elsewhere with --admin-socket or --run-dir)'
          : e.code === 'EACCES' ? ' (the admin socket is mode 0660: run as root or as a member of its group)' : '';
        reject(new QatmgrError(ErrorCodes.QATMGR_E_ADMIN_UNREACHABLE, `cannot connect to the admin socket ${socketPath}: ${e.code ?? e.message}${hint}`, { path: socketPath, code: e.code }));
      });
    });
  }

  private onData(chunk: string): void {
    // look for the end of line in the new chunk only: large answers arrive in many chunks
    let nl = chunk.indexOf('\n');
    if (nl < 0) { this.parts.push(chunk); return; }
    let rest = chunk;
    while (nl >= 0) {
      this.parts.push(rest.slice(0, nl));
      const line = this.parts.join('');
      this.parts = [];
      this.onLine(line);
      rest = rest.slice(nl + 1);
      nl = rest.indexOf('\n');
    }
    if (rest) this.parts.push(rest);
  }

  private onLine(line: string): void {
    let msg: AdminResponse;
    try {
      msg = JSON.parse(line) as AdminResponse;
    } catch {
      return;
    }
    // answers come in request order; an error without a usable id belongs to the oldest request
    const id = typeof msg.id === 'number' && this.waiting.has(msg.id) ? msg.id : this.waiting.keys().next().value;
    if (id === undefined) return;
    const w = this.waiting.get(id)!;
    this.waiting.delete(id);
    if (msg.ok) w.resolve(msg.result);
    else w.reject(new QatmgrError(msg.error.code as ErrorCode, msg.error.message));
  }

  /** Send one op; resolves with its result, rejects with a QatmgrError carrying the daemon's error code. */
  request<T = unknown>(op: string, args: Record<string, unknown> = {}): Promise<T> {
    if (this.sock.destroyed) return Promise.reject(new QatmgrError(ErrorCodes.QATMGR_E_ADMIN_UNREACHABLE, `${this.path}: admin connection closed`));
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiting.delete(id);
        reject(new QatmgrError(ErrorCodes.QATMGR_E_ADMIN_UNREACHABLE, `${this.path}: the daemon did not answer "${op}" within ${this.requestTimeoutMs} ms`, { path: this.path }));
      }, this.requestTimeoutMs);
      timer.unref();
      const done = <A>(f: (a: A) => void) => (a: A): void => { clearTimeout(timer); f(a); };
      this.waiting.set(id, { resolve: done(resolve as (v: unknown) => void), reject: done(reject) });
      this.sock.write(`${JSON.stringify({ v: ADMIN_API_VERSION, id, op, args })}\n`);
    });
  }

  close(): void {
    this.sock.end();
    this.sock.destroy();
  }
}

/** Connect, run one op, disconnect. */
export async function adminRequest<T = unknown>(socketPath: string, op: string, args: Record<string, unknown> = {}): Promise<T> {
  const c = await AdminClient.connect(socketPath);
  try {
    return await c.request<T>(op, args);
  } finally {
    c.close();
  }
}
