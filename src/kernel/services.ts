// The kernel's rules for a PF's `qat/cfg_services`: which service sets each device family accepts, and how it prints them.
//
// Derived from the in-tree driver (torvalds/linux, drivers/crypto/intel/qat/):
// - qat_common/adf_cfg_services.c: the value is split on ';', each token matched with sysfs_match_string
//   (exact, case-sensitive, one trailing newline allowed) against asym, sym, dc, dcc, decomp; a repeated
//   token or more than MAX_NUM_CONCURR_SVC (3) tokens is -EINVAL; the set must pass the family's
//   services_supported(); it is stored back printed in enum order (asym, sym, dc, decomp, dcc), so
//   writing "sym;asym" reads back "asym;sym" on current kernels.
// - qat_common/adf_gen4_hw_data.c adf_gen4_services_supported() (4xxx, 401xx, 402xx, 420xx): one service
//   of asym/sym/dc/dcc, or two without dcc; decomp is not supported.
// - qat_6xxx/adf_6xxx_hw_data.c services_supported(): one service of all five, or two or three without dcc.
// - qat_common/adf_sysfs.c cfg_services_store(): -EINVAL while the device is up.

import type { FamilyName } from './catalogue.js';

export type Service = 'asym' | 'sym' | 'dc' | 'decomp' | 'dcc';

/** Kernel enum order (adf_cfg_services.h): the order the kernel prints a set in. */
export const SERVICE_ORDER: readonly Service[] = ['asym', 'sym', 'dc', 'decomp', 'dcc'];
export const MAX_CONCURRENT_SERVICES = 3;

export interface FamilyServiceRule {
  /** Services this family accepts at all. */
  services: readonly Service[];
  /** Most services in one set. */
  maxServices: number;
  /** Kernel source the rule comes from. */
  source: string;
}

const GEN4: FamilyServiceRule = {
  services: ['asym', 'sym', 'dc', 'dcc'],
  maxServices: 2,
  source: 'qat_common/adf_gen4_hw_data.c adf_gen4_services_supported()',
};

export const SERVICE_RULES: Readonly<Record<FamilyName, FamilyServiceRule>> = {
  '4xxx': GEN4,
  '401xx': GEN4,
  '402xx': GEN4,
  '420xx': GEN4,
  '6xxx': { services: ['asym', 'sym', 'dc', 'decomp', 'dcc'], maxServices: 3, source: 'qat_6xxx/adf_6xxx_hw_data.c services_supported()' },
};

/** A set of services in kernel order. */
export type ServiceSet = readonly Service[];

export function sortServices(set: Iterable<Service>): Service[] {
  const s = new Set(set);
  return SERVICE_ORDER.filter((x) => s.has(x));
}

/** How the kernel prints a set (`asym;sym`). */
export function formatServices(set: ServiceSet): string {
  return sortServices(set).join(';');
}

export function sameServices(a: ServiceSet, b: ServiceSet): boolean {
  return formatServices(a) === formatServices(b);
}

/** Whether a family's kernel accepts a set (services_supported()). */
export function familySupports(family: FamilyName, set: ServiceSet): boolean {
  const rule = SERVICE_RULES[family];
  if (set.length === 0 || set.length > rule.maxServices) return false;
  if (!set.every((s) => rule.services.includes(s))) return false;
  if (set.length > 1 && set.includes('dcc')) return false;
  return true;
}

/** Every set a family accepts, in a readable order (singles first), for error messages. */
export function allowedSets(family: FamilyName): string[] {
  const rule = SERVICE_RULES[family];
  const out: string[] = [];
  const base = rule.services;
  const rec = (start: number, acc: Service[]): void => {
    if (acc.length > 0 && familySupports(family, acc)) out.push(acc.join(';'));
    if (acc.length >= rule.maxServices) return;
    for (let i = start; i < base.length; i++) rec(i + 1, [...acc, base[i]]);
  };
  rec(0, []);
  return out.sort((a, b) => a.split(';').length - b.split(';').length);
}

/**
 * The kernel's parse of a value written to cfg_services (strict: exact lower-case tokens, no blanks).
 * Returns the set or an errno name.
 */
export function kernelParseServices(family: FamilyName, written: string): { set: Service[] } | { errno: 'EINVAL' } {
  const text = written.endsWith('\n') ? written.slice(0, -1) : written;
  const seen = new Set<Service>();
  let n = 0;
  for (const tok of text.split(';')) {
    if (!(SERVICE_ORDER as readonly string[]).includes(tok)) return { errno: 'EINVAL' };
    if (seen.has(tok as Service)) return { errno: 'EINVAL' };
    seen.add(tok as Service);
    if (++n > MAX_CONCURRENT_SERVICES) return { errno: 'EINVAL' };
  }
  const set = sortServices(seen);
  if (!familySupports(family, set)) return { errno: 'EINVAL' };
  return { set };
}

/** Read what a PF's cfg_services file says (any order, tolerant) into a set; undefined if unreadable text. */
export function readServiceSet(text: string): Service[] | undefined {
  const toks = text.trim().split(';').map((t) => t.trim().toLowerCase()).filter(Boolean);
  if (toks.length === 0) return undefined;
  if (!toks.every((t) => (SERVICE_ORDER as readonly string[]).includes(t))) return undefined;
  return sortServices(toks as Service[]);
}
