// Pure planning for DSA/IAA: from the inventory and the wanted description to ordered sysfs steps in the kernel's
// required order, each write first tried on an in-memory copy of the device with kernel/idxd-sysfs.ts's rules, so a
// layout the kernel would refuse fails here, naming the file and JSON path, before anything is touched.

import path from 'node:path';
import type { Roots } from '../config/roots.js';
import { QatmgrError, ErrorCodes } from '../errors.js';
import { IAA_ALGORITHM, IAA_CRYPTO_MODULE, IAA_DEFAULTS, IDXD_SCMD, WQ_DEFAULT_QUEUE_DEPTH, WQ_RESET_DEFAULTS, groupResetDefaults, parseIdxdName, wqTypeOfDriver, type WqDriver } from '../kernel/idxd.js';
import {
  deviceEnableCheck, deviceResetUpdates, deviceStore, engineStore, groupStore, wqBindCheck, wqDisableUpdates, wqStore,
  type DeviceFacts, type StoreResult, type WqFacts,
} from '../kernel/idxd-sysfs.js';
import { deviceFacts, dsaBusDir, type IdxdDevice, type IdxdInventory } from '../idxd/inventory.js';
import { wantedDriver, type IdxdWanted, type WantedDevice, type WantedWq } from './idxd-config.js';

export interface IdxdStep {
  /** unbind (a wq from its driver), disable (a device), write (an attribute), enable (a device), bind (a wq), perms,
   * modprobe, rmmod, crypto (an iaa_crypto attribute), zswap (a zswap parameter). */
  op: 'unbind' | 'disable' | 'write' | 'enable' | 'bind' | 'perms' | 'modprobe' | 'rmmod' | 'crypto' | 'zswap';
  /** Device, wq, engine or group name; the module for modprobe/rmmod. */
  target: string;
  path: string;
  value: string;
  why: string;
}

export interface IdxdDevicePlan {
  dev: string;
  product: string;
  state: { now: string; want: string };
  /** Nothing differs. */
  ok: boolean;
  /** The device is disabled and reconfigured (its wqs restart). */
  cycle: boolean;
  wqs: Array<{ dev: string; now: string; want: string; driver: string | null; mode: string; size: string; type: string; name: string }>;
}

export interface IdxdPlan {
  sources: string[];
  /** Devices the steps change (the rollback restores these). */
  touched: string[];
  devices: IdxdDevicePlan[];
  steps: IdxdStep[];
  /** wqs the plan unbinds (for the holder check). */
  unbinds: string[];
  notes: string[];
  empty: boolean;
}

export interface IdxdPlanInputs {
  inv: IdxdInventory;
  wanted: IdxdWanted;
  roots: Roots;
  /** Group for /dev/<type>/wqN.M of user wqs. */
  gid: number;
  groupName: string;
  /** Restoring a snapshot: also restore iaa_crypto's registration and module state. */
  cryptoModule?: { loaded: boolean; registered: boolean };
}

const planError = (msg: string, details: Record<string, unknown> = {}): QatmgrError => new QatmgrError(ErrorCodes.QATMGR_E_CONFIG_VALUE, msg, details);

/** The order wq attributes are written in: type before name (a type change clears the name), threshold last. */
const WQ_ORDER = ['group_id', 'mode', 'size', 'priority', 'block_on_fault', 'ats_disable', 'prs_disable', 'max_transfer_size', 'max_batch_size', 'enqcmds_retries', 'type', 'name', 'driver_name', 'threshold'];
const GROUP_ORDER = ['read_buffers_reserved', 'read_buffers_allowed', 'use_read_buffer_limit', 'traffic_class_a', 'traffic_class_b', 'desc_progress_limit', 'batch_progress_limit'];

