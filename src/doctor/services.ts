// Service lists (ServicesEnabled, qat/cfg_services, --expect): parse, compare as sets, and the values qat_init.sh accepts.

/** The exact values qat_init.sh accepts for ServicesEnabled (anything else is silently ignored). */
export const QAT_INIT_ACCEPTED = ['sym', 'asym', 'dc', 'decomp', 'dcc', 'sym;asym', 'sym;dc', 'sym;decomp', 'asym;dc', 'asym;decomp',
  'dc;decomp', 'sym;asym;dc', 'sym;asym;decomp', 'sym;dc;decomp', 'asym;dc;decomp'] as const;

export const SERVICE_ORDER = ['sym', 'asym', 'dc', 'decomp'] as const;
export type Service = (typeof SERVICE_ORDER)[number];

/** Services a list provides; `dcc` (dc chaining) counts as sym + dc, `cy` as sym + asym. */
export function serviceSet(list: string): Set<Service> {
  const out = new Set<Service>();
  for (const raw of list.split(/[;,]/)) {
    const s = raw.trim().toLowerCase();
    if (s === 'cy') { out.add('sym'); out.add('asym'); } else if (s === 'dcc') { out.add('sym'); out.add('dc'); } else if ((SERVICE_ORDER as readonly string[]).includes(s)) out.add(s as Service);
  }
  return out;
}

export function canonical(set: Iterable<Service>): string {
  const s = new Set(set);
  return SERVICE_ORDER.filter((x) => s.has(x)).join(';');
}

export function sameServices(a: string, b: string): boolean {
  return canonical(serviceSet(a)) === canonical(serviceSet(b));
}

/** The kernel's choice when ServicesEnabled is unset: sym;asym on even PFs, dc on odd ones. */
export function kernelDefault(pfIndex: number): string {
  return pfIndex % 2 === 0 ? 'sym;asym' : 'dc';
}
