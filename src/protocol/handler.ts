// The request handler: one complete frame in, one encoded reply out, checks in upstream's order (protocol §9).

import { HEADER_SIZE, MsgType, REQUEST_LEN, BadText, INSTANCE_TYPES, instanceTypeIndex } from './constants.js';
import { encodeBad, encodeHeaderOnly } from './encode.js';
import { readCString, sanitisedNameLength, readDeviceNum, readInstanceRequest } from './decode.js';
import { buildPfReplies, type SectionReplies, type PfReplies } from './replies.js';
import { SectionReplyCache } from './reply-cache.js';
import type { PfInfo } from '../platform/pfs.js';
import type { Allocator, Holder, PodRef, Section, ClientFacts } from '../sections/allocator.js';

/** Pre-encoded BAD replies (they depend only on the server version). */
export interface BadReplies {
  version: Buffer;
  unknownMessage: Buffer;
  inconsistentLength: Buffer;
  invalidIndex: Buffer;
  invalidDevice: Buffer;
  sectionAlready: Buffer;
  noSection: Buffer;
  notAllocated: Buffer;
  releaseFailed: Buffer;
  unknownInstanceType: Buffer;
  /** [INSTANCE_TYPES index] */
  invalidInstanceName: Buffer[];
  invalidInstanceInfo: Buffer[];
}

export function buildBadReplies(version: number): BadReplies {
  const b = (t: string): Buffer => encodeBad(version, t);
  return {
    version: b(BadText.VERSION),
    unknownMessage: b(BadText.UNKNOWN_MESSAGE),
    inconsistentLength: b(BadText.INCONSISTENT_LENGTH),
    invalidIndex: b(BadText.INVALID_INDEX),
    invalidDevice: b(BadText.INVALID_DEVICE),
    sectionAlready: b(BadText.SECTION_ALREADY),
    noSection: b(BadText.NO_SECTION),
    notAllocated: b(BadText.SECTION_NOT_ALLOCATED),
    releaseFailed: b(BadText.RELEASE_FAILED),
    unknownInstanceType: b(BadText.UNKNOWN_INSTANCE_TYPE),
    invalidInstanceName: INSTANCE_TYPES.map((t) => b(t.nameText)),
    invalidInstanceInfo: INSTANCE_TYPES.map((t) => b(t.infoText)),
  };
}

/** Per-connection state. */
export interface Session {
  connId: number;
  pid: number;
  uid: number;
  gid: number;
  section: Section | null;
  replies: SectionReplies | null;
  requests: number;
  /** What the edge read about this client for grant rules, cached for the connection (with the reader it came from). */
  client?: ClientFacts;
  clientFrom?: ClientReader;
  /** Which socket the connection came in on: undefined = the client socket, else that listener's tag. */
  via?: string;
}

/**
 * Which sections a SECTION_GET may be granted, decided outside the protocol (the kubelet plugin's managed mode):
 * `among` = only these (and the holder's pod), `refuse` = none, with the reason for the log; undefined = as usual.
 */
export type GrantScope = { among: readonly Section[]; pod?: PodRef } | { refuse: string } | undefined;

/** Reads what the grant rules need about a client pid (from /proc, at the edge); set only when rules need it. */
export type ClientReader = (pid: number) => ClientFacts;

export interface ServeContext {
  version: number;
  allocator: Allocator;
  /** Encoded replies of each section. */
  replies: SectionReplyCache;
  pf: PfReplies;
  bad: BadReplies;
  /** Called for refusals and mismatches worth a log line. */
  onNote?: (session: Session, event: string, detail: Record<string, unknown>) => void;
  /** Set when NumaAware or shares need facts about the client; called on SECTION_GET only, once per connection. */
  clientReader?: ClientReader;
  /** BAD replies of refusals by a rule ("No section available: <reason>"), encoded once per distinct reason. */
  ruleRefusals: Map<string, Buffer>;
  /** Narrows or refuses a grant (set only when something needs it: the plain path pays nothing). */
  scope?: (session: Session, processName: string) => GrantScope;
}

/** Everything the handler answers from, for `allocator`'s sections and the PF table `pfs`. */
export function createServeContext(version: number, allocator: Allocator, pfs: PfInfo[], vm: boolean): ServeContext {
  return {
    version,
    allocator,
    replies: new SectionReplyCache(version, vm, allocator),
    pf: buildPfReplies(version, pfs),
    bad: buildBadReplies(version),
    ruleRefusals: new Map(),
  };
}

/** What the handler decided besides the reply (for logs, metrics and the admin view). */
export interface Outcome {
  type: number;
  bad: boolean;
}

/**
 * Answer one request. `frame` holds exactly `len` bytes (8 <= len <= 264, already checked by the framer).
 * Never throws for any frame content.
 */
