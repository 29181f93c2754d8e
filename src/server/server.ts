// The client socket: stream framing, first-request and idle timeouts, connection cap, SO_PEERCRED, release on close.

import net from 'node:net';
import fs from 'node:fs';
import type { Logger } from '../log.js';
import { HEADER_SIZE, MAX_REQUEST, MSG_NAMES, MsgType } from '../protocol/constants.js';
import { handleRequest, type ServeContext, type Session } from '../protocol/handler.js';
import { getPeerCred, socketFd } from '../native/libc.js';
import { QatmgrError, ErrorCodes, describeSysError } from '../errors.js';
import { RequestCounters } from './counters.js';

const MSG_BAD = MsgType.BAD;

export interface ServerOptions {
  socketPath: string;
  /** Serve this already-listening fd (socket activation) instead of binding `socketPath`. */
  listenFd?: number;
  /** Unix mode of the socket node (default 0660). */
  mode?: number;
  /** Group id given to the socket node. */
  gid?: number;
  firstRequestTimeoutMs: number;
  idleTimeoutMs: number;
  maxConnections: number;
}

export interface ConnectionInfo {
  session: Session;
  openedAt: number;
}

/**
 * Listen on a Unix socket path whose node appears with its final mode (no window in which it is open to everyone),
 * then give it its group. Rejects with QATMGR_E_SOCKET naming the path.
 */
function bindUnix(server: net.Server, socketPath: string, opts: { mode?: number; gid?: number; backlog: number }): Promise<void> {
  const mode = opts.mode ?? 0o660;
  return new Promise((resolve, reject) => {
    const onErr = (e: Error): void => reject(new QatmgrError(ErrorCodes.QATMGR_E_SOCKET, `${socketPath}: cannot listen: ${describeSysError(e)}`, { path: socketPath }));
    server.once('error', onErr);
    const old = process.umask(0o777 & ~mode);
    server.listen({ path: socketPath, backlog: opts.backlog }, () => {
      process.umask(old);
      server.off('error', onErr);
      try {
        if (opts.gid !== undefined) fs.chownSync(socketPath, -1, opts.gid);
        fs.chmodSync(socketPath, mode);
      } catch (e) {
        server.close();
        try { fs.unlinkSync(socketPath); } catch { /* already gone */ }
        reject(new QatmgrError(ErrorCodes.QATMGR_E_SOCKET, `${socketPath}: cannot set group/mode: ${describeSysError(e)}`, { path: socketPath }));
        return;
      }
      resolve();
    });
    process.umask(old);
  });
}

export class QatServer {
  private readonly server: net.Server;
  private readonly conns = new Map<number, { sock: net.Socket; info: ConnectionInfo }>();
  private nextId = 1;
  private bound = false;
  /** Counters for status lines and metrics. */
  readonly stats = { accepted: 0, rejected: 0, protocolErrors: 0, timeouts: 0, requests: 0 };
  /** Per-type, BAD and latency counts (plain integers: the admin metrics read them when scraped). */
  readonly counters = new RequestCounters();

  constructor(private readonly opts: ServerOptions, private readonly ctx: ServeContext, private readonly log: Logger) {
    this.server = net.createServer({ pauseOnConnect: false }, (sock) => this.onConnection(sock));
    this.server.on('error', (e) => this.log.error({ event: 'server_error', err: e }, `socket server error: ${e.message}`));
  }

  get connectionCount(): number {
    return this.conns.size;
  }

  connections(): ConnectionInfo[] {
    return [...this.conns.values()].map((c) => c.info);
  }

  /** Bind (or adopt the passed fd) and listen; resolves once connections are accepted. */
  async listen(): Promise<void> {
    if (this.opts.listenFd !== undefined) {
      await new Promise<void>((resolve, reject) => {
        const onErr = (e: Error): void => reject(new QatmgrError(ErrorCodes.QATMGR_E_SOCKET, `${this.opts.socketPath}: cannot listen: ${describeSysError(e)}`, { path: this.opts.socketPath }));
        this.server.once('error', onErr);
        this.server.listen({ fd: this.opts.listenFd }, () => { this.server.off('error', onErr); resolve(); });
      });
      return;
    }
    await bindUnix(this.server, this.opts.socketPath, { mode: this.opts.mode, gid: this.opts.gid, backlog: 511 });
    this.bound = true;
  }

  /** Stop accepting, close every connection (their sections are released), unlink the socket we created. */
  async close(): Promise<void> {
    await new Promise<void>((resolve) => {
      this.server.close(() => resolve());
      for (const { sock } of this.conns.values()) sock.destroy();
    });
    if (this.bound) {
      try { fs.unlinkSync(this.opts.socketPath); } catch { /* already gone */ }
      this.bound = false;
    }
  }

  /**
   * Serve the same protocol on one more socket path (a kubelet reservation's socket); sessions from it carry `via`.
   * Its connections count against the same cap. Resolves to a closer that stops it, drops its connections and
   * unlinks its path.
   */
  async listenExtra(socketPath: string, via: string, opts: { mode?: number; gid?: number } = {}): Promise<{ close(): Promise<void> }> {
    const extra = net.createServer({ pauseOnConnect: false }, (sock) => this.onConnection(sock, via));
    extra.on('error', (e) => this.log.error({ event: 'server_error', socket: socketPath, err: e }, `socket server error on ${socketPath}: ${e.message}`));
    await bindUnix(extra, socketPath, { ...opts, backlog: 64 });
    return {
      close: async () => {
        await new Promise<void>((resolve) => {
          extra.close(() => resolve());
          for (const { sock, info } of this.conns.values()) if (info.session.via === via) sock.destroy();
        });
        try { fs.unlinkSync(socketPath); } catch { /* already gone */ }
      },
    };
  }

