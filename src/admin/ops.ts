// The admin ops: read-only views, metrics text, and the root-only changes (release, drain, undrain, rescan).

import fs from 'node:fs';
import path from 'node:path';
import type { PeerCred } from '../native/libc.js';
import type { Registry } from 'prom-client';
import { AdminError } from './wire.js';
import { statusView, devicesView, sectionsView, allocationsView, normaliseBdf, type AdminContext } from './views.js';
import { EVENT_KINDS, type EventKind } from './events.js';
import { healthView, parseHeartbeatPush } from './health.js';
import type { Logger } from '../log.js';
import { RealKernelFs } from '../platform/kernelfs.js';
import { readIdxdInventory } from '../idxd/inventory.js';

export interface OpEnv {
  ctx: AdminContext;
  metrics: Registry;
  log: Logger;
  cred: PeerCred | undefined;
}

export interface OpSpec {
  mutating: boolean;
  summary: string;
  run(args: Record<string, unknown>, env: OpEnv): unknown;
}

function optInt(args: Record<string, unknown>, key: string, min: number, max: number): number | undefined {
  const v = args[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
    throw new AdminError('QATMGR_E_ADMIN_BAD_REQUEST', `args.${key} must be an integer ${min}..${max}, got ${JSON.stringify(v)}`);
  }
  return v;
}

