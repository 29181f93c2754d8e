// The client socket: stream framing, first-request and idle timeouts, connection caps, backpressure, SO_PEERCRED, release on close.

import net from 'node:net';
import fs from 'node:fs';
import { ThrottledLog, type Logger } from '../log.js';
import { HEADER_SIZE, MAX_REQUEST, MSG_NAMES, MsgType } from '../protocol/constants.js';
import { handleRequest, type ServeContext, type Session } from '../protocol/handler.js';
import { getPeerCred, socketFd } from '../native/libc.js';
import { QatmgrError, ErrorCodes, describeSysError } from '../errors.js';
import { RequestCounters } from './counters.js';
import { ConnectionTable, CLIENT_OUTPUT, defaultPerUid, outputState, type AdmissionLimits, type OutputBounds, type PolicyConn } from './conn-policy.js';

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
  /** Close a connection this long after its last complete request (0 = never). */
  idleTimeoutMs: number;
  maxConnections: number;
  /** Connections one uid may hold (default: all but min(64, max/4) of the cap). */
  maxConnectionsPerUid?: number;
  /**
   * How many more descriptors the process may open beyond what it needs for itself, asked once when listening: the
   * connection cap is lowered to fit, so connections are refused by us (counted, logged) before accept(2) hits EMFILE.
   */
  fdHeadroom?: () => number | undefined;
  /** Reply bytes waiting before a connection is held (not read) and closed (default CLIENT_OUTPUT). */
  output?: OutputBounds;
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

interface Conn extends PolicyConn {
  sock: net.Socket;
  info: ConnectionInfo;
}

export class QatServer {
  private readonly server: net.Server;
  private readonly conns = new Map<number, Conn>();
  private table: ConnectionTable<Conn>;
  private nextId = 1;
  private bound = false;
  private readonly output: OutputBounds;
  private readonly clientLog: ThrottledLog;
  /**
   * Counters for status lines and metrics: `rejected` new connections refused at a cap, `evicted` idle connections
   * closed to make room for a new one, `held` times a connection stopped being read because its peer did not read
   * its replies, `overflowed` connections closed for that.
   */
  readonly stats = { accepted: 0, rejected: 0, evicted: 0, held: 0, overflowed: 0, protocolErrors: 0, timeouts: 0, requests: 0 };
  /** Per-type, BAD and latency counts (plain integers: the admin metrics read them when scraped). */
  readonly counters = new RequestCounters();

  constructor(private readonly opts: ServerOptions, private readonly ctx: ServeContext, private readonly log: Logger) {
    this.output = opts.output ?? CLIENT_OUTPUT;
    this.clientLog = new ThrottledLog(log);
    this.table = new ConnectionTable<Conn>(this.limitsFor(opts.maxConnections));
    this.server = net.createServer({ pauseOnConnect: false }, (sock) => this.onConnection(sock));
    this.server.on('error', (e) => this.clientLog.write('error', 'server_error', { event: 'server_error', err: describeSysError(e) }, `socket server error: ${describeSysError(e)}`));
  }

  private limitsFor(max: number): AdmissionLimits {
    // root is not held to a per-uid share (it could lift any limit anyway); idle-first eviction still applies to it
    return { max, perUid: Math.min(max, this.opts.maxConnectionsPerUid ?? defaultPerUid(max)), perRoot: max };
  }

  /** The caps in force (after the descriptor budget). */
  get limits(): AdmissionLimits {
    return this.table.limits;
  }

  get connectionCount(): number {
    return this.conns.size;
  }

  connections(): ConnectionInfo[] {
    return [...this.conns.values()].map((c) => c.info);
  }

  /** Lower the connection cap to what the descriptor limit allows (logged when it bites). */
  private fitToDescriptors(): void {
    const headroom = this.opts.fdHeadroom?.();
    if (headroom === undefined) return;
    const fits = Math.max(1, this.conns.size + headroom);
    if (fits >= this.opts.maxConnections) return;
    this.table = new ConnectionTable<Conn>(this.limitsFor(fits));
    for (const c of this.conns.values()) this.table.add(c);
    this.log.warn({ event: 'connection_cap', maxConnections: this.opts.maxConnections, cap: fits },
      `the open-file limit (RLIMIT_NOFILE) leaves room for ${fits} client connections, not --max-connections ${this.opts.maxConnections}; raise LimitNOFILE to serve more`);
  }

