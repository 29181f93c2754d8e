// Resolves the group that gets access to /dev/vfio nodes and the hugepages directory (name from <etc>/group, or a numeric gid).

import fs from 'node:fs';
import path from 'node:path';
import { QatmgrError, ErrorCodes } from '../errors.js';

export interface ResolvedGroup {
  name: string;
  gid: number;
  /** Where the gid came from. */
  source: string;
}

/** `name` may be a group name (looked up in `<etc>/group`) or a number. */
export function resolveGroup(name: string, etcRoot: string): ResolvedGroup {
  if (/^[0-9]+$/.test(name)) return { name, gid: Number(name), source: 'numeric' };
  const file = path.join(etcRoot, 'group');
  let text = '';
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    throw new QatmgrError(ErrorCodes.QATMGR_E_CONFIG_VALUE, `group "${name}": cannot read ${file} (${(e as NodeJS.ErrnoException).code}); create the group (systemd-sysusers, groupadd ${name}) or pass --group GID`);
  }
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const f = lines[i].split(':');
    if (f[0] === name && f.length >= 3 && /^[0-9]+$/.test(f[2])) return { name, gid: Number(f[2]), source: `${file}:${i + 1}` };
  }
  throw new QatmgrError(ErrorCodes.QATMGR_E_CONFIG_VALUE, `group "${name}" not found in ${file}; create it (systemd-sysusers with qat's sysusers.d entry, or groupadd ${name}) or pass --group GID`);
}