/** An in-memory copy of one device, changed only through the kernel's store, enable and bind rules. */
class DeviceModel {
  facts: DeviceFacts;
  wqs: Array<Record<string, string>>;
  engines: number[];
  groups: Array<Record<string, string>>;
  attrs: Record<string, string>;
  constructor(readonly d: IdxdDevice) {
    this.facts = deviceFacts(d);
    this.wqs = d.wqs.map((w) => ({ ...w.attrs, driver: w.driver ?? '' }));
    this.engines = d.engines.map((e) => e.groupId);
    this.groups = d.groups.map((g) => ({ ...g.attrs }));
    this.attrs = { ...d.attrs };
  }
  wqFacts(i: number): WqFacts {
    const a = this.wqs[i];
    return { state: a.state, size: Number(a.size) || 0, mode: a.mode, type: a.type, threshold: Number(a.threshold) || 0, groupId: Number(a.group_id ?? -1), name: a.name ?? '', driverName: a.driver_name };
  }
  claimed(): number {
    return this.wqs.reduce((s, w) => s + (Number(w.size) || 0), 0);
  }
  apply(target: Record<string, string>, r: StoreResult): string | undefined {
    if ('errno' in r) return r.errno;
    Object.assign(target, r.set);
    return undefined;
  }
  writeWq(i: number, attr: string, v: string): string | undefined {
    return this.apply(this.wqs[i], wqStore(attr, v, this.facts, this.wqFacts(i), this.claimed()));
  }
  writeEngine(i: number, v: string): string | undefined {
    const r = engineStore('group_id', v, this.facts);
    if ('errno' in r) return r.errno;
    this.engines[i] = Number(r.set.group_id);
    return undefined;
  }
  writeGroup(i: number, attr: string, v: string): string | undefined {
    const reserved = this.groups.reduce((s, g) => s + (Number(g.read_buffers_reserved) || 0), 0);
    return this.apply(this.groups[i], groupStore(attr, v, this.facts, {
      numEngines: this.engines.filter((g) => g === i).length, readBuffersReserved: Number(this.groups[i].read_buffers_reserved) || 0,
      freeReadBuffers: this.facts.maxReadBuffers - reserved, readBufferLimit: Number(this.attrs.read_buffer_limit) || 0,
    }));
  }
  writeDevice(attr: string, v: string): string | undefined {
    return this.apply(this.attrs, deviceStore(attr, v, this.facts));
  }
  unbindWq(i: number): void {
    Object.assign(this.wqs[i], wqDisableUpdates(), { driver: '' });
  }
  disable(): void {
    this.wqs.forEach((w, i) => { if (w.state === 'enabled') this.unbindWq(i); });
    if (this.facts.configurable) {
      const u = deviceResetUpdates(this.facts.version);
      for (const w of this.wqs) for (const [k, v] of Object.entries(u.wq)) if (k in w) w[k] = v;
      for (const g of this.groups) for (const [k, v] of Object.entries(u.group)) if (k in g) g[k] = v;
      this.engines = this.engines.map(() => -1);
    }
    this.facts.state = 'disabled';
  }
  enable(): { errno: string; cmd?: string } | undefined {
    const r = deviceEnableCheck(this.facts, this.wqs.map((_, i) => this.wqFacts(i)), this.engines);
    if ('errno' in r) return { errno: r.errno, cmd: r.cmdStatus };
    for (const [id, s] of Object.entries(r.sizes)) this.wqs[Number(id)].size = String(s);
    this.facts.state = 'enabled';
    return undefined;
  }
  bind(i: number, drv: WqDriver, crypto: { active: boolean; registered: boolean }): { errno: string; cmd?: string } | { registers: boolean } {
    const r = wqBindCheck(drv, this.facts, this.wqs.map((_, k) => this.wqFacts(k)), i, this.engines, { cryptoActive: crypto.active, cryptoRegistered: crypto.registered });
    if ('errno' in r) return { errno: r.errno, cmd: r.cmdStatus };
    for (const [id, s] of Object.entries(r.sizes)) this.wqs[Number(id)].size = String(s);
    Object.assign(this.wqs[i], { type: r.type, state: 'enabled', driver: drv });
    return { registers: r.registers };
  }
}

const cmdText = (cmd: string | undefined): string => (cmd ? `; the driver would report ${cmd}: ${IDXD_SCMD[cmd].text}` : '');

