// The admin socket: newline-delimited JSON requests, peer credentials per connection, answers in request order.

import net from 'node:net';
import fs from 'node:fs';
import type { Registry } from 'prom-client';
import type { Logger } from '../log.js';
import { getPeerCred, socketFd, type PeerCred } from '../native/libc.js';
import { QatmgrError, ErrorCodes, describeSysError } from '../errors.js';
import { parseRequest, okLine, errorLine, AdminError, MAX_ADMIN_LINE, type AdminId } from './wire.js';
import { OPS } from './ops.js';
import { authorize } from './policy.js';
import type { AdminContext } from './views.js';
import type { AdminCounters } from './metrics.js';

export interface AdminServerOptions {
  socketPath: string;
  mode?: number;
  gid?: number;
  /** Open admin connections allowed at once. */
  maxConnections?: number;
}

export class AdminServer {
  private readonly server: net.Server;
  private readonly socks = new Set<net.Socket>();
  private bound = false;

  constructor(
    private readonly opts: AdminServerOptions,
    private readonly ctx: AdminContext,
    private readonly metrics: Registry,
    readonly counters: AdminCounters,
    private readonly log: Logger,
  ) {
    this.server = net.createServer((sock) => this.onConnection(sock));
    this.server.on('error', (e) => this.log.error({ event: 'admin_server_error', err: e }, `admin socket error: ${e.message}`));
  }

  listen(): Promise<void> {
    const p = this.opts.socketPath;
    return new Promise((resolve, reject) => {
      const onErr = (e: Error): void => reject(new QatmgrError(ErrorCodes.QATMGR_E_SOCKET, `${p}: cannot listen: ${describeSysError(e)}`, { path: p }));
      this.server.once('error', onErr);
      const mode = this.opts.mode ?? 0o660;
      const old = process.umask(0o777 & ~mode);
      this.server.listen({ path: p }, () => {
        this.server.off('error', onErr);
        this.bound = true;
        try {
          if (this.opts.gid !== undefined) fs.chownSync(p, -1, this.opts.gid);
          fs.chmodSync(p, mode);
        } catch (e) {
          this.server.close();
          reject(new QatmgrError(ErrorCodes.QATMGR_E_SOCKET, `${p}: cannot set group/mode: ${describeSysError(e)}`, { path: p }));
          return;
        }
        resolve();
      });
      process.umask(old);
    });
  }

  async close(): Promise<void> {
    await new Promise<void>((resolve) => {
      this.server.close(() => resolve());
      for (const s of this.socks) s.destroy();
    });
    if (this.bound) {
      try { fs.unlinkSync(this.opts.socketPath); } catch { /* already gone */ }
      this.bound = false;
    }
  }

  private count(map: Map<string, number>, key: string): void {
    map.set(key, (map.get(key) ?? 0) + 1);
  }

  private onConnection(sock: net.Socket): void {
    if (this.socks.size >= (this.opts.maxConnections ?? 64)) {
      sock.end(errorLine(null, 'QATMGR_E_ADMIN_BUSY', 'too many admin connections'));
      return;
    }
    this.socks.add(sock);
    const cred = getPeerCred(socketFd(sock));
    sock.setEncoding('utf8');
    // the pending partial line, kept as chunks (requests are small, but a 64 KiB one may come in pieces)
    let parts: string[] = [];
    let pendingBytes = 0;
    let chain: Promise<void> = Promise.resolve();
    let dead = false;
    sock.on('data', (chunk: string) => {
      if (dead) return;
      let rest = chunk;
      let nl = rest.indexOf('\n');
      while (nl >= 0) {
        const piece = rest.slice(0, nl);
        pendingBytes += Buffer.byteLength(piece);
        parts.push(piece);
        const line = parts.join('');
        const tooLong = pendingBytes > MAX_ADMIN_LINE;
        parts = [];
        pendingBytes = 0;
        rest = rest.slice(nl + 1);
        nl = rest.indexOf('\n');
        if (tooLong) { this.tooLarge(sock); dead = true; return; }
        if (line.trim() !== '') chain = chain.then(() => this.answer(sock, line, cred));
      }
      if (rest) {
        parts.push(rest);
        pendingBytes += Buffer.byteLength(rest);
        if (pendingBytes > MAX_ADMIN_LINE) { this.tooLarge(sock); dead = true; }
      }
    });
    sock.on('error', () => { /* the peer went away; nothing to clean but the set */ });
    sock.on('close', () => this.socks.delete(sock));
  }

  private tooLarge(sock: net.Socket): void {
    this.count(this.counters.errors, 'QATMGR_E_ADMIN_TOO_LARGE');
    this.log.warn({ event: 'admin_bad_request', code: 'QATMGR_E_ADMIN_TOO_LARGE' }, `admin request longer than ${MAX_ADMIN_LINE} bytes; closing the connection`);
    sock.end(errorLine(null, 'QATMGR_E_ADMIN_TOO_LARGE', `request line longer than ${MAX_ADMIN_LINE} bytes; the connection is closed`));
  }

  /** Answer one line. Never throws: every failure becomes a JSON error answer. */
  private async answer(sock: net.Socket, line: string, cred: PeerCred | undefined): Promise<void> {
    let id: AdminId = null;
    let out: string;
    try {
      const req = parseRequest(line);
      id = req.id;
      const spec = Object.hasOwn(OPS, req.op) ? OPS[req.op] : undefined;
      if (!spec) throw new AdminError('QATMGR_E_ADMIN_UNKNOWN_OP', `unknown op "${req.op.slice(0, 64)}"; known: ${Object.keys(OPS).join(', ')}`);
      this.count(this.counters.requests, req.op);
      authorize(req.op, spec.mutating, cred);
      const t0 = performance.now();
      const result = await spec.run(req.args, { ctx: this.ctx, metrics: this.metrics, log: this.log, cred });
      out = okLine(id, result);
      this.counters.seconds.set(req.op, (this.counters.seconds.get(req.op) ?? 0) + (performance.now() - t0) / 1000);
    } catch (e) {
      if (e instanceof AdminError) {
        id = e.id ?? id;
        this.count(this.counters.errors, e.code);
        if (this.log.isLevelEnabled('debug')) this.log.debug({ event: 'admin_error', code: e.code, uid: cred?.uid, pid: cred?.pid }, e.message);
        out = errorLine(id, e.code, e.message);
      } else {
        this.count(this.counters.errors, 'QATMGR_E_INTERNAL');
        this.log.error({ event: 'admin_internal_error', err: e }, `admin op failed: ${(e as Error).message}`);
        out = errorLine(id, 'QATMGR_E_INTERNAL', (e as Error).message);
      }
    }
    if (!sock.destroyed) sock.write(out);
  }
}
