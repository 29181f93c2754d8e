// ServicesEnabled of /etc/sysconfig/qat: the one parse that the daemon and `qatctl provision` both apply.

import type { EnvEntry } from './envfile.js';
import { QatmgrError, ErrorCodes, showValue } from '../errors.js';
import { SERVICE_ORDER, sortServices, type Service } from '../kernel/services.js';

/**
 * Parse ServicesEnabled leniently where upstream was brittle: any order and case, blanks around tokens,
 * `;` or `,` between them, quotes (already removed by the env-file parser; stray inner quotes are dropped).
 * Unknown tokens are an error naming file, line and value. Empty → undefined (kernel default kept).
 */
export function parseServicesValue(entry: EnvEntry, file: string, warnings: string[]): Service[] | undefined {
  const where = `${file}:${entry.line}: ServicesEnabled=${showValue(entry.value)}`;
  const text = entry.value.replace(/["']/g, '').trim();
  if (text === '') return undefined;
  const toks = text.split(/[;,]/).map((t) => t.trim().toLowerCase());
  const set = new Set<Service>();
  for (const t of toks) {
    if (t === '') {
      warnings.push(`${where} has an empty item; ignored`);
      continue;
    }
    if (!(SERVICE_ORDER as readonly string[]).includes(t)) {
      throw new QatmgrError(ErrorCodes.QATMGR_E_CONFIG_VALUE, `${where}: unknown service ${showValue(t, 24)}; services are ${SERVICE_ORDER.join(', ')} joined by ';' (e.g. sym;asym)`, { path: file, line: entry.line });
    }
    if (set.has(t as Service)) warnings.push(`${where} names ${t} twice; counted once`);
    set.add(t as Service);
  }
  if (set.size === 0) return undefined;
  return sortServices(set);
}
