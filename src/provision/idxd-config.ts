// What the operator wants of the DSA/IAA devices: accel-config's JSON (save-config / list output) or the IaaCrypto=
// setting of /etc/sysconfig/qat, turned into one checked description. Every error names the file and JSON path.

import fs from 'node:fs';
import { QatmgrError, ErrorCodes } from '../errors.js';
import { IAA_ALGORITHM, IAA_SYNC_MODES, IDXD_LIMITS, WQ_DRIVERS, defaultWqDriver, parseIdxdName, type IdxdType, type WqDriver } from '../kernel/idxd.js';
import type { IdxdDevice, IdxdInventory } from '../idxd/inventory.js';

export interface WantedWq {
  dev: string;
  id: number;
  /** sysfs attribute -> value to write (normalised text), in the file's terms. */
  attrs: Record<string, string>;
  /** Bind it (the file lists it in a group and does not say "state": "disabled"). */
  enable: boolean;
  /** The driver to bind it to when not the one its driver_name/type imply (a restored snapshot). */
  driver?: WqDriver;
  /** Where it was described: `FILE: [0].groups[0].grouped_workqueues[1]`. */
  where: string;
}

export interface WantedDevice {
  dev: string;
  type: IdxdType;
  id: number;
  where: string;
  enable: boolean;
  /** Device attributes (read_buffer_limit). */
  attrs: Record<string, string>;
  groups: Array<{ dev: string; id: number; attrs: Record<string, string>; where: string }>;
  /** engine id -> group id. */
  engines: Map<number, { group: number; where: string }>;
  wqs: WantedWq[];
}

export interface IdxdWanted {
  /** The JSON file, or the IaaCrypto= setting, it came from. */
  sources: string[];
  devices: WantedDevice[];
  crypto: { syncMode?: string; verifyCompress?: string; where: string } | undefined;
  zswap: { compressor?: string; enabled?: string; where: string } | undefined;
  notes: string[];
}

function bad(msg: string, details: Record<string, unknown> = {}): QatmgrError {
  return new QatmgrError(ErrorCodes.QATMGR_E_CONFIG_VALUE, msg, details);
}

/** Keys accel-config's list output carries that describe the hardware or the moment, not configuration: ignored. */
const READ_ONLY_KEYS = new Set([
  'max_groups', 'max_work_queues', 'max_engines', 'work_queue_size', 'numa_node', 'op_cap', 'gen_cap', 'version', 'state',
  'max_read_buffers', 'max_tokens', 'max_batch_size', 'ims_size', 'max_transfer_size', 'configurable', 'pasid_enabled',
  'cdev_major', 'clients', 'mdevs', 'errors', 'iaa_cap', 'cdev_minor',
]);
/** wq keys of the list output that describe the moment (save-config leaves them out). */
const WQ_READ_ONLY_KEYS = new Set(['state', 'clients', 'cdev_minor']);
const DEVICE_KEYS = new Set(['dev', 'read_buffer_limit', 'token_limit', 'groups', 'ungrouped_engines', 'ungrouped workqueues', 'ungrouped_workqueues']);
const GROUP_KEYS: Record<string, string> = {
  tokens_reserved: 'read_buffers_reserved', read_buffers_reserved: 'read_buffers_reserved', use_token_limit: 'use_read_buffer_limit',
  use_read_buffer_limit: 'use_read_buffer_limit', tokens_allowed: 'read_buffers_allowed', read_buffers_allowed: 'read_buffers_allowed',
  traffic_class_a: 'traffic_class_a', traffic_class_b: 'traffic_class_b', desc_progress_limit: 'desc_progress_limit', batch_progress_limit: 'batch_progress_limit',
};
/** wq keys of accel-config's JSON and how each value is checked. */
const WQ_KEYS: Record<string, 'int' | 'nonneg' | 'bool' | 'mode' | 'type' | 'name' | 'driver' | 'pow2'> = {
  mode: 'mode', size: 'nonneg', group_id: 'int', priority: 'nonneg', block_on_fault: 'bool', max_batch_size: 'pow2',
  max_transfer_size: 'pow2', type: 'type', name: 'name', driver_name: 'driver', threshold: 'nonneg', ats_disable: 'bool', prs_disable: 'bool',
};

type Json = unknown;

