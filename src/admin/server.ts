// The admin socket: newline-delimited JSON requests, peer credentials per connection, answers in request order, paced so libqat keeps the loop.

import net from 'node:net';
import fs from 'node:fs';
import type { Registry } from 'prom-client';
import { ThrottledLog, type Logger } from '../log.js';
import { getPeerCred, socketFd, type PeerCred } from '../native/libc.js';
import { QatmgrError, ErrorCodes, describeSysError, showValue } from '../errors.js';
import { ConnectionTable, ADMIN_OUTPUT, ADMIN_MAX_CONNECTIONS, ADMIN_RESERVED_FOR_ROOT, ADMIN_MAX_PER_UID, outputState, type PolicyConn } from '../server/conn-policy.js';
import { parseRequest, okLine, errorLine, AdminError, MAX_ADMIN_LINE, type AdminId } from './wire.js';
import { OPS } from './ops.js';
import { authorize } from './policy.js';
import type { AdminContext } from './views.js';
import type { AdminCounters } from './metrics.js';

export interface AdminServerOptions {
  socketPath: string;
  mode?: number;
  gid?: number;
  /** Open admin connections allowed at once (default 64), of which `reservedForRoot` (16) only root may use. */
  maxConnections?: number;
  reservedForRoot?: number;
  /** Connections one user other than root may hold (default 8). */
  maxPerUid?: number;
  /** Close a connection this long after its last complete request (default 10 minutes). */
  idleTimeoutMs?: number;
}

/** Requests read but not answered yet, per connection: past this the connection is not read until it catches up. */
const MAX_QUEUED_LINES = 16;
/**
 * After an admin request that took t ms of the event loop, the next one waits YIELD_FACTOR × t: admin work gets at
 * most a tenth of the loop however it is asked for (and by however many connections), and libqat's requests, served
 * in between, keep priority. A `status` on the default host takes ~0.2 ms: ~500 answers a second at most.
 */
const YIELD_FACTOR = 9;

interface AdminConn extends PolicyConn {
  sock: net.Socket;
  cred: PeerCred | undefined;
  queue: string[];
  /** In a ready queue now. */
  ready: boolean;
  /** Its answers are not being read: nothing more is answered until they drain. */
  blocked: boolean;
  idleTimer: NodeJS.Timeout | undefined;
}

export class AdminServer {
  private readonly server: net.Server;
  private readonly table: ConnectionTable<AdminConn>;
  private readonly rootReady: AdminConn[] = [];
  private readonly otherReady: AdminConn[] = [];
  private pumping = false;
  private owedMs = 0;
  private bound = false;
  private readonly throttled: ThrottledLog;
  private readonly idleMs: number;

