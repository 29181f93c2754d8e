// Read-only views of the live inventory, plan and allocator for the admin API (status, devices, sections, allocations).

import type { Manager } from '../manager.js';
import type { PodRef, Section, Holder } from '../sections/allocator.js';
import type { NumaMode } from '../config/settings.js';
import type { PlannedDevice } from '../sections/plan.js';
import type { VfInfo } from '../platform/discover.js';
import { INSTANCE_ORDER } from '../devices/instances.js';
import { formatVersion } from '../protocol/constants.js';
import { parseBdf, formatBdf } from '../platform/pci.js';
import type { EventRing, AdminEvent } from './events.js';
import { readProcessFacts, UserNames, type ProcessFacts } from './procinfo.js';
import path from 'node:path';
import { ADMIN_API_VERSION } from './wire.js';


/** Everything the admin ops read; the manager's objects are live, nothing here is a copy of their state. */
export interface AdminContext {
  manager: Manager;
  ring: EventRing;
  /** Version string of the daemon (upstream-compatible). */
  version: string;
  adminSocketPath: string;
  metricsAddress: string | null;
  /** Static per-VF facts from the plan (never changes after start-up). */
  vfIndex: Map<string, VfPlanFacts>;
  /** Static per-section facts (index = section index), so a 4096-section query only reads the live holders. */
  sectionFacts: SectionFacts[];
  /** Rescan devices and settings (the daemon's SIGHUP path); undefined where the daemon offers none. */
  rescan?: () => unknown;
  /** The kubelet plugin's state (`qatctl kubelet`); undefined when the plugin is off. */
  kubelet?: () => unknown;
}

export interface SectionFacts {
  bdfs: string[];
  vfNumaNodes: number[];
  instances: string[];
}

/** Compute each section's VF list, nodes and instance names once at start-up. */
export function buildSectionFacts(m: Manager, vfIndex: Map<string, VfPlanFacts>): SectionFacts[] {
  return m.allocator.sections.map((s) => ({
    bdfs: s.plan.devices.map((d) => d.vf.bdf),
    vfNumaNodes: [...new Set(s.plan.devices.map((d) => d.vf.numaNode))],
    instances: s.plan.devices.flatMap((d) => vfIndex.get(d.vf.bdf)?.instances ?? []),
  }));
}

export interface VfPlanFacts {
  vf: VfInfo;
  section: Section | null;
  device: PlannedDevice | null;
  services: string[];
  instances: string[];
}

export const VF_STATES = ['free', 'held', 'out-of-service', 'withheld', 'unavailable', 'unplanned'] as const;
export type VfState = (typeof VF_STATES)[number];

function servicesOf(d: PlannedDevice): string[] {
  return INSTANCE_ORDER.filter((k) => d.layout.banks[k].length > 0);
}

function instancesOf(d: PlannedDevice): string[] {
  return INSTANCE_ORDER.flatMap((k) => d.instances[k].map((i) => i.name));
}

/** Index each VF's plan facts once at start-up. */
export function buildVfIndex(m: Manager): Map<string, VfPlanFacts> {
  const idx = new Map<string, VfPlanFacts>();
  for (const vf of m.inventory.vfs) idx.set(vf.bdf, { vf, section: null, device: null, services: [], instances: [] });
  for (const s of m.allocator.sections) {
    for (const d of s.plan.devices) {
      idx.set(d.vf.bdf, { vf: d.vf, section: s, device: d, services: servicesOf(d), instances: instancesOf(d) });
    }
  }
  return idx;
}

/** Accept `dddd:bb:dd.f` or `bb:dd.f` (domain 0000); returns the canonical form or undefined. */
export function normaliseBdf(text: string): string | undefined {
  const t = text.trim().toLowerCase();
  const a = parseBdf(t) ?? parseBdf(`0000:${t}`);
  return a ? formatBdf(a) : undefined;
}

