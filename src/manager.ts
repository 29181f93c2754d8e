// Assembles the manager from settings: scan -> inventory -> plan -> allocator -> socket server (DESIGN.md's flow).

import type { Settings } from './config/settings.js';
import { ThrottledLog, type Logger } from './log.js';
import { discover, type Inventory } from './platform/discover.js';
import { SysfsCapabilitySource, type CapabilitySource } from './devices/capabilities.js';
import { buildPlan } from './sections/plan.js';
import { Allocator, NO_RULES, type GrantRules } from './sections/allocator.js';
import { checkReservations } from './config/shares.js';
import { clientReader } from './server/client-facts.js';
import { DEFAULT_ROOTS } from './config/roots.js';
import { schedGetAffinity } from './native/libc.js';
import { createServeContext, type ServeContext } from './protocol/handler.js';
import { formatVersion } from './protocol/constants.js';
import { QatServer } from './server/server.js';
import { HealthMonitor } from './health/monitor.js';
import { lookupGroup } from './server/listen.js';
import { QatmgrError, ErrorCodes, showValue } from './errors.js';
import { processLabel } from './platform/processes.js';
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
  /** A capability source as the daemon has it now (each scan asks again: a re-admitted VF is queried again). */
  capabilities(): CapabilitySource;
  /** The health loop (started by the daemon once it serves). */
  health: HealthMonitor;
}

