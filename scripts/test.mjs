#!/usr/bin/env node
// The whole test suite: build dependencies of the native test library (as root, when missing), vitest (unit +
// integration against the real daemon), the units' security score, then the real-systemd e2e when this machine can
// run it; ends with one "Tests: N passed, N failed" line over everything.

import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const report = path.join(os.tmpdir(), `qatmgr-vitest-${process.pid}.json`);

const whole = args.length === 0;
// gcc, zlib and OpenSSL headers for native/libqat-sim (the selftest suites skip, saying why, without them)
if (whole && process.getuid?.() === 0) {
  const deps = spawnSync('bash', [path.join(root, 'scripts', 'install-native-deps.sh')], { cwd: root, stdio: 'inherit' });
  if (deps.status !== 0) console.log('test: could not install the native build dependencies; the libqat-sim suites will say what is missing');
}

const vitest = spawnSync(process.execPath, [path.join(root, 'node_modules', 'vitest', 'vitest.mjs'), 'run', '--reporter=default', '--reporter=json', `--outputFile.json=${report}`, ...args], { cwd: root, stdio: 'inherit' });
let passed = 0;
let failed = 0;
let skipped = 0;
try {
  const r = JSON.parse(fs.readFileSync(report, 'utf8'));
  passed += r.numPassedTests;
  failed += r.numFailedTests;
  skipped += r.numPendingTests + (r.numTodoTests ?? 0);
  fs.rmSync(report, { force: true });
} catch {
  failed += 1;
  console.error('test: vitest produced no report');
}
if (vitest.status !== 0 && failed === 0) failed += 1;

// systemd units: static lint and exposure score (fails above 2.0)
const security = path.join(root, 'scripts', 'systemd-security.sh');
if (whole && fs.existsSync(security)) {
  const r = spawnSync('bash', [security], { cwd: root, stdio: 'inherit' });
  if (r.status === 0) passed += 1; else failed += 1;
}

// real-systemd end-to-end tests (test/e2e/run.sh prints "N passed, N failed" itself)
const e2e = path.join(root, 'test', 'e2e', 'run.sh');
const wantE2e = whole && fs.existsSync(e2e) && process.env.QATMGR_SKIP_E2E !== '1';
if (wantE2e) {
  if (process.getuid?.() !== 0) {
    console.log('test: skipping the real-systemd e2e (needs root for systemd-nspawn); set QATMGR_SKIP_E2E=1 to silence');
  } else {
    const r = spawnSync('bash', [e2e], { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
    process.stdout.write(r.stdout ?? '');
    const m = /(\d+) passed, (\d+) failed/.exec(r.stdout ?? '');
    if (m) { passed += Number(m[1]); failed += Number(m[2]); }
    if (r.status !== 0 && (!m || Number(m[2]) === 0)) failed += 1;
  }
}

console.log(`\nTests: ${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`);
process.exit(failed === 0 ? 0 : 1);
