// What qatctl can tell when the daemon does not answer: whether qat.socket waits for the first client (socket
// activation), and which sections the ledger on disk says live processes still hold.

import path from 'node:path';
import type { CliIo } from './command.js';
import { readLedger, entryOwnerLives, LEDGER_NAME } from '../sections/ledger.js';
import { unixSocketListening } from '../platform/unix-sockets.js';
import { isQatmgrError, ErrorCodes } from '../errors.js';
import { adminSocketPath, writeJson, table, formatTime, type AdminOptionValues } from './admin-common.js';
import { EXIT } from './exit-codes.js';

export interface OfflineHolder {
  section: string;
  vfs: string[];
  pid: number;
  uid: number;
  processName: string;
  since: string;
  /** The process still runs (same pid and start time): the next daemon adopts its section. */
  alive: boolean;
}

export interface OfflineReport {
  running: false;
  /** Why the admin socket did not answer. */
  reason: string;
  socket: string;
  /** The client socket listens without a daemon behind it: qat.socket starts qat.service on the first client. */
  socketActivated: boolean;
  ledger: { path: string; state: 'ok' | 'absent' | 'corrupt' | 'foreign'; problem: string | null; held: OfflineHolder[] };
}

export function offlineReport(v: AdminOptionValues, io: CliIo, reason: string, pidsRoot = '/proc'): OfflineReport {
  const runDir = path.dirname(adminSocketPath(v, io));
  const socket = v.socket ? path.resolve(io.cwd, v.socket) : path.join(runDir, 'qatmgr.sock');
  const file = path.join(runDir, LEDGER_NAME);
  // no boot-id test here: that is the daemon's guard before adopting; for showing what is held, each entry's own
  // liveness test (same pid and start time) is the one that matters (a container may give qatctl another boot id)
  const read = readLedger(file, undefined);
  const held = read.kind === 'ok'
    ? read.data.entries.map((e) => ({ section: e.section, vfs: e.vfs, pid: e.pid, uid: e.uid, processName: e.processName, since: new Date(e.since).toISOString(), alive: entryOwnerLives(pidsRoot, e) }))
    : [];
  return {
    running: false,
    reason,
    socket,
    socketActivated: unixSocketListening(pidsRoot, socket),
    ledger: { path: file, state: read.kind, problem: read.kind === 'corrupt' || read.kind === 'foreign' ? read.reason : null, held },
  };
}

/** The one-line state: "qatmgr: not running (socket-activated: ...)" or "qatmgr: not running". */
export function offlineHeadline(r: OfflineReport): string {
  return r.socketActivated
    ? `qatmgr: not running (socket-activated: ${r.socket} listens; the first libqat client starts qat.service)`
    : `qatmgr: not running (${r.reason})`;
}

/**
 * Run `online`; when the daemon cannot be reached (nothing on its admin socket), print what is known without it and
 * exit 3. `--json` prints the OfflineReport (schemas/offline.json). A daemon that is there but too slow stays an error.
 */
export async function orOffline(command: string, v: AdminOptionValues, io: CliIo, online: () => Promise<number>): Promise<number> {
  try {
    return await online();
  } catch (e) {
    const code = isQatmgrError(e) ? e.details.code : undefined;
    if (!isQatmgrError(e) || e.code !== ErrorCodes.QATMGR_E_ADMIN_UNREACHABLE || (code !== 'ENOENT' && code !== 'ECONNREFUSED')) throw e;
    const r = offlineReport(v, io, e.message);
    io.err.write(`qatctl ${command}: ${e.message} [${e.code}]\n`);
    if (v.json) { writeJson(io, r); return EXIT.UNREACHABLE; }
    io.out.write(`${offlineHeadline(r)}\n`);
    if (r.ledger.state === 'absent') io.out.write(`ledger ${r.ledger.path}: none (no section held at the last stop)\n`);
    else if (r.ledger.problem) io.out.write(`ledger ${r.ledger.path}: ${r.ledger.state}: ${r.ledger.problem}\n`);
    else {
      const live = r.ledger.held.filter((h) => h.alive);
      io.out.write(`ledger ${r.ledger.path}: ${live.length} section(s) held by live processes (the next daemon adopts them)${r.ledger.held.length > live.length ? `, ${r.ledger.held.length - live.length} by processes that exited` : ''}\n`);
      if (r.ledger.held.length) {
        io.out.write(`\n${table(io, ['SECTION', 'VFS', 'PID', 'UID', 'NAME', 'SINCE', 'ALIVE'],
          r.ledger.held.map((h) => [h.section, h.vfs.join(','), h.pid, h.uid, h.processName, formatTime(h.since), h.alive ? 'yes' : 'no']),
          r.ledger.held.map((h) => (h.alive ? undefined : 'dim')))}`);
      }
    }
    return EXIT.UNREACHABLE;
  }
}