/** The final attribute values of a wanted wq (what the kernel shows once it is bound). */
function finalWq(w: WantedWq | undefined, present: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const k of Object.keys(present)) if (k in WQ_RESET_DEFAULTS) out[k] = WQ_RESET_DEFAULTS[k];
  if ('driver_name' in present) out.driver_name = present.driver_name;
  if (!w) return out;
  for (const [k, v] of Object.entries(w.attrs)) if (k in present) out[k] = v;
  const drv = wantedDriver(w);
  if ('driver_name' in present && !w.attrs.driver_name && drv) out.driver_name = drv;
  if (w.enable && drv) out.type = wqTypeOfDriver(drv);
  if (out.mode === 'dedicated') out.threshold = '0';
  return out;
}

/** Validate a wanted device against the hardware before any rule is tried. */
function checkDevice(w: WantedDevice, d: IdxdDevice | undefined, inv: IdxdInventory, restoring: boolean): string[] {
  if (!d) return [`${w.where}: ${w.dev} is not a device of this host (present: ${inv.devices.map((x) => x.dev).join(', ') || 'none'})`];
  // a snapshot being restored was a state the kernel accepted: only the kernel's own rules (tried below) apply
  if (restoring) return [];
  const errs: string[] = [];
  if (!d.configurable) errs.push(`${w.where}: ${w.dev} is not configurable (configurable=0: its configuration is fixed, e.g. in a guest)`);
  if (w.wqs.length > d.maxWorkQueues) errs.push(`${w.where}: ${w.wqs.length} wqs but ${w.dev} has max_work_queues ${d.maxWorkQueues}`);
  for (const q of w.wqs) if (q.id >= d.maxWorkQueues) errs.push(`${q.where}: ${q.dev} does not exist: ${w.dev} has wq${d.id}.0..wq${d.id}.${d.maxWorkQueues - 1} (max_work_queues ${d.maxWorkQueues})`);
  for (const [id, e] of w.engines) if (id >= d.maxEngines) errs.push(`${e.where}: engine${d.id}.${id} does not exist: ${w.dev} has max_engines ${d.maxEngines}`);
  for (const g of w.groups) if (g.id >= d.maxGroups) errs.push(`${g.where}: ${g.dev} does not exist: ${w.dev} has max_groups ${d.maxGroups}`);
  for (const q of w.wqs) {
    const gid = Number(q.attrs.group_id ?? -1);
    if (gid >= d.maxGroups) errs.push(`${q.where}.group_id: ${gid} but ${w.dev} has max_groups ${d.maxGroups}`);
  }
  const total = w.wqs.reduce((s, q) => s + (Number(q.attrs.size) || 0), 0);
  if (total > d.maxWorkQueuesSize) {
    errs.push(`${w.where}: wq sizes add up to ${total} (${w.wqs.map((q) => `${q.dev} ${q.attrs.size ?? 0}`).join(', ')}) but ${w.dev} has max_work_queues_size ${d.maxWorkQueuesSize}`);
  }
  for (const q of w.wqs) {
    const size = Number(q.attrs.size) || 0;
    const thr = Number(q.attrs.threshold) || 0;
    if (q.attrs.mode === 'dedicated' && thr > 0) errs.push(`${q.where}.threshold: ${thr} on a dedicated wq (threshold applies to shared wqs only)`);
    if (thr > size && size > 0) errs.push(`${q.where}.threshold: ${thr} is more than the wq size ${size}`);
    const drv = wantedDriver(q);
    if (q.enable && !drv) errs.push(`${q.where}: no type (kernel|user) and no driver_name: the wq cannot be enabled`);
    if (drv === 'crypto' && d.type !== 'iax') errs.push(`${q.where}.driver_name: "crypto" (iaa_crypto) binds IAA wqs only; ${w.dev} is a DSA`);
    if (drv === 'crypto' && q.attrs.type === 'user') errs.push(`${q.where}.type: "user" but driver_name "crypto" makes it a kernel wq`);
    if (q.enable && (drv === 'user' || q.attrs.mode !== 'dedicated') && !d.pasidEnabled) {
      errs.push(`${q.where}: a ${drv === 'user' ? 'user' : 'shared'} wq needs PASID/SVA but ${w.dev} has pasid_enabled 0: boot with intel_iommu=on,sm_on (IOMMU scalable mode), or use a dedicated kernel wq`);
    }
    if (q.enable && q.attrs.name === undefined) errs.push(`${q.where}: no name: the kernel refuses to enable a wq without one`);
    if (q.enable && Number(q.attrs.group_id ?? -1) >= 0) {
      const g = Number(q.attrs.group_id);
      if (![...w.engines.values()].some((e) => e.group === g)) errs.push(`${q.where}: ${q.dev} is in group${d.id}.${g}, which has no engine: its work would never run (add an engine to grouped_engines)`);
    }
  }
  if (d.type === 'iax') {
    for (const g of w.groups) for (const k of ['read_buffers_reserved', 'read_buffers_allowed', 'use_read_buffer_limit']) {
      if (g.attrs[k] !== undefined && g.attrs[k] !== '0') errs.push(`${g.where}.${k}: IAA devices have no read buffer control (the attribute is not there)`);
    }
  }
  for (const g of w.groups) for (const k of ['traffic_class_a', 'traffic_class_b']) {
    const reset = groupResetDefaults(Number(d.version) || 0)[k];
    if (g.attrs[k] !== undefined && Number(d.version) <= 0x200 && g.attrs[k] !== reset) {
      errs.push(`${g.where}.${k}: ${g.attrs[k]}: devices of version ${d.version} keep traffic classes at 1 (the kernel refuses the write unless idxd is loaded with tc_override=1)`);
    }
  }
  return errs;
}

