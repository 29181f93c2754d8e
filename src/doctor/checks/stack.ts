// Check 8: the in-tree stack: qat.service enabled / daemon reachable, /etc/sysconfig/qat, POLICY vs VFs, services.

import net from 'node:net';
import fs from 'node:fs';
import path from 'node:path';
import { unixSocketListening, unitStates } from '../../platform/unix-sockets.js';
import { under, type Roots } from '../../config/roots.js';
import { exists, listDir, systemRoot, type ScannedHost } from '../host-scan.js';
import { MAX_POLICY, type SysconfigState } from '../sysconfig.js';
import { canonical, kernelDefault, QAT_INIT_ACCEPTED, sameServices, serviceSet, type Service } from '../services.js';
import { result, type CheckResult } from '../types.js';

/** True when something accepts a connection on the Unix socket within `timeoutMs` (used for the admin socket only). */
export function socketReachable(socketPath: string, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.createConnection({ path: socketPath });
    const done = (ok: boolean): void => { clearTimeout(t); s.destroy(); resolve(ok); };
    const t = setTimeout(() => done(false), timeoutMs);
    s.once('connect', () => done(true));
    s.once('error', () => done(false));
  });
}

function unitEnabled(roots: Roots): string | undefined {
  const sysdir = under(roots.etc, 'systemd', 'system');
  for (const d of listDir(sysdir).filter((n) => n.endsWith('.wants'))) {
    for (const u of ['qat.service', 'qat.socket']) if (exists(under(sysdir, d, u))) return under(sysdir, d, u);
  }
  return undefined;
}

/**
 * Is qatmgr there? Asked without touching the client socket: connecting to it would start a socket-activated
 * qat.service. The admin socket (never socket-activated) answers when the daemon runs; a client socket that only
 * listens (read from /proc/net/unix) is qat.socket waiting for the first client. The unit states come from systemd.
 */
export async function checkService(roots: Roots, socketPath: string, timeoutMs: number): Promise<CheckResult> {
  const enabled = unitEnabled(roots);
  const adminSocket = path.join(path.dirname(socketPath), 'qatmgr-admin.sock');
  const running = await socketReachable(adminSocket, timeoutMs);
  const listening = !running && unixSocketListening(roots.pids, socketPath);
  const units = systemRoot(roots) === '/' ? unitStates(['qat.socket', 'qat.service']) : undefined;
  const state = units ? ` (systemd: ${Object.entries(units).map(([u, st]) => `${u} ${st.active}${st.enabled ? `, ${st.enabled}` : ''}`).join('; ')})` : '';
  const up = running || listening;
  const where = running ? `qatmgr answers on ${adminSocket}` : `${socketPath} listens (socket-activated: qat.service starts on the first client)`;
  if (up && enabled) return result('stack.service', 'PASS', `qat.service enabled (${enabled}); ${where}${state}`);
  if (up) return result('stack.service', 'WARN', `${where} but qat.service is not enabled at boot${state}`, ['systemctl enable qat.socket']);
  const start = systemRoot(roots) === '/' ? 'systemctl start qat.socket; journalctl -u qat -b if a client is not served'
    : `simulated host: qatmgr --foreground --sysfs-root ${roots.sys} --dev-root ${roots.dev} --run-dir ${roots.run}`;
  if (enabled) return result('stack.service', 'WARN', `qat.service enabled (${enabled}) but nothing listens on ${socketPath}: the daemon is not running${state}`, [start]);
  return result('stack.service', 'FAIL', `qat.service not enabled and nothing listens on ${socketPath}${state}`, ['systemctl enable --now qat.socket']);
}

