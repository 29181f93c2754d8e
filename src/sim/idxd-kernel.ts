// The simulated idxd/iaa_crypto/zswap kernel: stores to dsa-bus attributes, bind/unbind on the dsa bus, module
// load/unload, each obeying kernel/idxd-sysfs.ts. The state is the tree itself (attribute files and driver links).

import fs from 'node:fs';
import path from 'node:path';
import type { Roots } from '../config/roots.js';
import { IAA_ALGORITHM, IAA_CRYPTO_MODULE, IDXD_SCMD, parseIdxdName, type IdxdType, type WqDriver } from '../kernel/idxd.js';
import {
  IDXD_WRITABLE, cryptoAttrStore, deviceEnableCheck, deviceResetUpdates, deviceStore, engineStore, groupStore, kstrtobool,
  wqBindCheck, wqDisableUpdates, wqStore, type DeviceFacts, type StoreResult, type WqFacts,
} from '../kernel/idxd-sysfs.js';
import { cryptoHasDriver } from '../idxd/inventory.js';
import { attrText, cryptoEntry, loadIaaCrypto } from './idxd.js';

type Fail = (code: string) => never;

const readAttr = (p: string): string => fs.readFileSync(p, 'utf8').replace(/\n$/, '');
const numAttr = (p: string, dflt: number): number => {
  try {
    const n = Number(readAttr(p));
    return Number.isFinite(n) ? n : dflt;
  } catch {
    return dflt;
  }
};

/** Aliases the driver keeps in step (deprecated token names of read buffer attributes). */
const ALIASES: Record<string, string> = { read_buffers_reserved: 'tokens_reserved', read_buffers_allowed: 'tokens_allowed', use_read_buffer_limit: 'use_token_limit', read_buffer_limit: 'token_limit' };

interface Conf {
  kind: 'device' | 'wq' | 'engine' | 'group';
  /** The conf device's directory. */
  dir: string;
  /** Its idxd device's conf directory. */
  devDir: string;
  id: number;
}

export class SimIdxdKernel {
  private readonly bus: string;
  constructor(private readonly roots: Roots, private readonly sysReal: string) {
    this.bus = path.join(sysReal, 'bus', 'dsa');
  }

  /** The store belongs to this model: a dsa-bus conf device or driver, or a zswap parameter. */
  handles(real: string): boolean {
    const parent = path.dirname(real);
    if (path.dirname(parent) === path.join(this.bus, 'drivers')) return true;
    if (parent === path.join(this.sysReal, 'module', 'zswap', 'parameters')) return true;
    return this.conf(parent) !== undefined;
  }

  private conf(dir: string): Conf | undefined {
    const p = parseIdxdName(path.basename(dir));
    if (!p || !dir.startsWith(path.join(this.sysReal, 'devices') + path.sep)) return undefined;
    if (p.kind === 'device') return { kind: 'device', dir, devDir: dir, id: p.id };
    const devDir = path.dirname(dir);
    return parseIdxdName(path.basename(devDir))?.kind === 'device' ? { kind: p.kind, dir, devDir, id: p.id } : undefined;
  }

  store(real: string, data: string, fail: Fail): void {
    const parent = path.dirname(real);
    const attr = path.basename(real);
    if (path.dirname(parent) === path.join(this.bus, 'drivers')) return this.driverStore(path.basename(parent), attr, data, fail);
    if (parent === path.join(this.sysReal, 'module', 'zswap', 'parameters')) return this.zswapStore(real, attr, data, fail);
    const c = this.conf(parent)!;
    if (!IDXD_WRITABLE[c.kind].has(attr)) fail('EACCES');
    const dev = this.deviceFacts(c.devDir);
    let r: StoreResult;
    if (c.kind === 'wq') r = wqStore(attr, data, dev, this.wqFacts(c.dir), this.claimedSize(c.devDir));
    else if (c.kind === 'engine') r = engineStore(attr, data, dev);
    else if (c.kind === 'group') {
      const engines = this.children(c.devDir, 'engine').filter((e) => numAttr(path.join(e.dir, 'group_id'), -1) === c.id).length;
      const reserved = this.children(c.devDir, 'group').reduce((a, g) => a + numAttr(path.join(g.dir, 'read_buffers_reserved'), 0), 0);
      r = groupStore(attr, data, dev, {
        numEngines: engines, readBuffersReserved: numAttr(path.join(c.dir, 'read_buffers_reserved'), 0),
        freeReadBuffers: dev.maxReadBuffers - reserved, readBufferLimit: numAttr(path.join(c.devDir, 'read_buffer_limit'), 0),
      });
    } else r = deviceStore(attr, data, dev);
    if ('errno' in r) fail(r.errno);
    this.setAll(c.dir, r.set);
    if (attr === 'group_id') this.updateGroupLists(c.devDir);
  }