  /** Bind (or adopt the passed fd) and listen; resolves once connections are accepted. */
  async listen(): Promise<void> {
    this.fitToDescriptors();
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

  /** Close one connection (admin). */
  disconnect(connId: number): boolean {
    const c = this.conns.get(connId);
    if (!c) return false;
    c.sock.destroy();
    return true;
  }

  /**
   * Serve the same protocol on one more socket path (a kubelet reservation's socket); sessions from it carry `via`.
   * Its connections count against the same caps. Resolves to a closer that stops it, drops its connections and
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

  private onConnection(sock: net.Socket, via?: string): void {
    const cred = getPeerCred(socketFd(sock));
    const uid = cred?.uid ?? -1;
    const admission = this.table.admit(uid);
    if (admission.kind === 'refuse') {
      this.stats.rejected++;
      this.clientLog.write('warn', 'connection_rejected', { event: 'connection_rejected', open: this.conns.size, pid: cred?.pid, uid }, `new connection closed (pid ${cred?.pid ?? '?'}, uid ${uid}): ${admission.why} and all of them hold sections`);
      sock.destroy();
      return;
    }
    if (admission.kind === 'evict') {
      const v = admission.victim;
      this.stats.evicted++;
      this.clientLog.write('warn', 'connection_evicted', { event: 'connection_evicted', conn: v.info.session.connId, pid: v.info.session.pid, uid: v.uid, idleMs: Math.round(performance.now() - v.lastRequestAt) },
        `closed idle connection ${v.info.session.connId} (pid ${v.info.session.pid}, uid ${v.uid}, no request for ${Math.round(performance.now() - v.lastRequestAt)} ms) to make room: ${admission.why}`);
      v.sock.destroy();
      this.forget(v);
    }
    this.stats.accepted++;
    const connId = this.nextId++;
    const session: Session = { connId, pid: cred?.pid ?? 0, uid, gid: cred?.gid ?? -1, section: null, replies: null, requests: 0 };
    if (via !== undefined) session.via = via;
    const info: ConnectionInfo = { session, openedAt: Date.now() };
    const conn: Conn = { sock, info, uid, lastRequestAt: performance.now(), pinned: () => session.section !== null };
    this.conns.set(connId, conn);
    this.table.add(conn);
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
        this.clientLog.write('warn', 'first_request_timeout', { event: 'first_request_timeout', conn: connId, pid: session.pid, uid }, `no request within ${this.opts.firstRequestTimeoutMs} ms; closing`);
        sock.destroy();
      });
    }, this.opts.firstRequestTimeoutMs);
    // idle = no complete request for idleTimeoutMs (a byte now and then does not count); refreshed per request
    const idleMs = this.opts.idleTimeoutMs;
    let idleTimer: NodeJS.Timeout | undefined;

    let batch: Buffer[] | null = null;
    let batchBytes = 0;
    const flush = (): void => {
      if (batch === null) return;
      const b = batch;
      batch = null;
      batchBytes = 0;
      sock.write(b.length === 1 ? b[0] : Buffer.concat(b));
    };
    let holding = false;

    /** Answer the complete frames in `buf`; stops early (keeping the rest) when the peer is not reading. */
    const serve = (buf: Buffer): void => {
      let off = 0;
      let answered = 0;
      while (buf.length - off >= 2) {
        const len = buf.readUInt16LE(off);
        if (len < HEADER_SIZE || len > MAX_REQUEST) {
          this.stats.protocolErrors++;
          this.clientLog.write('warn', 'protocol_error', { event: 'protocol_error', conn: connId, pid: session.pid, uid, len }, `frame length ${len} outside ${HEADER_SIZE}..${MAX_REQUEST}; closing connection`);
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
        }
        const t0 = performance.now();
        conn.lastRequestAt = t0;
        answered++;
        this.stats.requests++;
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
        batchBytes += reply.length;
        const state = outputState(sock.writableLength + batchBytes, this.output);
        if (state === 'close') {
          this.stats.overflowed++;
          this.clientLog.write('warn', 'output_overflow', { event: 'output_overflow', conn: connId, pid: session.pid, uid }, `connection ${connId} (pid ${session.pid}) has more than ${this.output.closeAbove} bytes of replies it does not read; closing it`);
          sock.destroy();
          return;
        }
        if (state === 'hold') {
          flush();
          // the peer is not reading (the kernel did not take it all): answer and read nothing more until it drains
          if (sock.writableNeedDrain) {
            hold();
            break;
          }
        }
      }
      flush();
      if (idleMs > 0 && answered > 0) {
        if (idleTimer) idleTimer.refresh();
        else idleTimer = setTimeout(onIdle, idleMs);
      }
      // keep a partial frame, or the frames not answered while holding; a copy, so the read buffer can be freed
      pending = off < buf.length && !sock.destroyed ? Buffer.from(buf.subarray(off)) : null;
    };
    const hold = (): void => {
      if (holding) return;
      holding = true;
      this.stats.held++;
      sock.pause();
      sock.once('drain', () => {
        holding = false;
        if (sock.destroyed) return;
        const p = pending;
        pending = null;
        if (p) serve(p);
        if (!holding) sock.resume();
      });
    };
    const onIdle = (): void => {
      this.stats.timeouts++;
      this.clientLog.write('info', 'idle_timeout', { event: 'idle_timeout', conn: connId, pid: session.pid, uid }, `no request for ${idleMs} ms; idle connection closed`);
      sock.destroy();
    };

    sock.on('data', (chunk: Buffer) => {
      const buf = pending ? Buffer.concat([pending, chunk]) : chunk;
      pending = null;
      serve(buf);
    });
    sock.on('error', (e) => {
      if (debug) log.debug({ event: 'socket_error', conn: connId, err: e.message }, 'socket error');
    });
    sock.on('close', () => {
      clearTimeout(firstTimer);
      if (idleTimer) clearTimeout(idleTimer);
      this.forget(conn);
      const sec = session.section;
      // the allocator's release event is logged (with the holder's comm and unit) by the manager
      if (sec) this.ctx.allocator.release(sec, connId, 'disconnect');
      session.section = null;
      session.replies = null;
      if (debug) log.debug({ event: 'disconnect', conn: connId, pid: session.pid }, 'client disconnected');
    });
  }

  /** Take a connection out of the books (close, or evicted: its slot is free at once, before its close event). */
  private forget(c: Conn): void {
    if (this.conns.get(c.info.session.connId) === c) this.conns.delete(c.info.session.connId);
    this.table.delete(c);
  }
}