class Walker {
  constructor(readonly file: string) {}
  err(at: string, msg: string): never {
    throw bad(`${this.file}: ${at}: ${msg}`, { file: this.file, path: at });
  }
  obj(v: Json, at: string): Record<string, Json> {
    if (v === null || typeof v !== 'object' || Array.isArray(v)) this.err(at, `expected an object, got ${JSON.stringify(v)?.slice(0, 40)}`);
    return v as Record<string, Json>;
  }
  arr(v: Json, at: string): Json[] {
    if (!Array.isArray(v)) this.err(at, `expected an array, got ${JSON.stringify(v)?.slice(0, 40)}`);
    return v as Json[];
  }
  int(v: Json, at: string, min = -Infinity, max = Infinity): number {
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
      this.err(at, `${JSON.stringify(v)} is not an integer${min > -Infinity ? ` ${min}..${max === Infinity ? '' : max}` : ''}`);
    }
    return v as number;
  }
  str(v: Json, at: string): string {
    if (typeof v !== 'string') this.err(at, `${JSON.stringify(v)} is not a string`);
    return v as string;
  }
}

/** `[0].groups[1]` -> line context for JSON.parse failures. */
function jsonSyntaxError(file: string, text: string, e: Error): QatmgrError {
  const m = /position (\d+)/.exec(e.message);
  let where = '';
  if (m) {
    const pos = Number(m[1]);
    const before = text.slice(0, pos).split('\n');
    where = `:${before.length}:${before[before.length - 1].length + 1}`;
  }
  return new QatmgrError(ErrorCodes.QATMGR_E_CONFIG_SYNTAX, `${file}${where}: not valid JSON: ${e.message}`, { file });
}

function wqValue(w: Walker, kind: (typeof WQ_KEYS)[string], v: Json, at: string): string | undefined {
  switch (kind) {
    case 'int': return String(w.int(v, at, -1));
    case 'nonneg': return String(w.int(v, at, 0));
    case 'bool': return String(w.int(v, at, 0, 1));
    case 'pow2': {
      // accel-config lists -2 where the attribute does not exist (IAA has no batches)
      if (typeof v === 'number' && v < 0) return undefined;
      const n = w.int(v, at, 1);
      if ((n & (n - 1)) !== 0 && n < 2 ** 31) w.err(at, `${n} is not a power of two (the kernel would round it up to ${2 ** Math.ceil(Math.log2(n))})`);
      return String(n);
    }
    case 'mode': {
      const s = w.str(v, at);
      if (s !== 'shared' && s !== 'dedicated') w.err(at, `"${s}" is not shared|dedicated`);
      return s;
    }
    case 'type': {
      const s = w.str(v, at);
      if (s !== 'none' && s !== 'kernel' && s !== 'user') w.err(at, `"${s}" is not kernel|user|none${s === 'mdev' ? ' (mdev wqs are not supported by the in-tree driver)' : ''}`);
      return s;
    }
    case 'name': {
      const s = w.str(v, at);
      if (s.length > IDXD_LIMITS.wqNameMax) w.err(at, `is ${s.length} characters; at most ${IDXD_LIMITS.wqNameMax}`);
      return s;
    }
    case 'driver': {
      const s = w.str(v, at);
      if (s !== '' && !(WQ_DRIVERS as readonly string[]).includes(s)) w.err(at, `"${s}" is not a wq driver (${WQ_DRIVERS.join(', ')})`);
      return s;
    }
  }
}