  // ---- reading the state --------------------------------------------------------------------------
  private deviceFacts(devDir: string): DeviceFacts {
    const a = (k: string, d = 0): number => numAttr(path.join(devDir, k), d);
    const type = parseIdxdName(path.basename(devDir)) as { type: IdxdType };
    const pasid = readAttr(path.join(devDir, 'pasid_enabled')) === '1';
    return {
      type: type.type, state: readAttr(path.join(devDir, 'state')), configurable: readAttr(path.join(devDir, 'configurable')) === '1',
      version: a('version'), maxGroups: a('max_groups'), maxWqs: a('max_work_queues'), maxEngines: a('max_engines'),
      maxWqSize: a('max_work_queues_size'), maxBatchSize: a('max_batch_size'), maxTransferSize: a('max_transfer_size'),
      maxReadBuffers: a('max_read_buffers'), userPasid: pasid, systemPasid: false,
    };
  }

  private wqFacts(dir: string): WqFacts {
    const dn = path.join(dir, 'driver_name');
    return {
      state: readAttr(path.join(dir, 'state')), size: numAttr(path.join(dir, 'size'), 0), mode: readAttr(path.join(dir, 'mode')),
      type: readAttr(path.join(dir, 'type')), threshold: numAttr(path.join(dir, 'threshold'), 0), groupId: numAttr(path.join(dir, 'group_id'), -1),
      name: readAttr(path.join(dir, 'name')), driverName: fs.existsSync(dn) ? readAttr(dn) : undefined,
    };
  }

  /** The wq, engine or group conf devices of a device, in id order. */
  private children(devDir: string, kind: 'wq' | 'engine' | 'group'): Array<{ name: string; dir: string; id: number }> {
    return fs.readdirSync(devDir)
      .map((n) => ({ n, p: parseIdxdName(n) }))
      .filter((x) => x.p?.kind === kind)
      .map((x) => ({ name: x.n, dir: path.join(devDir, x.n), id: x.p!.id }))
      .sort((a, b) => a.id - b.id);
  }

  private claimedSize(devDir: string): number {
    return this.children(devDir, 'wq').reduce((a, w) => a + numAttr(path.join(w.dir, 'size'), 0), 0);
  }

  private setAll(dir: string, set: Record<string, string>): void {
    for (const [k, v] of Object.entries(set)) {
      for (const name of [k, ALIASES[k]]) {
        if (name && fs.existsSync(path.join(dir, name))) fs.writeFileSync(path.join(dir, name), attrText(name, v));
      }
    }
  }

  /** A group's `work_queues` and `engines` lists follow the members' group_id. */
  private updateGroupLists(devDir: string): void {
    const wqs = this.children(devDir, 'wq');
    const engines = this.children(devDir, 'engine');
    for (const g of this.children(devDir, 'group')) {
      const of = (xs: typeof wqs): string => xs.filter((x) => numAttr(path.join(x.dir, 'group_id'), -1) === g.id).map((x) => x.name).join(' ');
      this.setAll(g.dir, { work_queues: of(wqs), engines: of(engines) });
    }
  }

  private deviceDirByName(name: string): string | undefined {
    try {
      return fs.realpathSync(path.join(this.bus, 'devices', name));
    } catch {
      return undefined;
    }
  }

  private driverOf(dir: string): string | undefined {
    try {
      return path.basename(fs.readlinkSync(path.join(dir, 'driver')));
    } catch {
      return undefined;
    }
  }

  private cryptoWqs(): string[] {
    const d = path.join(this.bus, 'drivers', 'crypto');
    return fs.existsSync(d) ? fs.readdirSync(d).filter((n) => parseIdxdName(n)?.kind === 'wq') : [];
  }

  private cryptoText(): string {
    try {
      return fs.readFileSync(path.join(this.roots.proc, 'crypto'), 'utf8');
    } catch {
      return '';
    }
  }

  private setCmdStatus(devDir: string, name: keyof typeof IDXD_SCMD | undefined): void {
    if (name) fs.writeFileSync(path.join(devDir, 'cmd_status'), `0x${IDXD_SCMD[name].code.toString(16)}\n`);
  }