  /** Close one connection (admin). */
  disconnect(connId: number): boolean {
    const c = this.conns.get(connId);
    if (!c) return false;
    c.sock.destroy();
    return true;
  }

  private onConnection(sock: net.Socket, via?: string): void {
    if (this.conns.size >= this.opts.maxConnections) {
      this.stats.rejected++;
      this.log.warn({ event: 'connection_rejected', open: this.conns.size }, `connection limit ${this.opts.maxConnections} reached; closing new connection`);
      sock.destroy();
      return;
    }
    this.stats.accepted++;
    const connId = this.nextId++;
    const cred = getPeerCred(socketFd(sock));
    const session: Session = { connId, pid: cred?.pid ?? 0, uid: cred?.uid ?? -1, gid: cred?.gid ?? -1, section: null, replies: null, requests: 0 };
    if (via !== undefined) session.via = via;
    const info: ConnectionInfo = { session, openedAt: Date.now() };
    this.conns.set(connId, { sock, info });
    const log = this.log;
    const debug = log.isLevelEnabled('debug');
    if (debug) log.debug({ event: 'connect', conn: connId, pid: session.pid, uid: session.uid }, 'client connected');

    let pending: Buffer | null = null;
    let first = true;
    const firstTimer = setTimeout(() => {
      // timers run before pending I/O in an event-loop turn: on a starved loop the request may already be waiting
      // in the socket, so decide only after this turn's reads (setImmediate runs after the poll phase)
      setImmediate(() => {
        if (!first || sock.destroyed) return;
        this.stats.timeouts++;
        log.warn({ event: 'first_request_timeout', conn: connId, pid: session.pid }, `no request within ${this.opts.firstRequestTimeoutMs} ms; closing`);
        sock.destroy();
      });
    }, this.opts.firstRequestTimeoutMs);

    let batch: Buffer[] | null = null;
    const flush = (): void => {
      if (batch === null) return;
      const b = batch;
      batch = null;
      sock.write(b.length === 1 ? b[0] : Buffer.concat(b));
    };

    sock.on('data', (chunk: Buffer) => {
      let buf = pending ? Buffer.concat([pending, chunk]) : chunk;
      pending = null;
      let off = 0;
      while (buf.length - off >= 2) {
        const len = buf.readUInt16LE(off);
        if (len < HEADER_SIZE || len > MAX_REQUEST) {
          this.stats.protocolErrors++;
          log.warn({ event: 'protocol_error', conn: connId, pid: session.pid, len }, `frame length ${len} outside ${HEADER_SIZE}..${MAX_REQUEST}; closing connection`);
          flush();
          sock.destroy();
          return;
        }
        if (buf.length - off < len) break;
        const frame = buf.subarray(off, off + len);
        off += len;
        if (first) {
          first = false;
          clearTimeout(firstTimer);
          if (this.opts.idleTimeoutMs > 0) sock.setTimeout(this.opts.idleTimeoutMs);
        }
        this.stats.requests++;
        const t0 = performance.now();
        const reply = handleRequest(frame, session, this.ctx);
        this.counters.record(frame.readUInt16LE(4), reply, reply.readUInt16LE(4) === MSG_BAD, performance.now() - t0);
        if (debug) {
          const type = MSG_NAMES[frame.readUInt16LE(4)] ?? frame.readUInt16LE(4);
          const replyType = MSG_NAMES[reply.readUInt16LE(4)] ?? reply.readUInt16LE(4);
          log.debug({ event: 'request', conn: connId, pid: session.pid, type, len, reply: replyType, replyLen: reply.length, req: frame.toString('hex'), replyHex: reply.toString('hex') }, `${type} (${len} bytes) -> ${replyType} (${reply.length} bytes)`);
        }
        // all complete frames of one read are answered with one write
        if (batch === null) batch = [reply];
        else batch.push(reply);
      }
      flush();
      if (off < buf.length && !sock.destroyed) {
        // keep the partial frame; copy it so the (possibly large) read buffer can be freed
        pending = Buffer.from(buf.subarray(off));
      }
    });
    sock.on('timeout', () => {
      this.stats.timeouts++;
      log.info({ event: 'idle_timeout', conn: connId, pid: session.pid }, 'idle connection closed');
      sock.destroy();
    });
    sock.on('error', (e) => {
      if (debug) log.debug({ event: 'socket_error', conn: connId, err: e.message }, 'socket error');
    });
    sock.on('close', () => {
      clearTimeout(firstTimer);
      this.conns.delete(connId);
      const sec = session.section;
      // the allocator's release event is logged (with the holder's comm and unit) by the manager
      if (sec) this.ctx.allocator.release(sec, connId, 'disconnect');
      session.section = null;
      session.replies = null;
      if (debug) log.debug({ event: 'disconnect', conn: connId, pid: session.pid }, 'client disconnected');
    });
  }
}
