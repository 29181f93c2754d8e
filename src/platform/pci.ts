// PCI addresses: parse, format and pack `dddd:bb:dd.f` the way upstream does.

export interface PciAddress {
  domain: number;
  bus: number;
  dev: number;
  fn: number;
}

const BDF_RE = /^([0-9a-fA-F]{1,8}):([0-9a-fA-F]{1,2}):([0-9a-fA-F]{1,2})\.([0-7])$/;

/** Parse `dddd:bb:dd.f` (hex); undefined for anything else. */
export function parseBdf(text: string): PciAddress | undefined {
  const m = BDF_RE.exec(text.trim());
  if (!m) return undefined;
  const domain = parseInt(m[1], 16);
  const bus = parseInt(m[2], 16);
  const dev = parseInt(m[3], 16);
  const fn = parseInt(m[4], 10);
  if (domain > 0xffff || bus > 0xff || dev > 0x1f) return undefined;
  return { domain, bus, dev, fn };
}

export function formatBdf(a: PciAddress): string {
  return `${hex(a.domain, 4)}:${hex(a.bus, 2)}:${hex(a.dev, 2)}.${a.fn.toString(16)}`;
}

/** bus << 8 | dev << 3 | fn (the 16-bit "bdf" of PF_DEV_INFO). */
export function packBdf16(a: PciAddress): number {
  return ((a.bus & 0xff) << 8) | ((a.dev & 0x1f) << 3) | (a.fn & 7);
}

/** domain << 16 | bus << 8 | dev << 3 | fn (upstream's packed device id). */
export function packBdf32(a: PciAddress): number {
  return ((a.domain << 16) >>> 0) + packBdf16(a);
}

/** Upstream's sort key for VFs (§7 step 9): function, then device, then bus, then domain. */
export function compareVfOrder(a: PciAddress, b: PciAddress): number {
  return a.fn - b.fn || a.dev - b.dev || a.bus - b.bus || a.domain - b.domain;
}

function hex(v: number, w: number): string {
  return v.toString(16).padStart(w, '0');
}
