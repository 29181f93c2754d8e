// Test helpers for provisioning: a whole-tree snapshot (paths, link targets, contents, modes, owners) and an in-process qatctl.

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { runQatctl } from '../../src/cli/main.js';
import { parseSimSpec, generateHost } from '../../src/sim/index.js';

export interface Entry {
  type: 'dir' | 'file' | 'link';
  mode: number;
  uid: number;
  gid: number;
  target?: string;
  content?: string;
}

/** Every entry under `dir` (relative path -> what it is), for exact before/after comparisons. */
export function snapshotTree(dir: string, skip: string[] = []): Record<string, Entry> {
  const out: Record<string, Entry> = {};
  const walk = (rel: string): void => {
    const abs = path.join(dir, rel);
    const st = fs.lstatSync(abs);
    const base = { mode: st.mode & 0o7777, uid: st.uid, gid: st.gid };
    if (st.isSymbolicLink()) out[rel] = { type: 'link', ...base, target: fs.readlinkSync(abs) };
    else if (st.isDirectory()) {
      if (rel) out[rel] = { type: 'dir', ...base };
      for (const e of fs.readdirSync(abs).sort()) {
        const r = rel ? path.join(rel, e) : e;
        if (!skip.includes(r)) walk(r);
      }
    } else out[rel] = { type: 'file', ...base, content: fs.readFileSync(abs, 'utf8') };
  };
  walk('');
  return out;
}

export function tempDir(prefix: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

/** A fresh simulated host in a new temp dir, with an optional settings file. */
export function simHost(spec: string, settings?: string): string {
  const dir = path.join(tempDir('qatprov-'), 'host');
  generateHost(dir, parseSimSpec(spec));
  if (settings !== undefined) fs.writeFileSync(path.join(dir, 'etc', 'sysconfig', 'qat'), settings);
  return dir;
}

class Sink extends Writable {
  text = '';
  override _write(chunk: Buffer, _enc: string, cb: () => void): void {
    this.text += chunk.toString();
    cb();
  }
}

export interface CliRun {
  code: number;
  out: string;
  err: string;
}

/** Run qatctl in-process with its own environment. */
export async function qatctl(args: string[], env: NodeJS.ProcessEnv = {}): Promise<CliRun> {
  const out = new Sink();
  const err = new Sink();
  const code = await runQatctl(args, { out, err, env: { PATH: process.env.PATH, ...env }, cwd: process.cwd(), isTTY: false });
  return { code, out: out.text, err: err.text };
}
