// Which Unix socket paths have a listener, from <proc>/net/unix: answered without connecting (a connection to a
// socket-activated path would start the service behind it).

import fs from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';

/** __SO_ACCEPTCON in the Flags column: the socket listens. */
const ACCEPTCON = 0x10000;

/** True when a socket bound to `socketPath` listens in this network namespace (read from `<pidsRoot>/net/unix`). */
export function unixSocketListening(pidsRoot: string, socketPath: string): boolean {
  let text: string;
  try {
    text = fs.readFileSync(path.join(pidsRoot, 'net', 'unix'), 'latin1');
  } catch {
    return false;
  }
  const want = path.resolve(socketPath);
  for (const line of text.split('\n').slice(1)) {
    // Num RefCount Protocol Flags Type St Inode Path (the path may hold spaces: everything after the 7th column)
    const cols = line.trim().split(/\s+/);
    if (cols.length < 8) continue;
    if ((parseInt(cols[3], 16) & ACCEPTCON) !== 0 && cols.slice(7).join(' ') === want) return true;
  }
  return false;
}

export interface UnitState {
  /** ActiveState: active, inactive, failed, activating, ... */
  active: string;
  /** UnitFileState: enabled, disabled, static, ... ('' when the unit is not installed). */
  enabled: string;
}

/**
 * ActiveState and UnitFileState of systemd units, asked from systemctl (which only reads the manager's state; it
 * starts nothing); undefined when systemd is not the service manager here or systemctl cannot answer.
 */
export function unitStates(units: string[], runRoot = '/run'): Record<string, UnitState> | undefined {
  if (!fs.existsSync(path.join(runRoot, 'systemd', 'system'))) return undefined;
  const r = spawnSync('systemctl', ['show', '--property=Id,ActiveState,UnitFileState', '--', ...units], { encoding: 'utf8', timeout: 3000 });
  if (r.status !== 0 || !r.stdout) return undefined;
  const out: Record<string, UnitState> = {};
  for (const block of r.stdout.trim().split(/\n\n+/)) {
    const kv = Object.fromEntries(block.split('\n').map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]));
    if (kv.Id) out[kv.Id] = { active: kv.ActiveState ?? '', enabled: kv.UnitFileState ?? '' };
  }
  return out;
}
