// The kubelet plugin of a running manager: pools, resources, reservations, gRPC endpoints, health and reconcile loops.
//
// `prepareKubelet` runs before the client socket accepts (synchronously: no client can take a section that
// belongs to the kubelet, or is reserved for a pod, in between); `start` then loads gRPC and talks to the kubelet.

import fs from 'node:fs';
import path from 'node:path';
import type { Logger } from '../log.js';
import type { Manager } from '../manager.js';
import type { Ledger } from '../sections/ledger.js';
import type { ReservationEntry } from '../sections/reservations.js';
import type { Section } from '../sections/allocator.js';
import type { VfInfo } from '../platform/discover.js';
import type { KubeletSettings } from '../config/settings.js';
import { loadKubeletApis, type KubeletApis } from './grpc.js';
import { splitPools, buildResources, deviceList, type Pools, type ResourceSet, type HealthFacts } from './resources.js';
import { preferredAllocation } from './preferred.js';
import { standaloneResponse, managedResponse } from './allocate.js';
import { Reservations, describePod, SOCKET_NAME, type Reservation } from './managed.js';
import { SysfsDeviceHealth, MonitorDeviceHealth, type DeviceHealthSource, type PfHealth } from './health.js';
import { assignmentsOf, listPodResources, planReconcile, podResourcesSocket } from './reconcile.js';
import { ResourceEndpoint, PluginError, kubeletSocketIno, type RegistrationState } from './plugin.js';
import { DEVICE_PLUGINS_DIR, MANAGED_RESOURCE, HEALTHY, type AllocateRequest, type AllocateResponse, type PreferredAllocationRequest, type PreferredAllocationResponse } from './api.js';

/** How long a fresh reservation may be missing from the kubelet's list before it is taken for ended. */
const RECONCILE_GRACE_MS = 60_000;
const RECONCILE_EVERY_MS = 30_000;
const WATCH_EVERY_MS = 1000;

export interface KubeletDeps {
  manager: Manager;
  ledger: Ledger;
  settings: KubeletSettings;
  /** Reservations the ledger held at start (RestoreReport.reservations). */
  restored: ReservationEntry[];
  log: Logger;
  /** Where device health comes from (tests, the health issue's monitor); default: PF state and VF presence in sysfs. */
  health?: DeviceHealthSource;
}

export interface KubeletView {
  kubeletDir: string;
  devicePluginsDir: string;
  podResourcesSocket: string;
  healthSource: string;
  pools: { managed: string[]; standalone: string[]; host: string[] };
  resources: Array<{ name: string; kind: 'standalone' | 'managed'; endpoint: string; registration: RegistrationState; streams: number; devices: number; healthy: number }>;
  reservations: Array<{ key: string; sections: string[]; vfs: string[]; since: string; pod: Reservation['entry']['pod']; socket: string; socketError: string | null; held: Array<{ section: string; pid: number }> }>;
  podResources: { lastListAt: string | null; error: string | null; pods: number | null };
  pfs: Array<{ bdf: string } & PfHealth>;
}

const KEEP_MANAGED = `the kubelet plugin (${MANAGED_RESOURCE})`;
const KEEP_STANDALONE = 'the kubelet plugin (VFs given to pods directly)';

export class KubeletPlugin {
  private pools!: Pools;
  private resources: ResourceSet[] = [];
  private sectionOrder = new Map<string, number>();
  readonly reservations: Reservations;
  private readonly health: DeviceHealthSource;
  private readonly facts: HealthFacts;
  private apis: KubeletApis | undefined;
  private readonly endpoints = new Map<string, ResourceEndpoint>();
  private timers: NodeJS.Timeout[] = [];
  private watching = false;
  private closed = false;
  private readonly pr = { lastListAt: null as string | null, error: null as string | null, pods: null as number | null, lastLogged: '' };
  private reconciling: Promise<void> | undefined;