/** Parse accel-config's JSON (an array of devices). Shape and value errors name the file and JSON path. */
export function parseAccelConfig(text: string, file: string): IdxdWanted {
  let raw: Json;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw jsonSyntaxError(file, text, e as Error);
  }
  const w = new Walker(file);
  const devices: WantedDevice[] = [];
  const notes: string[] = [];
  const seen = new Map<string, string>();
  w.arr(raw, '$').forEach((dv, i) => {
    const at = `[${i}]`;
    const d = w.obj(dv, at);
    const name = w.str(d.dev, `${at}.dev`);
    const p = parseIdxdName(name);
    if (p?.kind !== 'device') w.err(`${at}.dev`, `"${name}" is not a device name (dsa<N> or iax<N>)`);
    const pd = p as { type: IdxdType; id: number };
    if (seen.has(name)) w.err(`${at}.dev`, `${name} is described twice (first at ${seen.get(name)})`);
    seen.set(name, at);
    const dev: WantedDevice = { dev: name, type: pd.type, id: pd.id, where: `${file}: ${at}`, enable: true, attrs: {}, groups: [], engines: new Map(), wqs: [] };
    if (d.state === 'disabled') dev.enable = false;
    for (const k of Object.keys(d)) {
      if (!DEVICE_KEYS.has(k) && !READ_ONLY_KEYS.has(k)) w.err(`${at}.${k}`, `unknown device key "${k}"`);
    }
    for (const k of ['read_buffer_limit', 'token_limit']) if (d[k] !== undefined) dev.attrs.read_buffer_limit = String(w.int(d[k], `${at}.${k}`, 0));
    const wqAt = new Map<number, string>();
    const addWq = (wv: Json, wat: string, group: number | undefined): void => {
      const o = w.obj(wv, wat);
      const wname = w.str(o.dev, `${wat}.dev`);
      const wp = parseIdxdName(wname);
      if (wp?.kind !== 'wq' || wp.dev !== pd.id) w.err(`${wat}.dev`, `"${wname}" is not a wq of ${name} (wq${pd.id}.<n>)`);
      if (wqAt.has(wp!.id)) w.err(`${wat}.dev`, `${wname} is described twice (first at ${wqAt.get(wp!.id)})`);
      wqAt.set(wp!.id, wat);
      const attrs: Record<string, string> = {};
      for (const [k, v] of Object.entries(o)) {
        if (k === 'dev' || WQ_READ_ONLY_KEYS.has(k)) continue;
        const kind = WQ_KEYS[k];
        if (!kind) w.err(`${wat}.${k}`, `unknown wq key "${k}"`);
        const val = wqValue(w, kind, v, `${wat}.${k}`);
        if (val !== undefined) attrs[k] = val;
      }
      if (group !== undefined) {
        if (attrs.group_id !== undefined && Number(attrs.group_id) !== group) w.err(`${wat}.group_id`, `${attrs.group_id} but the wq is listed in group${pd.id}.${group}`);
        attrs.group_id = String(group);
      } else if (attrs.group_id !== undefined && attrs.group_id !== '-1') {
        w.err(`${wat}.group_id`, `${attrs.group_id} but the wq is listed as ungrouped`);
      }
      if (attrs.priority !== undefined && Number(attrs.priority) > IDXD_LIMITS.maxPriority) w.err(`${wat}.priority`, `${attrs.priority} is more than ${IDXD_LIMITS.maxPriority}`);
      dev.wqs.push({ dev: wname, id: wp!.id, attrs, enable: group !== undefined && o.state !== 'disabled', where: `${file}: ${wat}` });
    };
    const addEngine = (ev: Json, eat: string, group: number): void => {
      const o = w.obj(ev, eat);
      const ename = w.str(o.dev, `${eat}.dev`);
      const ep = parseIdxdName(ename);
      if (ep?.kind !== 'engine' || ep.dev !== pd.id) w.err(`${eat}.dev`, `"${ename}" is not an engine of ${name} (engine${pd.id}.<n>)`);
      if (dev.engines.has(ep!.id)) w.err(`${eat}.dev`, `${ename} is described twice (first at ${dev.engines.get(ep!.id)!.where})`);
      if (o.group_id !== undefined && w.int(o.group_id, `${eat}.group_id`, -1) !== group) w.err(`${eat}.group_id`, `${String(o.group_id)} but the engine is listed ${group < 0 ? 'as ungrouped' : `in group${pd.id}.${group}`}`);
      dev.engines.set(ep!.id, { group, where: `${file}: ${eat}` });
    };
    if (d.groups !== undefined) {
      w.arr(d.groups, `${at}.groups`).forEach((gv, gi) => {
        const gat = `${at}.groups[${gi}]`;
        const g = w.obj(gv, gat);
        const gname = w.str(g.dev, `${gat}.dev`);
        const gp = parseIdxdName(gname);
        if (gp?.kind !== 'group' || gp.dev !== pd.id) w.err(`${gat}.dev`, `"${gname}" is not a group of ${name} (group${pd.id}.<n>)`);
        if (dev.groups.some((x) => x.id === gp!.id)) w.err(`${gat}.dev`, `${gname} is described twice`);
        const attrs: Record<string, string> = {};
        for (const [k, v] of Object.entries(g)) {
          if (k === 'dev' || k === 'grouped_workqueues' || k === 'grouped_engines') continue;
          const attr = GROUP_KEYS[k];
          if (!attr) w.err(`${gat}.${k}`, `unknown group key "${k}"`);
          attrs[attr] = String(w.int(v, `${gat}.${k}`, -1));
        }
        dev.groups.push({ dev: gname, id: gp!.id, attrs, where: `${file}: ${gat}` });
        if (g.grouped_workqueues !== undefined) w.arr(g.grouped_workqueues, `${gat}.grouped_workqueues`).forEach((x, k) => addWq(x, `${gat}.grouped_workqueues[${k}]`, gp!.id));
        if (g.grouped_engines !== undefined) w.arr(g.grouped_engines, `${gat}.grouped_engines`).forEach((x, k) => addEngine(x, `${gat}.grouped_engines[${k}]`, gp!.id));
      });
    }
    for (const k of ['ungrouped workqueues', 'ungrouped_workqueues']) {
      if (d[k] !== undefined) w.arr(d[k], `${at}["${k}"]`).forEach((x, j) => addWq(x, `${at}["${k}"][${j}]`, undefined));
    }
    if (d.ungrouped_engines !== undefined) w.arr(d.ungrouped_engines, `${at}.ungrouped_engines`).forEach((x, j) => addEngine(x, `${at}.ungrouped_engines[${j}]`, -1));
    dev.wqs.sort((a, b) => a.id - b.id);
    devices.push(dev);
  });
  return { sources: [file], devices, crypto: undefined, zswap: undefined, notes };
}

