// The simulator's kernel model: a KernelFs whose writes to the simulated sysfs obey the QAT/PCI kernel rules and have their effects.
//
// The state lives in the tree itself (plain files), so every process that opens the same simulated host sees
// the same machine. Rules, with the kernel source they come from (torvalds/linux):
// - drivers/crypto/intel/qat/qat_common/adf_sysfs.c
//     state_store: "up"/"down" (sysfs_match_string) else -EINVAL; "down" when already down and "up" when
//       already up succeed without effect.
//     cfg_services_store: value checked first (-EINVAL, see src/kernel/services.ts), then -EINVAL
//       while the device is up ("must be down to reconfigure the service"); the written text is kept.
// - drivers/crypto/intel/qat/qat_common/adf_init.c adf_dev_stop()/adf_dev_shutdown(): bringing a PF down
//   calls hw_data->disable_iov() = adf_disable_sriov(): its VFs disappear (sriov_numvfs reads 0).
// - drivers/crypto/intel/qat/qat_common/adf_sriov.c adf_sriov_configure(): a started PF is brought down and
//   up again, and pci_enable_sriov(pdev, totalvfs) always enables ALL VFs whatever number was written;
//   the PF is up afterwards.
// - drivers/pci/iov.c sriov_numvfs_store(): not a u16 -> -EINVAL; > sriov_totalvfs -> -ERANGE; equal to the
//   current count -> no-op; no driver bound to the PF -> -ENOENT; 0 disables; a non-zero count while VFs
//   are enabled -> -EBUSY ("Disable before enabling"). New VFs are probed by a matching loaded VF driver
//   (sriov_drivers_autoprobe), else left unbound; each gets an IOMMU group (lowest free number).
// - drivers/base/bus.c bind_store()/unbind_store(), drivers/pci/pci-driver.c driver_override: bind of a
//   device that is missing, already bound, or not matched (driver_override names another driver, or
//   vfio-pci without override: it has no static ids) -> -ENODEV; unbind of a device not bound to that
//   driver -> -ENODEV. driver_override: a newline or empty write clears it (reads "(null)").
// - drivers/vfio/group.c: /dev/vfio/<group> exists while a device of the group is bound to vfio-pci;
//   it is created root:root 0600.
// - fs/kernfs: writing a sysfs attribute that has no store method fails with -EACCES (even for root).
// - adf_init.c adf_dev_start()/adf_dev_stop(), adf_sysfs_ras_counters.c, adf_dbgfs.c: `qat_ras/` (cleared
//   counters) and the debugfs `heartbeat/` files appear when a PF starts and go when it stops (a restart clears
//   them); `qat/auto_reset` takes kstrtobool values and reads on/off; `reset_error_counters` takes "1\n" only.
//   Unbinding the PF driver removes `qat/`, the debugfs directory and the VFs (see src/kernel/health.ts).

import fs from 'node:fs';
import path from 'node:path';
import { RealKernelFs, type KernelFs } from '../platform/kernelfs.js';
import { VFIO_DRIVER, driverOfModule } from '../kernel/drivers.js';
import { WRITABLE_ATTRS } from '../kernel/sysfs.js';
import { numVfsStore } from '../kernel/sriov.js';
import { simulatedRoots, type Roots } from '../config/roots.js';
import { familyByPfId, familyByVfId, type Family } from '../kernel/catalogue.js';
import { parseBdf, formatBdf } from '../platform/pci.js';
import { kernelParseServices } from '../kernel/services.js';
import { FaultInjector, readFaultsFile, parseFaultSpec, sysError } from './faults.js';
import { Writer, writeVf, vfGroupBase, SIM_MARKER, simulatedHostDir, moduleLine } from './generate.js';
import { PF_AUTO_RESET_FILE, RAS_DIR, RAS_COUNTERS, RAS_RESET_FILE, kstrtobool, rasResetAccepted } from '../kernel/health.js';
import { removeFiles, removeUpFiles, writeInPlace, writeUpFiles, writeBoundFiles, simDebugfsDir } from './health-files.js';
import { vfAddress, type SimHost } from './spec.js';
import { SimIdxdKernel } from './idxd-kernel.js';

export interface SimKernelOptions {
  /** Environment to read QATSIM_FAULT from (default process.env). */
  env?: NodeJS.ProcessEnv;
  /** Roots to use instead of simulatedRoots(dir) (e.g. explicit --sysfs-root/--dev-root into the same host). */
  roots?: Roots;
}

/**
 * Run a kernel-side effect with the kernel's modes: sysfs entries appear 0755/0644 whatever the writer's umask
 * (a unit's UMask=0117 on the provisioning step must not make them unreadable to the unprivileged daemon).
 */
