#!/usr/bin/env node
// The house rule as a check: every import in src/ and daemon/ points down the layer ladder (docs/architecture.md).
//
// A "room" is a folder of src/ (src/kernel, src/platform, ...), a file at the top of src/ (src/manager.ts), or
// daemon/. Each room has a rung; a room may import only rooms on lower rungs. Rooms on the same rung are siblings
// and must not import each other (provision and sim, for instance), so no cycle between folders can form. Type-only
// imports count: a type is knowledge too. Exit status 1 and one line per offending import when the rule is broken.

import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** Rungs from the bottom up; rooms on one rung are siblings. */
export const LADDER = [
  ['errors', 'kernel', 'version'],
  ['config', 'log', 'native', 'text'],
  ['platform', 'libqat'],
  ['devices', 'idxd', 'daemonize', 'systemd', 'selftest'],
  ['sections', 'provision', 'sim', 'doctor'],
  ['protocol', 'migrate', 'health'],
  ['server', 'client'],
  ['manager'],
  ['rescan', 'kubelet'],
  ['admin'],
  ['cli'],
  ['daemon'],
];

/** Rooms that may use koffi (FFI): thin bindings in native/, the libqat bridge in libqat/. */
export const FFI_ROOMS = new Set(['native', 'libqat']);
/** native/ holds thin bindings only: naming the libqat or USDM library there is the bridge in the wrong room. */
const BRIDGE_LOAD = /['"`][^'"`]*\blib(qat|usdm)\.so/;
const USES_KOFFI = /from\s*['"]koffi['"]|require\(\s*['"]koffi['"]\s*\)|import\(\s*['"]koffi['"]\s*\)/;

const RUNG = new Map(LADDER.flatMap((rooms, i) => rooms.map((r) => [r, i])));

/** The room of a repository-relative path (`src/kernel/catalogue.ts` -> `kernel`, `src/manager.ts` -> `manager`). */
export function roomOf(rel) {
  const parts = rel.split(/[\\/]/);
  if (parts[0] === 'daemon') return 'daemon';
  if (parts[0] !== 'src') return undefined;
  return parts.length > 2 ? parts[1] : parts[1].replace(/\.(ts|js|mjs)$/, '');
}

/** Relative import specifiers of a TypeScript source (static, type-only, re-exports and dynamic imports). */
export function importsOf(text) {
  const out = [];
  const re = /(?:^|[\s;])(?:import|export)\s[^'";]*?\bfrom\s*['"](\.{1,2}\/[^'"]+)['"]|(?:^|[\s;(=])import\s*['"](\.{1,2}\/[^'"]+)['"]|\bimport\(\s*['"](\.{1,2}\/[^'"]+)['"]\s*\)/g;
  for (const m of text.matchAll(re)) out.push(m[1] ?? m[2] ?? m[3]);
  return out;
}

/**
 * Check edges `{from, to, where}` between repository-relative files. Returns one message per broken rule:
 * an import of a higher or sibling room, a room not on the ladder, koffi outside native/ and libqat/, or the libqat
 * bridge in native/.
 */
export function checkEdges(edges, sources = []) {
  const problems = [];
  for (const e of edges) {
    const a = roomOf(e.from);
    const b = roomOf(e.to);
    if (a === undefined || b === undefined || a === b) continue;
    const ra = RUNG.get(a);
    const rb = RUNG.get(b);
    if (ra === undefined) { problems.push(`${e.from}: room "${a}" is not on the ladder (scripts/check-layers.mjs LADDER)`); continue; }
    if (rb === undefined) { problems.push(`${e.from}: imports ${e.spec}, room "${b}" is not on the ladder (scripts/check-layers.mjs LADDER)`); continue; }
    if (rb > ra) problems.push(`${e.from}: imports ${e.spec}: ${a} (rung ${ra}) must not depend on ${b} (rung ${rb}, higher)`);
    else if (rb === ra) problems.push(`${e.from}: imports ${e.spec}: ${a} and ${b} are siblings (rung ${ra}) and must not depend on each other`);
  }
  for (const s of sources) {
    const room = roomOf(s.file);
    if (room === undefined) continue;
    if (!FFI_ROOMS.has(room) && USES_KOFFI.test(s.text)) problems.push(`${s.file}: uses koffi; FFI belongs in native/ (thin bindings) or libqat/ (the bridge)`);
    if (room === 'native' && BRIDGE_LOAD.test(s.text)) problems.push(`${s.file}: names the libqat/USDM library; the libqat bridge belongs in libqat/, native/ keeps thin bindings`);
  }
  return [...new Set(problems)];
}

function listSources(root) {
  const files = [];
  const walk = (d) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (/\.ts$/.test(e.name) && !e.name.endsWith('.d.ts')) files.push(p);
    }
  };
  for (const top of ['src', 'daemon']) if (fs.existsSync(path.join(root, top))) walk(path.join(root, top));
  return files;
}

/** Every import edge of the tree under `root`, with the sources (for the FFI rule). */
export function scanTree(root) {
  const edges = [];
  const sources = [];
  for (const abs of listSources(root)) {
    const from = path.relative(root, abs);
    const text = fs.readFileSync(abs, 'utf8');
    sources.push({ file: from, text });
    for (const spec of importsOf(text)) {
      const to = path.relative(root, path.resolve(path.dirname(abs), spec));
      edges.push({ from, to, spec });
    }
  }
  return { edges, sources };
}

/** Room-level graph for reports: "a -> b" with the number of imports. */
export function roomGraph(edges) {
  const counts = new Map();
  for (const e of edges) {
    const a = roomOf(e.from);
    const b = roomOf(e.to);
    if (!a || !b || a === b) continue;
    const k = `${a} -> ${b}`;
    counts.set(k, (counts.get(k) ?? 0) + 1);
  }
  return [...counts].sort(([x], [y]) => x.localeCompare(y));
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
  const { edges, sources } = scanTree(root);
  if (process.argv.includes('--graph')) {
    for (const [k, n] of roomGraph(edges)) console.log(`${k}  (${n})`);
  }
  const problems = checkEdges(edges, sources);
  if (problems.length) {
    console.error(`layers: ${problems.length} import(s) break the ladder:`);
    for (const p of problems) console.error(`  ${p}`);
    process.exit(1);
  }
  console.log(`layers: ${edges.length} imports in ${sources.length} files point down the ladder (${LADDER.length} rungs)`);
}