  constructor(
    private readonly opts: AdminServerOptions,
    private readonly ctx: AdminContext,
    private readonly metrics: Registry,
    readonly counters: AdminCounters,
    private readonly log: Logger,
  ) {
    this.throttled = new ThrottledLog(log);
    const max = opts.maxConnections ?? ADMIN_MAX_CONNECTIONS;
    this.table = new ConnectionTable<AdminConn>({ max, reservedForRoot: Math.min(max - 1, opts.reservedForRoot ?? ADMIN_RESERVED_FOR_ROOT), perUid: opts.maxPerUid ?? ADMIN_MAX_PER_UID, perRoot: max });
    this.idleMs = opts.idleTimeoutMs ?? 600_000;
    this.server = net.createServer((sock) => this.onConnection(sock));
    this.server.on('error', (e) => this.throttled.write('error', 'admin_server_error', { event: 'admin_server_error', err: describeSysError(e) }, `admin socket error: ${describeSysError(e)}`));
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
      for (const c of this.table.values()) c.sock.destroy();
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
    const cred = getPeerCred(socketFd(sock));
    const uid = cred?.uid ?? -1;
    const admission = this.table.admit(uid);
    if (admission.kind === 'refuse') {
      this.count(this.counters.closed, 'rejected');
      this.throttled.write('warn', 'admin_rejected', { event: 'admin_rejected', uid, pid: cred?.pid }, `admin connection refused (uid ${uid}, pid ${cred?.pid ?? '?'}): ${admission.why}`);
      sock.end(errorLine(null, 'QATMGR_E_ADMIN_BUSY', `too many admin connections: ${admission.why}`));
      return;
    }
    if (admission.kind === 'evict') {
      this.count(this.counters.closed, 'evicted');
      const v = admission.victim;
      this.throttled.write('info', 'admin_evicted', { event: 'admin_evicted', uid: v.uid, pid: v.cred?.pid }, `closed the admin connection idle longest (uid ${v.uid}) to make room: ${admission.why}`);
      this.drop(v);
      v.sock.end(errorLine(null, 'QATMGR_E_ADMIN_BUSY', `closed to make room for another admin connection: ${admission.why}`));
      v.sock.destroySoon();
    }
    const conn: AdminConn = { sock, cred, uid, queue: [], ready: false, blocked: false, idleTimer: undefined, lastRequestAt: performance.now(), pinned: () => false };
    this.table.add(conn);
    conn.idleTimer = setTimeout(() => this.idle(conn), this.idleMs);
    sock.setEncoding('utf8');
    // the pending partial line, kept as chunks (requests are small, but a 64 KiB one may come in pieces)
    let parts: string[] = [];
    let pendingBytes = 0;
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
        if (tooLong) { this.tooLarge(sock, cred); dead = true; return; }
        if (line.trim() !== '') this.enqueue(conn, line);
      }
      if (rest) {
        parts.push(rest);
        pendingBytes += Buffer.byteLength(rest);
        if (pendingBytes > MAX_ADMIN_LINE) { this.tooLarge(sock, cred); dead = true; }
      }
    });
    sock.on('drain', () => {
      if (!conn.blocked) return;
      conn.blocked = false;
      this.updateReading(conn);
      this.makeReady(conn);
    });
    sock.on('error', () => { /* the peer went away; close follows */ });
    sock.on('close', () => this.drop(conn));
  }

  private drop(conn: AdminConn): void {
    this.table.delete(conn);
    if (conn.idleTimer) clearTimeout(conn.idleTimer);
    conn.idleTimer = undefined;
    conn.queue.length = 0;
  }

  private idle(conn: AdminConn): void {
    this.count(this.counters.closed, 'idle');
    this.drop(conn);
    if (conn.sock.destroyed) return;
    conn.sock.end(errorLine(null, 'QATMGR_E_ADMIN_IDLE', `no request for ${this.idleMs} ms; the connection is closed`));
    conn.sock.destroySoon();
  }

  /** A complete request line: queued (a full queue stops reading the connection), answered in turn. */
  private enqueue(conn: AdminConn, line: string): void {
    conn.queue.push(line);
    conn.lastRequestAt = performance.now();
    conn.idleTimer?.refresh();
    this.updateReading(conn);
    this.makeReady(conn);
  }

  /** Read a connection only while its queue has room and its answers are being read. */
  private updateReading(conn: AdminConn): void {
    const { sock } = conn;
    if (sock.destroyed) return;
    const read = !conn.blocked && conn.queue.length < MAX_QUEUED_LINES;
    if (read && sock.isPaused()) sock.resume();
    else if (!read && !sock.isPaused()) sock.pause();
  }

  private makeReady(conn: AdminConn): void {
    if (conn.ready || conn.blocked || conn.queue.length === 0 || conn.sock.destroyed) return;
    conn.ready = true;
    (conn.uid === 0 ? this.rootReady : this.otherReady).push(conn);
    if (!this.pumping) {
      this.pumping = true;
      setImmediate(() => void this.pump());
    }
  }

  /**
   * Answer one request (root's first, connections in turn), then give the event loop back for YIELD_FACTOR times
   * as long as the request took before the next one: a flood of admin requests, from however many connections,
   * never holds the loop that serves libqat for long.
   */
  private async pump(): Promise<void> {
    const conn = this.rootReady.shift() ?? this.otherReady.shift();
    if (!conn) { this.pumping = false; return; }
    conn.ready = false;
    const line = conn.queue.shift();
    let spentMs = 0;
    if (line !== undefined && !conn.sock.destroyed) {
      const t0 = performance.now();
      const out = await this.answer(line, conn.cred);
      spentMs = performance.now() - t0;
      this.deliver(conn, out);
    }
    this.updateReading(conn);
    this.makeReady(conn);
    // the loop is owed YIELD_FACTOR times what this request took; debts under a millisecond add up until they are one
    this.owedMs += spentMs * YIELD_FACTOR;
    if (this.rootReady.length === 0 && this.otherReady.length === 0) { this.pumping = false; return; }
    if (this.owedMs >= 1) {
      const wait = this.owedMs;
      this.owedMs = 0;
      setTimeout(() => void this.pump(), wait);
    } else {
      setImmediate(() => void this.pump());
    }
  }

  /** Write an answer; a connection whose answers pile up is held (then closed past the bound) instead of growing. */
  private deliver(conn: AdminConn, out: string): void {
    const { sock } = conn;
    if (sock.destroyed) return;
    sock.write(out);
    const state = outputState(sock.writableLength, ADMIN_OUTPUT);
    if (state === 'close') {
      this.count(this.counters.closed, 'overflowed');
      this.throttled.write('warn', 'admin_overflow', { event: 'admin_overflow', uid: conn.uid, pid: conn.cred?.pid }, `admin connection of uid ${conn.uid} (pid ${conn.cred?.pid ?? '?'}) does not read its answers (${sock.writableLength} bytes waiting); closing it`);
      this.drop(conn);
      sock.destroy();
    } else if (state === 'hold' && sock.writableNeedDrain) {
      conn.blocked = true;
      this.updateReading(conn);
    }
  }

  private tooLarge(sock: net.Socket, cred: PeerCred | undefined): void {
    this.count(this.counters.errors, 'QATMGR_E_ADMIN_TOO_LARGE');
    this.throttled.write('warn', 'admin_bad_request', { event: 'admin_bad_request', code: 'QATMGR_E_ADMIN_TOO_LARGE', uid: cred?.uid, pid: cred?.pid }, `admin request longer than ${MAX_ADMIN_LINE} bytes; closing the connection`);
    sock.end(errorLine(null, 'QATMGR_E_ADMIN_TOO_LARGE', `request line longer than ${MAX_ADMIN_LINE} bytes; the connection is closed`));
  }

  /** Answer one line. Never throws: every failure becomes a JSON error answer. */
  private async answer(line: string, cred: PeerCred | undefined): Promise<string> {
    let id: AdminId = null;
    try {
      const req = parseRequest(line);
      id = req.id;
      const spec = Object.hasOwn(OPS, req.op) ? OPS[req.op] : undefined;
      if (!spec) throw new AdminError('QATMGR_E_ADMIN_UNKNOWN_OP', `unknown op ${showValue(req.op, 64)}; known: ${Object.keys(OPS).join(', ')}`);
      this.count(this.counters.requests, req.op);
      authorize(req.op, spec.mutating, cred);
      const t0 = performance.now();
      const result = await spec.run(req.args, { ctx: this.ctx, metrics: this.metrics, log: this.log, cred });
      const out = okLine(id, result);
      this.counters.seconds.set(req.op, (this.counters.seconds.get(req.op) ?? 0) + (performance.now() - t0) / 1000);
      return out;
    } catch (e) {
      if (e instanceof AdminError) {
        id = e.id ?? id;
        this.count(this.counters.errors, e.code);
        if (this.log.isLevelEnabled('debug')) this.log.debug({ event: 'admin_error', code: e.code, uid: cred?.uid, pid: cred?.pid }, e.message);
        return errorLine(id, e.code, e.message);
      }
      this.count(this.counters.errors, 'QATMGR_E_INTERNAL');
      this.throttled.write('error', 'admin_internal_error', { event: 'admin_internal_error', err: (e as Error).message }, `admin op failed: ${(e as Error).message}`);
      return errorLine(id, 'QATMGR_E_INTERNAL', (e as Error).message);
    }
  }
}