export function asKernel<T>(fn: () => T): T {
  const old = process.umask(0o022);
  try {
    return fn();
  } finally {
    process.umask(old);
  }
}

export class SimKernelFs extends RealKernelFs implements KernelFs {
  override readonly kind: string;
  readonly roots: Roots;
  readonly faults: FaultInjector;
  private readonly host: SimHost;
  private readonly sysReal: string;
  private readonly idxd: SimIdxdKernel;

  constructor(readonly dir: string, opts: SimKernelOptions = {}) {
    super();
    this.dir = path.resolve(dir);
    this.kind = `simulated kernel (${this.dir})`;
    this.roots = opts.roots ?? simulatedRoots(this.dir);
    this.sysReal = fs.realpathSync(this.roots.sys);
    this.host = JSON.parse(fs.readFileSync(path.join(this.dir, SIM_MARKER), 'utf8')) as SimHost;
    const env = opts.env ?? process.env;
    const rules = [...readFaultsFile(this.dir), ...(env.QATSIM_FAULT ? parseFaultSpec(env.QATSIM_FAULT) : [])];
    this.faults = new FaultInjector(this.dir, rules);
    this.idxd = new SimIdxdKernel(this.roots, this.sysReal);
  }

  // reads are plain: the tree is the state (inherited from RealKernelFs)

  // ---- plain mutations (with fault injection) ---------------------------------------------------
  override chown(p: string, uid: number, gid: number): void {
    this.faults.check('chown', p, 'chown');
    fs.chownSync(p, uid, gid);
  }
  override chmod(p: string, mode: number): void {
    this.faults.check('chmod', p, 'chmod');
    fs.chmodSync(p, mode);
  }
  override mkdir(p: string, mode: number): void {
    this.faults.check('mkdir', p, 'mkdir');
    fs.mkdirSync(p, { mode });
    fs.chmodSync(p, mode);
  }

  /** Loading a module registers its driver (bind/unbind files) and lists it Live in proc/modules. */
  override modprobe(name: string): void {
    asKernel(() => this.modprobeInner(name));
  }

  private modprobeInner(name: string): void {
    if (!this.idxd.modprobe(name)) {
      const drv = driverOfModule(name);
      if (!drv) throw sysError('ENOENT', 'modprobe', name, ' (no such module in the simulator)');
      const d = path.join(this.roots.sys, 'bus', 'pci', 'drivers', drv);
      if (!fs.existsSync(d)) {
        fs.mkdirSync(d, { recursive: true });
        for (const f of drv === VFIO_DRIVER ? ['bind', 'unbind', 'new_id', 'remove_id'] : ['bind', 'unbind']) fs.writeFileSync(path.join(d, f), '');
      }
    }
    const mods = path.join(this.roots.proc, 'modules');
    const text = fs.existsSync(mods) ? fs.readFileSync(mods, 'utf8') : '';
    const mod = name.replace(/-/g, '_');
    if (!text.split('\n').some((l) => l.split(' ')[0] === mod)) {
      fs.writeFileSync(mods, `${text}${moduleLine(mod, 'Live')}`);
    }
  }

  /** Unloading a module: only iaa_crypto is modelled (refused while a wq is bound to it); its proc/modules line goes. */
  override rmmod(name: string): void {
    asKernel(() => {
      this.faults.check('write', name, 'rmmod');
      if (!this.idxd.rmmod(name, (code) => { throw sysError(code, 'delete_module', name); })) throw sysError('ENOENT', 'delete_module', name, ' (the simulator unloads only iaa_crypto)');
      const mods = path.join(this.roots.proc, 'modules');
      const mod = name.replace(/-/g, '_');
      const text = fs.existsSync(mods) ? fs.readFileSync(mods, 'utf8') : '';
      fs.writeFileSync(mods, text.split('\n').filter((l) => l && l.split(' ')[0] !== mod).map((l) => `${l}\n`).join(''));
    });
  }

  // ---- sysfs stores ------------------------------------------------------------------------------
  override writeFile(p: string, data: string): void {
    asKernel(() => this.writeFileInner(p, data));
  }