  constructor(private readonly d: KubeletDeps) {
    const m = d.manager;
    this.health = d.health ?? (m.health.enabled ? new MonitorDeviceHealth(m.health, m.settings.roots, m.inventory.vfs) : new SysfsDeviceHealth(m.settings.roots, m.inventory.vfs));
    this.facts = {
      pfProblem: (bdf) => {
        const h = this.health.pf(bdf);
        return h.state === 'unhealthy' || h.state === 'gone' ? (h.reason ?? h.state) : undefined;
      },
      vfPresent: (vf) => this.health.vfPresent(vf),
      outOfService: (bdf) => (m.allocator.isOutOfService(bdf) ? 'drained (qatctl drain)' : undefined),
    };
    this.reservations = new Reservations({
      allocator: m.allocator, server: m.server, runDir: m.settings.roots.run, pidsRoot: m.settings.roots.pids, log: d.log,
      persist: () => d.ledger.reservationsChanged(),
      onBound: () => { void this.reconcile(); },
    });
    this.layout();
    this.restore(d.restored);
    d.ledger.setReservations(() => this.reservations.entries());
    d.ledger.reservationsChanged();
    m.ctx.scope = (s, name) => this.reservations.scope(s, name);
  }

  private get dir(): string {
    return path.join(this.d.settings.dir, DEVICE_PLUGINS_DIR);
  }

  /** Pools and resources from the current plan; keeps every kubelet section from first fit. */
  private layout(): void {
    const a = this.d.manager.allocator;
    if (this.pools) for (const s of [...this.pools.managed, ...this.pools.standalone]) a.keep(s.name, undefined);
    const planned = new Set(a.sections.flatMap((s) => s.plan.devices.map((d) => d.vf.bdf)));
    const unplanned = this.d.manager.inventory.vfs.filter((v) => !planned.has(v.bdf));
    this.pools = splitPools(a.sections, unplanned, this.d.settings.managed, this.d.settings.standalone);
    for (const s of this.pools.managed) a.keep(s.name, KEEP_MANAGED);
    for (const s of this.pools.standalone) a.keep(s.name, KEEP_STANDALONE);
    const services = new Map<string, string | undefined>();
    for (const s of a.sections) for (const dv of s.plan.devices) services.set(dv.vf.bdf, dv.caps.services);
    this.resources = buildResources(this.pools, (vf: VfInfo) => services.get(vf.bdf));
    this.sectionOrder = new Map(this.pools.managed.map((s, i) => [s.name, i]));
  }

  /** Take over the ledger's reservations whose sections are still managed devices. */
  private restore(entries: ReservationEntry[]): void {
    for (const e of entries) {
      const sections = this.managedSections(e.sections);
      if (typeof sections === 'string') {
        this.d.log.warn({ event: 'reservation_dropped', reservation: e.key, sections: e.sections, pod: e.pod, why: sections }, `reservation ${e.key} from the ledger dropped: ${sections}`);
        continue;
      }
      this.reservations.add(sections, { since: e.since, pod: { ...e.pod }, persist: false });
      this.d.log.info({ event: 'reservation_restored', reservation: e.key, sections: e.sections, pod: e.pod }, `reservation ${e.key} (${e.sections.join(', ')}) restored from the ledger: ${describePod(e.pod)}`);
    }
  }

  /** The managed sections with these names in plan order, or why they are not all managed devices. */
  private managedSections(names: readonly string[]): Section[] | string {
    const bad = names.filter((n) => !this.sectionOrder.has(n));
    if (bad.length) return `${bad.join(', ')} ${bad.length > 1 ? 'are' : 'is'} not a device of ${MANAGED_RESOURCE} (the managed pool is ${this.pools.managed.map((s) => s.name).join(', ') || 'empty'})`;
    return [...new Set(names)].sort((x, y) => this.sectionOrder.get(x)! - this.sectionOrder.get(y)!).map((n) => this.pools.managed[this.sectionOrder.get(n)!]);
  }

  /** Load gRPC, open the reservations' sockets, serve every resource, and start the loops. */
  async start(): Promise<void> {
    this.apis = await loadKubeletApis();
    await Promise.all(this.reservations.list().map((r) => this.reservations.openSocket(r)));
    fs.mkdirSync(this.dir, { recursive: true, mode: 0o750 });
    await this.syncEndpoints();
    this.timers.push(setInterval(() => this.tick(), this.d.settings.healthIntervalMs));
    this.timers.push(setInterval(() => { void this.watch(); }, WATCH_EVERY_MS));
    this.timers.push(setInterval(() => { void this.reconcile(); }, RECONCILE_EVERY_MS));
    for (const t of this.timers) t.unref();
    // registration does not hold up readiness: a kubelet that is away or slow is waited for in the background
    void this.watch();
    void this.reconcile();
  }

