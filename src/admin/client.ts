// Client of the admin socket (qatctl, tests, benchmarks): one JSON request per line, answers matched by id.

import net from 'node:net';
import { QatmgrError, ErrorCodes, type ErrorCode } from '../errors.js';
import { ADMIN_API_VERSION, type AdminResponse } from './wire.js';

export class AdminClient {
  private buf = '';
  private nextId = 1;
  private readonly waiting = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  private closedError: Error | null = null;

  private constructor(private readonly sock: net.Socket, readonly path: string) {
    sock.setEncoding('utf8');
    sock.on('data', (c: string) => this.onData(c));
    sock.on('error', (e) => { this.closedError = e; });
    sock.on('close', () => {
      const err = this.closedError ?? new QatmgrError(ErrorCodes.QATMGR_E_ADMIN_UNREACHABLE, `${path}: the daemon closed the admin connection`);
      for (const w of this.waiting.values()) w.reject(err);
      this.waiting.clear();
    });
  }

  static connect(socketPath: string, timeoutMs = 5000): Promise<AdminClient> {
    return new Promise((resolve, reject) => {
      const sock = net.connect(socketPath);
      const t = setTimeout(() => { sock.destroy(); reject(new QatmgrError(ErrorCodes.QATMGR_E_ADMIN_UNREACHABLE, `${socketPath}: no answer within ${timeoutMs} ms`)); }, timeoutMs);
      sock.once('connect', () => { clearTimeout(t); sock.removeAllListeners('error'); resolve(new AdminClient(sock, socketPath)); });
      sock.once('error', (e: NodeJS.ErrnoException) => {
        clearTimeout(t);
        const hint = e.code === 'ENOENT' || e.code === 'ECONNREFUSED' ? ' (is qatmgr running? point elsewhere with --admin-socket or --run-dir)'
          : e.code === 'EACCES' ? ' (the admin socket is mode 0660: run as root or as a member of its group)' : '';
        reject(new QatmgrError(ErrorCodes.QATMGR_E_ADMIN_UNREACHABLE, `cannot connect to the admin socket ${socketPath}: ${e.code ?? e.message}${hint}`, { path: socketPath }));
      });
    });
  }

  private onData(chunk: string): void {
    this.buf += chunk;
    let nl: number;
    while ((nl = this.buf.indexOf('\n')) >= 0) {
      const line = this.buf.slice(0, nl);
      this.buf = this.buf.slice(nl + 1);
      let msg: AdminResponse;
      try {
        msg = JSON.parse(line) as AdminResponse;
      } catch {
        continue;
      }
      const id = typeof msg.id === 'number' ? msg.id : -1;
      const w = this.waiting.get(id) ?? (id === -1 && this.waiting.size ? this.waiting.values().next().value : undefined);
      if (!w) continue;
      this.waiting.delete(id === -1 ? [...this.waiting.keys()][0] : id);
      if (msg.ok) w.resolve(msg.result);
      else w.reject(new QatmgrError(msg.error.code as ErrorCode, msg.error.message));
    }
  }

  /** Send one op; resolves with its result, rejects with a QatmgrError carrying the daemon's error code. */
  request<T = unknown>(op: string, args: Record<string, unknown> = {}): Promise<T> {
    if (this.sock.destroyed) return Promise.reject(new QatmgrError(ErrorCodes.QATMGR_E_ADMIN_UNREACHABLE, `${this.path}: admin connection closed`));
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      this.waiting.set(id, { resolve: resolve as (v: unknown) => void, reject });
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
