// Bench runner: runs every bench module in dist/bench that exports run() (or only those named on the command line).

import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

/** Preferred order; any other module found in dist/bench that exports run() follows, alphabetically. */
const ORDER = ['handshake', 'startup', 'memory', 'ffi', 'provision', 'admin', 'health'];
const SKIP = new Set(['run', 'lib', 'replytable']);
/** Long runs, only when named (`npm run bench -- soak`). */
const OPT_IN = new Set(['soak']);

async function main(): Promise<void> {
  const dir = path.dirname(fileURLToPath(import.meta.url));
  // only modules that export run(): others (e.g. bench/restart.ts) start their work when imported
  const exportsRun = (n: string): boolean => /export\s+(async\s+)?function\s+run\s*\(/.test(fs.readFileSync(path.join(dir, `${n}.js`), 'utf8'));
  const found = fs.readdirSync(dir).filter((f) => f.endsWith('.js')).map((f) => f.slice(0, -3)).filter((n) => !SKIP.has(n) && exportsRun(n));
  const names = [...ORDER.filter((n) => found.includes(n)), ...found.filter((n) => !ORDER.includes(n)).sort()];
  const wanted = process.argv.slice(2);
  for (const w of wanted) {
    if (!names.includes(w)) {
      process.stderr.write(`bench: no bench module "${w}" (have: ${names.join(', ')})\n`);
      process.exit(2);
    }
  }
  const t0 = Date.now();
  let failed = 0;
  for (const n of wanted.length ? wanted : names.filter((x) => !OPT_IN.has(x))) {
    const mod = (await import(pathToFileURL(path.join(dir, `${n}.js`)).href)) as { run?: () => Promise<void> };
    if (typeof mod.run !== 'function') continue;
    try {
      await mod.run();
    } catch (e) {
      failed++;
      process.stderr.write(`bench ${n} failed: ${(e as Error).stack ?? String(e)}\n`);
    }
  }
  const { RUNROOT } = (await import(pathToFileURL(path.join(dir, 'lib.js')).href)) as { RUNROOT: string };
  fs.rmSync(RUNROOT, { recursive: true, force: true });
  process.stdout.write(`\nbench finished in ${((Date.now() - t0) / 1000).toFixed(0)} s\n`);
  if (failed) process.exit(1);
}

void main();
