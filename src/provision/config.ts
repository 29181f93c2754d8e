// What provisioning reads from /etc/sysconfig/qat and the environment: ServicesEnabled, POLICY, KernelVfs/LKCF_LIST, the group.

import fs from 'node:fs';
import { readEnvFile, type EnvEntry, type EnvFile } from '../config/envfile.js';
import { KNOWN_FILE_KEYS, MAX_POLICY } from '../config/settings.js';
import { parseIntInRange } from '../config/numbers.js';
import { parseBdf, formatBdf } from '../platform/pci.js';
import { QatmgrError, ErrorCodes } from '../errors.js';
import type { Service } from '../kernel/services.js';
import { parseServicesValue } from '../config/services-enabled.js';
import { parseIaaCrypto, type IaaCryptoSetting } from './idxd-config.js';

export interface WantedServices {
  /** The value as written (after the env-file unquoting). */
  raw: string;
  /** `FILE:LINE` of the assignment. */
  where: string;
  set: Service[];
}

export interface KernelVfRule {
  /** Where the rule came from (`FILE:LINE: KernelVfs` or `environment: LKCF_LIST`). */
  where: string;
  /** Exact addresses (KernelVfs). */
  addresses: string[];
  /** Upstream LKCF_LIST entries: regular expressions tested against the VF address. */
  patterns: RegExp[];
}

export interface ProvisionConfig {
  path: string;
  exists: boolean;
  /** undefined = ServicesEnabled unset or empty: every PF keeps the kernel's default. */
  services: WantedServices | undefined;
  /** Why services is undefined, for the report. */
  servicesNote: string | undefined;
  policy: number;
  policyWhere: string;
  kernelVfs: KernelVfRule;
  /** Group name or numeric gid for /dev/vfio nodes and the hugepages directory. */
  group: string;
  /** IaaCrypto= (IAA devices for iaa_crypto and zswap), undefined when unset or off. */
  iaaCrypto: IaaCryptoSetting | undefined;
  /** AccelConfig= (an accel-config JSON file to apply). */
  accelConfig: { path: string; where: string } | undefined;
  warnings: string[];
}

function bad(msg: string): QatmgrError {
  return new QatmgrError(ErrorCodes.QATMGR_E_CONFIG_VALUE, msg);
}

function parseKernelVfs(entry: EnvEntry | undefined, lkcf: { value: string; where: string } | undefined): KernelVfRule {
  const addresses: string[] = [];
  const patterns: RegExp[] = [];
  const wheres: string[] = [];
  if (entry && entry.value.trim()) {
    for (const tok of entry.value.split(/[\s,;]+/).filter(Boolean)) {
      const full = /^[0-9a-fA-F]{1,2}:[0-9a-fA-F]{1,2}\.[0-7]$/.test(tok) ? `0000:${tok}` : tok;
      const a = parseBdf(full);
      if (!a) throw bad(`KernelVfs: "${tok}" is not a PCI address (dddd:bb:dd.f or bb:dd.f)`);
      addresses.push(formatBdf(a));
    }
  }
  if (lkcf && lkcf.value.trim()) {
    for (const tok of lkcf.value.split(/\s+/).filter(Boolean)) {
      try {
        patterns.push(new RegExp(tok));
      } catch (e) {
        throw bad(`${lkcf.where}: "${tok}" is not a valid regular expression: ${(e as Error).message}`);
      }
    }
    wheres.push(lkcf.where);
  }
  return { where: wheres.join(', '), addresses, patterns };
}

export interface ConfigInputs {
  configPath: string;
  /** An explicitly named --config must exist; the default may be missing. */
  explicit: boolean;
  env: NodeJS.ProcessEnv;
  cliPolicy?: string;
  cliGroup?: string;
}