  private writeFileInner(p: string, data: string): void {
    const abs = path.resolve(p);
    this.faults.check('write', abs, 'write');
    let real: string;
    try {
      real = path.join(fs.realpathSync(path.dirname(abs)), path.basename(abs));
    } catch {
      throw sysError('ENOENT', 'open', abs);
    }
    if (!fs.existsSync(real)) throw sysError('ENOENT', 'open', abs);
    if (!real.startsWith(this.sysReal + path.sep)) {
      fs.writeFileSync(real, data);
      return;
    }
    const attr = path.basename(real);
    const parent = path.dirname(real);
    const fail = (code: string): never => {
      throw sysError(code, 'write', abs);
    };
    if (this.idxd.handles(real)) return this.idxd.store(real, data, fail);
    if (!WRITABLE_ATTRS.has(attr)) throw sysError('EACCES', 'open', abs);
    if (path.basename(parent) === 'qat' && (attr === 'state' || attr === 'cfg_services' || attr === 'auto_reset')) {
      const dev = path.dirname(parent);
      if (attr === 'state') this.storeState(dev, data, fail);
      else if (attr === 'cfg_services') this.storeServices(dev, data, fail);
      else {
        const on = kstrtobool(data);
        if (on === undefined) fail('EINVAL');
        writeInPlace(path.join(dev, PF_AUTO_RESET_FILE), on ? 'on\n' : 'off\n');
      }
      return;
    }
    if (path.basename(parent) === RAS_DIR && attr === RAS_RESET_FILE) {
      if (!rasResetAccepted(data)) fail('EINVAL');
      for (const c of RAS_COUNTERS) writeInPlace(path.join(parent, c), '0\n');
      return;
    }
    const driversDir = path.join(this.sysReal, 'bus', 'pci', 'drivers');
    if (path.dirname(parent) === driversDir && (attr === 'bind' || attr === 'unbind')) {
      const drv = path.basename(parent);
      const bdf = data.trim();
      if (attr === 'bind') this.bind(drv, bdf, fail);
      else this.unbind(drv, bdf, fail);
      return;
    }
    if (attr === 'sriov_numvfs') return this.storeNumVfs(parent, data, fail);
    if (attr === 'driver_override') {
      const v = data.replace(/\n$/, '');
      if (v.length >= 4096) fail('EINVAL');
      fs.writeFileSync(real, v === '' ? '(null)\n' : `${v}\n`);
      return;
    }
    fs.writeFileSync(real, data);
  }

  // ---- the model ------------------------------------------------------------------------------------
  private pfFamily(dev: string): Family | undefined {
    try {
      return familyByPfId(parseInt(fs.readFileSync(path.join(dev, 'device'), 'utf8'), 16));
    } catch {
      return undefined;
    }
  }

  private readState(dev: string): string {
    return fs.readFileSync(path.join(dev, 'qat', 'state'), 'utf8').trim();
  }

  private storeState(dev: string, data: string, fail: (c: string) => never): void {
    const v = data.endsWith('\n') ? data.slice(0, -1) : data;
    if (v !== 'up' && v !== 'down') fail('EINVAL');
    const cur = this.readState(dev);
    if (v === cur) return;
    if (v === 'down') this.stopDevice(dev);
    else this.startDevice(dev);
  }

  /** adf_dev_stop + shutdown: the health files go, SR-IOV is disabled, state reads down. */
  stopDevice(dev: string): void {
    const fam = this.pfFamily(dev);
    if (fam) removeUpFiles(this.roots, dev, fam.pfDriver, path.basename(dev));
    this.disableSriov(dev);
    writeInPlace(path.join(dev, 'qat', 'state'), 'down\n');
  }

  /** adf_dev_up: state reads up, `qat_ras/` and `heartbeat/` appear with cleared counters (VFs stay off). */
  startDevice(dev: string): void {
    const fam = this.pfFamily(dev);
    if (fam) {
      removeUpFiles(this.roots, dev, fam.pfDriver, path.basename(dev));
      writeUpFiles(this.roots, dev, fam.pfDriver, path.basename(dev));
    }
    writeInPlace(path.join(dev, 'qat', 'state'), 'up\n');
  }

  private storeServices(dev: string, data: string, fail: (c: string) => never): void {
    const fam = this.pfFamily(dev);
    if (!fam) fail('EINVAL');
    const parsed = kernelParseServices(fam!.name, data);
    if ('errno' in parsed) fail(parsed.errno);
    if (this.readState(dev) === 'up') fail('EINVAL');
    // Kernels up to 6.11 keep the matched string as written (sysfs_match_string over a fixed list that has
    // both "sym;asym" and "asym;sym"); later ones print the set in enum order. The model keeps the written
    // text, so a rollback restores the exact original; readers must compare sets, never strings.
    fs.writeFileSync(path.join(dev, 'qat', 'cfg_services'), `${data.endsWith('\n') ? data.slice(0, -1) : data}\n`);
  }