  // ---- the dsa bus drivers --------------------------------------------------------------------------
  private driverStore(drv: string, attr: string, data: string, fail: Fail): void {
    if (attr === 'sync_mode' || attr === 'verify_compress') {
      const r = cryptoAttrStore(attr, data, this.cryptoWqs().length > 0);
      if ('errno' in r) fail(r.errno);
      for (const [k, v] of Object.entries(r.set)) fs.writeFileSync(path.join(this.bus, 'drivers', drv, k), `${v}\n`);
      return;
    }
    if (attr !== 'bind' && attr !== 'unbind') fail('EACCES');
    const name = data.trim();
    const dir = this.deviceDirByName(name);
    const c = dir ? this.conf(dir) : undefined;
    if (!c) fail('ENODEV');
    let target = drv;
    if (drv === 'dsa') {
      // the compat driver picks the real one (compat.c): idxd for devices, dmaengine/user by wq type
      if (attr === 'unbind') target = this.driverOf(c!.dir) ?? 'dsa';
      else if (c!.kind === 'device') target = 'idxd';
      else {
        const t = readAttr(path.join(c!.dir, 'type'));
        target = t === 'kernel' ? 'dmaengine' : t === 'user' ? 'user' : fail('ENODEV');
      }
    }
    if (attr === 'unbind') {
      if (this.driverOf(c!.dir) !== target) fail('ENODEV');
      if (c!.kind === 'device') this.disableDevice(c!);
      else this.disableWq(c!, target);
      return;
    }
    const isWqDriver = target === 'dmaengine' || target === 'user' || target === 'crypto';
    if ((target === 'idxd' && c!.kind !== 'device') || (isWqDriver && c!.kind !== 'wq') || (!isWqDriver && target !== 'idxd')) fail('ENODEV');
    if (this.driverOf(c!.dir) !== undefined) fail('EBUSY');
    if (target === 'idxd') this.enableDevice(c!, fail);
    else this.enableWq(c!, target as WqDriver, fail);
  }

  private attach(dir: string, drv: string): void {
    const drvDir = path.join(this.bus, 'drivers', drv);
    fs.symlinkSync(path.relative(dir, drvDir), path.join(dir, 'driver'));
    fs.symlinkSync(path.relative(drvDir, dir), path.join(drvDir, path.basename(dir)));
  }

  private detach(dir: string, drv: string): void {
    fs.rmSync(path.join(dir, 'driver'), { force: true });
    fs.rmSync(path.join(this.bus, 'drivers', drv, path.basename(dir)), { force: true });
  }

  private enableDevice(c: Conf, fail: Fail): void {
    const dev = this.deviceFacts(c.devDir);
    const wqs = this.children(c.devDir, 'wq');
    const engines = this.children(c.devDir, 'engine').map((e) => numAttr(path.join(e.dir, 'group_id'), -1));
    const r = deviceEnableCheck(dev, wqs.map((w) => this.wqFacts(w.dir)), engines);
    if ('errno' in r) {
      this.setCmdStatus(c.devDir, r.cmdStatus);
      fail(r.errno);
    }
    for (const [id, size] of Object.entries((r as { sizes: Record<number, number> }).sizes)) this.setAll(wqs[Number(id)].dir, { size: String(size) });
    this.setAll(c.devDir, { state: 'enabled', cmd_status: '0' });
    this.attach(c.devDir, 'idxd');
  }

  private disableDevice(c: Conf): void {
    for (const w of this.children(c.devDir, 'wq')) {
      const drv = this.driverOf(w.dir);
      if (drv) this.disableWq({ kind: 'wq', dir: w.dir, devDir: c.devDir, id: w.id }, drv);
    }
    const dev = this.deviceFacts(c.devDir);
    if (dev.configurable) {
      const u = deviceResetUpdates(dev.version);
      for (const w of this.children(c.devDir, 'wq')) this.setAll(w.dir, u.wq);
      for (const g of this.children(c.devDir, 'group')) this.setAll(g.dir, u.group);
      for (const e of this.children(c.devDir, 'engine')) this.setAll(e.dir, u.engine);
      this.updateGroupLists(c.devDir);
    }
    this.setAll(c.devDir, { state: 'disabled' });
    this.detach(c.devDir, 'idxd');
  }

  private devNode(c: Conf): string {
    const type = (parseIdxdName(path.basename(c.devDir)) as { type: IdxdType }).type;
    return path.join(this.roots.dev, type, path.basename(c.dir));
  }