export function checkSysconfig(sys: SysconfigState): CheckResult {
  if (sys.error) return result('stack.sysconfig', 'FAIL', sys.error, [`fix that line of ${sys.path} (KEY=value, as systemd's EnvironmentFile= reads it)`]);
  if (!sys.present) return result('stack.sysconfig', 'PASS', `${sys.path} absent: POLICY=0 and the kernel's default services`);
  const problems: string[] = [];
  const fix: string[] = [];
  const pol = sys.file!.values.get('POLICY');
  if (pol && pol.value === '') { problems.push(`line ${pol.line}: empty POLICY= makes qatmgr exit "Invalid policy"`); fix.push(`${sys.path}:${pol.line}: POLICY=0`); }
  else if (pol && sys.policy === undefined) { problems.push(`line ${pol.line}: POLICY=${pol.value} is not 0..${MAX_POLICY}`); fix.push(`${sys.path}:${pol.line}: POLICY=0`); }
  const se = sys.file!.values.get('ServicesEnabled');
  if (se && !(QAT_INIT_ACCEPTED as readonly string[]).includes(se.value)) {
    problems.push(`line ${se.line}: ServicesEnabled=${se.value} is not a value qat_init.sh accepts (it would be silently ignored)`);
    fix.push(`${sys.path}:${se.line}: ServicesEnabled=${canonical(serviceSet(se.value)) || 'sym;asym'}`);
  }
  let raw = '';
  try { raw = fs.readFileSync(sys.path, 'utf8'); } catch { /* parsed above */ }
  const seLines = raw.split('\n').map((l, i) => ({ l, n: i + 1 })).filter((x) => x.l.includes('ServicesEnabled='));
  if (seLines.length > 1) {
    problems.push(`${seLines.length} lines contain ServicesEnabled= (${seLines.map((x) => x.n).join(', ')}); qat_init.sh reads commented ones too and then ignores them all`);
    fix.push(`keep one ServicesEnabled= line in ${sys.path}; delete the commented ones`);
  }
  if (/ServicesEnabled=\s*["']/.test(raw)) {
    problems.push('ServicesEnabled is quoted; qat_init.sh takes the quotes literally and ignores the value');
    fix.push(`remove the quotes around ServicesEnabled in ${sys.path}`);
  }
  if (problems.length) return result('stack.sysconfig', 'FAIL', `${sys.path}: ${problems.join('; ')}`, fix);
  const keys = [...sys.file!.values.keys()];
  return result('stack.sysconfig', 'PASS', `${sys.path} parses (${keys.length ? keys.join(', ') : 'no assignments'})`);
}

export function checkPolicy(host: ScannedHost, sys: SysconfigState): CheckResult {
  if (sys.error || sys.policy === undefined) return result('stack.policy', 'FAIL', 'POLICY cannot be read (see stack.sysconfig)', ['fix /etc/sysconfig/qat first']);
  const n = sys.policy;
  const vfs = host.vfs.filter((v) => v.driver === 'vfio-pci').length;
  const perPf = new Map<string, number>();
  for (const v of host.vfs.filter((x) => x.driver === 'vfio-pci')) perPf.set(v.pfBdf ?? `guest-${v.bdf}`, (perPf.get(v.pfBdf ?? `guest-${v.bdf}`) ?? 0) + 1);
  if (vfs === 0) return result('stack.policy', 'FAIL', `POLICY=${n} but no VF is on vfio-pci: qatmgr has nothing to serve`, ['see vfio.binding']);
  if (n === 0) {
    const guestOnly = host.pfs.length === 0 && perPf.size > 1;
    if (guestOnly) return result('stack.policy', 'WARN', `POLICY=0 in a guest with ${vfs} VFs each on its own bus: one section takes every VF (the first process gets all)`, [`POLICY=1 (or 2, 4, ...) in ${sys.path}`]);
    const sections = Math.max(...perPf.values());
    return result('stack.policy', 'PASS', `POLICY=0: ${sections} sections of up to ${perPf.size} VF(s) (one per PF) from ${vfs} VFs`);
  }
  if (n > vfs) return result('stack.policy', 'FAIL', `POLICY=${n} is greater than the ${vfs} VFs on vfio-pci: qatmgr refuses to start (exit 234)`, [`POLICY=${Math.max(1, Math.min(vfs, perPf.size))} in ${sys.path} (or 0), then systemctl restart qat`]);
  const unused = vfs % n;
  if (unused) return result('stack.policy', 'WARN', `POLICY=${n}: ${Math.floor(vfs / n)} sections; ${unused} of ${vfs} VFs are never used`, [`POLICY=${[1, 2, 4, 8, 16].filter((d) => vfs % d === 0 && d <= n).pop() ?? 1} in ${sys.path} uses every VF`]);
  return result('stack.policy', 'PASS', `POLICY=${n}: ${vfs / n} sections of ${n} VF(s)`);
}

export function checkServices(host: ScannedHost, sys: SysconfigState): CheckResult {
  if (host.pfs.length === 0) {
    return host.vfs.length ? result('stack.services', 'PASS', 'guest: the host decides the services')
      : result('stack.services', 'FAIL', 'no QAT PF reports its services', ['see devices']);
  }
  const se = sys.file?.values.get('ServicesEnabled')?.value;
  const wanted = se !== undefined && (QAT_INIT_ACCEPTED as readonly string[]).includes(se) ? se : undefined;
  const bad: string[] = [];
  const down: string[] = [];
  host.pfs.forEach((pf, i) => {
    const want = wanted ?? kernelDefault(i);
    if (pf.services === undefined) bad.push(`${pf.bdf}: no qat/cfg_services (kernel too old)`);
    else if (!sameServices(pf.services, want)) bad.push(`${pf.bdf}: ${pf.services}, expected ${want}`);
    if (pf.state !== undefined && pf.state !== 'up') down.push(pf.bdf);
  });
  const source = wanted ? `ServicesEnabled=${wanted}` : 'the kernel default (sym;asym on even PFs, dc on odd)';
  if (bad.length) {
    const fix = ['qatctl provision (writes ServicesEnabled into every PF; systemctl restart qat runs it too)'];
    const first = host.pfs.find((p, i) => p.services !== undefined && !sameServices(p.services, wanted ?? kernelDefault(i)));
    if (first) fix.push(`or by hand: echo down > /sys/bus/pci/devices/${first.bdf}/qat/state; echo ${wanted ?? kernelDefault(host.pfs.indexOf(first))} > /sys/bus/pci/devices/${first.bdf}/qat/cfg_services; echo up > /sys/bus/pci/devices/${first.bdf}/qat/state`);
    return result('stack.services', 'FAIL', `PFs disagree with ${source}: ${bad.join('; ')}`, fix);
  }
  if (down.length) return result('stack.services', 'FAIL', `PF(s) down: ${down.join(', ')}`, down.map((b) => `echo up > /sys/bus/pci/devices/${b}/qat/state`));
  return result('stack.services', 'PASS', `${host.pfs.length} PFs report ${source}: ${host.pfs.map((p) => p.services).join(' / ')}`);
}

const NAMES: Record<Service, string> = { sym: 'Symmetric crypto', asym: 'Asymmetric crypto', dc: 'Compression', decomp: 'Decompression' };

export function checkExpect(host: ScannedHost, expect: string[]): CheckResult {
  const offered = new Set<Service>();
  if (host.pfs.length) for (const p of host.pfs) for (const s of serviceSet(p.services ?? '')) offered.add(s);
  const offeredText = canonical(offered) || 'none';
  if (expect.length === 0) return result('stack.expect', 'PASS', `no --expect given; PFs offer ${offeredText}`);
  if (host.pfs.length === 0) return result('stack.expect', 'WARN', `guest: cannot see which services the host PFs run (wanted ${expect.join(', ')})`, ['run qatctl doctor --expect on the host']);
  const missing = (expect as Service[]).filter((s) => !offered.has(s));
  if (!missing.length) return result('stack.expect', 'PASS', `applications need ${canonical(expect as Service[])}; PFs offer ${offeredText}`);
  const need = new Set(expect as Service[]);
  const fix: string[] = [];
  if (need.size <= 2) fix.push(`ServicesEnabled=${canonical(need)} in /etc/sysconfig/qat, then systemctl restart qat`);
  else if (host.pfs.length >= 2 && [...need].every((s) => s === 'sym' || s === 'asym' || s === 'dc')) fix.push('delete ServicesEnabled from /etc/sysconfig/qat (the kernel default runs sym;asym and dc on alternate PFs), then systemctl restart qat');
  else fix.push(`ServicesEnabled=${canonical(need)} in /etc/sysconfig/qat (420xx/6xxx), then systemctl restart qat`);
  return result('stack.expect', 'FAIL', `${missing.map((s) => `${NAMES[s]} instances missing`).join('; ')}: applications need ${canonical(need)}, PFs offer ${offeredText}`, fix);
}
