// Writes the generated /etc/sysconfig/qat atomically (tmp + rename), keeping a .bak, never clobbering foreign settings.

import fs from 'node:fs';
import path from 'node:path';
import { parseEnvText } from '../config/envfile.js';
import { QatmgrError, ErrorCodes, describeSysError, isQatmgrError } from '../errors.js';
import { GENERATED_MARK } from './plan.js';

export interface WriteOutcome {
  path: string;
  action: 'created' | 'replaced' | 'unchanged';
  backup: string | null;
}

const OURS = new Set(['POLICY', 'ServicesEnabled']);

/** Why an existing file must not be replaced silently; undefined when replacing it loses nothing of note. */
function foreignContent(text: string, file: string): string | undefined {
  if (text.startsWith(GENERATED_MARK)) return undefined;
  try {
    const env = parseEnvText(text, file);
    const other = env.entries.filter((e) => !OURS.has(e.key));
    if (other.length) return `it sets ${other.map((e) => `${e.key} (line ${e.line})`).join(', ')}, which this translation does not carry`;
    return undefined;
  } catch (e) {
    if (isQatmgrError(e)) return `it does not parse (${e.message})`;
    throw e;
  }
}

export function writeSysconfig(file: string, text: string, force: boolean): WriteOutcome {
  let old: string | undefined;
  try {
    old = fs.readFileSync(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw new QatmgrError(ErrorCodes.QATMGR_E_MIGRATE_WRITE, `${file}: cannot read: ${describeSysError(e)}`, { path: file });
  }
  if (old === text) return { path: file, action: 'unchanged', backup: null };
  if (old !== undefined && !force) {
    const why = foreignContent(old, file);
    if (why) throw new QatmgrError(ErrorCodes.QATMGR_E_MIGRATE_WRITE, `${file}: refusing to replace it: ${why}; merge by hand or pass --force (a .bak is kept)`, { path: file });
  }
  const dir = path.dirname(file);
  const tmp = path.join(dir, `.${path.basename(file)}.tmp-${process.pid}`);
  const backup = old !== undefined ? `${file}.bak` : null;
  try {
    fs.mkdirSync(dir, { recursive: true });
    const fd = fs.openSync(tmp, 'wx', 0o640);
    try {
      fs.writeSync(fd, text);
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    if (backup) fs.copyFileSync(file, backup);
    fs.renameSync(tmp, file);
  } catch (e) {
    fs.rmSync(tmp, { force: true });
    throw new QatmgrError(ErrorCodes.QATMGR_E_MIGRATE_WRITE, `${file}: cannot write: ${describeSysError(e)}`, { path: file });
  }
  return { path: file, action: old === undefined ? 'created' : 'replaced', backup };
}
