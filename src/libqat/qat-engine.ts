// The libqat engine: owns the process's libqat session, USDM memory, sessions, submission and polling (one thread).

import crypto from 'node:crypto';
import koffi from 'koffi';
import { loadLibqat, type Libqat, type LibqatPaths } from './libqat.js';
import { CpaDcCallbackFn, CpaCySymCbFunc, Off } from './layouts.js';
import { CpaStatus, Dc, Sym, EMPTY_DEFLATE, statusName, dcReqStatusName } from './cpa.js';
import { QatmgrError, ErrorCodes } from '../errors.js';
import type { InstanceDesc, CyAlgorithm, LoadStats, DcResult, FillRingResult } from './qat-messages.js';

const ALIGN = 64;
const MAX_TAGS = 8192;
const align = (n: number): number => Math.ceil(n / ALIGN) * ALIGN;
/** Room for a raw deflate of n bytes even when the data does not compress (stored blocks + headers). */
export const deflateBound = (n: number): number => n + (n >> 3) + 1024;
/** libusdm hands out at most 4 MiB per block, so one request's buffer cannot be larger. */
const USDM_MAX_BLOCK = 4 * 1024 * 1024;

function checkRequestSize(what: string, n: number): void {
  if (n > USDM_MAX_BLOCK) {
    throw new QatmgrError(ErrorCodes.QATMGR_E_USAGE, `${what} needs a ${n}-byte buffer; libusdm allocates at most ${USDM_MAX_BLOCK} bytes per block: split the data`, { bytes: n });
  }
}

function cpaError(call: string, status: number, extra = ''): QatmgrError {
  return new QatmgrError(ErrorCodes.QATMGR_E_CPA, `${call} returned ${statusName(status)} (${status})${extra}`, { call, status });
}

/** One qaeMemAllocNUMA block, seen from JS through a DataView (no copy into the JS heap). */
class Block {
  readonly ptr: bigint;
  readonly view: DataView;
  readonly bytes: Uint8Array;
  constructor(private lib: Libqat, readonly size: number, node = 0) {
    const p = lib.qaeMemAllocNUMA(size, node, ALIGN);
    if (!p) throw new QatmgrError(ErrorCodes.QATMGR_E_CPA, `qaeMemAllocNUMA(${size}) returned NULL (USDM memory exhausted, or more than 4 MiB)`, { size });
    this.ptr = p;
    const ab = koffi.view(p, size);
    this.view = new DataView(ab);
    this.bytes = new Uint8Array(ab);
  }
  at(off: number): bigint {
    return this.ptr + BigInt(off);
  }
  free(): void {
    this.lib.qaeMemFreeNUMA([this.ptr]);
  }
}

interface Instance {
  kind: 'dc' | 'cy';
  handle: bigint;
  desc: InstanceDesc;
  started: boolean;
  metaSize: number;
  /** Devices that need intermediate buffers for dynamic Huffman (pre-gen4): we use static trees there. */
  staticHuffman: boolean;
  /** The instance verifies its compressed output (compress-and-verify); strict instances refuse requests without it. */
  compressAndVerify: boolean;
}

interface Session {
  id: number;
  kind: 'dc' | 'cy';
  inst: Instance;
  mem: Block;
  algorithm?: CyAlgorithm;
  key?: Uint8Array;
}

/**
 * Three single-buffer lists (A, B, C) with their flat buffers, metadata, op data and results in one
 * block, and each data buffer in a block of its own (libusdm caps a block at 4 MiB).
 */
class DcSlot {
  readonly mem: Block;
  readonly tag: number;
  private readonly lists = [0, 32, 64];
  private readonly flats = [96, 112, 128];
  private readonly data: (Block | null)[] = [];
  readonly caps: number[];
  readonly op = 192;
  readonly res = 256;

