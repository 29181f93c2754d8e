// Reservations against the kubelet's Pod Resources list: who the kubelet says has which section, and what to change.
//
// The kubelet is the source of truth for which container holds which device (it checkpoints its allocations). After
// a restart of either side, the ledger's reservations are compared with its List answer: a reservation the kubelet
// still lists for one container is kept (and learns that container's namespace, pod and name); one it lists for
// nobody is ended if the kubelet listed it before, else once it is older than a grace period (a container being created may not be listed yet); one whose
// sections the kubelet now lists differently is replaced; a container listed with sections but no reservation (a
// lost ledger) gets one. The planning is pure; reading the list is `listPodResources`.

import path from 'node:path';
import type { ReservationEntry } from '../sections/reservations.js';
import type { KubeletApis } from './grpc.js';
import { unixTarget } from './grpc.js';
import { POD_RESOURCES_SOCKET, type ListPodResourcesResponse, type PodResources } from './api.js';

export interface Assignment {
  namespace: string;
  pod: string;
  container: string;
  sections: string[];
}

export interface ReconcilePlan {
  /** Reservations the kubelet confirms, with the names it gives. */
  confirm: Array<{ key: string; namespace: string; pod: string; container: string }>;
  drop: Array<{ key: string; why: string }>;
  create: Assignment[];
  /** Things the kubelet says that cannot be right (logged; nothing is done about them). */
  problems: string[];
}

/** The containers holding devices of `resource`, in the kubelet's order. */
export function assignmentsOf(pods: readonly PodResources[], resource: string): Assignment[] {
  const out: Assignment[] = [];
  for (const p of pods) {
    for (const c of p.containers ?? []) {
      const ids = (c.devices ?? []).filter((d) => d.resource_name === resource).flatMap((d) => d.device_ids ?? []);
      if (ids.length) out.push({ namespace: p.namespace, pod: p.name, container: c.name, sections: ids });
    }
  }
  return out;
}

const sameSet = (a: readonly string[], b: readonly string[]): boolean => a.length === b.length && a.every((x) => b.includes(x));
const who = (a: Assignment): string => `${a.namespace}/${a.pod} container ${a.container}`;

/**
 * `order` gives each known section's place in the plan (a created reservation lists its sections in plan order,
 * and its key is the first); sections the plan does not have are problems.
 */
export function planReconcile(reservations: readonly ReservationEntry[], listed: readonly Assignment[], order: ReadonlyMap<string, number>, now: number, graceMs: number): ReconcilePlan {
  const plan: ReconcilePlan = { confirm: [], drop: [], create: [], problems: [] };
  // a section listed for two containers: keep the first, report the second
  const owner = new Map<string, Assignment>();
  const assignments: Assignment[] = [];
  for (const a of listed) {
    const dup = a.sections.find((s) => owner.has(s));
    if (dup) {
      plan.problems.push(`the kubelet lists ${dup} for both ${who(owner.get(dup)!)} and ${who(a)}; the second is ignored`);
      continue;
    }
    for (const s of a.sections) owner.set(s, a);
    assignments.push(a);
  }
  const confirmed = new Set<Assignment>();
  for (const r of reservations) {
    const matches = [...new Set(r.sections.map((s) => owner.get(s)).filter((a): a is Assignment => a !== undefined))];
    if (matches.length === 1 && sameSet(matches[0].sections, r.sections)) {
      const a = matches[0];
      confirmed.add(a);
      plan.confirm.push({ key: r.key, namespace: a.namespace, pod: a.pod, container: a.container });
    } else if (matches.length === 0) {
      // a reservation the kubelet has listed before is over once it lists it no more; one it never listed may
      // belong to a container still being created (a bound one too: binding is ours, not the kubelet's word)
      const listedBefore = r.pod.name !== null;
      if (listedBefore || now - r.since >= graceMs) plan.drop.push({ key: r.key, why: `the kubelet lists no container with ${r.sections.join(', ')}: its pod has ended` });
    } else {
      plan.drop.push({ key: r.key, why: `the kubelet now lists ${matches.map((a) => `${a.sections.join(', ')} for ${who(a)}`).join('; ')}` });
    }
  }
  for (const a of assignments) {
    if (confirmed.has(a)) continue;
    const unknown = a.sections.filter((s) => !order.has(s));
    if (unknown.length) {
      plan.problems.push(`the kubelet lists ${unknown.join(', ')} for ${who(a)}, but the plan has no such section; not reserved`);
      continue;
    }
    plan.create.push({ ...a, sections: [...a.sections].sort((x, y) => order.get(x)! - order.get(y)!) });
  }
  return plan;
}

/** The kubelet's Pod Resources socket below its directory. */
export function podResourcesSocket(kubeletDir: string): string {
  return path.join(kubeletDir, ...POD_RESOURCES_SOCKET);
}

/** Ask the kubelet's Pod Resources API for its list; rejects with a message naming the socket and what failed. */
export function listPodResources(apis: KubeletApis, socket: string, timeoutMs = 5000): Promise<PodResources[]> {
  const client = new apis.podResources(unixTarget(socket), apis.grpc.credentials.createInsecure());
  return new Promise<PodResources[]>((resolve, reject) => {
    const fn = client.List as (req: object, meta: object, opts: object, cb: (e: Error | null, r?: ListPodResourcesResponse) => void) => void;
    fn.call(client, {}, new apis.grpc.Metadata(), { deadline: Date.now() + timeoutMs }, (e, r) => {
      client.close();
      if (e) reject(new Error(`Pod Resources List on ${socket} failed: ${e.message}`));
      else resolve(r?.pod_resources ?? []);
    });
  });
}
