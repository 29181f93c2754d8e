// Which shares a client counts against: pure matching of share subjects against what is known about the client.

import type { ShareRule, ShareSubject } from '../config/shares.js';

/** The client facts shares look at (a Holder has them all). */
export interface ShareClient {
  uid: number;
  gid: number;
  processName: string;
  client?: { cgroup?: string | null; groups?: number[] | null };
}

/** A unit subject names a cgroup path component; a template (`worker@.service`) names every instance of it. */
function unitInPath(subject: Extract<ShareSubject, { kind: 'unit' }>, cgroup: string): boolean {
  const at = subject.unit.indexOf('@');
  const prefix = subject.template ? subject.unit.slice(0, at + 1) : '';
  const suffix = subject.template ? subject.unit.slice(at + 1) : '';
  for (const part of cgroup.split('/')) {
    if (subject.template ? part.length > prefix.length + suffix.length && part.startsWith(prefix) && part.endsWith(suffix) : part === subject.unit) return true;
  }
  return false;
}

export function shareMatches(subject: ShareSubject, c: ShareClient): boolean {
  switch (subject.kind) {
    case 'uid': return c.uid === subject.uid;
    case 'gid': return c.gid === subject.gid || (c.client?.groups?.includes(subject.gid) ?? false);
    case 'name': return c.processName === subject.name;
    case 'unit': return typeof c.client?.cgroup === 'string' && unitInPath(subject, c.client.cgroup);
  }
}

const NONE: readonly number[] = Object.freeze([]);

/** Indices of every rule the client matches: it counts against each of them (a cap of any one refuses it). */
export function matchingShares(rules: readonly ShareRule[], c: ShareClient): readonly number[] {
  let out: number[] | undefined;
  for (let i = 0; i < rules.length; i++) {
    if (shareMatches(rules[i].subject, c)) (out ??= []).push(i);
  }
  return out ?? NONE;
}

/** What the edge must read from /proc for these rules (nothing for uid and process-name shares). */
export function shareNeeds(rules: readonly ShareRule[]): { cgroup: boolean; groups: boolean } {
  return { cgroup: rules.some((r) => r.subject.kind === 'unit'), groups: rules.some((r) => r.subject.kind === 'gid') };
}
