// Build native/libqat-sim with the system compiler for a test file, or say exactly why it cannot be built.

import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { ROOT } from './daemon.js';
import { tmpDir } from './sim.js';

export const SIM_SRC = path.join(ROOT, 'native', 'libqat-sim');

/** Why libqat-sim cannot be built here (missing gcc/make/zlib/OpenSSL headers), or undefined when it can. */
export function missingToolchain(): string | undefined {
  const missing: string[] = [];
  if (spawnSync('gcc', ['--version']).status !== 0) missing.push('gcc');
  if (spawnSync('make', ['--version']).status !== 0) missing.push('make');
  if (!fs.existsSync('/usr/include/zlib.h')) missing.push('zlib headers (apt-get install zlib1g-dev)');
  if (!fs.existsSync('/usr/include/openssl/evp.h')) missing.push('OpenSSL headers (apt-get install libssl-dev)');
  return missing.length ? `libqat-sim cannot be built: missing ${missing.join(', ')}; run scripts/install-native-deps.sh` : undefined;
}

/** make into a fresh directory (so parallel test files never share half-written objects); returns it. */
export function buildLibqatSim(): string {
  const out = path.join(tmpDir('libqat-sim-'), 'build');
  const r = spawnSync('make', ['-s', '-C', SIM_SRC, `BUILD=${out}`], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`building libqat-sim failed (${r.status}):\n${r.stdout}\n${r.stderr}`);
  return out;
}