export function vfState(ctx: AdminContext, f: VfPlanFacts): { state: VfState; reason: string | null } {
  const a = ctx.manager.allocator;
  if (a.isOutOfService(f.vf.bdf)) return { state: 'out-of-service', reason: a.blockedReason(f.section!) ?? null };
  if (!f.section) return { state: 'unplanned', reason: 'left over by the policy: in no section' };
  const pfWhy = f.vf.pf ? a.pfWithheld(f.vf.pf.bdf) : undefined;
  if (f.section.holder) return { state: 'held', reason: pfWhy && !f.section.withheld?.includes(f.vf.bdf) ? `holder affected: ${pfWhy}` : null };
  if (f.vf.unavailable !== undefined) return { state: 'unavailable', reason: f.vf.unavailable };
  if (pfWhy) return { state: 'withheld', reason: pfWhy };
  const blocked = a.blockedReason(f.section);
  if (blocked) return { state: 'out-of-service', reason: blocked };
  return { state: 'free', reason: null };
}

export interface StatusView {
  version: string;
  apiVersion: number;
  protocolVersion: string;
  pid: number;
  policy: number;
  startedAt: string;
  uptimeSeconds: number;
  socket: string;
  adminSocket: string;
  metricsListen: string | null;
  vm: boolean;
  sections: { total: number; held: number; free: number; outOfService: number };
  devices: { pfs: number; vfs: number; outOfService: number; unavailable: number };
  /**
   * Client connections: `rejected` refused at a cap, `evicted` idle ones closed to make room, `held` times one was
   * not read because its peer did not read its replies, `overflowed` closed for that; `cap` and `perUid` in force.
   */
  connections: { open: number; accepted: number; rejected: number; evicted: number; held: number; overflowed: number; cap: number; perUid: number };
  ledger: unknown;
  events: { size: number; capacity: number; lastSeq: number };
  health: { enabled: boolean; intervalMs: number; heartbeat: string; pfs: Record<string, number> };
}

export function statusView(ctx: AdminContext): StatusView {
  const m = ctx.manager;
  const c = m.allocator.counts();
  let oos = 0;
  let unavailable = 0;
  for (const vf of m.inventory.vfs) {
    if (m.allocator.isOutOfService(vf.bdf)) oos++;
    if (vf.unavailable !== undefined) unavailable++;
  }
  const ledger = (m as unknown as { ledger?: { describe?: () => unknown } }).ledger;
  const now = Date.now();
  return {
    version: ctx.version,
    apiVersion: ADMIN_API_VERSION,
    protocolVersion: formatVersion(m.settings.protocolVersion),
    pid: process.pid,
    policy: m.settings.policy,
    startedAt: new Date(m.startedAt).toISOString(),
    uptimeSeconds: Math.round((now - m.startedAt) / 1000),
    socket: m.settings.socketPath,
    adminSocket: ctx.adminSocketPath,
    metricsListen: ctx.metricsAddress,
    vm: m.inventory.vm,
    sections: { total: c.total, held: c.held, free: c.free, outOfService: c.blocked },
    devices: { pfs: m.inventory.pfs.length, vfs: m.inventory.vfs.length, outOfService: oos, unavailable },
    connections: {
      open: m.server.connectionCount, accepted: m.server.stats.accepted, rejected: m.server.stats.rejected, evicted: m.server.stats.evicted,
      held: m.server.stats.held, overflowed: m.server.stats.overflowed, cap: m.server.limits.max, perUid: m.server.limits.perUid,
    },
    ledger: ledger?.describe ? ledger.describe() : null,
    events: { size: ctx.ring.size, capacity: ctx.ring.capacity, lastSeq: ctx.ring.lastSeq },
    health: healthSummary(m),
  };
}

function healthSummary(m: Manager): StatusView['health'] {
  const counts: Record<string, number> = { healthy: 0, degraded: 0, unhealthy: 0, gone: 0 };
  for (const p of m.health.states()) counts[p.state]++;
  const v = m.health;
  return { enabled: v.enabled, intervalMs: v.settings.intervalMs, heartbeat: v.heartbeatSource, pfs: counts };
}

export interface VfRow {
  bdf: string;
  family: string;
  numaNode: number;
  iommuGroup: string;
  vfio: string;
  services: string[];
  state: VfState;
  reason: string | null;
  section: string | null;
  holderPid: number | null;
}

