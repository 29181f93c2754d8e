// Assembles the manager from settings: scan -> inventory -> plan -> allocator -> socket server (DESIGN.md's flow).

import type { Settings } from './config/settings.js';
import { ThrottledLog, type Logger } from './log.js';
import { discover, type Inventory } from './platform/discover.js';
import { SysfsCapabilitySource, type CapabilitySource } from './devices/capabilities.js';
import { buildPlan } from './sections/plan.js';
import { Allocator } from './sections/allocator.js';
import { createServeContext, type ServeContext } from './protocol/handler.js';
import { formatVersion } from './protocol/constants.js';
import { QatServer } from './server/server.js';
import { lookupGroup } from './server/listen.js';
import { QatmgrError, ErrorCodes, showValue } from './errors.js';
import path from 'node:path';
import fs from 'node:fs';
import { openFileLimit } from './native/libc.js';
import { ADMIN_MAX_CONNECTIONS, METRICS_MAX_CONNECTIONS } from './server/conn-policy.js';

export interface Manager {
  settings: Settings;
  inventory: Inventory;
  allocator: Allocator;
  server: QatServer;
  ctx: ServeContext;
  startedAt: number;
  /** The allocation ledger (set by the daemon), for `qatctl status`. */
  ledger?: { describe(): unknown };
  /** Time from the start of the build until the socket accepted, ms. */
  readyMs?: number;
}

export interface BuildOptions {
  capabilitySource?: CapabilitySource;
  /** Serve this listening fd (socket activation). */
  listenFd?: number;
}

/** Resolve the socket's group: the named one (must exist), else `qat` if the group file has it, else none. */
export function socketGid(settings: Settings): number | undefined {
  const groupFile = path.join(settings.roots.etc, 'group');
  if (settings.socketGroup !== undefined) {
    const gid = lookupGroup(groupFile, settings.socketGroup);
    if (gid === undefined) {
      throw new QatmgrError(ErrorCodes.QATMGR_E_CONFIG_VALUE, `command line: --socket-group="${settings.socketGroup}" is not a group in ${groupFile}`);
    }
    return gid;
  }
  return lookupGroup(groupFile, 'qat');
}

/** Scan the machine and build everything the daemon serves (no socket yet). */
export function buildManager(settings: Settings, log: Logger, opts: BuildOptions = {}): Manager {
  const startedAt = Date.now();
  const inventory = discover(settings.roots, log);
  const caps = opts.capabilitySource ?? new SysfsCapabilitySource(settings.roots);
  const plan = buildPlan(inventory, settings.policy, (vf) => caps.capsFor(vf));
  if (caps instanceof SysfsCapabilitySource) {
    for (const n of caps.notes) log[n.level]({ event: 'capabilities_fallback', bdf: n.pf }, n.message);
  }
  const allocator = new Allocator(plan);
  const ctx: ServeContext = createServeContext(settings.protocolVersion, allocator, inventory.pfs, inventory.vm);
  // replies are encoded right after this returns, in slices, so the daemon starts accepting first (see warmLater)
  void ctx.replies.warmLater();
  // one throttle for every line a client can cause: the server's and the handler's
  const clientLog = new ThrottledLog(log);
  ctx.onNote = (s, event, detail) => {
    // refusals and version mismatches can come by the thousand per second: one line per second each, with a count
    if (event === 'version_mismatch') {
      clientLog.write('error', event, { event, pid: s.pid, uid: s.uid, ...detail }, `Incompatible: qatmgr v${formatVersion(ctx.version)} received a request from qatlib v${formatVersion(detail.clientVersion as number)}`);
    } else if (event === 'no_section') {
      const reason = allocator.lastRefusal;
      clientLog.write('warn', event, { event, pid: s.pid, uid: s.uid, ...detail, reason }, `No section available for process ${showValue(String(detail.processName), 64)} (pid ${s.pid}): ${reason}`, '; qatctl events lists each');
    } else {
      clientLog.write('warn', event, { event, pid: s.pid, uid: s.uid, ...detail }, event);
    }
  };
  allocator.on('grant', (s, h) => {
    log.info({ event: 'grant', section: s.name, pid: h.pid, uid: h.uid, bdf: s.plan.devices.map((d) => d.vf.bdf), processName: h.processName }, `section ${s.name} granted to pid ${h.pid}`);
  });
  allocator.on('release', (s, h, reason) => {
    if (reason !== 'disconnect') log.info({ event: 'release', reason, section: s.name, pid: h.pid, uid: h.uid }, `section ${s.name} released (${reason})`);
  });
  const server = new QatServer({
    socketPath: settings.socketPath,
    listenFd: opts.listenFd,
    gid: opts.listenFd === undefined ? socketGid(settings) : undefined,
    firstRequestTimeoutMs: settings.firstRequestTimeoutMs,
    idleTimeoutMs: settings.idleTimeoutMs,
    maxConnections: settings.maxConnections,
    maxConnectionsPerUid: settings.maxConnectionsPerUid,
    fdHeadroom: () => fdHeadroom(settings),
  }, ctx, log);

  inventory.vfs.forEach((vf, i) => {
    log.info({ event: 'device', index: i, bdf: vf.bdf, packed: `0x${vf.packed.toString(16)}`, pkgId: vf.pf?.pkgId ?? null, node: vf.numaNode, group: vf.group }, `device ${i}: ${vf.bdf}`);
  });
  const n = allocator.counts();
  if (settings.maxConnections < n.total + 16) {
    log.warn({ event: 'config', maxConnections: settings.maxConnections, sections: n.total }, `--max-connections ${settings.maxConnections} leaves little room beyond ${n.total} sections for NUM_PF_DEVS-only clients`);
  }
  log.info({ event: 'plan', policy: settings.policy, sections: n.total, vfs: inventory.vfs.length, pfs: inventory.pfs.length, vm: inventory.vm }, `policy ${settings.policy}: ${n.total} sections over ${inventory.vfs.length} VFs of ${inventory.pfs.length} PFs`);
  return { settings, inventory, allocator, server, ctx, startedAt };
}

/** Descriptors kept out of the client connections' share: admin connections, metrics scrapes, and the daemon's own. */
export const FD_RESERVE = { admin: ADMIN_MAX_CONNECTIONS, metrics: METRICS_MAX_CONNECTIONS, own: 32 };

/**
 * How many more client connections the open-file limit allows: RLIMIT_NOFILE, less the descriptors open now, less
 * what the admin socket, the metrics listener and the daemon's own files (ledger, its reserve, logs) may need.
 * Undefined when the limit cannot be read.
 */
export function fdHeadroom(settings: Settings): number | undefined {
  const limit = openFileLimit();
  if (limit === undefined) return undefined;
  let open: number;
  try {
    open = fs.readdirSync(path.join(settings.roots.pids, 'self', 'fd')).length;
  } catch {
    return undefined;
  }
  const reserve = (settings.adminSocketPath !== null ? FD_RESERVE.admin : 0) + (settings.metricsListen ? FD_RESERVE.metrics : 0) + FD_RESERVE.own;
  return limit - open - reserve;
}

/** One-line summary for logs and systemd STATUS=. */
export function statusLine(m: Manager): string {
  const c = m.allocator.counts();
  return `${c.total} sections, ${c.held} held, ${m.inventory.vfs.length} VFs, ${m.inventory.pfs.length} PFs`;
}