export function readProvisionConfig(inp: ConfigInputs): ProvisionConfig {
  const file: EnvFile = readEnvFile(inp.configPath, !inp.explicit);
  const p = inp.configPath;
  const warnings: string[] = [];
  const lines = new Map<string, number[]>();
  for (const e of file.entries) {
    if (!KNOWN_FILE_KEYS.has(e.key)) warnings.push(`${p}:${e.line}: unknown key ${e.key} ignored (known: ${[...KNOWN_FILE_KEYS].join(', ')})`);
    const l = lines.get(e.key) ?? [];
    l.push(e.line);
    lines.set(e.key, l);
  }
  for (const [k, l] of lines) {
    if (l.length > 1) warnings.push(`${p}:${l.join(',')}: ${k} is set ${l.length} times; the last one (line ${l[l.length - 1]}) wins, as in systemd`);
  }

  const svcEntry = file.values.get('ServicesEnabled');
  let services: WantedServices | undefined;
  let servicesNote: string | undefined;
  if (!svcEntry) {
    servicesNote = `ServicesEnabled is not set in ${p}; every PF keeps the kernel's default services`;
  } else {
    const set = parseServicesValue(svcEntry, p, warnings);
    if (set) services = { raw: svcEntry.value, where: `${p}:${svcEntry.line}`, set };
    else servicesNote = `${p}:${svcEntry.line}: ServicesEnabled is empty; every PF keeps the kernel's default services`;
  }

  let policy = 0;
  let policyWhere = 'default';
  const polRaw = inp.cliPolicy !== undefined
    ? { value: inp.cliPolicy, where: `command line: --policy="${inp.cliPolicy}"` }
    : inp.env.POLICY !== undefined
      ? { value: inp.env.POLICY, where: `environment: POLICY="${inp.env.POLICY}"` }
      : file.values.get('POLICY')
        ? { value: file.values.get('POLICY')!.value, where: `${p}:${file.values.get('POLICY')!.line}: POLICY="${file.values.get('POLICY')!.value}"` }
        : undefined;
  if (polRaw) {
    const v = parseIntInRange(polRaw.value, 0, MAX_POLICY);
    if (v === undefined) throw bad(`${polRaw.where} is not a number 0..${MAX_POLICY} (0 = one VF of every PF per process, n = n VFs per process)`);
    policy = v;
    policyWhere = polRaw.where;
  }

  const kvEntry = file.values.get('KernelVfs');
  const lkcf = inp.env.LKCF_LIST !== undefined
    ? { value: inp.env.LKCF_LIST, where: 'environment: LKCF_LIST' }
    : file.values.get('LKCF_LIST')
      ? { value: file.values.get('LKCF_LIST')!.value, where: `${p}:${file.values.get('LKCF_LIST')!.line}: LKCF_LIST` }
      : undefined;
  let kernelVfs: KernelVfRule;
  try {
    kernelVfs = parseKernelVfs(kvEntry, lkcf);
  } catch (e) {
    if (e instanceof QatmgrError && kvEntry && e.message.startsWith('KernelVfs')) throw bad(`${p}:${kvEntry.line}: ${e.message}`);
    throw e;
  }
  if (kvEntry && kvEntry.value.trim()) kernelVfs.where = [`${p}:${kvEntry.line}: KernelVfs`, kernelVfs.where].filter(Boolean).join(', ');

  const group = inp.cliGroup ?? inp.env.QAT_USER_GROUP ?? file.values.get('QAT_USER_GROUP')?.value ?? 'qat';
  const vfioDriver = inp.env.VFIO_DRIVER ?? file.values.get('VFIO_DRIVER')?.value;
  if (vfioDriver !== undefined && vfioDriver !== '' && vfioDriver !== 'vfio-pci') {
    warnings.push(`VFIO_DRIVER="${vfioDriver}" is not supported; VFs go to vfio-pci`);
  }
  const iaaEntry = file.values.get('IaaCrypto');
  const iaaCrypto = iaaEntry ? parseIaaCrypto(iaaEntry.value, `${p}:${iaaEntry.line}`) : undefined;
  const acEntry = file.values.get('AccelConfig');
  const accelConfig = acEntry && acEntry.value.trim() ? { path: acEntry.value.trim(), where: `${p}:${acEntry.line}: AccelConfig` } : undefined;
  return { path: p, exists: fs.existsSync(p), services, servicesNote, policy, policyWhere, kernelVfs, group, iaaCrypto, accelConfig, warnings };
}

/** Whether a VF stays on the kernel VF driver (KernelVfs exact address, or an LKCF_LIST regex). */
export function isKernelVf(rule: KernelVfRule, bdf: string): boolean {
  return rule.addresses.includes(bdf) || rule.patterns.some((re) => re.test(bdf));
}