  constructor(engine: Engine, inst: Instance, caps: [number, number, number]) {
    this.caps = caps;
    const meta = align(Math.max(inst.metaSize, 1));
    const node = inst.desc.node; // buffers next to the device
    this.mem = new Block(engine.lib, 320 + 3 * meta, node);
    try {
      const v = this.mem.view;
      for (let i = 0; i < 3; i++) {
        const d = caps[i] > 0 ? new Block(engine.lib, caps[i], node) : null;
        this.data.push(d);
        v.setUint32(this.lists[i] + Off.list.num, 1, true);
        v.setBigUint64(this.lists[i] + Off.list.buffers, this.mem.at(this.flats[i]), true);
        v.setBigUint64(this.lists[i] + Off.list.meta, this.mem.at(320 + i * meta), true);
        v.setBigUint64(this.flats[i] + Off.flat.data, d ? d.ptr : 0n, true);
        v.setUint32(this.flats[i] + Off.flat.len, caps[i], true);
      }
      v.setUint32(this.op + Off.dcOp.flush, Dc.FLUSH_FINAL, true);
    } catch (e) {
      for (const d of this.data) d?.free();
      this.mem.free();
      throw e;
    }
    this.tag = engine.newTag();
  }
  list(i: number): bigint {
    return this.mem.at(this.lists[i]);
  }
  setLen(i: number, n: number): void {
    this.mem.view.setUint32(this.flats[i] + Off.flat.len, n, true);
  }
  bytes(i: number, n = this.caps[i]): Uint8Array {
    const d = this.data[i];
    return d ? d.bytes.subarray(0, n) : new Uint8Array(0);
  }
  free(engine: Engine): void {
    engine.releaseTag(this.tag);
    for (const d of this.data) d?.free();
    this.mem.free();
  }
}

/** One in-place buffer list plus op data, IV and digest, for symmetric requests. */
class CySlot {
  readonly mem: Block;
  readonly tag: number;
  readonly op = 64;
  readonly iv = 128;
  readonly digest = 192;
  private readonly dataAt: number;
  constructor(engine: Engine, inst: Instance, readonly cap: number) {
    const meta = align(Math.max(inst.metaSize, 1));
    this.dataAt = align(256 + meta);
    this.mem = new Block(engine.lib, this.dataAt + align(Math.max(cap, 1)), inst.desc.node);
    const v = this.mem.view;
    v.setUint32(0 + Off.list.num, 1, true);
    v.setBigUint64(0 + Off.list.buffers, this.mem.at(32), true);
    v.setBigUint64(0 + Off.list.meta, this.mem.at(256), true);
    v.setBigUint64(32 + Off.flat.data, this.mem.at(this.dataAt), true);
    v.setUint32(32 + Off.flat.len, cap, true);
    this.tag = engine.newTag();
  }
  get list(): bigint {
    return this.mem.at(0);
  }
  bytes(n = this.cap): Uint8Array {
    return this.mem.bytes.subarray(this.dataAt, this.dataAt + n);
  }
  free(engine: Engine): void {
    engine.releaseTag(this.tag);
    this.mem.free();
  }
}

function percentile(sorted: Float64Array, q: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
}

/** Semi-compressible text-like payload, deterministic per size. */
export function makePayload(size: number, incompressible = false): Uint8Array {
  if (incompressible) return crypto.randomBytes(size);
  const words = ['qat', 'section', 'instance', 'deflate', 'ring', 'poll', 'callback', 'usdm', 'vfio', 'sha256', 'the', 'of', 'and', '4xxx'];
  const out = new Uint8Array(size);
  let x = size * 2654435761 >>> 0;
  let i = 0;
  while (i < size) {
    x = (x * 1103515245 + 12345) >>> 0;
    const w = x % 7 === 0 ? String(x % 100000) : words[x % words.length];
    for (let k = 0; k < w.length && i < size; k++) out[i++] = w.charCodeAt(k);
    if (i < size) out[i++] = x % 11 === 0 ? 10 : 32;
  }
  return out;
}

const HASHES: Partial<Record<CyAlgorithm, { alg: number; len: number; node: string }>> = {
  sha1: { alg: Sym.HASH_SHA1, len: 20, node: 'sha1' },
  sha256: { alg: Sym.HASH_SHA256, len: 32, node: 'sha256' },
  sha384: { alg: Sym.HASH_SHA384, len: 48, node: 'sha384' },
  sha512: { alg: Sym.HASH_SHA512, len: 64, node: 'sha512' },
};
const CIPHERS: Partial<Record<CyAlgorithm, { alg: number; keyLen: number; block: number }>> = {
  'aes-128-cbc': { alg: Sym.CIPHER_AES_CBC, keyLen: 16, block: 16 },
  'aes-256-cbc': { alg: Sym.CIPHER_AES_CBC, keyLen: 32, block: 16 },
  'aes-256-ctr': { alg: Sym.CIPHER_AES_CTR, keyLen: 32, block: 1 },
};

export type ProgressFn = (ops: number, elapsedMs: number) => void;

export class Engine {
  lib!: Libqat;
  private dc: Instance[] = [];
  private cy: Instance[] = [];
  private sessions = new Map<number, Session>();
  private nextSession = 1;
  private started = false;
  private readonly done = new Uint8Array(MAX_TAGS);
  private readonly status = new Int32Array(MAX_TAGS);
  private readonly verify = new Uint8Array(MAX_TAGS);
  private freeTags: number[] = [];
  private tagHigh = 1;
  private dcCallback = 0n;
  private cyCallback = 0n;