  /** Endpoints for the current resources: new ones served, gone ones closed. */
  private async syncEndpoints(): Promise<void> {
    const want = new Map(this.resources.map((r) => [r.name, r]));
    for (const [name, ep] of this.endpoints) {
      if (!want.has(name)) {
        this.endpoints.delete(name);
        await ep.close();
      }
    }
    for (const r of this.resources) {
      if (this.endpoints.has(r.name)) continue;
      const ep = new ResourceEndpoint(this.apis!, r.name, this.dir, {
        list: () => deviceList(this.resourceNamed(r.name) ?? r, this.facts),
        preferred: (req) => this.preferred(r.name, req),
        allocate: (req) => this.allocate(r.name, req),
      }, this.d.log);
      this.endpoints.set(r.name, ep);
      try {
        await ep.serve();
      } catch (e) {
        this.d.log.error({ event: 'kubelet_serve_failed', resource: r.name, err: (e as Error).message }, (e as Error).message);
      }
    }
  }

  private resourceNamed(name: string): ResourceSet | undefined {
    return this.resources.find((r) => r.name === name);
  }

  /** Health: read again, send the lists that changed. */
  private tick(): void {
    this.health.refresh();
    for (const [name, ep] of this.endpoints) {
      const r = this.resourceNamed(name);
      if (r) ep.push(deviceList(r, this.facts));
    }
  }

  /** The kubelet: serve sockets it wiped, notice a new kubelet.sock, register what is not registered. */
  private async watch(): Promise<void> {
    if (this.watching || this.closed) return;
    this.watching = true;
    try {
      const ino = kubeletSocketIno(this.dir);
      const now = Date.now();
      for (const ep of this.endpoints.values()) {
        if (!ep.socketPresent()) {
          if (ep.registeredWith !== undefined) this.d.log.warn({ event: 'kubelet_restarted', resource: ep.resource, socket: ep.socket }, `${ep.socket} is gone (the kubelet restarted and cleared ${this.dir}); serving it again and registering anew`);
          ep.unregistered();
          try { await ep.serve(); } catch (e) { this.d.log.error({ event: 'kubelet_serve_failed', resource: ep.resource, err: (e as Error).message }, (e as Error).message); continue; }
        } else if (ep.registeredWith !== undefined && ep.registeredWith !== ino) {
          this.d.log.warn({ event: 'kubelet_restarted', resource: ep.resource }, `the kubelet's socket changed (${ino === undefined ? 'gone' : 'a new kubelet'}); registering ${ep.resource} anew`);
          ep.unregistered();
        }
        const before = ep.reg.registrations;
        await ep.registerIfDue(ino, now);
        // a restarted kubelet has its own checkpoint: compare our reservations with it again
        if (before > 0 && ep.reg.registrations > before && ep.resource === MANAGED_RESOURCE) void this.reconcile();
      }
    } finally {
      this.watching = false;
    }
  }

  private preferred(resource: string, req: PreferredAllocationRequest): PreferredAllocationResponse {
    const set = this.resourceNamed(resource);
    if (!set) throw new PluginError('FAILED_PRECONDITION', `${resource} is no longer served`);
    return {
      container_responses: req.container_requests.map((c, i) => {
        const r = preferredAllocation({ available: c.available_deviceIDs, mustInclude: c.must_include_deviceIDs, size: c.allocation_size }, set.byId);
        if ('error' in r) throw new PluginError('INVALID_ARGUMENT', `GetPreferredAllocation for ${resource}, container request ${i}: ${r.error}`);
        return { deviceIDs: r };
      }),
    };
  }

  /** Check every container request before doing anything: a bad one reserves nothing. */
  private checkIds(set: ResourceSet, req: AllocateRequest): string[][] {
    const seen = new Set<string>();
    return req.container_requests.map((c, i) => {
      const ids = c.devices_ids ?? [];
      if (ids.length === 0) throw new PluginError('INVALID_ARGUMENT', `Allocate for ${set.name}, container request ${i}: no device IDs`);
      for (const id of ids) {
        if (!set.byId.has(id)) {
          const sample = set.devices.slice(0, 3).map((d) => d.id).join(', ');
          throw new PluginError('INVALID_ARGUMENT', `Allocate for ${set.name}: unknown device ID "${id}" (this resource's devices are ${sample}${set.devices.length > 3 ? ', …' : ''}); nothing was allocated`);
        }
        if (seen.has(id)) throw new PluginError('INVALID_ARGUMENT', `Allocate for ${set.name}: device ID "${id}" is asked for twice; nothing was allocated`);
        seen.add(id);
      }
      return ids;
    });
  }

