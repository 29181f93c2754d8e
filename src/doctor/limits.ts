// RLIMIT_MEMLOCK for a user as pam_limits would set it (limits.conf + limits.d/*.conf), and a process's live limit.

import path from 'node:path';
import { under, type Roots } from '../config/roots.js';
import { listDir, readText } from './host-scan.js';

export interface MemlockSetting {
  /** Soft limit in bytes (Infinity = unlimited). */
  bytes: number;
  /** `file:line` that set it. */
  source: string;
}

const KIB = 1024;

function parseValue(v: string): number | undefined {
  if (/^(unlimited|infinity|-1)$/i.test(v)) return Infinity;
  if (/^[0-9]+$/.test(v)) return Number(v) * KIB;
  return undefined;
}

/**
 * The memlock soft limit configured for `user` (member of `groups`). pam_limits: a line naming the user
 * beats a @group line, which beats `*` (which never applies to root); among equals the later line wins;
 * limits.conf is read first, then limits.d/*.conf in name order.
 */
export function configuredMemlock(roots: Roots, user: string, groups: string[], isRoot: boolean): MemlockSetting | undefined {
  const files = [under(roots.etc, 'security', 'limits.conf'),
    ...listDir(under(roots.etc, 'security', 'limits.d')).filter((n) => n.endsWith('.conf')).map((n) => under(roots.etc, 'security', 'limits.d', n))];
  let best: { rank: number; setting: MemlockSetting } | undefined;
  for (const f of files) {
    const text = readText(f);
    if (text === undefined) continue;
    text.split('\n').forEach((raw, i) => {
      const line = raw.replace(/#.*/, '').trim();
      if (!line) return;
      const [domain, type, item, value] = line.split(/\s+/);
      if (item !== 'memlock' || (type !== 'soft' && type !== '-') || value === undefined) return;
      let rank = -1;
      if (domain === user) rank = 3;
      else if ((domain.startsWith('@') || domain.startsWith('%')) && groups.includes(domain.slice(1))) rank = 2;
      else if (domain === '*' && !isRoot) rank = 1;
      if (rank < 0) return;
      const bytes = parseValue(value);
      if (bytes === undefined) return;
      if (!best || rank >= best.rank) best = { rank, setting: { bytes, source: `${f}:${i + 1}` } };
    });
  }
  return best?.setting;
}

/** The live soft memlock limit of a process from `<pids>/<pid>/limits` (bytes, Infinity = unlimited). */
export function liveMemlock(roots: Roots, pid: string = 'self'): number | undefined {
  const text = readText(path.join(roots.pids, pid, 'limits'));
  const m = text && /^Max locked memory\s+(\S+)\s+(\S+)/m.exec(text);
  if (!m) return undefined;
  return m[1] === 'unlimited' ? Infinity : Number(m[1]);
}

export function formatBytes(b: number): string {
  if (b === Infinity) return 'unlimited';
  if (b % (1024 * 1024) === 0) return `${b / (1024 * 1024)} MiB`;
  return `${(b / 1024).toFixed(0)} KiB`;
}