  /** stop.[0] != 0 asks long loads to finish early (set from another thread). */
  constructor(private readonly stopFlag: Int32Array) {}

  newTag(): number {
    const t = this.freeTags.pop() ?? this.tagHigh++;
    if (t >= MAX_TAGS) throw new QatmgrError(ErrorCodes.QATMGR_E_CPA, `more than ${MAX_TAGS - 1} requests in flight`);
    return t;
  }
  releaseTag(t: number): void {
    this.freeTags.push(t);
  }

  start(name: string, paths: LibqatPaths, socket?: string): { dc: InstanceDesc[]; cy: InstanceDesc[] } {
    // The C library reads QATMGR_SOCKET with getenv: set it in the process environment (a worker's
    // process.env is a private copy).
    if (socket) koffi.load('libc.so.6').func('int setenv(const char *name, const char *value, int overwrite)')('QATMGR_SOCKET', socket, 1);
    this.lib = loadLibqat(paths);
    const lib = this.lib;
    // Completion callbacks run on this thread, inside icp_sal_*PollInstance.
    this.dcCallback = koffi.register((tag: bigint | null, status: number) => {
      const t = Number(tag ?? 0n);
      this.status[t] = status;
      this.done[t] = 1;
    }, koffi.pointer(CpaDcCallbackFn));
    this.cyCallback = koffi.register(
      (tag: bigint | null, status: number, _op: number, _opData: unknown, _dst: unknown, verify: number) => {
        const t = Number(tag ?? 0n);
        this.status[t] = status;
        this.verify[t] = verify ? 1 : 0;
        this.done[t] = 1;
      },
      koffi.pointer(CpaCySymCbFunc),
    );
    const m = lib.qaeMemInit();
    if (m !== CpaStatus.SUCCESS) throw cpaError('qaeMemInit', m, ': USDM memory is not available');
    const st = lib.icp_sal_userStart(name);
    if (st !== CpaStatus.SUCCESS) {
      throw new QatmgrError(
        ErrorCodes.QATMGR_E_LIBQAT_START,
        `icp_sal_userStart("${name}") returned ${statusName(st)} (${st}): no QAT section for this process — is qatmgr running, ` +
          `is its socket reachable and is a section free? (library ${paths.libqat})`,
        { status: st, library: paths.libqat },
      );
    }
    this.started = true;
    this.dc = this.enumerate('dc');
    this.cy = this.enumerate('cy');
    return { dc: this.dc.map((i) => i.desc), cy: this.cy.map((i) => i.desc) };
  }

  private enumerate(kind: 'dc' | 'cy'): Instance[] {
    const lib = this.lib;
    const n = [0];
    const st = kind === 'dc' ? lib.cpaDcGetNumInstances(n) : lib.cpaCyGetNumInstances(n);
    if (st !== CpaStatus.SUCCESS) throw cpaError(kind === 'dc' ? 'cpaDcGetNumInstances' : 'cpaCyGetNumInstances', st);
    if (n[0] === 0) return [];
    const handles: (bigint | null)[] = new Array(n[0]).fill(null);
    const st2 = kind === 'dc' ? lib.cpaDcGetInstances(n[0], handles) : lib.cpaCyGetInstances(n[0], handles);
    if (st2 !== CpaStatus.SUCCESS) throw cpaError(kind === 'dc' ? 'cpaDcGetInstances' : 'cpaCyGetInstances', st2);
    return handles.map((h, index) => {
      const info: Record<string, unknown> = {};
      const handle = h ?? 0n;
      const s = kind === 'dc' ? lib.cpaDcInstanceGetInfo2(handle, info) : lib.cpaCyInstanceGetInfo2(handle, info);
      if (s !== CpaStatus.SUCCESS) throw cpaError(`cpa${kind === 'dc' ? 'Dc' : 'Cy'}InstanceGetInfo2`, s);
      const phys = info.physInstId as Record<string, number>;
      const words = info.coreAffinity as number[];
      const cores: number[] = [];
      words.forEach((w, i) => {
        for (let b = 0; b < 32; b++) if ((w >>> b) & 1) cores.push(i * 32 + b);
      });
      const meta = [0];
      const ms = kind === 'dc' ? lib.cpaDcBufferListGetMetaSize(handle, 1, meta) : lib.cpaCyBufferListGetMetaSize(handle, 1, meta);
      if (ms !== CpaStatus.SUCCESS) throw cpaError(`cpa${kind === 'dc' ? 'Dc' : 'Cy'}BufferListGetMetaSize`, ms);
      const desc: InstanceDesc = {
        kind,
        index,
        name: String(info.instName),
        id: String(info.instID),
        partName: String(info.partName),
        vendorName: String(info.vendorName),
        swVersion: String(info.swVersion),
        packageId: phys.packageId,
        acceleratorId: phys.acceleratorId,
        executionEngineId: phys.executionEngineId,
        busAddress: phys.busAddress,
        node: info.nodeAffinity as number,
        cores,
        polled: Boolean(info.isPolled),
        offloaded: Boolean(info.isOffloaded),
      };
      return { kind, handle, desc, started: false, metaSize: meta[0], staticHuffman: false, compressAndVerify: false };
    });
  }

