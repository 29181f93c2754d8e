// A reservation: sections kept for one Kubernetes container (managed mode of the kubelet plugin), as the ledger stores it.

import type { PodRef } from './allocator.js';

export interface ReservationEntry {
  /** The reservation's name: its lowest section (a section is in one reservation at most, so it is unique). */
  key: string;
  /** Extended resource the kubelet allocated (e.g. qat.intel.com/managed). */
  resource: string;
  /** Section names (the resource's device IDs), in order. */
  sections: string[];
  /** The sections' VFs when reserved (a later plan that moved them is noticed). */
  vfs: string[];
  /** Epoch ms of the Allocate call. */
  since: number;
  /** The container: ids once a process of it connected, names once the kubelet's Pod Resources listed it. */
  pod: PodRef;
}

const isStrOrNull = (v: unknown): boolean => v === null || typeof v === 'string';

/** Why `e` is not a reservation entry (for a ledger error naming the entry), or undefined. */
export function checkReservation(e: unknown, where: string): string | undefined {
  if (typeof e !== 'object' || e === null) return `${where} is not an object`;
  const o = e as Record<string, unknown>;
  if (typeof o.key !== 'string' || o.key === '') return `${where}.key is not a name`;
  if (typeof o.resource !== 'string') return `${where}.resource is not text`;
  if (!Array.isArray(o.sections) || o.sections.length === 0 || !o.sections.every((s) => typeof s === 'string')) return `${where}.sections is not a list of section names`;
  if (!Array.isArray(o.vfs) || !o.vfs.every((v) => typeof v === 'string')) return `${where}.vfs is not a list of PCI addresses`;
  if (typeof o.since !== 'number' || !Number.isInteger(o.since)) return `${where}.since is not a time`;
  const p = o.pod as Record<string, unknown> | null;
  if (typeof p !== 'object' || p === null || !['uid', 'containerId', 'namespace', 'name', 'container'].every((k) => isStrOrNull(p[k]))) {
    return `${where}.pod is not {uid, containerId, namespace, name, container}`;
  }
  return undefined;
}
