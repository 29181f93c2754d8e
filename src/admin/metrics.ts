// Prometheus exposition (prom-client): every value is read at scrape time from the live counters, never per request.

import { createRequire } from 'node:module';
import type { Registry, Metric } from 'prom-client';
import { MSG_NAMES, HEADER_SIZE, MsgType } from '../protocol/constants.js';
import type { VfInfo } from '../platform/discover.js';
import { RELEASE, QATLIB_PROTOCOL } from '../version.js';
import { readCString } from '../protocol/decode.js';
import { LATENCY_BUCKETS_S, MAX_REQUEST_TYPE_COUNTED } from '../server/counters.js';
import type { AdminContext } from './views.js';
import { HEALTH_STATES } from '../health/state.js';
import { RealKernelFs } from '../platform/kernelfs.js';
import { readIdxdInventory, type IdxdInventory } from '../idxd/inventory.js';

/** Counters the admin server keeps about itself. */
export interface AdminCounters {
  requests: Map<string, number>;
  errors: Map<string, number>;
  /** Seconds spent answering (building the view and encoding the JSON), by op. */
  seconds: Map<string, number>;
  /** Admin connections refused or closed, by reason (rejected, evicted, overflowed, idle). */
  closed: Map<string, number>;
}

function typeName(i: number): string {
  if (i > MAX_REQUEST_TYPE_COUNTED) return 'OTHER';
  return MSG_NAMES[i] ?? `TYPE_${i}`;
}

// prom-client costs ~40 ms and ~12 MB RSS to load: it is loaded, and the registry built, on the first use of the
// registry (a scrape or an admin metrics request), not at daemon start (bench: startup, memory)
const requireCjs = createRequire(import.meta.url);

/** The registry for one daemon, built on first use. Collection walks the allocator once per scrape. */
export function buildMetrics(ctx: AdminContext, admin: AdminCounters): Registry {
  let real: Registry | undefined;
  const get = (): Registry => (real ??= buildRegistry(ctx, admin));
  return new Proxy({} as Registry, {
    get(_t, prop) {
      const r = get();
      const v = Reflect.get(r, prop, r) as unknown;
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(r) : v;
    },
    has(_t, prop) {
      return Reflect.has(get(), prop);
    },
  });
}