  private instance(kind: 'dc' | 'cy', index: number): Instance {
    const list = kind === 'dc' ? this.dc : this.cy;
    const inst = list[index];
    if (!inst) throw new QatmgrError(ErrorCodes.QATMGR_E_USAGE, `no ${kind} instance ${index} (this process has ${list.length})`);
    if (!inst.started) {
      const lib = this.lib;
      const t = kind === 'dc' ? lib.cpaDcSetAddressTranslation(inst.handle, lib.virtToPhys) : lib.cpaCySetAddressTranslation(inst.handle, lib.virtToPhys);
      if (t !== CpaStatus.SUCCESS) throw cpaError(`cpa${kind === 'dc' ? 'Dc' : 'Cy'}SetAddressTranslation`, t);
      if (kind === 'dc') {
        const nb = [0];
        const q = lib.cpaDcGetNumIntermediateBuffers(inst.handle, nb);
        if (q !== CpaStatus.SUCCESS) throw cpaError('cpaDcGetNumIntermediateBuffers', q);
        inst.staticHuffman = nb[0] > 0;
        const caps: Record<string, unknown> = {};
        const c = lib.cpaDcQueryCapabilities(inst.handle, caps);
        if (c !== CpaStatus.SUCCESS) throw cpaError('cpaDcQueryCapabilities', c);
        if (!caps.statelessDeflateCompression || !caps.statelessDeflateDecompression) {
          throw new QatmgrError(ErrorCodes.QATMGR_E_CPA, `dc instance ${index} (${inst.desc.name}) cannot do stateless deflate`, { instance: index });
        }
        inst.compressAndVerify = Boolean(caps.compressAndVerify);
      }
      const s = kind === 'dc' ? lib.cpaDcStartInstance(inst.handle, 0, null) : lib.cpaCyStartInstance(inst.handle);
      if (s !== CpaStatus.SUCCESS) throw cpaError(`cpa${kind === 'dc' ? 'Dc' : 'Cy'}StartInstance`, s);
      inst.started = true;
    }
    return inst;
  }

  private session(id: number, kind: 'dc' | 'cy'): Session {
    const s = this.sessions.get(id);
    if (!s || s.kind !== kind) throw new QatmgrError(ErrorCodes.QATMGR_E_USAGE, `no open ${kind} session ${id}`);
    return s;
  }

  dcOpen(index: number, level: number, checksum: number): number {
    const inst = this.instance('dc', index);
    const lib = this.lib;
    const setup = {
      compLevel: level, compType: Dc.DEFLATE, huffType: inst.staticHuffman ? Dc.HT_STATIC : Dc.HT_FULL_DYNAMIC, autoSelectBestHuffmanTree: 0,
      sessDirection: Dc.DIR_COMBINED, sessState: Dc.STATELESS, windowSize: 3, minMatch: 0, lz4BlockMaxSize: 0,
      lz4BlockChecksum: 0, lz4BlockIndependence: 0, checksum, accumulateXXHash: 0,
    };
    const size = [0];
    const ctx = [0];
    const g = lib.cpaDcGetSessionSize(inst.handle, setup, size, ctx);
    if (g !== CpaStatus.SUCCESS) throw cpaError('cpaDcGetSessionSize', g);
    if (ctx[0] !== 0) throw new QatmgrError(ErrorCodes.QATMGR_E_CPA, `stateless session unexpectedly wants a ${ctx[0]}-byte context`);
    const mem = new Block(lib, size[0], inst.desc.node);
    const st = lib.cpaDcInitSession(inst.handle, mem.ptr, setup, null, this.dcCallback);
    if (st !== CpaStatus.SUCCESS) {
      mem.free();
      throw cpaError('cpaDcInitSession', st, ` (level ${level}, checksum ${checksum})`);
    }
    const id = this.nextSession++;
    this.sessions.set(id, { id, kind: 'dc', inst, mem });
    return id;
  }