  private async allocate(resource: string, req: AllocateRequest): Promise<AllocateResponse> {
    const set = this.resourceNamed(resource);
    if (!set) throw new PluginError('FAILED_PRECONDITION', `${resource} is no longer served`);
    const lists = this.checkIds(set, req);
    const devRoot = this.d.manager.settings.roots.dev;
    if (set.kind === 'standalone') {
      return { container_responses: lists.map((ids) => standaloneResponse(ids.flatMap((id) => set.byId.get(id)!.vfs), devRoot)) };
    }
    // managed: a section held by a live process of another reservation is not given again, whatever the kubelet thinks
    for (const ids of lists) {
      for (const id of ids) {
        const r = this.reservations.ofSection(id);
        const held = r ? this.reservations.heldSections(r) : [];
        if (held.length) {
          const h = held[0].holder!;
          throw new PluginError('FAILED_PRECONDITION', `Allocate for ${resource}: ${id} is in reservation ${r!.entry.key} and ${held[0].name} is still held by pid ${h.pid} (${describePod(r!.entry.pod)}); nothing was allocated`);
        }
      }
    }
    const out: AllocateResponse = { container_responses: [] };
    for (const ids of lists) {
      const sections = this.managedSections(ids) as Section[];
      const names = sections.map((s) => s.name);
      const old = [...new Set(names.map((n) => this.reservations.ofSection(n)).filter((r): r is Reservation => r !== undefined))];
      let r: Reservation;
      if (old.length === 1 && old[0].entry.sections.length === names.length && names.every((n) => old[0].entry.sections.includes(n))) {
        // the same sections again (a retried Allocate, or a pod's next container reusing them): bound anew by the next process
        r = old[0];
        this.reservations.unbind(r);
        if (!r.closer) await this.reservations.openSocket(r);
      } else {
        for (const o of old) await this.reservations.remove(o.entry.key, 'the kubelet allocated its sections again', { persist: false });
        r = this.reservations.add(sections);
        await this.reservations.openSocket(r);
      }
      this.d.log.info({ event: 'reservation', reservation: r.entry.key, sections: names, bdf: r.entry.vfs }, `reserved ${names.join(', ')} for a container (reservation ${r.entry.key}, socket ${path.join(this.reservations.socketDir(r.entry.key), SOCKET_NAME)})`);
      out.container_responses.push(managedResponse(r.entry.key, sections.map((s) => ({ name: s.name, vfs: s.plan.devices.map((dv) => dv.vf) })), this.reservations.socketDir(r.entry.key), devRoot));
    }
    return out;
  }

  /** Compare the reservations with the kubelet's Pod Resources list and act on the differences. */
  reconcile(): Promise<void> {
    this.reconciling ??= this.reconcileOnce().finally(() => { this.reconciling = undefined; });
    return this.reconciling;
  }

  private async reconcileOnce(): Promise<void> {
    if (!this.apis || this.closed) return;
    const sock = podResourcesSocket(this.d.settings.dir);
    let pods;
    try {
      pods = await listPodResources(this.apis, sock);
    } catch (e) {
      this.pr.error = fs.existsSync(sock) ? (e as Error).message : `${sock} does not exist (is ${path.dirname(sock)} mounted?); reservations are kept as the ledger has them`;
      if (this.pr.error !== this.pr.lastLogged) this.d.log.warn({ event: 'pod_resources_failed', err: this.pr.error }, `cannot reconcile reservations: ${this.pr.error}`);
      this.pr.lastLogged = this.pr.error;
      return;
    }
    this.pr.error = null;
    this.pr.lastLogged = '';
    this.pr.lastListAt = new Date().toISOString();
    this.pr.pods = pods.length;
    if (this.closed) return;
    const plan = planReconcile(this.reservations.entries(), assignmentsOf(pods, MANAGED_RESOURCE), this.sectionOrder, Date.now(), RECONCILE_GRACE_MS);
    let changed = false;
    for (const c of plan.confirm) {
      const p = this.reservations.get(c.key)?.entry.pod;
      if (!p || (p.namespace === c.namespace && p.name === c.pod && p.container === c.container)) continue;
      Object.assign(p, { namespace: c.namespace, name: c.pod, container: c.container });
      changed = true;
      this.d.log.info({ event: 'reservation_named', reservation: c.key, namespace: c.namespace, pod: c.pod, container: c.container }, `reservation ${c.key} is ${c.namespace}/${c.pod} container ${c.container}`);
    }
    for (const dr of plan.drop) {
      await this.reservations.remove(dr.key, dr.why, { persist: false });
      changed = true;
    }
    for (const a of plan.create) {
      const sections = this.managedSections(a.sections) as Section[];
      const r = this.reservations.add(sections, { persist: false, pod: { uid: null, containerId: null, namespace: a.namespace, name: a.pod, container: a.container } });
      changed = true;
      this.d.log.info({ event: 'reservation_recovered', reservation: r.entry.key, sections: r.entry.sections, namespace: a.namespace, pod: a.pod, container: a.container }, `reservation ${r.entry.key} (${a.sections.join(', ')}) recovered from the kubelet's Pod Resources list for ${a.namespace}/${a.pod} container ${a.container}`);
      await this.reservations.openSocket(r);
    }
    for (const p of plan.problems) this.d.log.warn({ event: 'pod_resources_problem' }, p);
    if (changed) this.d.ledger.reservationsChanged();
  }

