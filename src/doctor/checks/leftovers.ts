// Check 7: what the out-of-tree package leaves behind (service scripts/units, *_dev*.conf, ICP_ROOT, legacy libraries).

import path from 'node:path';
import { under, type Roots } from '../../config/roots.js';
import { exists, listDir, readText, systemRoot } from '../host-scan.js';
import { result, type CheckResult } from '../types.js';

const OOT_SERVICES = ['qat_service', 'qat_service_vfs'];
const OOT_LIBS = ['libqat_s.so', 'libusdm_drv_s.so'];
const DEFAULT_LIB_DIRS = ['/lib', '/usr/lib', '/lib64', '/usr/lib64', '/lib/x86_64-linux-gnu', '/usr/lib/x86_64-linux-gnu'];
export const OOT_CONF_RE = /^[0-9a-z]+?(vf)?_dev[0-9]+\.conf$/;

/** Where a host path lives for these roots (the simulated host keeps `/usr/lib` under its directory). */
function hostPath(roots: Roots, p: string): string {
  return under(systemRoot(roots), p);
}

export function checkOotService(roots: Roots): CheckResult {
  const found: string[] = [];
  for (const s of OOT_SERVICES) {
    const candidates = [under(roots.etc, 'init.d', s), under(roots.etc, 'systemd', 'system', `${s}.service`),
      hostPath(roots, `/lib/systemd/system/${s}.service`), hostPath(roots, `/usr/lib/systemd/system/${s}.service`)];
    for (const c of candidates) if (exists(c)) found.push(c);
    for (const d of listDir(under(roots.etc, 'systemd', 'system')).filter((n) => n.endsWith('.wants'))) {
      const c = under(roots.etc, 'systemd', 'system', d, `${s}.service`);
      if (exists(c)) found.push(c);
    }
  }
  if (!found.length) return result('oot.service', 'PASS', 'no qat_service / qat_service_vfs script or unit');
  return result('oot.service', 'FAIL', `OOT service files: ${found.join(', ')}`, [
    `systemctl disable --now ${OOT_SERVICES.join(' ')} (SysV: update-rc.d -f qat_service remove)`,
    `rm -f ${found.join(' ')} && systemctl daemon-reload`,
  ]);
}

export function checkOotConf(roots: Roots): CheckResult {
  const confs = listDir(roots.etc).filter((n) => OOT_CONF_RE.test(n)).map((n) => under(roots.etc, n));
  if (!confs.length) return result('oot.conf', 'PASS', `no *_dev*.conf in ${roots.etc}`);
  return result('oot.conf', 'WARN', `OOT device configs: ${confs.join(', ')}`, [
    `qatctl migrate ${confs.join(' ')} --write (translates them to /etc/sysconfig/qat)`,
    `then move them away: mkdir -p /root/qat-oot && mv ${confs.join(' ')} /root/qat-oot/`,
  ]);
}

export function checkIcpRoot(roots: Roots, env: NodeJS.ProcessEnv): CheckResult {
  const hits: string[] = [];
  if (env.ICP_ROOT !== undefined) hits.push(`ICP_ROOT=${env.ICP_ROOT} in this environment`);
  const files = [under(roots.etc, 'environment'), under(roots.etc, 'profile'),
    ...listDir(under(roots.etc, 'profile.d')).map((n) => under(roots.etc, 'profile.d', n))];
  const fileHits: string[] = [];
  for (const f of files) {
    (readText(f) ?? '').split('\n').forEach((l, i) => {
      if (/^\s*(export\s+)?ICP_ROOT\s*=/.test(l)) fileHits.push(`${f}:${i + 1}`);
    });
  }
  hits.push(...fileHits);
  if (!hits.length) return result('oot.icp-root', 'PASS', 'ICP_ROOT is not set');
  return result('oot.icp-root', 'WARN', `${hits.join('; ')}: OOT build scripts and Makefiles still point at the OOT tree`, [
    ...(fileHits.length ? [`delete the ICP_ROOT line at ${fileHits.join(', ')}`] : []),
    'unset ICP_ROOT (and drop it from application build scripts)',
  ]);
}

/** Library directories of the loader: ld.so.conf (with include globs of the form dir/*.conf), defaults, LD_LIBRARY_PATH. */
function loaderDirs(roots: Roots, env: NodeJS.ProcessEnv): string[] {
  const dirs: string[] = [];
  const seen = new Set<string>();
  const readConf = (file: string, depth: number): void => {
    if (depth > 4 || seen.has(file)) return;
    seen.add(file);
    for (const raw of (readText(file) ?? '').split('\n')) {
      const l = raw.replace(/#.*/, '').trim();
      if (!l) continue;
      if (l.startsWith('include ')) {
        const pat = l.slice(8).trim().replace(/^\/etc\//, '');
        const dir = under(roots.etc, path.dirname(pat));
        const re = new RegExp(`^${path.basename(pat).replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.')}$`);
        for (const n of listDir(dir).filter((x) => re.test(x))) readConf(path.join(dir, n), depth + 1);
      } else {
        dirs.push(l);
      }
    }
  };
  readConf(under(roots.etc, 'ld.so.conf'), 0);
  const fromEnv = (env.LD_LIBRARY_PATH ?? '').split(':').filter(Boolean);
  return [...new Set([...fromEnv.map((d) => `env:${d}`), ...dirs, ...DEFAULT_LIB_DIRS])];
}

export function checkOotLibs(roots: Roots, env: NodeJS.ProcessEnv): CheckResult {
  const found: string[] = [];
  for (const d of loaderDirs(roots, env)) {
    const real = d.startsWith('env:') ? d.slice(4) : hostPath(roots, d);
    for (const n of listDir(real)) {
      if (OOT_LIBS.some((l) => n === l || n.startsWith(`${l}.`))) found.push(path.join(real, n));
    }
  }
  if (!found.length) return result('oot.libs', 'PASS', `no ${OOT_LIBS.join(' / ')} on the loader path`);
  return result('oot.libs', 'FAIL', `OOT libraries on the loader path: ${found.join(', ')} (applications may load them instead of qatlib's libqat/libusdm)`, [
    `rm -f ${found.join(' ')} && ldconfig`,
    'rebuild applications with -lqat -lusdm (see qatctl migrate)',
  ]);
}