  private numVfs(dev: string): number {
    return Number(fs.readFileSync(path.join(dev, 'sriov_numvfs'), 'utf8').trim()) || 0;
  }

  private storeNumVfs(dev: string, data: string, fail: (c: string) => never): void {
    const total = Number(fs.readFileSync(path.join(dev, 'sriov_totalvfs'), 'utf8').trim()) || 0;
    const d = numVfsStore(data, { current: this.numVfs(dev), total, driverBound: fs.existsSync(path.join(dev, 'driver')) });
    if ('errno' in d) fail(d.errno);
    else if (d.op === 'disable') {
      // adf_do_disable_sriov(): down if started, SR-IOV off, up again
      this.disableSriov(dev);
      if (fs.existsSync(path.join(dev, 'qat', 'state'))) this.startDevice(dev);
    } else if (d.op === 'enable') {
      const fam = this.pfFamily(dev);
      if (!fam) fail('ENOENT');
      // adf_sriov_configure(): down if started, up again, then enable all totalvfs
      if (fs.existsSync(path.join(dev, 'qat', 'state'))) this.startDevice(dev);
      this.enableSriov(dev, fam!, d.count);
    }
  }

  /** pci_enable_sriov(): `count` VFs, each probed by the family's VF driver when it is loaded. */
  enableSriov(dev: string, fam: Family, count: number): void {
    const pfBdf = path.basename(dev);
    const pfAddr = parseBdf(pfBdf)!;
    const w = new Writer(this.roots);
    const numa = Number(fs.readFileSync(path.join(dev, 'numa_node'), 'utf8').trim());
    const groupsDir = path.join(this.roots.sys, 'kernel', 'iommu_groups');
    let g = vfGroupBase(this.host.pfs.length);
    const autoprobe = fs.existsSync(path.join(this.roots.sys, 'bus', 'pci', 'drivers', fam.vfDriver));
    for (let k = 0; k < count; k++) {
      while (fs.existsSync(path.join(groupsDir, String(g)))) g++;
      const bdf = formatBdf(vfAddress(pfAddr, k));
      writeVf(w, { bdf, iommuGroup: g, driver: 'none' }, fam.vfId, fam.vfDriver, Number.isFinite(numa) ? numa : -1, pfBdf, this.host.noiommu);
      fs.symlinkSync(`../${bdf}`, path.join(dev, `virtfn${k}`));
      if (autoprobe) this.attach(fam.vfDriver, path.join(path.dirname(dev), bdf));
    }
    fs.writeFileSync(path.join(dev, 'sriov_numvfs'), `${count}\n`);
  }

  disableSriov(dev: string): void {
    const links = fs.readdirSync(dev).filter((e) => /^virtfn[0-9]+$/.test(e));
    for (const l of links) {
      const vf = path.resolve(dev, fs.readlinkSync(path.join(dev, l)));
      const bdf = path.basename(vf);
      const drv = this.driverOf(vf);
      if (drv) this.detach(drv, vf);
      const group = path.basename(fs.readlinkSync(path.join(vf, 'iommu_group')));
      fs.rmSync(path.join(this.roots.sys, 'kernel', 'iommu_groups', group), { recursive: true, force: true });
      fs.rmSync(path.join(this.roots.sys, 'bus', 'pci', 'devices', bdf), { force: true });
      fs.rmSync(vf, { recursive: true, force: true });
      fs.rmSync(path.join(dev, l), { force: true });
    }
    if (fs.existsSync(path.join(dev, 'sriov_numvfs'))) fs.writeFileSync(path.join(dev, 'sriov_numvfs'), '0\n');
  }

  private driverOf(devDir: string): string | undefined {
    try {
      return path.basename(fs.readlinkSync(path.join(devDir, 'driver')));
    } catch {
      return undefined;
    }
  }

  private deviceDir(bdf: string): string | undefined {
    try {
      return fs.realpathSync(path.join(this.roots.sys, 'bus', 'pci', 'devices', bdf));
    } catch {
      return undefined;
    }
  }

  private matches(drv: string, dev: string): boolean {
    const override = fs.existsSync(path.join(dev, 'driver_override')) ? fs.readFileSync(path.join(dev, 'driver_override'), 'utf8').trim() : '(null)';
    if (override !== '(null)' && override !== '') return override === drv;
    if (drv === VFIO_DRIVER) return false;
    const id = parseInt(fs.readFileSync(path.join(dev, 'device'), 'utf8'), 16);
    const vf = familyByVfId(id);
    if (vf && vf.vfDriver === drv) return true;
    const pf = familyByPfId(id);
    return pf !== undefined && pf.pfDriver === drv;
  }