function vfRow(ctx: AdminContext, f: VfPlanFacts): VfRow {
  const st = vfState(ctx, f);
  const h = f.section?.holder ?? null;
  return {
    bdf: f.vf.bdf,
    family: f.vf.family.name,
    numaNode: f.vf.numaNode,
    iommuGroup: f.vf.group,
    vfio: f.vf.vfioPath,
    services: f.services,
    state: st.state,
    reason: st.reason,
    section: f.section?.name ?? null,
    holderPid: h ? h.pid : null,
  };
}

export interface PfRow {
  bdf: string | null;
  pkgId: number | null;
  driver: string | null;
  family: string | null;
  numaNode: number | null;
  /** The PF's health (null inside a VM). */
  health: { state: string; reason: string; since: string } | null;
  vfs: VfRow[];
}

/** PF -> VFs; inside a VM (no PF table) the VFs sit under one row whose PF fields are null. */
export interface DevicesView {
  vm: boolean;
  pfs: PfRow[];
}

export function devicesView(ctx: AdminContext): DevicesView {
  const m = ctx.manager;
  const health = new Map(m.health.states().map((h) => [h.pf, { state: h.state, reason: h.reason, since: h.since }]));
  const pfs: PfRow[] = m.inventory.pfs.map((pf) => ({ bdf: pf.bdf, pkgId: pf.pkgId, driver: pf.driver, family: null, numaNode: null, health: health.get(pf.bdf) ?? null, vfs: [] }));
  const byPf = new Map(pfs.map((p) => [p.bdf, p]));
  let orphans: PfRow | undefined;
  for (const vf of m.inventory.vfs) {
    const row = vfRow(ctx, ctx.vfIndex.get(vf.bdf)!);
    let p = vf.pf ? byPf.get(vf.pf.bdf) : undefined;
    if (!p) {
      orphans ??= { bdf: null, pkgId: null, driver: null, family: null, numaNode: null, health: null, vfs: [] };
      p = orphans;
    }
    p.family ??= vf.family.name;
    p.numaNode ??= vf.numaNode;
    p.vfs.push(row);
  }
  if (orphans) pfs.push(orphans);
  return { vm: m.inventory.vm, pfs };
}

export interface SectionRow {
  index: number;
  name: string;
  state: 'held' | 'free' | 'out-of-service';
  reason: string | null;
  holderPid: number | null;
  processName: string | null;
  /** NUMA nodes of the section's VFs. */
  nodes: number[];
  /** Shares the holder counts against (labels); empty when free. */
  shares: string[];
  vfs: Array<{ bdf: string; numaNode: number; iommuGroup: string; services: string[]; instances: string[]; outOfService: boolean }>;
}

/** One share rule with what it holds now; `reserved` = sections kept free for it (its unmet minimum). */
export interface ShareRow {
  subject: string;
  min: number;
  max: number | null;
  held: number;
  reserved: number;
  where: string;
}

export interface SectionsView {
  policy: number;
  numaAware: NumaMode;
  shares: ShareRow[];
  sections: SectionRow[];
}

/** Share labels of a holder (indices into the rules the allocator follows now). */
function shareLabels(ctx: AdminContext, h: Holder | null): string[] {
  const rules = ctx.manager.allocator.grantRules.shares;
  return h?.shares ? h.shares.map((j) => rules[j].label) : [];
}

function sharesView(ctx: AdminContext): ShareRow[] {
  const a = ctx.manager.allocator;
  const held = a.sharesHeld();
  return a.grantRules.shares.map((r, j) => ({ subject: r.label, min: r.min, max: r.max ?? null, held: held[j], reserved: Math.max(0, r.min - held[j]), where: r.where }));
}