  /** After a rescan: pools, resources and device lists from the new plan; reservations whose sections moved end. */
  async refresh(): Promise<void> {
    this.layout();
    if (this.health instanceof SysfsDeviceHealth) this.health.setVfs(this.d.manager.inventory.vfs);
    for (const r of this.reservations.list()) {
      const now = this.managedSections(r.entry.sections);
      const vfs = typeof now === 'string' ? [] : now.flatMap((s) => s.plan.devices.map((dv) => dv.vf.bdf));
      if (typeof now === 'string' || vfs.join() !== r.entry.vfs.join()) await this.reservations.remove(r.entry.key, typeof now === 'string' ? now : 'its sections hold other VFs after the rescan');
    }
    if (this.apis) {
      await this.syncEndpoints();
      this.tick();
      await this.watch();
    }
  }

  view(): KubeletView {
    const counts = (r: ResourceSet): { devices: number; healthy: number } => {
      const l = deviceList(r, this.facts);
      return { devices: l.length, healthy: l.filter((x) => x.health === HEALTHY).length };
    };
    const pfs = [...new Set(this.d.manager.inventory.vfs.map((v) => v.pf?.bdf).filter((b): b is string => b !== undefined))];
    return {
      kubeletDir: this.d.settings.dir,
      devicePluginsDir: this.dir,
      podResourcesSocket: podResourcesSocket(this.d.settings.dir),
      healthSource: this.health.name,
      pools: { managed: this.pools.managed.map((s) => s.name), standalone: this.pools.standalone.map((s) => s.name), host: this.pools.host.map((s) => s.name) },
      resources: this.resources.map((r) => {
        const ep = this.endpoints.get(r.name);
        return { name: r.name, kind: r.kind, endpoint: ep?.endpoint ?? '', registration: ep?.reg ?? { state: 'registering', error: null, registeredAt: null, registrations: 0 }, streams: ep?.streamCount ?? 0, ...counts(r) };
      }),
      reservations: this.reservations.list().map((r) => ({
        key: r.entry.key, sections: r.entry.sections, vfs: r.entry.vfs, since: new Date(r.entry.since).toISOString(), pod: r.entry.pod,
        socket: path.join(this.reservations.socketDir(r.entry.key), SOCKET_NAME), socketError: r.socketError ?? null,
        held: this.reservations.heldSections(r).map((s) => ({ section: s.name, pid: s.holder!.pid })),
      })),
      podResources: { lastListAt: this.pr.lastListAt, error: this.pr.error, pods: this.pr.pods },
      pfs: pfs.map((bdf) => ({ bdf, ...this.health.pf(bdf) })),
    };
  }

  /** Stop serving the kubelet; reservations stay in the ledger (the next daemon takes them over). */
  async close(): Promise<void> {
    this.closed = true;
    for (const t of this.timers) clearInterval(t);
    this.timers = [];
    await Promise.all([...this.endpoints.values()].map((ep) => ep.close()));
    this.endpoints.clear();
    await this.reservations.closeSockets();
  }
}

/** Set the plugin up (pools, reservations, recognition) before the client socket serves; `start()` it after. */
export function prepareKubelet(d: KubeletDeps): KubeletPlugin {
  return new KubeletPlugin(d);
}