  private bind(drv: string, bdf: string, fail: (c: string) => never): void {
    const dev = this.deviceDir(bdf);
    if (!dev || this.driverOf(dev) !== undefined || !this.matches(drv, dev)) fail('ENODEV');
    this.attach(drv, dev!);
  }

  private unbind(drv: string, bdf: string, fail: (c: string) => never): void {
    const dev = this.deviceDir(bdf);
    if (!dev || this.driverOf(dev) !== drv) fail('ENODEV');
    this.detach(drv, dev!);
  }

  private groupNode(dev: string): string {
    const g = path.basename(fs.readlinkSync(path.join(dev, 'iommu_group')));
    return path.join(this.roots.dev, 'vfio', `${this.host.noiommu ? 'noiommu-' : ''}${g}`);
  }

  private writeUevent(dev: string, driver: string | undefined): void {
    const f = path.join(dev, 'uevent');
    const lines = fs.readFileSync(f, 'utf8').split('\n').filter((l) => l && !l.startsWith('DRIVER='));
    fs.writeFileSync(f, `${driver ? `DRIVER=${driver}\n` : ''}${lines.join('\n')}\n`);
  }

  private attach(drv: string, dev: string): void {
    const drvDir = path.join(this.roots.sys, 'bus', 'pci', 'drivers', drv);
    const bdf = path.basename(dev);
    fs.symlinkSync(path.relative(dev, drvDir), path.join(dev, 'driver'));
    fs.symlinkSync(path.relative(drvDir, dev), path.join(drvDir, bdf));
    this.writeUevent(dev, drv);
    if (drv === VFIO_DRIVER) {
      const node = this.groupNode(dev);
      if (!fs.existsSync(node)) {
        fs.writeFileSync(node, '', { mode: 0o600 });
        fs.chmodSync(node, 0o600);
        // root:root as the kernel makes it; a simulator run by an ordinary user keeps its own node
        if (process.getuid?.() === 0) fs.chownSync(node, 0, 0);
      }
    }
    const pf = this.pfDriverFamily(drv, dev);
    if (pf) this.probePf(dev, pf);
  }

  /** The family when `drv` is the PF driver of the PF `dev`. */
  private pfDriverFamily(drv: string, dev: string): Family | undefined {
    const fam = this.pfFamily(dev);
    return fam && fam.pfDriver === drv ? fam : undefined;
  }

  /** The PF driver's probe: `qat/` (default services of the host description), debugfs, and the device started. */
  private probePf(dev: string, fam: Family): void {
    const bdf = path.basename(dev);
    const i = this.host.pfs.findIndex((p) => p.bdf === bdf);
    const w = new Writer(this.roots);
    w.file(path.join(dev, 'qat', 'cfg_services'), `${i >= 0 ? this.host.pfs[i].services : 'sym;asym'}\n`);
    w.file(path.join(dev, 'qat', 'num_rps'), '64\n');
    writeBoundFiles(this.roots, dev, fam.pfDriver, bdf);
    this.startDevice(dev);
  }

  /** The PF driver's remove: the device stops (VFs go), `qat/` and the debugfs directory go. */
  private removePf(dev: string, fam: Family): void {
    this.stopDevice(dev);
    removeFiles(path.join(dev, 'qat'));
    removeFiles(simDebugfsDir(this.roots, fam.pfDriver, path.basename(dev)));
  }

  private detach(drv: string, dev: string): void {
    const pf = this.pfDriverFamily(drv, dev);
    if (pf) this.removePf(dev, pf);
    const drvDir = path.join(this.roots.sys, 'bus', 'pci', 'drivers', drv);
    fs.rmSync(path.join(dev, 'driver'), { force: true });
    fs.rmSync(path.join(drvDir, path.basename(dev)), { force: true });
    this.writeUevent(dev, undefined);
    if (drv === VFIO_DRIVER) {
      const groupDevs = path.join(fs.realpathSync(path.join(dev, 'iommu_group')), 'devices');
      const stillBound = fs.readdirSync(groupDevs).some((b) => b !== path.basename(dev) && this.driverOf(path.join(groupDevs, b)) === VFIO_DRIVER);
      if (!stillBound) fs.rmSync(this.groupNode(dev), { force: true });
    }
  }
}

/** The simulated kernel when the roots point into a simulated host (DIR/sim.json), else the real machine. */
export function chooseKernelFs(roots: Roots, env: NodeJS.ProcessEnv): KernelFs {
  const dir = simulatedHostDir(roots);
  return dir ? new SimKernelFs(dir, { env, roots }) : new RealKernelFs();
}