export function sectionsView(ctx: AdminContext): SectionsView {
  const a = ctx.manager.allocator;
  return {
    policy: ctx.manager.settings.policy,
    numaAware: a.grantRules.numa,
    shares: sharesView(ctx),
    sections: a.sections.map((s): SectionRow => {
      const blocked = s.holder ? undefined : a.blockedReason(s);
      return {
        index: s.index,
        name: s.name,
        state: s.holder ? 'held' : blocked ? 'out-of-service' : 'free',
        reason: blocked ?? null,
        holderPid: s.holder?.pid ?? null,
        processName: s.holder?.processName ?? null,
        nodes: a.nodesOf(s),
        shares: shareLabels(ctx, s.holder),
        vfs: s.plan.devices.map((d) => {
          const f = ctx.vfIndex.get(d.vf.bdf)!;
          return { bdf: d.vf.bdf, numaNode: d.vf.numaNode, iommuGroup: d.vf.group, services: f.services, instances: f.instances, outOfService: a.isOutOfService(d.vf.bdf) };
        }),
      };
    }),
  };
}

export interface HolderView {
  section: string;
  index: number;
  bdfs: string[];
  vfNumaNodes: number[];
  instances: string[];
  pid: number;
  uid: number;
  gid: number;
  user: string;
  processName: string;
  comm: string | null;
  cmdline: string | null;
  unit: string | null;
  container: string | null;
  numaNodes: number[] | null;
  /** The nodes the daemon looked up at the grant (NumaAware), the one it served first; null = not looked up or unknown. */
  clientNodes: number[] | null;
  /** Every VF of the section is on a node the process may run on (at the grant with NumaAware, else now); null = unknown. */
  local: boolean | null;
  /** Shares the holder counts against. */
  shares: string[];
  alive: boolean;
  since: string;
  heldSeconds: number;
  requests: number;
  adopted: boolean;
  connId: number;
  /** The Kubernetes container holding it (managed mode of the kubelet plugin), else null. */
  pod: PodRef | null;
}

/** ISO text of each grant's time, made once per holder (a 4096-row answer would otherwise format 4096 dates). */
const sinceIso = new WeakMap<object, string>();
function isoOf(h: { since: number }): string {
  let t = sinceIso.get(h);
  if (t === undefined) { t = new Date(h.since).toISOString(); sinceIso.set(h, t); }
  return t;
}

/** Locality as decided at the grant when the daemon looked it up, else from the nodes the process may run on now. */
function localOf(h: Holder, nowNodes: number[] | null, vfNodes: number[]): boolean | null {
  if (h.local !== undefined) return h.local;
  return nowNodes === null || nowNodes.length === 0 ? null : vfNodes.every((n) => nowNodes.includes(n));
}

/** One row per held section with what /proc says about its holder (each pid read once per call). */
export interface AllocationsView {
  allocations: HolderView[];
  refusals: AdminEvent[];
  sections: { total: number; held: number };
}

export function allocationsView(ctx: AdminContext, opts: { refusals?: number } = {}): AllocationsView {
  const m = ctx.manager;
  const roots = m.settings.roots;
  const users = new UserNames([path.join(roots.etc, 'passwd'), '/etc/passwd']);
  const facts = new Map<number, ProcessFacts>();
  const now = Date.now();
  const rows: HolderView[] = [];
  for (const s of m.allocator.sections) {
    const h = s.holder;
    if (!h) continue;
    let f = facts.get(h.pid);
    if (!f) {
      f = readProcessFacts(roots.pids, h.pid, m.inventory.cpus);
      facts.set(h.pid, f);
    }
    const sf = ctx.sectionFacts[s.index];
    rows.push({
      section: s.name, index: s.index, bdfs: sf.bdfs, vfNumaNodes: sf.vfNumaNodes, instances: sf.instances,
      pid: h.pid, uid: h.uid, gid: h.gid, user: users.name(h.uid), processName: h.processName,
      comm: f.comm, cmdline: f.cmdline, unit: f.unit, container: f.container, numaNodes: f.numaNodes,
      clientNodes: h.client?.nodes ?? null, local: localOf(h, f.numaNodes, sf.vfNumaNodes), shares: shareLabels(ctx, h), alive: f.alive,
      since: isoOf(h), heldSeconds: Math.max(0, Math.round((now - h.since) / 1000)),
      requests: h.requests, adopted: h.adopted === true, connId: h.connId, pod: h.pod ?? null,
    });
  }
  const c = m.allocator.counts();
  return { allocations: rows, refusals: ctx.ring.list({ kinds: ['refusal'], limit: opts.refusals ?? 10 }), sections: { total: c.total, held: c.held } };
}
