// Managed mode: reservations of sections for Kubernetes containers, their sockets, and who gets what when libqat asks.
//
// Allocate reserves the sections the kubelet picked (the devices of qat.intel.com/managed) and opens a socket for
// that reservation in <run dir>/k8s/<key>/qatmgr.sock; the container gets that directory at /run/qat. A process
// asking for a section through it is recognised by SO_PEERCRED pid -> /proc/<pid>/cgroup -> pod UID and container
// id: the first one binds the reservation to its pod, later ones must come from the same pod (a restarted
// container has a new id in the same pod) and get one of the reservation's free sections. On the client socket, a
// process of a pod whose reservation is bound gets that reservation's sections; other pod processes get none;
// host processes get the host's sections. Reservations are written to the ledger on every change and reconciled
// with the kubelet's Pod Resources list (reconcile.ts).

import fs from 'node:fs';
import path from 'node:path';
import type { Logger } from '../log.js';
import type { Allocator, PodRef, Section } from '../sections/allocator.js';
import type { ReservationEntry } from '../sections/reservations.js';
import type { GrantScope, Session } from '../protocol/handler.js';
import type { QatServer } from '../server/server.js';
import { readPodIdentity } from '../platform/pod-cgroup.js';
import { describeSysError } from '../errors.js';
import { MANAGED_RESOURCE } from './api.js';

/** Where reservation sockets live below the run directory. */
export const RESERVATIONS_DIR = 'k8s';
export const SOCKET_NAME = 'qatmgr.sock';

export interface Reservation {
  entry: ReservationEntry;
  /** Stops the reservation's socket; undefined while it is not listening. */
  closer?: { close(): Promise<void> };
  /** Why its socket could not be opened, if it could not. */
  socketError?: string;
}

export interface ReservationsOptions {
  allocator: Allocator;
  server: Pick<QatServer, 'listenExtra'>;
  runDir: string;
  pidsRoot: string;
  log: Logger;
  /** Write the ledger (called after every change, before the caller answers). */
  persist: () => void;
  /** A reservation was bound to a pod: look up its names (Pod Resources). */
  onBound?: (r: Reservation) => void;
}

/** A stand-in for a missing name or id in messages. */
const show = (v: string | null): string => v ?? '?';
export function describePod(p: PodRef): string {
  const names = p.namespace !== null || p.name !== null ? `${show(p.namespace)}/${show(p.name)}${p.container ? ` container ${p.container}` : ''}` : null;
  const ids = p.uid ? `pod ${p.uid}${p.containerId ? ` container ${p.containerId.slice(0, 12)}` : ''}` : null;
  return [names, ids].filter(Boolean).join(', ') || 'no pod yet';
}

export const emptyPod = (): PodRef => ({ uid: null, containerId: null, namespace: null, name: null, container: null });

export class Reservations {
  private readonly byKey = new Map<string, Reservation>();
  /** section name -> reservation key */
  private readonly bySection = new Map<string, string>();

  constructor(private readonly opts: ReservationsOptions) {}

  get size(): number {
    return this.byKey.size;
  }

  list(): Reservation[] {
    return [...this.byKey.values()];
  }

  /** What the ledger stores. */
  entries(): ReservationEntry[] {
    return this.list().map((r) => r.entry);
  }

  get(key: string): Reservation | undefined {
    return this.byKey.get(key);
  }

  /** The reservation holding `section`, if any. */
  ofSection(section: string): Reservation | undefined {
    const k = this.bySection.get(section);
    return k === undefined ? undefined : this.byKey.get(k);
  }

  socketDir(key: string): string {
    return path.join(this.opts.runDir, RESERVATIONS_DIR, key);
  }

  /** The live sections of a reservation, by name (the plan may have been rebuilt since). */
  sectionsOf(r: Reservation): Section[] {
    const want = new Set(r.entry.sections);
    return this.opts.allocator.sections.filter((s) => want.has(s.name));
  }

  /** Sections of a reservation held right now, with their holders. */
  heldSections(r: Reservation): Section[] {
    return this.sectionsOf(r).filter((s) => s.holder !== null);
  }

  /**
   * Add a reservation (its socket is opened by `openSocket`). Writes the ledger unless `persist` is false.
   * `sections` (in plan order) must be in no other reservation.
   */
  add(sections: Section[], opts: { since?: number; pod?: PodRef; persist?: boolean } = {}): Reservation {
    const names = sections.map((s) => s.name);
    const key = names[0];
    const entry: ReservationEntry = {
      key, resource: MANAGED_RESOURCE, sections: names, vfs: sections.flatMap((s) => s.plan.devices.map((d) => d.vf.bdf)),
      since: opts.since ?? Date.now(), pod: opts.pod ?? emptyPod(),
    };
    const r: Reservation = { entry };
    this.byKey.set(key, r);
    for (const n of names) this.bySection.set(n, key);
    // the holders of these sections now (adopted from before a restart) belong to this pod
    for (const s of sections) if (s.holder) s.holder.pod = entry.pod;
    if (opts.persist !== false) this.opts.persist();
    return r;
  }

