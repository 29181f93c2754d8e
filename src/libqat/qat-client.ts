// The typed libqat API for the main thread: every libqat call runs on the engine worker, never on the event loop.

import fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { QatmgrError, ErrorCodes, type ErrorCode } from '../errors.js';
import { Dc } from './cpa.js';
import { resolveLibPaths, type LibqatPaths } from './libqat.js';
import type { EngineRequest, EngineMessage, InstanceDesc, CyAlgorithm, LoadStats, DcResult, FillRingResult } from './qat-messages.js';

export type { InstanceDesc, CyAlgorithm, LoadStats, DcResult, FillRingResult } from './qat-messages.js';

export interface StartOptions {
  /** Process name sent with SECTION_GET (default "SSL"). */
  name?: string;
  /** --lib: a directory holding libqat.so.4 + libusdm.so.0, or the libqat file. */
  lib?: string;
  /** Socket of the qatmgr to talk to, exported as QATMGR_SOCKET (honoured by libqat-sim; upstream libqat hard-codes /run/qat/qatmgr.sock). */
  socket?: string;
  env?: NodeJS.ProcessEnv;
}

export interface DcOpenOptions {
  /** CpaDcCompLvl 1..12 (default 1). */
  level?: number;
  checksum?: 'none' | 'crc32' | 'adler32';
}

type Progress = (ops: number, elapsedMs: number) => void;

/** Compiled worker next to this file; when running from TypeScript sources (tests), the one in dist/. */
function workerUrl(): URL {
  const here = new URL('./qat-worker.js', import.meta.url);
  if (fs.existsSync(fileURLToPath(here))) return here;
  return new URL('../../dist/src/libqat/qat-worker.js', import.meta.url);
}

export class QatClient {
  private nextId = 1;
  private pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: unknown) => void; progress?: Progress }>();
  private readonly stopFlag: Int32Array;
  private stopped = false;
  dc: InstanceDesc[] = [];
  cy: InstanceDesc[] = [];

  private constructor(private readonly worker: Worker, stop: SharedArrayBuffer, readonly paths: LibqatPaths) {
    this.stopFlag = new Int32Array(stop);
    worker.on('message', (m: EngineMessage) => {
      const p = this.pending.get(m.id);
      if (!p) return;
      if (m.type === 'progress') { p.progress?.(m.ops, m.elapsedMs); return; }
      this.pending.delete(m.id);
      if (m.ok) p.resolve(m.result);
      else p.reject(new QatmgrError(m.error.code as ErrorCode, m.error.message, m.error.details));
    });
    worker.on('error', (e) => this.failAll(e));
    worker.on('exit', (code) => this.failAll(new QatmgrError(ErrorCodes.QATMGR_E_NATIVE, `libqat engine thread exited (code ${code})`)));
  }

  private failAll(e: unknown): void {
    for (const p of this.pending.values()) p.reject(e);
    this.pending.clear();
  }

  /** Load the libraries and icp_sal_userStart(name) on the engine thread; enumerate DC and CY instances. */
  static async start(opts: StartOptions = {}): Promise<QatClient> {
    const env = opts.env ?? process.env;
    const paths = resolveLibPaths(opts.lib, env);
    const stop = new SharedArrayBuffer(4);
    const worker = new Worker(workerUrl(), { workerData: { stop } });
    const client = new QatClient(worker, stop, paths);
    try {
      const r = (await client.call({ op: 'start', name: opts.name ?? 'SSL', paths, socket: opts.socket })) as { dc: InstanceDesc[]; cy: InstanceDesc[] };
      client.dc = r.dc;
      client.cy = r.cy;
      return client;
    } catch (e) {
      await worker.terminate();
      throw e;
    }
  }

  private call(req: EngineRequest, progress?: Progress, transfer: ArrayBuffer[] = []): Promise<unknown> {
    if (this.stopped && req.op !== 'stop') return Promise.reject(new QatmgrError(ErrorCodes.QATMGR_E_USAGE, 'libqat client already stopped'));
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject, progress });
      this.worker.postMessage({ id, req }, transfer);
    });
  }

  async openDc(index: number, opts: DcOpenOptions = {}): Promise<DcSession> {
    const checksum = { none: Dc.CHECKSUM_NONE, crc32: Dc.CHECKSUM_CRC32, adler32: Dc.CHECKSUM_ADLER32 }[opts.checksum ?? 'crc32'];
    const id = (await this.call({ op: 'dcOpen', instance: index, level: opts.level ?? 1, checksum })) as number;
    return new DcSession(this, id);
  }

  async openCy(index: number, algorithm: CyAlgorithm, key?: Uint8Array): Promise<CySession> {
    const id = (await this.call({ op: 'cyOpen', instance: index, algorithm, key })) as number;
    return new CySession(this, id);
  }

  /** @internal */
  request(req: EngineRequest, progress?: Progress): Promise<unknown> {
    return this.call(req, progress);
  }

  /** Verified SHA-256 + AES-256-CBC traffic on one CY instance for durationMs. */
  cyLoad(index: number, sizes: number[], durationMs: number, progress?: Progress): Promise<LoadStats> {
    return this.call({ op: 'cyLoad', instance: index, sizes, durationMs }, progress) as Promise<LoadStats>;
  }

  /** Ask running loads to finish early (safe from a signal handler: a shared flag, no message). */
  interrupt(): void {
    Atomics.store(this.stopFlag, 0, 1);
  }

  /** Stop instances and icp_sal_userStop (SECTION_PUT), then end the engine thread. Idempotent. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.interrupt();
    try {
      await this.call({ op: 'stop' });
    } finally {
      this.stopped = true;
      await this.worker.terminate();
    }
  }
}

export class DcSession {
  constructor(private readonly client: QatClient, readonly id: number) {}

  /** Raw deflate of data (an empty input gives the 2-byte empty stream: QAT refuses 0-byte sources). */
  compress(data: Uint8Array): Promise<DcResult> {
    return this.client.request({ op: 'dcCompress', session: this.id, data }) as Promise<DcResult>;
  }

  /** Inflate a raw deflate stream into at most maxOutput bytes (more is CPA_DC_OVERFLOW). */
  decompress(data: Uint8Array, maxOutput: number): Promise<DcResult> {
    return this.client.request({ op: 'dcDecompress', session: this.id, data, maxOutput }) as Promise<DcResult>;
  }

  /** Verified compress+decompress round trips for durationMs. */
  load(sizes: number[], durationMs: number, opts: { incompressible?: boolean; progress?: Progress } = {}): Promise<LoadStats> {
    return this.client.request(
      { op: 'dcLoad', session: this.id, sizes, durationMs, incompressible: opts.incompressible ?? false },
      opts.progress,
    ) as Promise<LoadStats>;
  }

  /** Fill the instance's request ring without polling until it answers CPA_STATUS_RETRY, then drain it. */
  fillRing(size = 1024): Promise<FillRingResult> {
    return this.client.request({ op: 'fillRing', session: this.id, size }) as Promise<FillRingResult>;
  }

  async close(): Promise<void> {
    await this.client.request({ op: 'close', session: this.id });
  }
}

export class CySession {
  constructor(private readonly client: QatClient, readonly id: number) {}

  /** Hash sessions return the digest; cipher sessions return the ciphertext (length must suit the mode). */
  run(data: Uint8Array, iv?: Uint8Array): Promise<Uint8Array> {
    return this.client.request({ op: 'cyRun', session: this.id, data, iv }) as Promise<Uint8Array>;
  }

  async close(): Promise<void> {
    await this.client.request({ op: 'close', session: this.id });
  }
}