  /** Submit (retrying while the ring is full), then poll until the callback has fired. */
  private dcRun(s: Session, slot: DcSlot, compress: boolean, src: number, dst: number): { req: number; produced: number; consumed: number; checksum: number; status: number } {
    const lib = this.lib;
    const inst = s.inst.handle;
    const v = slot.mem.view;
    v.setInt32(slot.res + Off.dcRes.status, 0, true);
    v.setUint32(slot.res + Off.dcRes.checksum, 0, true);
    v.setInt32(slot.op + Off.dcOp.verify, compress && s.inst.compressAndVerify ? 1 : 0, true);
    this.done[slot.tag] = 0;
    const fn = compress ? lib.cpaDcCompressData2 : lib.cpaDcDecompressData2;
    const tag = BigInt(slot.tag);
    for (;;) {
      const st = fn(inst, s.mem.ptr, slot.list(src), slot.list(dst), slot.mem.at(slot.op), slot.mem.at(slot.res), tag);
      if (st === CpaStatus.SUCCESS) break;
      if (st !== CpaStatus.RETRY) throw cpaError(compress ? 'cpaDcCompressData2' : 'cpaDcDecompressData2', st);
      this.pollDc(inst);
    }
    while (!this.done[slot.tag]) this.pollDc(inst);
    return {
      status: this.status[slot.tag],
      req: v.getInt32(slot.res + Off.dcRes.status, true),
      produced: v.getUint32(slot.res + Off.dcRes.produced, true),
      consumed: v.getUint32(slot.res + Off.dcRes.consumed, true),
      checksum: v.getUint32(slot.res + Off.dcRes.checksum, true),
    };
  }

  private pollDc(inst: bigint): void {
    const p = this.lib.icp_sal_DcPollInstance(inst, 0);
    if (p !== CpaStatus.SUCCESS && p !== CpaStatus.RETRY) throw cpaError('icp_sal_DcPollInstance', p);
  }

  private pollCy(inst: bigint): void {
    const p = this.lib.icp_sal_CyPollInstance(inst, 0);
    if (p !== CpaStatus.SUCCESS && p !== CpaStatus.RETRY) throw cpaError('icp_sal_CyPollInstance', p);
  }

  private checkDc(call: string, r: { req: number; status: number }): void {
    if (r.status !== CpaStatus.SUCCESS || r.req !== Dc.REQ_OK) {
      throw new QatmgrError(ErrorCodes.QATMGR_E_CPA, `${call} completed with ${statusName(r.status)} (${r.status}), request status ${dcReqStatusName(r.req)} (${r.req})`, {
        call, status: r.status, dcStatus: r.req,
      });
    }
  }

  dcCompress(id: number, data: Uint8Array): DcResult {
    const s = this.session(id, 'dc');
    if (data.length === 0) return { data: EMPTY_DEFLATE.slice(), consumed: 0, checksum: 0 };
    checkRequestSize(`compressing ${data.length} bytes`, deflateBound(data.length));
    const slot = new DcSlot(this, s.inst, [data.length, deflateBound(data.length), 0]);
    try {
      slot.bytes(0).set(data);
      const r = this.dcRun(s, slot, true, 0, 1);
      this.checkDc('cpaDcCompressData2', r);
      return { data: slot.bytes(1, r.produced).slice(), consumed: r.consumed, checksum: r.checksum };
    } finally {
      slot.free(this);
    }
  }

  dcDecompress(id: number, data: Uint8Array, maxOutput: number): DcResult {
    const s = this.session(id, 'dc');
    checkRequestSize(`decompressing ${data.length} bytes`, data.length);
    checkRequestSize(`decompressing into ${maxOutput} bytes`, maxOutput);
    const slot = new DcSlot(this, s.inst, [Math.max(data.length, 1), Math.max(maxOutput, 1), 0]);
    try {
      slot.bytes(0).set(data);
      slot.setLen(0, data.length);
      const r = this.dcRun(s, slot, false, 0, 1);
      this.checkDc('cpaDcDecompressData2', r);
      return { data: slot.bytes(1, r.produced).slice(), consumed: r.consumed, checksum: r.checksum };
    } finally {
      slot.free(this);
    }
  }

