// Simulated hosts in temporary directories for tests.

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseSimSpec, generateHost, type GeneratedHost } from '../../src/sim/index.js';

export function tmpDir(prefix = 'qatmgr-test-'): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

/** Generate a simulated host from a spec into a fresh temporary directory. */
export function simHost(spec: string): GeneratedHost {
  return generateHost(path.join(tmpDir(), 'host'), parseSimSpec(spec));
}