export interface BuildOptions {
  /** Where capabilities come from (default: each PF's qat/cfg_services); called once per scan. */
  capabilities?: () => CapabilitySource;
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

/**
 * The grant rules of `settings` for a plan of `sections` sections: NO_RULES (upstream's first fit) unless NumaAware
 * or shares are set. Throws, naming file and line, when the reservations do not fit the plan.
 */
export function grantRules(settings: Settings, sections: number): GrantRules {
  checkReservations(settings.shares, sections);
  if (settings.numaAware === 'off' && settings.shares.length === 0) return NO_RULES;
  return { numa: settings.numaAware, shares: settings.shares };
}

/**
 * Count every holder against the shares it belongs to, reading from /proc what unit and group shares need about
 * holders that were granted or adopted (ledger) without it. Runs at reload and after the ledger restore, not per grant.
 */
export function recountShares(m: Pick<Manager, 'allocator' | 'ctx'>, rules = m.allocator.grantRules): void {
  const read = m.ctx.clientReader;
  if (read && rules.shares.length) {
    // what a holder already has (nodes at its grant) is kept; only the missing facts are filled in
    for (const s of m.allocator.sections) if (s.holder) s.holder.client = { ...read(s.holder.pid), ...s.holder.client };
  }
  m.allocator.configure(rules);
}

/** Make the allocator and the request handler follow `rules` (start-up and reload). */
export function applyGrantRules(m: Pick<Manager, 'allocator' | 'ctx' | 'inventory' | 'settings'>, rules: GrantRules, log: Logger): void {
  // the system call asks the running kernel: used when Roots.pids is its /proc (always, outside tests)
  const affinity = m.settings.roots.pids === DEFAULT_ROOTS.pids ? schedGetAffinity : undefined;
  m.ctx.clientReader = clientReader(m.settings.roots.pids, m.inventory.cpus, rules, affinity);
  recountShares(m, rules);
  if (rules === NO_RULES) return;
  const shares = rules.shares.map((r) => `${r.label}: min ${r.min}${r.max !== undefined ? `, max ${r.max}` : ''}`);
  log.info({ event: 'grant_rules', numaAware: rules.numa, shares }, `grants: NumaAware=${rules.numa}${shares.length ? `; shares ${shares.join('; ')}` : ''}`);
  const vfNodes = [...new Set(m.inventory.vfs.map((v) => v.numaNode))];
  if (rules.numa !== 'off' && m.settings.policy === 0 && vfNodes.length > 1) {
    log.warn({ event: 'numa_policy0', numaAware: rules.numa, nodes: vfNodes }, `NumaAware=${rules.numa} with POLICY=0: every section holds one VF of every PF, on nodes ${vfNodes.join(',')}, so no section is local to a process pinned to one node${rules.numa === 'strict' ? ' and such a process is refused' : ''}; POLICY=n forms sections per node`);
  }
  const held = m.allocator.sharesHeld();
  rules.shares.forEach((r, j) => {
    if (r.max !== undefined && held[j] > r.max) {
      log.warn({ event: 'share_over_cap', share: r.label, held: held[j], max: r.max }, `${r.label} holds ${held[j]} sections, above its maximum of ${r.max} (${r.where}); it keeps them, and gets no new one until it is below`);
    }
  });
}

/** Scan the machine and build everything the daemon serves (no socket yet). */
export function buildManager(settings: Settings, log: Logger, opts: BuildOptions = {}): Manager {
  const startedAt = Date.now();
  const inventory = discover(settings.roots, log, { probe: settings.vfioProbe });
  const capabilities = opts.capabilities ?? ((): CapabilitySource => new SysfsCapabilitySource(settings.roots));
  const caps = capabilities();
  const plan = buildPlan(inventory, settings.policy, (vf) => caps.capsFor(vf), { perNode: settings.numaAware !== 'off' });
  const rules = grantRules(settings, plan.length);
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
      const reason = (detail.reason as string | undefined) ?? allocator.refusalReason();
      clientLog.write('warn', event, { event, pid: s.pid, uid: s.uid, ...detail, reason }, `No section available for process ${showValue(String(detail.processName), 64)} (pid ${s.pid}): ${reason}`, '; qatctl events lists each');
    } else {
      clientLog.write('warn', event, { event, pid: s.pid, uid: s.uid, ...detail }, event);
    }
  };
  // grant and release lines name the holder as the admin API does (comm, unit); read only when info is logged,
  // kept from the grant for the release (a process that exited can no longer be read)
  const labels = new Map<number, { comm: string | null; unit: string | null }>();
  const who = (pid: number, l: { comm: string | null; unit: string | null }, uid: number): string =>
    `pid ${pid}${l.comm ? ` (${l.comm}${l.unit ? `, ${l.unit}` : ''}, uid ${uid})` : ` (uid ${uid})`}`;
  allocator.on('grant', (s, h) => {
    if (!log.isLevelEnabled('info')) return;
    const l = processLabel(settings.roots.pids, h.pid);
    labels.set(h.connId, l);
    const bdf = s.plan.devices.map((d) => d.vf.bdf);
    const numa = h.local === undefined ? undefined : { nodes: h.client?.nodes ?? null, local: h.local };
    log.info({ event: 'grant', section: s.name, pid: h.pid, uid: h.uid, comm: l.comm, unit: l.unit, bdf, processName: h.processName, ...numa }, `section ${s.name} granted to ${who(h.pid, l, h.uid)}${h.local === false ? ' (not on its NUMA node)' : ''}: ${bdf.join(', ')}`);
  });
  allocator.on('release', (s, h, reason) => {
    const l = labels.get(h.connId) ?? { comm: null, unit: null };
    labels.delete(h.connId);
    if (!log.isLevelEnabled('info')) return;
    const l2 = l.comm === null ? processLabel(settings.roots.pids, h.pid) : l;
    log.info({ event: 'release', reason, section: s.name, pid: h.pid, uid: h.uid, comm: l2.comm, unit: l2.unit }, reason === 'disconnect'
      ? `Force release of section ${s.name}: ${who(h.pid, l2, h.uid)} disconnected` // upstream's words for this event
      : `section ${s.name} released by ${who(h.pid, l2, h.uid)}: ${reason}`);
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

  applyGrantRules({ allocator, ctx, inventory, settings }, rules, log);

  // one summary line at info (the ready line); the device list is a detail (4096 lines on a large host)
  if (log.isLevelEnabled('debug')) inventory.vfs.forEach((vf, i) => {
    log.debug({ event: 'device', index: i, bdf: vf.bdf, packed: `0x${vf.packed.toString(16)}`, pkgId: vf.pf?.pkgId ?? null, node: vf.numaNode, group: vf.group }, `device ${i}: ${vf.bdf}`);
  });
  const n = allocator.counts();
  if (settings.maxConnections < n.total + 16) {
    log.warn({ event: 'config', maxConnections: settings.maxConnections, sections: n.total }, `--max-connections ${settings.maxConnections} leaves little room beyond ${n.total} sections for NUM_PF_DEVS-only clients`);
  }
  log.debug({ event: 'plan', policy: settings.policy, sections: n.total, vfs: inventory.vfs.length, pfs: inventory.pfs.length, vm: inventory.vm }, `policy ${settings.policy}: ${n.total} sections over ${inventory.vfs.length} VFs of ${inventory.pfs.length} PFs`);
  const health = new HealthMonitor(settings.roots, allocator, inventory, settings.health, log);
  health.on('change', (c) => {
    const who = c.affected.length ? `; ${c.affected.length} held section(s) affected (pids ${[...new Set(c.affected.map((a) => a.pid))].join(', ')}), their holders keep their VFs` : '';
    const what = c.to === 'unhealthy' || c.to === 'gone' ? `; its VFs are not handed out${who}` : c.from === 'unhealthy' || c.from === 'gone' ? '; its VFs are handed out again' : '';
    log[c.to === 'healthy' ? 'info' : 'warn']({ event: 'pf_health', bdf: c.pf, from: c.from, to: c.to, reasons: c.reasons.map((r) => r.code), affected: c.affected.map((a) => ({ section: a.section, pid: a.pid })) }, `PF ${c.pf} ${c.from} -> ${c.to}${c.reason ? `: ${c.reason}` : ''}${what}`);
    // sections served with a different VF set now: encode them in the background, not on the next grant
    void ctx.replies.warmLater();
  });
  return { settings, inventory, allocator, server, ctx, startedAt, capabilities, health };
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