  /** Compress+decompress round trips, verified byte for byte, until durationMs (at least one per size). */
  dcLoad(id: number, sizes: number[], durationMs: number, incompressible: boolean, progress: ProgressFn): LoadStats {
    const s = this.session(id, 'dc');
    const slots = sizes.filter((n) => n > 0).map((n) => {
      const slot = new DcSlot(this, s.inst, [n, deflateBound(n), n]);
      slot.bytes(0).set(makePayload(n, incompressible));
      return slot;
    });
    return this.timedLoad(durationMs, progress, (acc) => {
      for (const slot of slots) {
        const n = slot.caps[0];
        slot.setLen(1, slot.caps[1]);
        const a = performance.now();
        const c = this.dcRun(s, slot, true, 0, 1);
        const b = performance.now();
        if (c.status !== 0 || c.req !== 0) return `compress of ${n} bytes: ${statusName(c.status)}, ${dcReqStatusName(c.req)}`;
        slot.setLen(1, c.produced);
        const d = this.dcRun(s, slot, false, 1, 2);
        const e = performance.now();
        if (d.status !== 0 || d.req !== 0) return `decompress of ${n} bytes: ${statusName(d.status)}, ${dcReqStatusName(d.req)}`;
        if (d.produced !== n || Buffer.compare(slot.bytes(2), slot.bytes(0)) !== 0) return `round trip of ${n} bytes came back different (${d.produced} bytes)`;
        acc.lat.push((b - a) * 1000, (e - b) * 1000);
        acc.ops += 2;
        acc.bytes += 2 * n;
      }
      return undefined;
    }, () => {
      for (const slot of slots) slot.free(this);
    });
  }

  /**
   * The timed part of a load: run `round` (one pass over the payloads, counting into `acc`; a string is an error that
   * ends the run) until `durationMs` passes or a stop is requested, reporting progress every 100 ms; `cleanup` always runs.
   */
  private timedLoad(durationMs: number, progress: ProgressFn, round: (acc: { lat: number[]; ops: number; bytes: number }) => string | undefined, cleanup: () => void): LoadStats {
    const acc = { lat: [] as number[], ops: 0, bytes: 0 };
    let error: string | undefined;
    const t0 = performance.now();
    let lastReport = t0;
    try {
      for (;;) {
        error = round(acc);
        if (error !== undefined) break;
        const now = performance.now();
        if (now - lastReport >= 100) { progress(acc.ops, now - t0); lastReport = now; }
        if (now - t0 >= durationMs || Atomics.load(this.stopFlag, 0) !== 0) break;
      }
    } catch (e) {
      error = (e as Error).message;
    } finally {
      cleanup();
    }
    return this.stats(acc.ops, acc.bytes, performance.now() - t0, acc.lat, error);
  }

  private stats(ops: number, bytes: number, ms: number, lat: number[], error?: string): LoadStats {
    const sorted = Float64Array.from(lat).sort();
    return {
      ops,
      bytes,
      seconds: ms / 1000,
      latencyUs: { p50: percentile(sorted, 0.5), p99: percentile(sorted, 0.99), max: sorted.length ? sorted[sorted.length - 1] : 0 },
      verified: error === undefined && ops > 0,
      ...(error !== undefined ? { error } : {}),
    };
  }

  cyOpen(index: number, algorithm: CyAlgorithm, key?: Uint8Array): number {
    const inst = this.instance('cy', index);
    const lib = this.lib;
    const hash = HASHES[algorithm];
    const cipher = CIPHERS[algorithm];
    if (!hash && !cipher) throw new QatmgrError(ErrorCodes.QATMGR_E_USAGE, `unknown algorithm ${algorithm}`);
    const keyBytes = cipher ? key ?? crypto.randomBytes(cipher.keyLen) : new Uint8Array(0);
    const keyMem = new Block(lib, 64);
    keyMem.bytes.set(keyBytes.subarray(0, 64));
    const setup = {
      sessionPriority: Sym.PRIORITY_NORMAL,
      symOperation: cipher ? Sym.OP_CIPHER : Sym.OP_HASH,
      cipherSetupData: {
        cipherAlgorithm: cipher?.alg ?? 0,
        cipherKeyLenInBytes: keyBytes.length,
        pCipherKey: cipher ? keyMem.ptr : null,
        cipherDirection: Sym.DIRECTION_ENCRYPT,
      },
      hashSetupData: {
        hashAlgorithm: hash?.alg ?? 0,
        hashMode: Sym.HASH_MODE_PLAIN,
        digestResultLenInBytes: hash?.len ?? 0,
        authModeSetupData: { authKey: null, authKeyLenInBytes: 0, aadLenInBytes: 0 },
        nestedModeSetupData: { pInnerPrefixData: null, innerPrefixLenInBytes: 0, outerHashAlgorithm: 0, pOuterPrefixData: null, outerPrefixLenInBytes: 0 },
      },
      algChainOrder: 0,
      digestIsAppended: 0,
      verifyDigest: 0,
      partialsNotRequired: 1,
    };
    try {
      const size = [0];
      const g = lib.cpaCySymSessionCtxGetSize(inst.handle, setup, size);
      if (g !== CpaStatus.SUCCESS) throw cpaError('cpaCySymSessionCtxGetSize', g);
      const mem = new Block(lib, size[0], inst.desc.node);
      const st = lib.cpaCySymInitSession(inst.handle, this.cyCallback, setup, mem.ptr);
      if (st !== CpaStatus.SUCCESS) {
        mem.free();
        throw cpaError('cpaCySymInitSession', st, ` (${algorithm}, key ${keyBytes.length} bytes)`);
      }
      const id = this.nextSession++;
      this.sessions.set(id, { id, kind: 'cy', inst, mem, algorithm, key: Uint8Array.from(keyBytes) });
      return id;
    } finally {
      keyMem.free();
    }
  }

