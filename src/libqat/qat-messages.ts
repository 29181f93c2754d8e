// What the main thread and the libqat engine worker say to each other (plain, structured-clone-able data).

import type { LibqatPaths } from './libqat.js';

export interface InstanceDesc {
  kind: 'dc' | 'cy';
  /** Position in cpaDcGetInstances / cpaCyGetInstances order. */
  index: number;
  name: string;
  id: string;
  partName: string;
  vendorName: string;
  swVersion: string;
  packageId: number;
  acceleratorId: number;
  executionEngineId: number;
  /** PCI bus/device/function packed as bus << 8 | dev << 3 | fn. */
  busAddress: number;
  node: number;
  cores: number[];
  polled: boolean;
  offloaded: boolean;
}

export type CyAlgorithm = 'sha256' | 'sha1' | 'sha384' | 'sha512' | 'aes-128-cbc' | 'aes-256-cbc' | 'aes-256-ctr';

export interface LoadStats {
  ops: number;
  /** Uncompressed (or plaintext) bytes handled by all requests. */
  bytes: number;
  seconds: number;
  latencyUs: { p50: number; p99: number; max: number };
  verified: boolean;
  error?: string;
}

export type EngineRequest =
  | { op: 'start'; name: string; paths: LibqatPaths; socket?: string }
  | { op: 'dcOpen'; instance: number; level: number; checksum: number }
  | { op: 'dcCompress'; session: number; data: Uint8Array }
  | { op: 'dcDecompress'; session: number; data: Uint8Array; maxOutput: number }
  | { op: 'cyOpen'; instance: number; algorithm: CyAlgorithm; key?: Uint8Array }
  | { op: 'cyRun'; session: number; data: Uint8Array; iv?: Uint8Array }
  | { op: 'close'; session: number }
  | { op: 'dcLoad'; session: number; sizes: number[]; durationMs: number; incompressible: boolean }
  | { op: 'cyLoad'; instance: number; sizes: number[]; durationMs: number }
  | { op: 'fillRing'; session: number; size: number }
  | { op: 'stop' };

export interface DcResult {
  data: Uint8Array;
  consumed: number;
  checksum: number;
}

export interface FillRingResult {
  /** Requests the ring took before the first CPA_STATUS_RETRY. */
  accepted: number;
  sawRetry: boolean;
  /** Callbacks that arrived while draining, and how many reported success. */
  completed: number;
  succeeded: number;
  /** A request submitted after draining was accepted. */
  acceptedAfterDrain: boolean;
}

export type EngineMessage =
  | { type: 'reply'; id: number; ok: true; result: unknown }
  | { type: 'reply'; id: number; ok: false; error: { code: string; message: string; details: Record<string, unknown> } }
  | { type: 'progress'; id: number; ops: number; elapsedMs: number };