function buildRegistry(ctx: AdminContext, admin: AdminCounters): Registry {
  const { Registry, Counter, Gauge, collectDefaultMetrics } = requireCjs('prom-client') as typeof import('prom-client');
  const reg = new Registry();
  const m = ctx.manager;
  const a = m.allocator;
  const server = m.server;
  const registers = [reg];

  new Gauge({
    name: 'qatmgr_sections', help: 'Sections by state (held, free, out-of-service)', labelNames: ['state'], registers,
    collect() {
      const c = a.counts();
      this.set({ state: 'held' }, c.held);
      this.set({ state: 'free' }, c.free);
      this.set({ state: 'out-of-service' }, c.blocked);
    },
  });
  new Gauge({ name: 'qatmgr_sections_planned', help: 'Sections in the plan', registers, collect() { this.set(a.sections.length); } });
  // per-VF series carry where the VF is (PF, NUMA node) and what it is (family), so dashboards can group them
  const vfLabels = ['bdf', 'pf', 'numa_node', 'family'];
  const vfSeries = (vf: VfInfo): Record<string, string | number> => ({ bdf: vf.bdf, pf: vf.pf?.bdf ?? 'none', numa_node: vf.numaNode, family: vf.family.name });
  new Gauge({
    name: 'qatmgr_vf_held', help: 'Whether a VF belongs to a held section (1) or not (0)', labelNames: [...vfLabels, 'section'], registers,
    collect() {
      this.reset();
      for (const s of a.sections) for (const d of s.plan.devices) this.set({ ...vfSeries(d.vf), section: s.name }, s.holder ? 1 : 0);
    },
  });
  new Gauge({
    name: 'qatmgr_vf_out_of_service', help: 'Whether a VF is drained (1) or in service (0)', labelNames: vfLabels, registers,
    collect() {
      this.reset();
      for (const vf of m.inventory.vfs) this.set(vfSeries(vf), a.isOutOfService(vf.bdf) ? 1 : 0);
    },
  });
  const counter = (name: string, help: string, read: () => number): void => {
    new Counter({ name, help, registers, collect() { this.reset(); this.inc(read()); } });
  };
  counter('qatmgr_handshakes_total', 'libqat start-up handshakes begun (SECTION_GET requests, granted or not)', () => server.counters.byType[MsgType.SECTION_GET] ?? 0);
  counter('qatmgr_grants_total', 'Sections granted (SECTION_GET answered with a section)', () => ctx.ring.totals.grants);
  new Counter({
    name: 'qatmgr_refusals_total', help: 'SECTION_GET refused with "No section available", by reason (all-held, out-of-service, no-sections, rule: NumaAware=strict or a share)', labelNames: ['reason'], registers,
    collect() {
      this.reset();
      for (const reason of ['all-held', 'out-of-service', 'no-sections', 'rule']) this.inc({ reason }, ctx.ring.totals.refusalsByReason[reason] ?? 0);
    },
  });
  counter('qatmgr_forced_releases_total', 'Sections taken away by an administrator', () => ctx.ring.totals.forced);
  counter('qatmgr_ledger_adoptions_total', 'Sections adopted from the ledger after a restart', () => ctx.ring.totals.adoptions);
  counter('qatmgr_connections_accepted_total', 'Client connections accepted', () => server.stats.accepted);
  counter('qatmgr_connections_rejected_total', 'Client connections closed at once (connection limit, per-uid limit, or the open-file limit)', () => server.stats.rejected);
  counter('qatmgr_connections_evicted_total', 'Idle client connections (holding no section) closed to make room for a new one', () => server.stats.evicted);
  counter('qatmgr_connections_held_total', 'Times a client connection was not read because its peer did not read its replies', () => server.stats.held);
  counter('qatmgr_connections_overflowed_total', 'Client connections closed with more unread replies than the bound', () => server.stats.overflowed);
  counter('qatmgr_protocol_errors_total', 'Connections closed for a malformed frame', () => server.stats.protocolErrors);
  new Counter({
    name: 'qatmgr_releases_total', help: 'Sections released, by reason (put, disconnect, forced, owner-exited)', labelNames: ['reason'], registers,
    collect() {
      this.reset();
      for (const [reason, n] of Object.entries(ctx.ring.totals.releasesByReason)) this.inc({ reason }, n);
    },
  });
  new Counter({
    name: 'qatmgr_numa_grants_total', help: 'Sections granted with NumaAware on, by locality (local: every VF on a node the client may run on; unknown: its CPUs could not be read)',
    labelNames: ['locality'], registers,
    collect() {
      this.reset();
      for (const [locality, n] of Object.entries(ctx.ring.totals.numa)) this.inc({ locality }, n);
    },
  });
  new Gauge({
    name: 'qatmgr_share_sections', help: 'Per share (unit, uid, group or process name): sections held, and its min and max (-1: no max)', labelNames: ['share', 'state'], registers,
    collect() {
      this.reset();
      const held = a.sharesHeld();
      a.grantRules.shares.forEach((r, j) => {
        this.set({ share: r.label, state: 'held' }, held[j]);
        this.set({ share: r.label, state: 'min' }, r.min);
        this.set({ share: r.label, state: 'max' }, r.max ?? -1);
      });
    },
  });
  new Gauge({ name: 'qatmgr_connections_open', help: 'Client connections open now', registers, collect() { this.set(server.connectionCount); } });
  new Counter({
    name: 'qatmgr_requests_total', help: 'Client requests answered, by message type', labelNames: ['type'], registers,
    collect() {
      this.reset();
      server.counters.byType.forEach((n, i) => { if (n > 0) this.inc({ type: typeName(i) }, n); });
    },
  });
  new Counter({
    name: 'qatmgr_bad_replies_total', help: 'BAD replies sent, by text', labelNames: ['text'], registers,
    collect() {
      this.reset();
      // a refusal by a rule carries its reason after upstream's text: one label for all of them (reasons hold counts)
      for (const [buf, n] of server.counters.bad) this.inc({ text: readCString(buf, HEADER_SIZE).replace(/\n$/, '').replace(/^(No section available): .*/, '$1 (by a rule)') }, n);
    },
  });
  new Counter({
    name: 'qatmgr_admin_requests_total', help: 'Admin API requests, by op', labelNames: ['op'], registers,
    collect() { this.reset(); for (const [op, n] of admin.requests) this.inc({ op }, n); },
  });
  new Counter({
    name: 'qatmgr_admin_request_seconds_total', help: 'Time spent answering admin requests (view and JSON encoding), by op', labelNames: ['op'], registers,
    collect() { this.reset(); for (const [op, n] of admin.seconds) this.inc({ op }, n); },
  });
  new Counter({
    name: 'qatmgr_admin_connections_closed_total', help: 'Admin connections refused or closed by the daemon, by reason (rejected, evicted, overflowed, idle)', labelNames: ['reason'], registers,
    collect() { this.reset(); for (const [reason, n] of admin.closed) this.inc({ reason }, n); },
  });
  new Counter({
    name: 'qatmgr_admin_errors_total', help: 'Admin API error answers, by code', labelNames: ['code'], registers,
    collect() { this.reset(); for (const [code, n] of admin.errors) this.inc({ code }, n); },
  });
  new Gauge({
    name: 'qatmgr_pf_health', help: 'Health of each PF: 1 for its current state (healthy, degraded, unhealthy, gone), 0 for the others', labelNames: ['pf', 'state'], registers,
    collect() {
      this.reset();
      for (const p of m.health.states()) for (const st of HEALTH_STATES) this.set({ pf: p.pf, state: st }, p.state === st ? 1 : 0);
    },
  });
  new Counter({
    name: 'qatmgr_pf_health_transitions_total', help: 'PF health transitions, by the state entered', labelNames: ['to'], registers,
    collect() { this.reset(); for (const [to, n] of Object.entries(ctx.ring.totals.healthTransitions)) this.inc({ to }, n); },
  });
  counter('qatmgr_rescans_total', 'Rescans of the devices (SIGHUP, qatctl rescan, host changes, re-admissions, releases of awaited sections)', () => ctx.ring.totals.rescans);
  new Gauge({ name: 'qatmgr_health_poll_seconds', help: 'Time the last health poll took', registers, collect() { this.set(m.health.stats.lastMs / 1000); } });
  // DSA/IAA: read from sysfs once per scrape (both gauges share the read)
  let accel: { at: number; inv: IdxdInventory } | undefined;
  const readAccel = (): IdxdInventory => {
    const now = performance.now();
    if (!accel || now - accel.at > 500) accel = { at: now, inv: readIdxdInventory(new RealKernelFs(), m.settings.roots) };
    return accel.inv;
  };
  new Gauge({
    name: 'qatmgr_accel_device_enabled', help: 'Whether an Intel DSA/IAA device is enabled (1) or not (0)', labelNames: ['device', 'product'], registers,
    collect() {
      this.reset();
      for (const d of readAccel().devices) this.set({ device: d.dev, product: d.product }, d.state === 'enabled' ? 1 : 0);
    },
  });
  new Gauge({
    name: 'qatmgr_accel_wq_enabled', help: 'Whether a configured Intel DSA/IAA work queue is enabled (1) or not (0), with the driver it is bound to', labelNames: ['device', 'wq', 'driver'], registers,
    collect() {
      this.reset();
      for (const d of readAccel().devices) for (const w of d.wqs) {
        if (w.state === 'enabled' || w.groupId >= 0) this.set({ device: d.dev, wq: w.dev, driver: w.driver ?? '' }, w.state === 'enabled' ? 1 : 0);
      }
    },
  });
  new Gauge({ name: 'qatmgr_start_time_seconds', help: 'Start time of the daemon (Unix seconds)', registers, collect() { this.set(m.startedAt / 1000); } });
  new Gauge({ name: 'qatmgr_build_info', help: 'Release of qatmgr-ts and the qatlib protocol it speaks (always 1)', labelNames: ['version', 'protocol', 'nodejs'], registers })
    .set({ version: RELEASE, protocol: QATLIB_PROTOCOL, nodejs: process.version }, 1);
  // process_* (CPU, RSS, open fds, start time) and nodejs_* (event-loop lag, heap, GC) as every Node exporter has them
  collectDefaultMetrics({ register: reg });

  // the histogram's buckets are filled by the server (plain array); expose them as a histogram family
  const name = 'qatmgr_request_duration_seconds';
  const help = 'Time to produce the reply of one client request';
  const histogram = {
    name, help, type: 'histogram', aggregator: 'sum',
    get: async () => {
      const c = server.counters;
      const values: Array<{ metricName: string; labels: Record<string, string | number>; value: number }> = [];
      let cum = 0;
      LATENCY_BUCKETS_S.forEach((le, i) => {
        cum += c.latency[i];
        values.push({ metricName: `${name}_bucket`, labels: { le }, value: cum });
      });
      cum += c.latency[LATENCY_BUCKETS_S.length];
      values.push({ metricName: `${name}_bucket`, labels: { le: '+Inf' }, value: cum });
      values.push({ metricName: `${name}_sum`, labels: {}, value: c.latencySumS });
      values.push({ metricName: `${name}_count`, labels: {}, value: c.latencyCount });
      return { name, help, type: 'histogram', aggregator: 'sum', values };
    },
  };
  reg.registerMetric(histogram as unknown as Metric);
  return reg;
}
