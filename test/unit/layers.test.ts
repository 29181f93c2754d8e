// The house rule: imports in src/ and daemon/ point down the layer ladder (scripts/check-layers.mjs).

import { describe, it, expect } from 'vitest';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
// @ts-expect-error: a plain .mjs script without type declarations
import { checkEdges, importsOf, roomOf, scanTree } from '../../scripts/check-layers.mjs';

type Edge = { from: string; to: string; spec: string };
const edge = (from: string, to: string): Edge => ({ from, to, spec: `./${path.relative(path.dirname(from), to)}.js` });
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

describe('the layer check', () => {
  it('passes on this tree: no import runs up the ladder or sideways between sibling rooms', () => {
    const { edges, sources } = scanTree(root);
    expect(edges.length).toBeGreaterThan(100);
    expect(checkEdges(edges, sources)).toEqual([]);
  });

  it('fails when provision and the simulator import each other (siblings)', () => {
    expect(checkEdges([edge('src/provision/index.ts', 'src/sim/kernel')])).toEqual([
      expect.stringContaining('provision and sim are siblings'),
    ]);
    expect(checkEdges([edge('src/sim/kernel.ts', 'src/provision/kernelfs')])).toEqual([
      expect.stringContaining('sim and provision are siblings'),
    ]);
  });

  it('fails when platform imports devices (a lower layer reaching up)', () => {
    expect(checkEdges([edge('src/platform/discover.ts', 'src/devices/catalogue')])).toEqual([
      expect.stringContaining('platform (rung 2) must not depend on devices (rung 3, higher)'),
    ]);
  });

  it('fails when the allocator imports the wire format', () => {
    expect(checkEdges([edge('src/sections/allocator.ts', 'src/protocol/replies')])).toEqual([
      expect.stringContaining('sections (rung 4) must not depend on protocol'),
    ]);
  });

  it('fails on any import into cli/ from below it', () => {
    for (const from of ['src/selftest/report.ts', 'src/provision/render.ts', 'src/admin/views.ts']) {
      expect(checkEdges([edge(from, 'src/cli/table')])).toEqual([expect.stringContaining('must not depend on cli')]);
    }
  });

  it('fails when the libqat bridge sits in native/ or koffi is used outside native/ and libqat/', () => {
    expect(checkEdges([], [{ file: 'src/native/qat-engine.ts', text: "import koffi from 'koffi';\nconst l = koffi.load('libqat.so.4');" }]))
      .toEqual([expect.stringContaining('the libqat bridge belongs in libqat/')]);
    expect(checkEdges([], [{ file: 'src/sections/owner-watch.ts', text: "import koffi from 'koffi';" }]))
      .toEqual([expect.stringContaining('FFI belongs in native/')]);
    expect(checkEdges([], [{ file: 'src/libqat/libqat.ts', text: "import koffi from 'koffi';\nkoffi.load('libqat.so.4');" }])).toEqual([]);
  });

  it('fails on a room that is not on the ladder, so a new folder must be placed deliberately', () => {
    expect(checkEdges([edge('src/newroom/x.ts', 'src/kernel/catalogue')])).toEqual([expect.stringContaining('room "newroom" is not on the ladder')]);
  });

  it('reads static, type-only, re-export, side-effect and dynamic imports, and maps files to rooms', () => {
    const text = [
      "import fs from 'node:fs';",
      "import { a } from './a.js';",
      "import type { B } from '../kernel/b.js';",
      "export { c } from '../config/c.js';",
      "import './side.js';",
      "const m = await import('../platform/d.js');",
    ].join('\n');
    expect(importsOf(text)).toEqual(['./a.js', '../kernel/b.js', '../config/c.js', './side.js', '../platform/d.js']);
    expect([roomOf('src/kernel/catalogue.ts'), roomOf('src/manager.ts'), roomOf('daemon/qatmgr.ts'), roomOf('test/x.ts')])
      .toEqual(['kernel', 'manager', 'daemon', undefined]);
  });
});