  /** One symmetric request on slot (data already in place): returns the CPA callback status. */
  private cyRunSlot(s: Session, slot: CySlot, n: number, iv?: Uint8Array): number {
    const lib = this.lib;
    const v = slot.mem.view;
    const o = slot.op;
    const hash = HASHES[s.algorithm!];
    v.setBigUint64(o + Off.symOp.session, s.mem.ptr, true);
    v.setUint32(o + Off.symOp.packetType, Sym.PACKET_TYPE_FULL, true);
    if (hash) {
      v.setUint32(o + Off.symOp.hashStart, 0, true);
      v.setUint32(o + Off.symOp.hashLen, n, true);
      v.setBigUint64(o + Off.symOp.digest, slot.mem.at(slot.digest), true);
    } else {
      if (iv) slot.mem.bytes.set(iv.subarray(0, 16), slot.iv);
      v.setBigUint64(o + Off.symOp.iv, slot.mem.at(slot.iv), true);
      v.setUint32(o + Off.symOp.ivLen, 16, true);
      v.setUint32(o + Off.symOp.cipherStart, 0, true);
      v.setUint32(o + Off.symOp.cipherLen, n, true);
    }
    v.setUint32(32 + Off.flat.len, n, true);
    this.done[slot.tag] = 0;
    const tag = BigInt(slot.tag);
    for (;;) {
      const st = lib.cpaCySymPerformOp(s.inst.handle, tag, slot.mem.at(o), slot.list, slot.list, null);
      if (st === CpaStatus.SUCCESS) break;
      if (st !== CpaStatus.RETRY) throw cpaError('cpaCySymPerformOp', st, ` (${s.algorithm}, ${n} bytes)`);
      this.pollCy(s.inst.handle);
    }
    while (!this.done[slot.tag]) this.pollCy(s.inst.handle);
    return this.status[slot.tag];
  }

  cyRun(id: number, data: Uint8Array, iv?: Uint8Array): Uint8Array {
    const s = this.session(id, 'cy');
    const slot = new CySlot(this, s.inst, Math.max(data.length, 1));
    try {
      slot.bytes().set(data);
      const st = this.cyRunSlot(s, slot, data.length, iv);
      if (st !== CpaStatus.SUCCESS) throw cpaError('cpaCySymPerformOp callback', st);
      const hash = HASHES[s.algorithm!];
      return hash ? slot.mem.bytes.slice(slot.digest, slot.digest + hash.len) : slot.bytes(data.length).slice();
    } finally {
      slot.free(this);
    }
  }