  /**
   * Open (or open again) a reservation's socket. A failure is logged and kept in `socketError`, the reservation
   * stays: the kubelet already counts its devices as used.
   */
  async openSocket(r: Reservation): Promise<void> {
    await r.closer?.close();
    r.closer = undefined;
    const dir = this.socketDir(r.entry.key);
    const sock = path.join(dir, SOCKET_NAME);
    try {
      // the parent is traversable but not listable: a host user cannot see which reservations exist
      fs.mkdirSync(path.dirname(dir), { recursive: true, mode: 0o711 });
      fs.mkdirSync(dir, { recursive: true, mode: 0o755 });
      try { fs.unlinkSync(sock); } catch { /* not there */ }
      // any uid may connect (pods run as any user); only a process of the reservation's pod is granted a section
      r.closer = await this.opts.server.listenExtra(sock, r.entry.key, { mode: 0o666 });
      r.socketError = undefined;
    } catch (e) {
      r.socketError = describeSysError(e);
      this.opts.log.error({ event: 'reservation_socket_failed', reservation: r.entry.key, path: sock, err: r.socketError }, `cannot open the socket of reservation ${r.entry.key} at ${sock}: ${r.socketError}; its container cannot reach the manager`);
    }
  }

  /** End a reservation: close its socket (its connections too), remove its directory, write the ledger. */
  async remove(key: string, why: string, opts: { persist?: boolean } = {}): Promise<void> {
    const r = this.byKey.get(key);
    if (!r) return;
    this.byKey.delete(key);
    for (const n of r.entry.sections) if (this.bySection.get(n) === key) this.bySection.delete(n);
    if (opts.persist !== false) this.opts.persist();
    this.opts.log.info({ event: 'reservation_end', reservation: key, sections: r.entry.sections, pod: r.entry.pod, why }, `reservation ${key} (${r.entry.sections.join(', ')}; ${describePod(r.entry.pod)}) ended: ${why}`);
    await r.closer?.close();
    try { fs.rmSync(this.socketDir(key), { recursive: true, force: true }); } catch { /* gone */ }
  }

  /** Close every socket without ending the reservations (shutdown: the next daemon opens them again). */
  async closeSockets(): Promise<void> {
    await Promise.all(this.list().map((r) => r.closer?.close()));
  }

  /** Forget a reservation's binding: the next process through its socket binds it again (a new Allocate). */
  unbind(r: Reservation): void {
    Object.assign(r.entry.pod, emptyPod());
    r.entry.since = Date.now();
    this.opts.persist();
  }

  /** The grant decision for one SECTION_GET (ServeContext.scope). */
  scope(s: Session, _processName: string): GrantScope {
    if (s.via !== undefined) return this.scopeForReservation(s, s.via);
    const id = readPodIdentity(this.opts.pidsRoot, s.pid);
    // no pod (or a pid this namespace cannot see): a host process, served from the host's sections
    if (id === null || id === 'gone') return undefined;
    // the container's own reservations, else its pod's (a container restarted since the binding has a new id)
    const samePod = this.list().filter((r) => r.entry.pod.uid === id.podUid);
    const exact = samePod.filter((r) => r.entry.pod.containerId === id.containerId);
    const mine = exact.length ? exact : samePod;
    if (mine.length === 0) {
      return { refuse: `pid ${s.pid} runs in pod ${id.podUid}${id.containerId ? ` (container ${id.containerId.slice(0, 12)})` : ''}, which holds no ${MANAGED_RESOURCE} reservation bound on this node; request ${MANAGED_RESOURCE} and use the socket the plugin mounts at /run/qat` };
    }
    return { among: mine.flatMap((r) => this.sectionsOf(r)), pod: mine[0].entry.pod };
  }

  private scopeForReservation(s: Session, key: string): GrantScope {
    const r = this.byKey.get(key);
    if (!r) return { refuse: `reservation ${key} has ended` };
    const id = readPodIdentity(this.opts.pidsRoot, s.pid);
    if (id === 'gone') {
      return { refuse: `cannot read /proc/${s.pid}/cgroup of the client (pid ${s.pid}) on reservation ${key}'s socket; the plugin must run in the host's pid namespace (hostPID: true)` };
    }
    if (id === null) return { refuse: `pid ${s.pid} is in no Kubernetes pod; the socket of reservation ${key} serves only the container it was allocated to` };
    if (id.containerId === null) return { refuse: `pid ${s.pid} is in pod ${id.podUid} but in no container's cgroup (${id.cgroup})` };
    const p = r.entry.pod;
    if (p.uid !== null && p.uid !== id.podUid) {
      return { refuse: `reservation ${key} belongs to ${describePod(p)}, not to pod ${id.podUid} of pid ${s.pid}` };
    }
    if (p.uid === null || p.containerId !== id.containerId) {
      const first = p.uid === null;
      const was = p.containerId;
      p.uid = id.podUid;
      p.containerId = id.containerId;
      this.opts.persist();
      if (first) {
        this.opts.log.info({ event: 'reservation_bound', reservation: key, sections: r.entry.sections, pid: s.pid, podUid: id.podUid, containerId: id.containerId, qos: id.qos, cgroupDriver: id.driver, runtime: id.runtime }, `reservation ${key} bound to pod ${id.podUid} container ${id.containerId.slice(0, 12)} (pid ${s.pid})`);
        this.opts.onBound?.(r);
      } else {
        this.opts.log.info({ event: 'reservation_rebound', reservation: key, pid: s.pid, podUid: id.podUid, containerId: id.containerId, was }, `reservation ${key}: container of pod ${id.podUid} is now ${id.containerId.slice(0, 12)} (was ${was?.slice(0, 12) ?? 'none'}: restarted)`);
      }
    }
    return { among: this.sectionsOf(r), pod: p };
  }
}
