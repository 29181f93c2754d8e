// Bench-only: builds the Manager in-process from a tree and dumps every reply each section can give, for the C reference server.

import fs from 'node:fs';
import { parseDaemonArgs } from '../src/config/settings.js';
import { silentLogger } from '../src/log.js';
import { buildManager } from '../src/manager.js';
import { handleRequest, type Session } from '../src/protocol/handler.js';
import { MsgType, INSTANCE_TYPES } from '../src/protocol/constants.js';
import { encodeBareRequest, encodeDeviceRequest, encodeInstanceRequest, encodeHeaderOnly } from '../src/protocol/encode.js';

/*
 * File format (little endian), read by bench/reference/refmgr.c:
 *   "QRT1" u32 sections
 *   blob noSection, blob sectionPutOk, blob fallbackBad          (blob = u16 len + bytes)
 *   u32 pairs, pairs (blob request, blob reply)                  (requests answered without a section)
 *   per section: blob getReply, blob name (no NUL), u32 pairs, pairs
 */

function blob(parts: Buffer[], b: Buffer): void {
  const l = Buffer.alloc(2);
  l.writeUInt16LE(b.length);
  parts.push(l, b);
}

function u32(parts: Buffer[], n: number): void {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(n);
  parts.push(b);
}

/** Dump the reply table of the tree under `treeDir` served with `policy` to `outFile`; returns the number of sections. */
export function dumpReplyTable(treeDir: string, policy: number, outFile: string): number {
  const out = parseDaemonArgs(['--foreground', '--sysfs-root', `${treeDir}/sys`, '--dev-root', `${treeDir}/dev`, '--proc-root', `${treeDir}/proc`,
    '--run-dir', `${treeDir}/run/qat`, '--etc-root', `${treeDir}/etc`, '--policy', String(policy)], {});
  if (out.kind !== 'run') throw new Error('unexpected parse outcome');
  const m = buildManager(out.settings, silentLogger());
  const v = out.settings.protocolVersion;
  const ctx = m.ctx;
  const parts: Buffer[] = [Buffer.from('QRT1', 'latin1')];
  u32(parts, m.allocator.sections.length);
  blob(parts, ctx.bad.noSection);
  blob(parts, encodeHeaderOnly(v, MsgType.SECTION_PUT));
  blob(parts, ctx.bad.invalidIndex);

  const free: Session = { connId: -1, pid: 0, uid: 0, gid: 0, section: null, replies: null, requests: 0 };
  const globals: Buffer[] = [encodeBareRequest(v, MsgType.NUM_PF_DEVS)];
  for (let p = 0; p < m.inventory.pfs.length; p++) globals.push(encodeDeviceRequest(v, MsgType.PF_DEV_INFO, p));
  u32(parts, globals.length);
  for (const q of globals) { blob(parts, q); blob(parts, handleRequest(q, free, ctx)); }

  for (const sec of m.allocator.sections) {
    const r = ctx.replies.for(sec);
    blob(parts, r.get);
    blob(parts, r.nameBytes);
    const s: Session = { connId: 1, pid: 0, uid: 0, gid: 0, section: null, replies: r, requests: 0 };
    const reqs: Buffer[] = [encodeBareRequest(v, MsgType.NUM_DEVICES)];
    for (let d = 0; d < r.deviceInfo.length; d++) {
      for (const t of [MsgType.DEVICE_INFO, MsgType.DEVICE_ID, MsgType.VFIO_FILE]) reqs.push(encodeDeviceRequest(v, t, d));
      INSTANCE_TYPES.forEach((it, ti) => {
        for (let k = 0; k < r.instInfo[d][ti].length; k++) {
          reqs.push(encodeInstanceRequest(v, MsgType.INSTANCE_INFO, it.type, k, d));
          reqs.push(encodeInstanceRequest(v, MsgType.INSTANCE_NAME, it.type, k, d));
        }
      });
    }
    u32(parts, reqs.length);
    for (const q of reqs) { blob(parts, q); blob(parts, handleRequest(q, s, ctx)); }
  }
  fs.writeFileSync(outFile, Buffer.concat(parts));
  return m.allocator.sections.length;
}

if (process.argv[1]?.endsWith('replytable.js') && process.argv.length >= 5) {
  const n = dumpReplyTable(process.argv[2], Number(process.argv[3]), process.argv[4]);
  process.stdout.write(`${n} sections -> ${process.argv[4]}\n`);
}