  /** SHA-256 and AES-256-CBC requests on one instance, each result compared with node:crypto's. */
  cyLoad(index: number, sizes: number[], durationMs: number, progress: ProgressFn): LoadStats {
    const hashId = this.cyOpen(index, 'sha256');
    const key = crypto.randomBytes(32);
    const iv = crypto.randomBytes(16);
    const cipherId = this.cyOpen(index, 'aes-256-cbc', key);
    const hs = this.session(hashId, 'cy');
    const cs = this.session(cipherId, 'cy');
    const cases = sizes.filter((n) => n > 0).map((n0) => {
      const n = Math.ceil(n0 / 16) * 16;
      const plain = makePayload(n);
      const digest = crypto.createHash('sha256').update(plain).digest();
      const c = crypto.createCipheriv('aes-256-cbc', key, iv).setAutoPadding(false);
      const cipherText = Buffer.concat([c.update(plain), c.final()]);
      return { n, plain, digest, cipherText, slot: new CySlot(this, hs.inst, n) };
    });
    return this.timedLoad(durationMs, progress, (acc) => {
      for (const k of cases) {
        const buf = k.slot.bytes(k.n);
        buf.set(k.plain);
        const a = performance.now();
        const h = this.cyRunSlot(hs, k.slot, k.n);
        const b = performance.now();
        const dg = k.slot.mem.bytes.subarray(k.slot.digest, k.slot.digest + 32);
        if (h !== 0 || Buffer.compare(dg, k.digest) !== 0) return `sha256 of ${k.n} bytes differs from node:crypto (status ${statusName(h)})`;
        const c = this.cyRunSlot(cs, k.slot, k.n, iv);
        const e = performance.now();
        if (c !== 0 || Buffer.compare(buf, k.cipherText) !== 0) return `aes-256-cbc of ${k.n} bytes differs from node:crypto (status ${statusName(c)})`;
        acc.lat.push((b - a) * 1000, (e - b) * 1000);
        acc.ops += 2;
        acc.bytes += 2 * k.n;
      }
      return undefined;
    }, () => {
      for (const k of cases) k.slot.free(this);
      this.close(hashId);
      this.close(cipherId);
    });
  }

  /** Submit without polling until the ring answers RETRY, then drain it: shows back-pressure works. */
  fillRing(id: number, size: number): FillRingResult {
    const s = this.session(id, 'dc');
    const lib = this.lib;
    const payload = makePayload(size);
    const slots: DcSlot[] = [];
    let sawRetry = false;
    try {
      for (let i = 0; i < MAX_TAGS - 64; i++) {
        const slot = new DcSlot(this, s.inst, [size, deflateBound(size), 0]);
        slots.push(slot);
        slot.bytes(0).set(payload);
        slot.mem.view.setInt32(slot.op + Off.dcOp.verify, s.inst.compressAndVerify ? 1 : 0, true);
        this.done[slot.tag] = 0;
        const st = lib.cpaDcCompressData2(s.inst.handle, s.mem.ptr, slot.list(0), slot.list(1), slot.mem.at(slot.op), slot.mem.at(slot.res), BigInt(slot.tag));
        if (st === CpaStatus.RETRY) { sawRetry = true; slots.pop()!.free(this); break; }
        if (st !== CpaStatus.SUCCESS) throw cpaError('cpaDcCompressData2', st);
      }
      const accepted = slots.length;
      const deadline = performance.now() + 30_000;
      while (slots.some((x) => !this.done[x.tag]) && performance.now() < deadline) this.pollDc(s.inst.handle);
      const completed = slots.filter((x) => this.done[x.tag]).length;
      const succeeded = slots.filter((x) => this.done[x.tag] && this.status[x.tag] === 0).length;
      let acceptedAfterDrain = false;
      if (slots.length > 0) {
        const again = this.dcRun(s, slots[0], true, 0, 1);
        acceptedAfterDrain = again.status === 0;
      }
      return { accepted, sawRetry, completed, succeeded, acceptedAfterDrain };
    } finally {
      for (const slot of slots) slot.free(this);
    }
  }

  close(id: number): void {
    const s = this.sessions.get(id);
    if (!s) return;
    this.sessions.delete(id);
    const st = s.kind === 'dc' ? this.lib.cpaDcRemoveSession(s.inst.handle, s.mem.ptr) : this.lib.cpaCySymRemoveSession(s.inst.handle, s.mem.ptr);
    s.mem.free();
    if (st !== CpaStatus.SUCCESS) throw cpaError(s.kind === 'dc' ? 'cpaDcRemoveSession' : 'cpaCySymRemoveSession', st);
  }

  /** Tear down in reverse: sessions, instances, then give the section back (SECTION_PUT). */
  stop(): void {
    if (!this.started) return;
    for (const id of [...this.sessions.keys()]) {
      try { this.close(id); } catch { /* keep tearing down */ }
    }
    for (const inst of [...this.dc, ...this.cy]) {
      if (!inst.started) continue;
      if (inst.kind === 'dc') this.lib.cpaDcStopInstance(inst.handle);
      else this.lib.cpaCyStopInstance(inst.handle);
      inst.started = false;
    }
    this.started = false;
    const st = this.lib.icp_sal_userStop();
    this.lib.qaeMemDestroy();
    koffi.unregister(this.dcCallback);
    koffi.unregister(this.cyCallback);
    if (st !== CpaStatus.SUCCESS) throw cpaError('icp_sal_userStop', st);
  }
}