export function makeIdxdPlan({ inv, wanted, roots, gid, groupName, cryptoModule }: IdxdPlanInputs): IdxdPlan {
  const errs: string[] = [];
  const notes = [...wanted.notes];
  const bus = dsaBusDir(roots);
  const drivers = path.join(bus, 'drivers');
  const devPath = (n: string, a: string): string => path.join(bus, 'devices', n, a);
  if (wanted.devices.length > 0 && !inv.bus) {
    throw planError(`${wanted.sources.join(', ')}: ${bus} does not exist: the idxd driver is not loaded (modprobe idxd; check dmesg | grep idxd)`);
  }
  const byName = new Map(inv.devices.map((d) => [d.dev, d]));
  for (const w of wanted.devices) errs.push(...checkDevice(w, byName.get(w.dev), inv, cryptoModule !== undefined));
  const wantsCrypto = wanted.devices.some((w) => w.wqs.some((q) => q.enable && wantedDriver(q) === 'crypto'));
  if (wanted.zswap?.compressor === IAA_ALGORITHM && !wantsCrypto && inv.iaaCrypto.wqs.length === 0) {
    errs.push(`${wanted.zswap.where}: zswap compressor ${IAA_ALGORITHM} but no IAA wq is bound to iaa_crypto (nothing would provide the algorithm)`);
  }
  if (errs.length) throw planError(`the IAA/DSA configuration cannot be applied; nothing was changed:\n  ${errs.join('\n  ')}`, { errors: errs });

  // which devices differ from what is wanted
  const models = new Map<string, DeviceModel>();
  const finals = new Map<string, { wqs: Array<Record<string, string>>; engines: number[]; groups: Array<Record<string, string>>; enable: boolean[]; drivers: Array<WqDriver | ''> }>();
  const plans: IdxdDevicePlan[] = [];
  const cycled = new Set<string>();
  for (const w of wanted.devices) {
    const d = byName.get(w.dev)!;
    const m = new DeviceModel(d);
    models.set(w.dev, m);
    const fw = d.wqs.map((q) => finalWq(w.wqs.find((x) => x.id === q.id), q.attrs));
    const enable = d.wqs.map((q) => w.enable && (w.wqs.find((x) => x.id === q.id)?.enable ?? false));
    const drv = d.wqs.map((q) => { const x = w.wqs.find((y) => y.id === q.id); return x && enable[q.id] ? wantedDriver(x) ?? '' : ''; });
    const fe = d.engines.map((e) => w.engines.get(e.id)?.group ?? -1);
    const fg = d.groups.map((g) => {
      const out: Record<string, string> = {};
      const reset = groupResetDefaults(Number(d.version) || 0);
      for (const k of Object.keys(g.attrs)) if (k in reset) out[k] = reset[k];
      const wg = w.groups.find((x) => x.id === g.id);
      if (wg) for (const [k, v] of Object.entries(wg.attrs)) if (k in g.attrs) out[k] = v;
      return out;
    });
    finals.set(w.dev, { wqs: fw, engines: fe, groups: fg, enable, drivers: drv });
    const same = d.state === (w.enable ? 'enabled' : 'disabled')
      && Object.entries(w.attrs).every(([k, v]) => d.attrs[k] === undefined || d.attrs[k] === v)
      && d.wqs.every((q, i) => Object.entries(fw[i]).every(([k, v]) => q.attrs[k] === v || (k === 'size' && v === '0' && enable[i] && q.attrs.size === String(WQ_DEFAULT_QUEUE_DEPTH))) && (q.state === 'enabled') === enable[i] && (q.driver ?? '') === drv[i])
      && d.engines.every((e, i) => e.groupId === fe[i])
      && d.groups.every((g, i) => Object.entries(fg[i]).every(([k, v]) => g.attrs[k] === v));
    if (!same) cycled.add(w.dev);
    plans.push({
      dev: d.dev, product: d.product, state: { now: d.state, want: w.enable ? 'enabled' : 'disabled' }, ok: same, cycle: !same,
      wqs: d.wqs.filter((q) => enable[q.id] || q.state === 'enabled').map((q) => ({
        dev: q.dev, now: q.driver ? `${q.state} (${q.driver})` : q.state, want: enable[q.id] ? `enabled (${drv[q.id]})` : 'disabled',
        driver: drv[q.id] || null, mode: fw[q.id].mode ?? q.mode, size: fw[q.id].size ?? String(q.size), type: fw[q.id].type ?? q.type, name: fw[q.id].name ?? q.name,
      })),
    });
  }

  // iaa_crypto: sync_mode/verify_compress can change only while no wq is bound to it; deflate-iaa registers once
  const crypto = inv.iaaCrypto;
  const curSync = crypto.syncMode ?? IAA_DEFAULTS.sync_mode;
  const curVerify = crypto.verifyCompress ?? IAA_DEFAULTS.verify_compress;
  const wantSync = wanted.crypto?.syncMode ?? curSync;
  const wantVerify = wanted.crypto?.verifyCompress ?? curVerify;
  const attrsChange = crypto.loaded && (wantSync !== curSync || wantVerify !== curVerify);
  // every wq bound to crypto that must come off: those of cycled devices, and all of them when the attributes change
  const cryptoUnbinds = new Set<string>();
  for (const d of inv.devices) for (const q of d.wqs) {
    if (q.driver === 'crypto' && (cycled.has(d.dev) || attrsChange)) cryptoUnbinds.add(q.dev);
  }
  const cryptoAfterUnbind = crypto.wqs.filter((q) => !cryptoUnbinds.has(q));
  const willBindCrypto = [...finals.entries()].some(([dev, f]) => cycled.has(dev) && f.drivers.includes('crypto')) || (attrsChange && crypto.wqs.length > 0);
  const rebindOnly = attrsChange ? inv.devices.filter((d) => !cycled.has(d.dev) && d.wqs.some((q) => q.driver === 'crypto')) : [];
  const needLoad = !crypto.loaded && (willBindCrypto || wanted.crypto !== undefined || cryptoModule?.loaded === true);
  // a second registration fails until the module is reloaded; a snapshot without deflate-iaa is restored the same way
  const needReload = crypto.loaded && crypto.registered && ((willBindCrypto && cryptoAfterUnbind.length === 0) || (cryptoModule !== undefined && !cryptoModule.registered && !willBindCrypto));
  const needUnload = crypto.loaded && cryptoModule?.loaded === false;
  if ((cryptoUnbinds.size > 0 || needReload || needUnload) && inv.zswap.compressor === IAA_ALGORITHM && cryptoModule === undefined) {
    throw new QatmgrError('QATMGR_E_IDXD_IN_USE', `zswap uses ${IAA_ALGORITHM} (${path.join(roots.sys, 'module', 'zswap', 'parameters', 'compressor')}) and this plan would unbind the IAA wqs under it (${[...cryptoUnbinds].join(', ')}); nothing was changed. First: echo lzo > /sys/module/zswap/parameters/compressor (and swapoff -a to drop pages compressed by IAA), then run again`, { wqs: [...cryptoUnbinds] });
  }

  const steps: IdxdStep[] = [];
  const unbinds: string[] = [];
  const crypt = { active: crypto.wqs.length > 0, registered: crypto.registered };
  const fail = (where: string, what: string, errno: string, cmd?: string): never => {
    throw planError(`${where}: ${what} would fail with ${errno}${cmdText(cmd)}; nothing was changed`, { errno });
  };
  const whereOf = (dev: string, wq?: number): string => {
    const w = wanted.devices.find((x) => x.dev === dev);
    return (wq !== undefined ? w?.wqs.find((q) => q.id === wq)?.where : undefined) ?? w?.where ?? dev;
  };

  // 1. unbind wqs (cycled devices, and crypto wqs elsewhere whose driver attributes change)
  for (const d of inv.devices) {
    const m = models.get(d.dev) ?? new DeviceModel(d);
    for (const q of d.wqs) {
      if (!q.driver) continue;
      if (!cycled.has(d.dev) && !(cryptoUnbinds.has(q.dev))) continue;
      steps.push({ op: 'unbind', target: q.dev, path: path.join(drivers, q.driver, 'unbind'), value: q.dev, why: cycled.has(d.dev) ? `${d.dev} is reconfigured` : 'iaa_crypto attributes change only while no wq is bound to it' });
      unbinds.push(q.dev);
      m.unbindWq(q.id);
      if (!models.has(d.dev)) models.set(d.dev, m);
    }
  }
  crypt.active = cryptoAfterUnbind.length > 0;
  // 2. disable the cycled devices (the kernel resets their configuration)
  for (const dev of cycled) {
    const m = models.get(dev)!;
    if (m.facts.state === 'enabled') {
      steps.push({ op: 'disable', target: dev, path: path.join(drivers, 'idxd', 'unbind'), value: dev, why: 'groups, engines and wq sizes change only while the device is disabled; disabling resets them' });
      m.disable();
    }
  }
  // 3. iaa_crypto module and attributes
  if (needUnload || needReload) {
    steps.push({ op: 'rmmod', target: IAA_CRYPTO_MODULE, path: IAA_CRYPTO_MODULE, value: 'modprobe -r', why: needUnload ? 'it was not loaded before' : `${IAA_ALGORITHM} is registered once per module load: binding a first wq again needs a fresh iaa_crypto` });
    crypt.registered = false;
  }
  const load = (needLoad || needReload) && !needUnload;
  if (load) {
    steps.push({ op: 'modprobe', target: IAA_CRYPTO_MODULE, path: IAA_CRYPTO_MODULE, value: 'modprobe', why: needReload ? 'reload (see above); its attributes are back to their defaults' : 'iaa_crypto registers the crypto wq driver' });
  }
  if ((crypto.loaded && !needUnload) || load) {
    const baseSync = load ? IAA_DEFAULTS.sync_mode : curSync;
    const baseVerify = load ? IAA_DEFAULTS.verify_compress : curVerify;
    const cdir = path.join(drivers, 'crypto');
    if (wantSync !== baseSync) steps.push({ op: 'crypto', target: 'sync_mode', path: path.join(cdir, 'sync_mode'), value: wantSync, why: `was ${baseSync}; set before the first wq binds (the driver refuses it while any is bound)` });
    if (wantVerify !== baseVerify) steps.push({ op: 'crypto', target: 'verify_compress', path: path.join(cdir, 'verify_compress'), value: wantVerify, why: `was ${baseVerify}` });
  }
  // 4. configuration writes of each cycled device, each tried on the model first
  const binds: Array<() => void> = [];
  for (const dev of cycled) {
    const m = models.get(dev)!;
    const d = byName.get(dev)!;
    const f = finals.get(dev)!;
    const w = wanted.devices.find((x) => x.dev === dev)!;
    const write = (target: string, attr: string, value: string, where: string, why: string, run: (raw: string) => string | undefined): void => {
      // an empty name is written as a lone newline, as `echo > name` does (the kernel refuses a zero-length store)
      const raw = value === '' ? '\n' : value;
      const e = run(raw);
      if (e) fail(where, `writing "${value}" to ${target}/${attr}`, e);
      steps.push({ op: 'write', target, path: devPath(target, attr), value: raw, why });
    };
    for (const [k, v] of Object.entries(w.attrs)) if (m.attrs[k] !== undefined && m.attrs[k] !== v) write(dev, k, v, w.where, `was ${m.attrs[k]}`, (raw) => m.writeDevice(k, raw));
    d.groups.forEach((g, i) => {
      for (const k of GROUP_ORDER) {
        const v = f.groups[i][k];
        if (v !== undefined && m.groups[i][k] !== v) write(g.dev, k, v, w.groups.find((x) => x.id === g.id)?.where ?? w.where, `was ${m.groups[i][k]}`, (raw) => m.writeGroup(i, k, raw));
      }
    });
    d.engines.forEach((e, i) => {
      if (m.engines[i] !== f.engines[i]) write(e.dev, 'group_id', String(f.engines[i]), w.engines.get(e.id)?.where ?? w.where, f.engines[i] < 0 ? 'not in the configuration' : `into group${d.id}.${f.engines[i]}`, (raw) => m.writeEngine(i, raw));
    });
    // sizes: shrink first, then grow, so the device total is never exceeded on the way
    const sizeOrder = d.wqs.map((q, i) => i).sort((a, b) => (Number(f.wqs[a].size) - Number(m.wqs[a].size)) - (Number(f.wqs[b].size) - Number(m.wqs[b].size)));
    for (const i of sizeOrder) {
      const v = f.wqs[i].size;
      if (v !== undefined && m.wqs[i].size !== v) {
        write(d.wqs[i].dev, 'size', v, whereOf(dev, i), `was ${m.wqs[i].size}`, (raw) => m.writeWq(i, 'size', raw));
      }
    }
    d.wqs.forEach((q, i) => {
      const fw = f.wqs[i];
      const where = whereOf(dev, i);
      // a threshold is cleared only by making the wq dedicated (a write of 0 is refused)
      if (fw.threshold === '0' && m.wqs[i].threshold !== '0' && m.wqs[i].threshold !== undefined) {
        write(q.dev, 'mode', 'dedicated', where, 'clears the old threshold', (raw) => m.writeWq(i, 'mode', raw));
      }
      for (const k of WQ_ORDER) {
        if (k === 'size') continue;
        const v = fw[k];
        if (v === undefined || m.wqs[i][k] === v) continue;
        if (k === 'type' && f.enable[i]) {
          // the driver sets the type when it binds; write it only when the file names one explicitly
          const explicit = wanted.devices.find((x) => x.dev === dev)!.wqs.find((x) => x.id === i)?.attrs.type;
          if (explicit === undefined) continue;
        }
        write(q.dev, k, v, `${where}`, m.wqs[i][k] === '' ? 'unset' : `was ${m.wqs[i][k]}`, (raw) => m.writeWq(i, k, raw));
      }
    });
    if (w.enable) {
      const e = m.enable();
      if (e) fail(w.where, `enabling ${dev}`, e.errno, e.cmd);
      steps.push({ op: 'enable', target: dev, path: path.join(drivers, 'idxd', 'bind'), value: dev, why: 'the device starts with this configuration' });
      binds.push(() => {
        d.wqs.forEach((q, i) => {
          const drv = f.drivers[i];
          if (!drv) return;
          const r = m.bind(i, drv, crypt);
          if ('errno' in r) return fail(whereOf(dev, i), `binding ${q.dev} to ${drv}`, r.errno, r.cmd);
          if (drv === 'crypto') Object.assign(crypt, { active: true, registered: true });
          steps.push({ op: 'bind', target: q.dev, path: path.join(drivers, drv, 'bind'), value: q.dev, why: drv === 'crypto' ? `iaa_crypto${r.registers ? ` registers ${IAA_ALGORITHM} with this first wq` : ' takes the wq'}` : drv === 'user' ? `creates ${path.join(roots.dev, d.type, q.dev)}` : 'a dmaengine channel' });
          if (drv === 'user') {
            const node = path.join(roots.dev, d.type, q.dev);
            steps.push({ op: 'perms', target: q.dev, path: node, value: `group ${groupName} (${gid}), 0660`, why: `applications in group ${groupName} open the wq` });
          }
        });
      });
    }
  }
  // crypto wqs of untouched devices go back on once the attributes are written
  for (const d of rebindOnly) {
    const m = models.get(d.dev)!;
    binds.push(() => {
      for (const q of d.wqs) {
        if (q.driver !== 'crypto') continue;
        const where = `${d.dev} (bound to crypto before)`;
        for (const k of ['type', 'name', 'driver_name', 'mode', 'priority', 'threshold', 'block_on_fault']) {
          const v = q.attrs[k];
          if (v === undefined || m.wqs[q.id][k] === v || (k === 'type')) continue;
          if (k === 'threshold' && v === '0') continue;
          const e = m.writeWq(q.id, k, v);
          if (e) fail(where, `restoring ${q.dev}/${k}`, e);
          steps.push({ op: 'write', target: q.dev, path: devPath(q.dev, k), value: v, why: 'unbinding cleared it' });
        }
        const r = m.bind(q.id, 'crypto', crypt);
        if ('errno' in r) fail(where, `binding ${q.dev} to crypto again`, r.errno, r.cmd);
        Object.assign(crypt, { active: true, registered: true });
        steps.push({ op: 'bind', target: q.dev, path: path.join(drivers, 'crypto', 'bind'), value: q.dev, why: 'back on iaa_crypto with the new attributes' });
      }
    });
  }
  for (const b of binds) b();
  // 5. permissions of user wq nodes that stay as they are
  for (const d of inv.devices) {
    if (cycled.has(d.dev) || !wanted.devices.some((w) => w.dev === d.dev)) continue;
    for (const q of d.wqs) {
      if (q.driver === 'user' && q.node && (q.node.gid !== gid || (Number.parseInt(q.node.mode, 8) & 0o060) !== 0o060)) {
        steps.push({ op: 'perms', target: q.dev, path: q.node.path, value: `group ${groupName} (${gid}), 0660`, why: `was ${q.node.uid}:${q.node.gid} ${q.node.mode}` });
      }
    }
  }
  // 6. zswap last: the algorithm exists once a wq is bound to iaa_crypto
  const zdir = path.join(roots.sys, 'module', 'zswap', 'parameters');
  if (wanted.zswap) {
    if (!inv.zswap.present) throw planError(`${wanted.zswap.where}: ${zdir} does not exist: this kernel has no zswap`);
    if (wanted.zswap.compressor !== undefined && wanted.zswap.compressor !== inv.zswap.compressor) {
      steps.push({ op: 'zswap', target: 'compressor', path: path.join(zdir, 'compressor'), value: wanted.zswap.compressor, why: `was ${inv.zswap.compressor}` });
    }
    if (wanted.zswap.enabled !== undefined && wanted.zswap.enabled !== inv.zswap.enabled) {
      steps.push({ op: 'zswap', target: 'enabled', path: path.join(zdir, 'enabled'), value: wanted.zswap.enabled, why: `was ${inv.zswap.enabled}` });
    }
  }
  if (wanted.devices.some((w) => w.wqs.some((q) => q.attrs.mode === 'shared' && wantedDriver(q) !== 'user'))) {
    notes.push('shared kernel wqs need the driver\'s kernel PASID, which sysfs does not show; if a bind fails with cmd_status 0x80050000 use mode dedicated');
  }
  const devOf = (t: string): string | undefined => {
    const p = parseIdxdName(t);
    if (!p) return undefined;
    return p.kind === 'device' ? t : inv.devices.find((d) => d.id === p.dev)?.dev;
  };
  const touched = [...new Set(steps.map((s) => devOf(s.target)).filter((x): x is string => x !== undefined))];
  return { sources: wanted.sources, touched, devices: plans, steps, unbinds, notes, empty: steps.length === 0 };
}