function optString(args: Record<string, unknown>, key: string, maxLen = 256): string | undefined {
  const v = args[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string' || v.length > maxLen) throw new AdminError('QATMGR_E_ADMIN_BAD_REQUEST', `args.${key} must be a string of at most ${maxLen} characters`);
  return v;
}

function bdfArg(args: Record<string, unknown>, ctx: AdminContext): string {
  const raw = optString(args, 'bdf');
  if (raw === undefined) throw new AdminError('QATMGR_E_ADMIN_BAD_REQUEST', 'args.bdf is required (e.g. "0000:6b:01.0")');
  const bdf = normaliseBdf(raw);
  if (!bdf) throw new AdminError('QATMGR_E_ADMIN_BAD_REQUEST', `args.bdf "${raw}" is not a PCI address (dddd:bb:dd.f)`);
  if (!ctx.vfIndex.has(bdf)) throw new AdminError('QATMGR_E_ADMIN_NOT_FOUND', `${bdf} is not a VF this manager serves`);
  if (!ctx.vfIndex.get(bdf)!.section) throw new AdminError('QATMGR_E_ADMIN_NOT_FOUND', `${bdf} is in no section (left over by the policy)`);
  return bdf;
}

function who(cred: PeerCred | undefined): string {
  return cred ? `uid ${cred.uid} pid ${cred.pid}` : 'unknown caller';
}

/** The admin caller's process name, for the event ring. */
function callerComm(ctx: AdminContext, cred: PeerCred | undefined): string | null {
  if (!cred) return null;
  try {
    return fs.readFileSync(path.join(ctx.manager.settings.roots.pids, String(cred.pid), 'comm'), 'utf8').trim();
  } catch {
    return null;
  }
}

export const OPS: Record<string, OpSpec> = {
  ops: {
    mutating: false,
    summary: 'list the ops this daemon knows',
    run: () => ({ ops: Object.entries(OPS).map(([name, o]) => ({ name, mutating: o.mutating, summary: o.summary })) }),
  },
  status: { mutating: false, summary: 'version, policy, uptime, section and device counts', run: (_a, e) => statusView(e.ctx) },
  devices: { mutating: false, summary: 'PFs and their VFs with state', run: (_a, e) => devicesView(e.ctx) },
  accel: { mutating: false, summary: 'Intel DSA/IAA devices, groups, engines, wqs, iaa_crypto, zswap (read from sysfs now)', run: (_a, e) => readIdxdInventory(new RealKernelFs(), e.ctx.manager.settings.roots) },
  sections: { mutating: false, summary: 'the full plan: every section and its VFs', run: (_a, e) => sectionsView(e.ctx) },
  health: { mutating: false, summary: 'every PF: healthy, degraded, unhealthy or gone, why, since when, its sources and affected holders', run: (_a, e) => healthView(e.ctx) },
  allocations: {
    mutating: false,
    summary: 'held sections with holder facts, and recent refusals',
    run: (a, e) => allocationsView(e.ctx, { refusals: optInt(a, 'refusals', 0, 1000) }),
  },
  kubelet: {
    mutating: false,
    summary: 'the kubelet device plugin: pools, resources and their registration, reservations, Pod Resources',
    run: (_a, e) => {
      if (!e.ctx.kubelet) throw new AdminError('QATMGR_E_ADMIN_UNSUPPORTED', 'the kubelet plugin is off (start qatmgr with --kubelet-plugin)');
      return e.ctx.kubelet();
    },
  },
  events: {
    mutating: false,
    summary: 'recent grants, releases, forced releases, refusals, drains, PF health changes, rescans (args: afterSeq, limit, kinds)',
    run: (a, e) => {
      const kindsRaw = a.kinds;
      let kinds: EventKind[] | undefined;
      if (kindsRaw !== undefined) {
        if (!Array.isArray(kindsRaw) || !kindsRaw.every((k) => EVENT_KINDS.includes(k as EventKind))) {
          throw new AdminError('QATMGR_E_ADMIN_BAD_REQUEST', `args.kinds must be a list of ${EVENT_KINDS.join(', ')}`);
        }
        kinds = kindsRaw as EventKind[];
      }
      const events = e.ctx.ring.list({ afterSeq: optInt(a, 'afterSeq', 0, Number.MAX_SAFE_INTEGER), limit: optInt(a, 'limit', 1, 1_000_000), kinds });
      return { capacity: e.ctx.ring.capacity, lastSeq: e.ctx.ring.lastSeq, events };
    },
  },
  metrics: {
    mutating: false,
    summary: 'Prometheus text exposition',
    run: async (_a, e) => ({ contentType: e.metrics.contentType, text: await e.metrics.metrics() }),
  },
  release: {
    mutating: true,
    summary: 'force-release a section (args: section = name or index); its holder gets BAD on its next request',
    run: (a, e) => {
      const alloc = e.ctx.manager.allocator;
      const v = a.section;
      let index: number;
      if (typeof v === 'number' && Number.isInteger(v)) index = v;
      else if (typeof v === 'string' && /^\d+$/.test(v)) index = Number(v);
      else if (typeof v === 'string') index = alloc.sections.findIndex((s) => s.name === v);
      else throw new AdminError('QATMGR_E_ADMIN_BAD_REQUEST', 'args.section is required (a name like "SSL_INT_3" or an index)');
      const s = alloc.sections[index];
      if (!s) throw new AdminError('QATMGR_E_ADMIN_NOT_FOUND', `no section ${JSON.stringify(v)} (there are ${alloc.sections.length}: SSL_INT_0..${alloc.sections.length - 1})`);
      const h = alloc.forceRelease(index);
      if (!h) throw new AdminError('QATMGR_E_ADMIN_NOT_HELD', `section ${s.name} is not held`);
      e.log.warn({ event: 'forced_release', section: s.name, pid: h.pid, uid: h.uid, by: who(e.cred) }, `section ${s.name} taken from pid ${h.pid} by ${who(e.cred)}`);
      return { section: s.name, index, bdfs: s.plan.devices.map((d) => d.vf.bdf), previousHolder: { pid: h.pid, uid: h.uid, processName: h.processName, since: new Date(h.since).toISOString(), requests: h.requests } };
    },
  },
  drain: {
    mutating: true,
    summary: 'take a VF out of service (args: bdf, reason); its section is not granted again, a current holder keeps it',
    run: (a, e) => {
      const bdf = bdfArg(a, e.ctx);
      const reason = optString(a, 'reason') ?? `drained by ${who(e.cred)}`;
      const alloc = e.ctx.manager.allocator;
      const was = alloc.isOutOfService(bdf);
      alloc.setOutOfService(bdf, reason);
      const s = e.ctx.vfIndex.get(bdf)!.section!;
      if (!was) {
        e.ctx.ring.push({ kind: 'drain', section: s.name, pid: e.cred?.pid ?? null, uid: e.cred?.uid ?? null, processName: callerComm(e.ctx, e.cred), bdfs: [bdf], reason });
        e.log.warn({ event: 'drain', bdf, section: s.name, reason, by: who(e.cred) }, `VF ${bdf} out of service: ${reason}`);
      }
      return { bdf, section: s.name, outOfService: true, changed: !was, reason, holderPid: s.holder?.pid ?? null };
    },
  },
  undrain: {
    mutating: true,
    summary: 'put a drained VF back in service (args: bdf)',
    run: (a, e) => {
      const bdf = bdfArg(a, e.ctx);
      const alloc = e.ctx.manager.allocator;
      const was = alloc.isOutOfService(bdf);
      alloc.setOutOfService(bdf, undefined);
      const s = e.ctx.vfIndex.get(bdf)!.section!;
      if (was) {
        e.ctx.ring.push({ kind: 'undrain', section: s.name, pid: e.cred?.pid ?? null, uid: e.cred?.uid ?? null, processName: callerComm(e.ctx, e.cred), bdfs: [bdf], reason: null });
        e.log.warn({ event: 'undrain', bdf, section: s.name, by: who(e.cred) }, `VF ${bdf} back in service`);
      }
      return { bdf, section: s.name, outOfService: false, changed: was, holderPid: s.holder?.pid ?? null };
    },
  },
  heartbeat: {
    mutating: true,
    summary: 'the privileged relay pushes heartbeat readings (args: intervalMs, samples: [{pf, status, sent, failed} | {pf, error}])',
    run: (a, e) => {
      const push = parseHeartbeatPush(a);
      return e.ctx.manager.health.pushHeartbeat(push.samples, push.intervalMs, `${who(e.cred)}${push.source ? ` (${push.source})` : ''}`);
    },
  },
  rescan: {
    mutating: true,
    summary: 'rescan devices and settings, as SIGHUP does (held sections keep their VFs)',
    run: (_a, e) => {
      if (!e.ctx.rescan) throw new AdminError('QATMGR_E_ADMIN_UNSUPPORTED', 'this daemon cannot rescan; restart it to pick up new devices');
      // an administrator's ordinary request (only root may send it): info, not a warning
      e.log.info({ event: 'rescan_requested', by: who(e.cred) }, `rescan requested over the admin socket by ${who(e.cred)}`);
      try {
        return e.ctx.rescan();
      } catch (err) {
        throw new AdminError('QATMGR_E_ADMIN_RESCAN_FAILED', `rescan failed, still serving the previous devices: ${(err as Error).message}`);
      }
    },
  },
};
