// Reads <etc>/sysconfig/qat for doctor: the parsed file (or the syntax error) and the POLICY it sets.

import { readEnvFile, type EnvFile } from '../config/envfile.js';
import { under, type Roots } from '../config/roots.js';
import { isQatmgrError } from '../errors.js';
import { parseIntInRange } from '../config/numbers.js';
import { exists } from './host-scan.js';

export interface SysconfigState {
  path: string;
  present: boolean;
  file: EnvFile | undefined;
  /** Message of the parse error, `path:line: ...`. */
  error: string | undefined;
  /** POLICY in effect (the unit's default 0 when unset); undefined when the value is invalid. */
  policy: number | undefined;
  policyText: string | undefined;
}

export const MAX_POLICY = 4096;

export function readSysconfig(roots: Roots): SysconfigState {
  const p = under(roots.etc, 'sysconfig', 'qat');
  const present = exists(p);
  let file: EnvFile | undefined;
  let error: string | undefined;
  try {
    file = readEnvFile(p, true);
  } catch (e) {
    if (!isQatmgrError(e)) throw e;
    error = e.message;
  }
  const policyText = file?.values.get('POLICY')?.value;
  const policy = policyText === undefined ? (file ? 0 : undefined) : parseIntInRange(policyText, 0, MAX_POLICY);
  return { path: p, present, file, error, policy, policyText };
}

/** Largest number of VFs a section holds under `policy` (policy 0: one VF per PF). */
export function vfsPerSection(policy: number, pfsWithVfs: number): number {
  return policy === 0 ? Math.max(1, pfsWithVfs) : policy;
}