export function readAccelConfigFile(file: string): IdxdWanted {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    throw new QatmgrError(ErrorCodes.QATMGR_E_CONFIG_VALUE, `${file}: cannot read: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, { file });
  }
  return parseAccelConfig(text, file);
}

/** The common IAA case in one setting: one kernel wq per IAA device bound to iaa_crypto, its attributes, zswap. */
export interface IaaCryptoSetting {
  where: string;
  raw: string;
  /** `devices=all` or a list (`iax1 iax3`). */
  devices: 'all' | string[];
  mode: 'dedicated' | 'shared';
  /** wq size; default: the device's max_work_queues_size. */
  wqSize: number | undefined;
  priority: number;
  syncMode: string | undefined;
  verifyCompress: string | undefined;
  zswapCompressor: string | undefined;
  zswapEnabled: string | undefined;
}

const IAA_KEYS = ['devices', 'mode', 'wq_size', 'priority', 'sync_mode', 'verify_compress', 'zswap', 'zswap_enabled'];

/**
 * `IaaCrypto=on` or a list of key=value separated by blanks or commas, e.g.
 * `IaaCrypto="mode=dedicated sync_mode=async zswap=deflate-iaa"`; `off` or empty: not used.
 */
export function parseIaaCrypto(raw: string, where: string): IaaCryptoSetting | undefined {
  const text = raw.trim();
  if (text === '' || /^(off|no|0|false)$/i.test(text)) return undefined;
  const s: IaaCryptoSetting = { where, raw, devices: 'all', mode: 'dedicated', wqSize: undefined, priority: 10, syncMode: undefined, verifyCompress: undefined, zswapCompressor: undefined, zswapEnabled: undefined };
  const fail = (msg: string): never => {
    throw bad(`${where}: IaaCrypto="${raw}": ${msg}`);
  };
  for (const tok of text.split(/[\s,]+/).filter(Boolean)) {
    if (/^(on|yes|1|true)$/i.test(tok)) continue;
    const eq = tok.indexOf('=');
    if (eq < 1) fail(`"${tok}" is not key=value (keys: ${IAA_KEYS.join(', ')})`);
    const k = tok.slice(0, eq);
    const v = tok.slice(eq + 1);
    const int = (min: number, max: number): number => {
      if (!/^[0-9]+$/.test(v) || Number(v) < min || Number(v) > max) fail(`${k}=${v} is not ${min}..${max}`);
      return Number(v);
    };
    switch (k) {
      case 'devices':
        if (v === 'all') s.devices = 'all';
        else {
          const list = v.split(/[+:]/).filter(Boolean);
          for (const n of list) if (parseIdxdName(n)?.kind !== 'device' || !n.startsWith('iax')) fail(`devices: "${n}" is not an IAA device name (iax<N>)`);
          s.devices = list;
        }
        break;
      case 'mode':
        if (v !== 'dedicated' && v !== 'shared') fail(`mode "${v}" is not dedicated|shared`);
        s.mode = v as 'dedicated' | 'shared';
        break;
      case 'wq_size': s.wqSize = int(1, 4096); break;
      case 'priority': s.priority = int(0, IDXD_LIMITS.maxPriority); break;
      case 'sync_mode':
        if (!(IAA_SYNC_MODES as readonly string[]).includes(v)) fail(`sync_mode "${v}" is not ${IAA_SYNC_MODES.join('|')}`);
        s.syncMode = v;
        break;
      case 'verify_compress': s.verifyCompress = String(int(0, 1)); break;
      case 'zswap':
        if (v !== IAA_ALGORITHM && v !== 'keep') fail(`zswap "${v}" is not ${IAA_ALGORITHM} (or keep)`);
        s.zswapCompressor = v === 'keep' ? undefined : v;
        break;
      case 'zswap_enabled': s.zswapEnabled = int(0, 1) ? 'Y' : 'N'; break;
      default: fail(`unknown key "${k}" (keys: ${IAA_KEYS.join(', ')})`);
    }
  }
  return s;
}

/** Expand IaaCrypto over the IAA devices present: wq<N>.0 in group 0 with every engine, bound to crypto. */
export function expandIaaCrypto(s: IaaCryptoSetting, inv: IdxdInventory): IdxdWanted {
  const iaa = inv.devices.filter((d) => d.type === 'iax');
  const picked: IdxdDevice[] = s.devices === 'all' ? iaa : s.devices.map((n) => iaa.find((d) => d.dev === n) ?? (() => { throw bad(`${s.where}: IaaCrypto="${s.raw}": devices: ${n} is not an IAA device of this host (present: ${iaa.map((d) => d.dev).join(', ') || 'none'})`); })());
  const devices: WantedDevice[] = picked.map((d) => {
    const size = s.wqSize ?? d.maxWorkQueuesSize;
    const attrs: Record<string, string> = { group_id: '0', mode: s.mode, size: String(size), priority: String(s.priority), type: 'kernel', name: 'iaa_crypto', driver_name: 'crypto' };
    if (s.mode === 'shared') attrs.threshold = String(size);
    const engines = new Map<number, { group: number; where: string }>();
    for (const e of d.engines) engines.set(e.id, { group: 0, where: s.where });
    return {
      dev: d.dev, type: d.type, id: d.id, where: `${s.where}: IaaCrypto (${d.dev})`, enable: true, attrs: {},
      groups: [], engines, wqs: [{ dev: `wq${d.id}.0`, id: 0, attrs, enable: true, where: `${s.where}: IaaCrypto (wq${d.id}.0)` }],
    };
  });
  const notes = picked.length === 0 ? [`${s.where}: IaaCrypto is set but this host has no IAA device`] : [];
  return {
    sources: [`${s.where}: IaaCrypto`], devices,
    crypto: s.syncMode !== undefined || s.verifyCompress !== undefined ? { syncMode: s.syncMode, verifyCompress: s.verifyCompress, where: s.where } : undefined,
    zswap: s.zswapCompressor !== undefined || s.zswapEnabled !== undefined ? { compressor: s.zswapCompressor, enabled: s.zswapEnabled, where: s.where } : undefined,
    notes,
  };
}

/** One description from the JSON file and IaaCrypto; a device described by both is an error naming both places. */
export function mergeWanted(a: IdxdWanted | undefined, b: IdxdWanted | undefined): IdxdWanted | undefined {
  if (!a) return b;
  if (!b) return a;
  for (const d of b.devices) {
    const other = a.devices.find((x) => x.dev === d.dev);
    if (other) throw bad(`${d.dev} is described twice: ${other.where} and ${d.where}; keep one`);
  }
  return { sources: [...a.sources, ...b.sources], devices: [...a.devices, ...b.devices].sort((x, y) => x.id - y.id), crypto: a.crypto ?? b.crypto, zswap: a.zswap ?? b.zswap, notes: [...a.notes, ...b.notes] };
}

/** The driver a wanted wq binds to: its driver_name, else by type (kernel -> dmaengine, user -> user). */
export function wantedDriver(w: WantedWq): WqDriver | undefined {
  if (w.driver) return w.driver;
  const dn = w.attrs.driver_name;
  if (dn) return dn as WqDriver;
  return defaultWqDriver(w.attrs.type ?? 'none');
}