export function handleRequest(frame: Buffer, s: Session, ctx: ServeContext): Buffer {
  const { bad } = ctx;
  s.requests++;
  if (s.section) {
    if (s.section.holder?.connId !== s.connId) {
      // the section was taken away (admin force-release): this connection no longer holds it
      s.section = null;
      s.replies = null;
    } else {
      s.section.holder.requests++;
    }
  }
  if (frame.readUInt16LE(2) !== ctx.version) {
    ctx.onNote?.(s, 'version_mismatch', { clientVersion: frame.readUInt16LE(2), serverVersion: ctx.version });
    return bad.version;
  }
  const type = frame.readUInt16LE(4);
  const len = frame.length;
  switch (type) {
    case MsgType.SECTION_GET:
    case MsgType.SECTION_PUT: {
      if (len !== HEADER_SIZE + sanitisedNameLength(frame) + 1) return bad.inconsistentLength;
      return type === MsgType.SECTION_GET ? sectionGet(frame, s, ctx) : sectionPut(frame, s, ctx);
    }
    case MsgType.NUM_DEVICES:
    case MsgType.DEVICE_INFO:
    case MsgType.DEVICE_ID:
    case MsgType.VFIO_FILE:
    case MsgType.INSTANCE_INFO:
    case MsgType.INSTANCE_NAME: {
      if (len !== REQUEST_LEN[type]) return bad.inconsistentLength;
      const r = s.replies;
      if (!r) return bad.invalidIndex;
      if (type === MsgType.NUM_DEVICES) return r.numDevices;
      if (type === MsgType.INSTANCE_INFO || type === MsgType.INSTANCE_NAME) {
        const q = readInstanceRequest(frame);
        if (q.deviceNum >= r.deviceInfo.length) return bad.invalidDevice;
        const ti = instanceTypeIndex(q.type);
        if (ti < 0) return bad.unknownInstanceType;
        const list = (type === MsgType.INSTANCE_INFO ? r.instInfo : r.instName)[q.deviceNum][ti];
        if (q.num >= list.length) return (type === MsgType.INSTANCE_INFO ? bad.invalidInstanceInfo : bad.invalidInstanceName)[ti];
        return list[q.num];
      }
      const d = readDeviceNum(frame);
      if (d >= r.deviceInfo.length) return bad.invalidDevice;
      if (type === MsgType.DEVICE_INFO) return r.deviceInfo[d];
      if (type === MsgType.DEVICE_ID) return r.deviceId[d];
      return r.vfioFile[d];
    }
    case MsgType.NUM_PF_DEVS:
      if (len !== REQUEST_LEN[type]) return bad.inconsistentLength;
      return ctx.pf.count;
    case MsgType.PF_DEV_INFO: {
      if (len !== REQUEST_LEN[type]) return bad.inconsistentLength;
      const p = readDeviceNum(frame);
      if (p >= ctx.pf.info.length) return bad.invalidDevice;
      return ctx.pf.info[p];
    }
    default:
      return bad.unknownMessage;
  }
}

function sectionGet(frame: Buffer, s: Session, ctx: ServeContext): Buffer {
  if (s.section) return ctx.bad.sectionAlready;
  const processName = readCString(frame, HEADER_SIZE);
  const read = ctx.clientReader;
  if (read && s.clientFrom !== read) {
    s.client = read(s.pid);
    s.clientFrom = read;
  }
  const holder: Holder = {
    connId: s.connId, pid: s.pid, uid: s.uid, gid: s.gid, processName, since: Date.now(), requests: 1, client: read ? s.client : undefined,
  };
  const scope = ctx.scope?.(s, processName);
  if (scope && 'refuse' in scope) {
    // observers (event ring, metrics) see it as the allocator's refusals; the client gets the plain text (the
    // reason names pids and pods: one encoded reply per reason would not stay bounded)
    ctx.allocator.emit('refuse', holder, scope.refuse, true);
    ctx.onNote?.(s, 'no_section', { processName, reason: scope.refuse });
    return ctx.bad.noSection;
  }
  if (scope?.pod) holder.pod = scope.pod;
  const g = ctx.allocator.tryAcquire(holder, scope?.among);
  const sec = g.section;
  if (!sec) {
    ctx.onNote?.(s, 'no_section', { processName, reason: g.reason });
    return g.byRule ? ruleRefusal(ctx, g.reason) : ctx.bad.noSection;
  }
  s.section = sec;
  s.replies = ctx.replies.for(sec);
  return s.replies.get;
}

function sectionPut(frame: Buffer, s: Session, ctx: ServeContext): Buffer {
  const sec = s.section;
  const r = s.replies;
  if (!sec || !r) return ctx.bad.notAllocated;
  const nameLen = sanitisedNameLength(frame);
  const sent = frame.subarray(HEADER_SIZE, HEADER_SIZE + nameLen);
  if (!sent.equals(r.nameBytes) || !ctx.allocator.release(sec, s.connId, 'put')) {
    ctx.onNote?.(s, 'release_mismatch', { section: sec.name, sent: sent.toString('latin1') });
    return ctx.bad.releaseFailed;
  }
  s.section = null;
  s.replies = null;
  return putReplyFor(ctx.version);
}

/**
 * Distinct refusal texts encoded (they carry counts); past this many, refusals by a rule share one generic text, so
 * the set of reply buffers (which the request counters key on) stays bounded for the daemon's life.
 */
const RULE_REFUSALS_KEPT = 256;
const RULE_REFUSAL_OVERFLOW = 'refused by NumaAware or a share (qatctl events shows the reason)';

/**
 * A refusal by NumaAware=strict, a cap or a reservation: upstream's text with the reason after it, so the libqat log
 * line says why ("No section available: nginx.service holds its maximum of 8"). libqat only logs BAD texts; plain
 * exhaustion keeps upstream's exact reply. The encoder cuts the text to error_text's 255 bytes.
 */
function ruleRefusal(ctx: ServeContext, reason: string): Buffer {
  let b = ctx.ruleRefusals.get(reason);
  if (!b) {
    const key = ctx.ruleRefusals.size < RULE_REFUSALS_KEPT ? reason : RULE_REFUSAL_OVERFLOW;
    b = ctx.ruleRefusals.get(key) ?? encodeBad(ctx.version, `${BadText.NO_SECTION}: ${key}`);
    ctx.ruleRefusals.set(key, b);
  }
  return b;
}

const putReplies = new Map<number, Buffer>();
function putReplyFor(version: number): Buffer {
  let b = putReplies.get(version);
  if (!b) { b = encodeHeaderOnly(version, MsgType.SECTION_PUT); putReplies.set(version, b); }
  return b;
}