  private enableWq(c: Conf, drv: WqDriver, fail: Fail): void {
    const dev = this.deviceFacts(c.devDir);
    const wqs = this.children(c.devDir, 'wq');
    const engines = this.children(c.devDir, 'engine').map((e) => numAttr(path.join(e.dir, 'group_id'), -1));
    const facts = wqs.map((w) => this.wqFacts(w.dir));
    const idx = wqs.findIndex((w) => w.id === c.id);
    const r = wqBindCheck(drv, dev, facts, idx, engines, { cryptoActive: this.cryptoWqs().length > 0, cryptoRegistered: cryptoHasDriver(this.cryptoText(), IAA_ALGORITHM) });
    if ('errno' in r) {
      this.setCmdStatus(c.devDir, r.cmdStatus);
      // the probe's error path leaves the type at none; a wq torn down after enabling loses its settings too
      this.setAll(c.dir, r.cleanup ? wqDisableUpdates() : { type: 'none' });
      fail(r.errno);
    }
    const ok = r as Extract<typeof r, { ok: true }>;
    for (const [id, size] of Object.entries(ok.sizes)) this.setAll(wqs[Number(id)].dir, { size: String(size) });
    this.setAll(c.dir, { type: ok.type, state: 'enabled', clients: '0' });
    this.attach(c.dir, drv);
    if (drv === 'user') {
      // minor numbers are deterministic here (the kernel's ida gives the lowest free one)
      const devId = (parseIdxdName(path.basename(c.devDir)) as { id: number }).id;
      fs.writeFileSync(path.join(c.dir, 'cdev_minor'), `${devId * 64 + c.id}\n`);
      const node = this.devNode(c);
      fs.mkdirSync(path.dirname(node), { recursive: true, mode: 0o755 });
      fs.writeFileSync(node, '', { mode: 0o600 });
      fs.chmodSync(node, 0o600);
      try {
        fs.chownSync(node, 0, 0);
      } catch {
        /* not root: the node keeps the caller's owner */
      }
      this.setAll(c.devDir, { cmd_status: '0' });
    }
    if (ok.registers) fs.appendFileSync(path.join(this.roots.proc, 'crypto'), cryptoEntry('deflate', IAA_ALGORITHM, IAA_CRYPTO_MODULE, 300));
  }

  private disableWq(c: Conf, drv: string): void {
    this.setAll(c.dir, wqDisableUpdates());
    this.detach(c.dir, drv);
    if (drv === 'user') {
      fs.rmSync(path.join(c.dir, 'cdev_minor'), { force: true });
      const node = this.devNode(c);
      fs.rmSync(node, { force: true });
      // devtmpfs removes a directory once its last node is gone
      if (fs.existsSync(path.dirname(node)) && fs.readdirSync(path.dirname(node)).length === 0) fs.rmdirSync(path.dirname(node));
    }
  }

  // ---- zswap ------------------------------------------------------------------------------------------
  private zswapStore(real: string, attr: string, data: string, fail: Fail): void {
    if (attr === 'compressor') {
      const v = data.trim();
      // zswap accepts only an algorithm the crypto API has (name or driver name), else -ENOENT
      const text = this.cryptoText();
      const known = text.split('\n').some((l) => /^(name|driver)\s*:/.test(l) && l.split(':')[1].trim() === v);
      if (!known) fail('ENOENT');
      fs.writeFileSync(real, `${v}\n`);
      return;
    }
    if (attr === 'enabled') {
      const b = kstrtobool(data);
      if (b === undefined) fail('EINVAL');
      fs.writeFileSync(real, b ? 'Y\n' : 'N\n');
      return;
    }
    fs.writeFileSync(real, data.endsWith('\n') ? data : `${data}\n`);
  }

  // ---- modules ----------------------------------------------------------------------------------------
  /** modprobe iaa_crypto: its driver appears with default attributes; returns false for a module this model does not own. */
  modprobe(name: string): boolean {
    if (name.replace(/-/g, '_') !== IAA_CRYPTO_MODULE) return false;
    if (!fs.existsSync(path.join(this.bus, 'drivers', 'crypto'))) loadIaaCrypto(this.roots);
    return true;
  }

  /** modprobe -r iaa_crypto: refused while a wq is bound to it (module reference); unregisters deflate-iaa. */
  rmmod(name: string, fail: Fail): boolean {
    if (name.replace(/-/g, '_') !== IAA_CRYPTO_MODULE) return false;
    if (this.cryptoWqs().length > 0) fail('EBUSY');
    fs.rmSync(path.join(this.bus, 'drivers', 'crypto'), { recursive: true, force: true });
    fs.rmSync(path.join(this.sysReal, 'module', IAA_CRYPTO_MODULE), { recursive: true, force: true });
    const text = this.cryptoText();
    const kept = text.split('\n\n').filter((e) => e.trim() && !cryptoHasDriver(e, IAA_ALGORITHM));
    fs.writeFileSync(path.join(this.roots.proc, 'crypto'), kept.map((e) => `${e.replace(/^\n+/, '')}\n\n`).join(''));
    return true;
  }
}
