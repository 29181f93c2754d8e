// One validated Settings object for the daemon, merged from command line > environment > /etc/sysconfig/qat > defaults.

import path from 'node:path';
import { parseArgs } from 'node:util';
import { QatmgrError, ErrorCodes, showValue } from '../errors.js';
import { DEFAULT_ROOTS, simulatedRoots, rootsFromOptions, under, type Roots } from './roots.js';
import { readEnvFile, type EnvFile } from './envfile.js';
import { parseIntInRange, parseDurationMs, DURATION_HELP } from './numbers.js';
import { parseListenAddress, isLoopback } from './listen-address.js';
import { DEBUGFS_UNDER_SYS } from '../kernel/health.js';
import { usageErrorFromParseArgs } from './args.js';
import { readShares, type ShareRule } from './shares.js';
import { parseServicesValue } from './services-enabled.js';

/** Protocol version of libqat 26.08: (26 << 8) + 8. */
export const DEFAULT_PROTOCOL_VERSION = 0x1a08;
export const MAX_POLICY = 4096;
export const MAX_DEBUG = 2;

/** How grants follow the client's NUMA nodes: off (upstream's first fit), prefer a local section, or only a local one. */
export type NumaMode = 'off' | 'prefer' | 'strict';
export const NUMA_MODES: readonly NumaMode[] = ['off', 'prefer', 'strict'];

export interface Settings {
  policy: number;
  debug: number;
  foreground: boolean;
  roots: Roots;
  /** Path of the settings file that was read (whether or not it existed). */
  configPath: string;
  socketPath: string;
  /** Group given to the socket (name or numeric gid); undefined = keep the process group. */
  socketGroup: string | undefined;
  pidFile: string;
  /** Simulator spec when the daemon lays down its own simulated host. */
  simulate: string | undefined;
  simDir: string | undefined;
  /** Close a connection that sends no complete request within this time (upstream: 1000 ms). */
  firstRequestTimeoutMs: number;
  /** Close an idle connection after this long; 0 = never (upstream behaviour: clients hold sections for their life). */
  idleTimeoutMs: number;
  maxConnections: number;
  /** Client connections one uid may hold; undefined = all but min(64, max/4) of --max-connections. */
  maxConnectionsPerUid: number | undefined;
  /** Close an admin connection this long after its last complete request. */
  adminIdleTimeoutMs: number;
  protocolVersion: number;
  /** Raw `ServicesEnabled` of the settings file (provisioning reads it; the daemon only reports it). */
  servicesEnabled: string | undefined;
  /** Non-fatal remarks about the settings file (unknown or repeated keys). */
  warnings: string[];
  /** Admin API socket (JSON lines); null = no admin socket (`--admin-socket=none`). */
  adminSocketPath: string | null;
  /** HTTP listener for Prometheus metrics; undefined = off (loopback only unless metricsAllowRemote). */
  metricsListen: { host: string; port: number } | undefined;
  /** The health loop and following the host (docs/health.md). */
  health: {
    /** Time between looks, ms; 0 = off (no health, no following the host: upstream's behaviour). */
    intervalMs: number;
    /** How long a bad PF's sources must stay good before it is handed out again, ms. */
    recoverMs: number;
    heartbeat: 'auto' | 'debugfs' | 'relay' | 'off';
    debugfsRoot: string;
  };
  /** The operator allowed a non-loopback metrics address (`--metrics-allow-remote`). */
  metricsAllowRemote: boolean;
  /** Log line format: text on a terminal, JSON for machines; 'auto' decides from the stream. */
  logFormat: 'auto' | 'json' | 'text';
  /** Where lines go: the console streams, or the journal (syslog priority prefix per line); 'auto' = journal when JOURNAL_STREAM names our stream. */
  logTarget: 'auto' | 'console' | 'journal';
  /** NumaAware= / --numa-aware= (default off). */
  numaAware: NumaMode;
  /** Reservations and caps per unit, uid, group or process name (Shares= and the shares.d drop-ins). */
  shares: ShareRule[];
  /** The shares drop-in directory that was read (whether or not it existed). */
  sharesDir: string;
  /** Open each /dev/vfio group at discovery to see whether it is busy (`--no-vfio-probe` turns it off). */
  vfioProbe: boolean;
  /** Where each value came from, for `qatctl status` and error messages. */
  sources: Record<string, 'cli' | 'env' | 'file' | 'default'>;
  /** The kubelet device plugin (`--kubelet-plugin`); undefined = off. */
  kubelet: KubeletSettings | undefined;
}

/** How many sections a kubelet pool takes: a number, or every section left. */
export type SectionCount = number | 'all';

export interface KubeletSettings {
  /** The kubelet's root directory (device-plugins/ and pod-resources/ below it), default /var/lib/kubelet. */
  dir: string;
  /** Sections given to pods in managed mode (the first ones of the plan). */
  managed: SectionCount;
  /** Sections (after the managed ones) whose VFs are given to pods directly, Intel-plugin style. */
  standalone: SectionCount;
  /** How often device health (PF state, VF presence) is read. */
  healthIntervalMs: number;
}

export type ParseOutcome =
  | { kind: 'run'; settings: Settings }
  | { kind: 'help' }
  | { kind: 'version' };

const OPTIONS = {
  help: { type: 'boolean', short: 'h' },
  version: { type: 'boolean', short: 'v' },
  debug: { type: 'string', short: 'd' },
  policy: { type: 'string', short: 'p' },
  foreground: { type: 'boolean', short: 'f' },
  config: { type: 'string' },
  'sysfs-root': { type: 'string' },
  'dev-root': { type: 'string' },
  'proc-root': { type: 'string' },
  'etc-root': { type: 'string' },
  'run-dir': { type: 'string' },
  socket: { type: 'string' },
  'socket-group': { type: 'string' },
  pidfile: { type: 'string' },
  simulate: { type: 'string' },
  'sim-dir': { type: 'string' },
  'first-request-timeout': { type: 'string' },
  'idle-timeout': { type: 'string' },
  'max-connections': { type: 'string' },
  'max-connections-per-uid': { type: 'string' },
  'admin-idle-timeout': { type: 'string' },
  'protocol-version': { type: 'string' },
  'admin-socket': { type: 'string' },
  'metrics-listen': { type: 'string' },
  'health-interval': { type: 'string' },
  'health-recover': { type: 'string' },
  heartbeat: { type: 'string' },
  'debugfs-root': { type: 'string' },
  'metrics-allow-remote': { type: 'boolean' },
  'log-format': { type: 'string' },
  'log-target': { type: 'string' },
  'numa-aware': { type: 'string' },
  'no-vfio-probe': { type: 'boolean' },
  'kubelet-plugin': { type: 'boolean' },
  'kubelet-dir': { type: 'string' },
  'kubelet-managed': { type: 'string' },
  'kubelet-standalone': { type: 'string' },
  'kubelet-health-interval': { type: 'string' },
} as const;

export const DAEMON_USAGE = `Usage: qatmgr [OPTIONS]

Hands Intel QuickAssist (QAT) virtual functions to libqat processes over a Unix socket.

Upstream-compatible options:
  -h, --help                 print this help and exit
  -v, --version              print the release and the qatlib protocol it speaks, and exit
  -d, --debug=LEVEL          log level: 0 errors and warnings, 1 info (one summary line at start, grants
                             and releases), 2 debug (every VF, every request and reply in hex) (default 0)
  -p, --policy=POLICY        0: one VF of every PF per process; n: n VFs per process (0..4096, default 0)
  -f, --foreground           stay in the foreground (no fork, no pid file)

Paths (every root is configurable so the daemon can run on a simulated host):
  --config=FILE              settings file (default /etc/sysconfig/qat; missing is fine)
  --sysfs-root=DIR           sysfs (default /sys)
  --dev-root=DIR             device nodes (default /dev)
  --proc-root=DIR            procfs (default /proc)
  --etc-root=DIR             configuration root (default /etc)
  --run-dir=DIR              run directory (default /run/qat)
  --socket=PATH              client socket (default <run-dir>/qatmgr.sock)
  --socket-group=GROUP       group of the socket, mode 0660 (default: qat if that group exists)
  --pidfile=PATH             pid file in daemon mode (default $PIDFILE or <run-dir>/qatmgr.pid)
  --admin-socket=PATH        admin API socket, same group and mode as the client socket
                             (default <run-dir>/qatmgr-admin.sock; 'none' disables it)
  --metrics-listen=ADDR:PORT serve Prometheus metrics over HTTP, e.g. 127.0.0.1:9464 (default off);
                             under systemd use qat-metrics.socket instead (the unit has no network)
  --metrics-allow-remote     allow a non-loopback metrics address (refused otherwise)

Logs:
  --log-format=FORMAT        text (human lines), json (one JSON object per line) or auto: text on a
                             terminal and in the journal, json otherwise (default auto)
  --log-target=TARGET        console (stdout/stderr), journal (each line carries its syslog priority,
                             <N> prefix) or auto: journal when JOURNAL_STREAM names our stderr (default auto)

Health and host changes (docs/health.md):
  --health-interval=T        look at every PF's state, RAS counters and heartbeat, and at the host's VFs, this
                             often (default 500ms, at least 100ms); 0 = never (no health, no following the host
                             without SIGHUP); settings file key QATMGR_HEALTH_INTERVAL
  --health-recover=T         hand a PF out again once it stayed good this long (default 3s; doubled per flap
                             within a minute, up to 1m); key QATMGR_HEALTH_RECOVER
  --heartbeat=MODE           auto (debugfs when readable, else the relay qatctl heartbeat-relay), debugfs, relay,
                             off (default auto); key QATMGR_HEARTBEAT
  --debugfs-root=DIR         debugfs (default <sysfs-root>/kernel/debug)

Kubernetes (see docs/kubernetes.md):
  --kubelet-plugin           also serve the kubelet device-plugin API: VFs as qat.intel.com/<services>
                             (Intel-plugin compatible) and sections as qat.intel.com/managed (default off)
  --kubelet-dir=DIR          the kubelet's directory (default /var/lib/kubelet)
  --kubelet-managed=N|all    the first N sections go to pods in managed mode (default 0)
  --kubelet-standalone=N|all the next N sections' VFs go to pods directly (default all); sections left
                             over serve host processes on the client socket
  --kubelet-health-interval=T   how often PF state and VF presence are read (default 2s)

Simulator:
  --simulate=SPEC            lay down a simulated host and serve it, e.g. 'default' or '4xxx:2x16'
                             (see 'qatctl simulate --help' for SPEC)
  --sim-dir=DIR              where the simulated host goes (default ./.qatmgr-sim)

Devices:
  --no-vfio-probe            do not open each /dev/vfio group at start to see whether it is in use (for a
                             manager that may not open the nodes, e.g. in an unprivileged pod)

Connections:
  --first-request-timeout=T  close a connection silent for this long after accept (default 1s)
  --idle-timeout=T           close a connection this long after its last complete request, 0 = never
                             (default 0)
  --max-connections=N        concurrent connections (default 1024; lowered to fit RLIMIT_NOFILE). At the cap the
                             connection idle longest that holds no section is closed for the newcomer
  --max-connections-per-uid=N  connections one user other than root may hold (default: all but min(64, N/4)
                             of the cap)
  --admin-idle-timeout=T     close an admin connection this long after its last request (default 10m)
  --protocol-version=V       advertised protocol version (default 0x1a08, libqat 26.08)

Allocation (opt-in; the default is upstream's first fit):
  --numa-aware=MODE          off | prefer (a section on the client's NUMA node if one is free) |
                             strict (only such a section, else refuse); settings file key NumaAware
                             (default off)
  Shares per unit, uid, group or process name ("nginx.service: min 4, max 8") are read from
  Shares= in the settings file and from <etc-root>/qat/shares.d/*.conf; see docs/allocation.md.

Durations (T): ${DURATION_HELP}.

Settings file and environment: POLICY (as --policy), PIDFILE (pid file path), QATMGR_DEBUG,
QATMGR_LOG_FORMAT, QATMGR_LOG_TARGET, QATMGR_METRICS_LISTEN, QATMGR_METRICS_ALLOW_REMOTE (yes/no),
QATMGR_IDLE_TIMEOUT, QATMGR_MAX_CONNECTIONS (as the options above; see /etc/sysconfig/qat).
Precedence: command line > environment > settings file > default.
`;

type Source = 'cli' | 'env' | 'file' | 'default';

interface Raw {
  value: string;
  source: Source;
  /** Text used in an error message to point at the value. */
  where: string;
}

function pick(cli: string | undefined, cliName: string, envName: string | undefined, env: NodeJS.ProcessEnv, file: EnvFile | undefined, fileKey: string | undefined): Raw | undefined {
  if (cli !== undefined) return { value: cli, source: 'cli', where: `command line: --${cliName}=${showValue(cli)}` };
  if (envName && env[envName] !== undefined) {
    const v = env[envName] as string;
    return { value: v, source: 'env', where: `environment: ${envName}=${showValue(v)}` };
  }
  if (file && fileKey) {
    const e = file.values.get(fileKey);
    if (e) return { value: e.value, source: 'file', where: `${file.path}:${e.line}: ${fileKey}=${showValue(e.value)}` };
  }
  return undefined;
}

function bad(where: string, what: string): QatmgrError {
  return new QatmgrError(ErrorCodes.QATMGR_E_CONFIG_VALUE, `${where} ${what}`);
}

function rangeInt(raw: Raw | undefined, dflt: number, min: number, max: number): number {
  if (!raw) return dflt;
  const v = parseIntInRange(raw.value, min, max);
  if (v === undefined) throw bad(raw.where, `is not a number ${min}..${max}`);
  return v;
}

/**
 * getopt takes the next word as an option's argument even when it starts with '-' ("-p -1" then fails the range
 * check); parseArgs calls that ambiguous. Join such pairs into "--name=value" so the range check reports it.
 */
function joinOptionValues(argv: string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    let long: string | undefined;
    if (a.startsWith('--') && !a.includes('=')) long = a.slice(2);
    else if (/^-[a-z]$/.test(a)) long = Object.entries(OPTIONS).find(([, o]) => 'short' in o && o.short === a[1])?.[0];
    const opt = long ? (OPTIONS as Record<string, { type: string }>)[long] : undefined;
    if (opt?.type === 'string' && i + 1 < argv.length && argv[i + 1].startsWith('-')) {
      out.push(`--${long}=${argv[i + 1]}`);
      i++;
    } else {
      out.push(a);
    }
  }
  return out;
}

/** Parse the daemon's command line and environment. Throws QatmgrError (exit 1) on any bad value. */
export function parseDaemonArgs(argv: string[], env: NodeJS.ProcessEnv, cwd = process.cwd()): ParseOutcome {
  // upstream's usage text advertises "-help"; accept it
  const args = joinOptionValues(argv.map((a) => (a === '-help' ? '--help' : a)));
  let parsed;
  try {
    parsed = parseArgs({ args, options: OPTIONS, allowPositionals: true, strict: true, tokens: true });
  } catch (e) {
    throw usageErrorFromParseArgs(e, Object.keys(OPTIONS)) ?? e;
  }
  const o = parsed.values;
  // upstream acts on -h/-v in command-line order; whichever comes first wins
  if (o.help || o.version) {
    for (const t of parsed.tokens ?? []) {
      if (t.kind === 'option' && (t.name === 'help' || t.name === 'version')) return { kind: t.name };
    }
  }

  const sources: Settings['sources'] = {};
  const simulate = o.simulate;
  const simDir = simulate !== undefined ? path.resolve(cwd, o['sim-dir'] ?? '.qatmgr-sim') : o['sim-dir'];
  const roots = rootsFromOptions(
    { 'sysfs-root': o['sysfs-root'], 'dev-root': o['dev-root'], 'proc-root': o['proc-root'], 'etc-root': o['etc-root'], 'run-dir': o['run-dir'] },
    cwd,
    simulate !== undefined ? simulatedRoots(simDir!) : DEFAULT_ROOTS,
  );
  const configPath = o.config ? path.resolve(cwd, o.config) : under(roots.etc, 'sysconfig', 'qat');
  // an explicitly named file must exist; the default one is optional (systemd's "-" prefix)
  const file = readEnvFile(configPath, o.config === undefined);
  // unknown keys and repeated keys are not fatal (other tools share the file) but are reported
  const warnings: string[] = [];
  const seen = new Set<string>();
  for (const e of file.entries) {
    if (!KNOWN_FILE_KEYS.has(e.key)) warnings.push(`${configPath}:${e.line}: unknown key ${e.key} ignored`);
    if (seen.has(e.key)) warnings.push(`${configPath}:${e.line}: ${e.key} set again; the last value wins`);
    seen.add(e.key);
  }
  // the same check `qatctl provision` makes: a daemon must not start on a settings file provisioning refuses
  const servicesEntry = file.values.get('ServicesEnabled');
  if (servicesEntry) parseServicesValue(servicesEntry, configPath, warnings);

  const policyRaw = pick(o.policy, 'policy', 'POLICY', env, file, 'POLICY');
  if (policyRaw && policyRaw.value.trim() === '') {
    throw bad(policyRaw.where, `is empty; expected a number 0..${MAX_POLICY}`);
  }
  const policy = rangeInt(policyRaw, 0, 0, MAX_POLICY);
  sources.policy = policyRaw?.source ?? 'default';

  const debugRaw = pick(o.debug, 'debug', 'QATMGR_DEBUG', env, file, 'QATMGR_DEBUG');
  const debug = rangeInt(debugRaw, 0, 0, MAX_DEBUG);
  sources.debug = debugRaw?.source ?? 'default';

  const opt = (name: string, key?: string): Raw | undefined => pick((o as Record<string, string | undefined>)[name], name, key, env, file, key);
  const ms = (raw: Raw | undefined, dflt: number, min: number, max: number): number => {
    if (!raw) return dflt;
    const n = parseDurationMs(raw.value);
    if (n === undefined || n < min || n > max) throw bad(raw.where, `is not a duration ${min}..${max} ms (${DURATION_HELP})`);
    return n;
  };
  const firstRequestTimeoutMs = ms(opt('first-request-timeout'), 1000, 1, 3_600_000);
  const idleTimeoutMs = ms(opt('idle-timeout', 'QATMGR_IDLE_TIMEOUT'), 0, 0, 30 * 86_400_000);
  const maxConnections = rangeInt(opt('max-connections', 'QATMGR_MAX_CONNECTIONS'), 1024, 1, 1_000_000);
  const perUidRaw = opt('max-connections-per-uid');
  const maxConnectionsPerUid = perUidRaw ? rangeInt(perUidRaw, 0, 1, 1_000_000) : undefined;
  const adminIdleTimeoutMs = ms(opt('admin-idle-timeout'), 600_000, 1000, 30 * 86_400_000);
  const choice = <T extends string>(raw: Raw | undefined, allowed: readonly T[], dflt: T): T => {
    if (!raw) return dflt;
    if (!(allowed as readonly string[]).includes(raw.value)) throw bad(raw.where, `is not one of ${allowed.join(', ')}`);
    return raw.value as T;
  };
  const logFormat = choice(opt('log-format', 'QATMGR_LOG_FORMAT'), ['auto', 'json', 'text'] as const, 'auto');
  const logTarget = choice(opt('log-target', 'QATMGR_LOG_TARGET'), ['auto', 'console', 'journal'] as const, 'auto');
  const remoteRaw = o['metrics-allow-remote'] ? { value: 'yes', source: 'cli' as const, where: 'command line: --metrics-allow-remote' } : opt('metrics-allow-remote', 'QATMGR_METRICS_ALLOW_REMOTE');
  const metricsAllowRemote = choice(remoteRaw, ['yes', 'no'] as const, 'no') === 'yes';
  let protocolVersion = DEFAULT_PROTOCOL_VERSION;
  if (o['protocol-version'] !== undefined) {
    const t = o['protocol-version'].trim();
    const v = /^0x[0-9a-f]{1,4}$/i.test(t) ? parseInt(t, 16) : /^[0-9]+$/.test(t) ? Number(t) : NaN;
    if (!(v >= 0 && v <= 0xffff)) throw bad(`command line: --protocol-version=${showValue(o['protocol-version'])}`, 'is not a 16-bit number (e.g. 0x1a08)');
    protocolVersion = v;
  }

  const socketPath = o.socket ? path.resolve(cwd, o.socket) : path.join(roots.run, 'qatmgr.sock');
  const pidEnv = env.PIDFILE !== undefined && env.PIDFILE !== '' ? env.PIDFILE.slice(0, 255) : undefined;
  const pidFile = o.pidfile ? path.resolve(cwd, o.pidfile) : pidEnv ?? path.join(roots.run, 'qatmgr.pid');
  const svc = file.values.get('ServicesEnabled');
  const adminOpt = o['admin-socket'];
  if (adminOpt !== undefined && adminOpt.trim() === '') throw bad('command line: --admin-socket=""', "is empty; give a path or 'none'");
  const adminSocketPath = adminOpt === 'none' ? null : adminOpt ? path.resolve(cwd, adminOpt) : path.join(roots.run, 'qatmgr-admin.sock');
  if (adminSocketPath !== null && adminSocketPath === socketPath) throw bad(`command line: --admin-socket=${showValue(adminOpt ?? '')}`, 'is the client socket; the admin socket needs its own path');
  const healthRaw = opt('health-interval', 'QATMGR_HEALTH_INTERVAL');
  const healthIntervalMs = ms(healthRaw, 500, 0, 3_600_000);
  if (healthIntervalMs > 0 && healthIntervalMs < 100) throw bad(healthRaw!.where, 'is below 100ms (0 turns the health loop off)');
  const healthRecoverMs = ms(opt('health-recover', 'QATMGR_HEALTH_RECOVER'), 3000, 0, 3_600_000);
  const heartbeat = choice(opt('heartbeat', 'QATMGR_HEARTBEAT'), ['auto', 'debugfs', 'relay', 'off'] as const, 'auto');
  const debugfsRoot = o['debugfs-root'] ? path.resolve(cwd, o['debugfs-root']) : under(roots.sys, DEBUGFS_UNDER_SYS);
  let metricsListen: Settings['metricsListen'];
  const metricsRaw = opt('metrics-listen', 'QATMGR_METRICS_LISTEN');
  if (metricsRaw && metricsRaw.value.trim() !== '') {
    metricsListen = parseListenAddress(metricsRaw.value);
    if (!metricsListen) throw bad(metricsRaw.where, 'is not HOST:PORT (e.g. 127.0.0.1:9464 or [::1]:9464, port 0..65535)');
    if (!metricsAllowRemote && !isLoopback(metricsListen.host)) throw bad(metricsRaw.where, 'is not a loopback address; metrics are served on 127.0.0.0/8, ::1 or localhost unless --metrics-allow-remote (QATMGR_METRICS_ALLOW_REMOTE=yes) is given');
  }

  const numaRaw = pick(o['numa-aware'], 'numa-aware', undefined, env, file, 'NumaAware');
  const numaAware = (numaRaw?.value.trim() ?? 'off') as NumaMode;
  if (!NUMA_MODES.includes(numaAware)) throw bad(numaRaw!.where, `is not one of ${NUMA_MODES.join(', ')}`);
  sources.numaAware = numaRaw?.source ?? 'default';
  const shares = readShares(roots.etc, file);

  const kubelet = kubeletSettings(o, cwd);

  return {
    kind: 'run',
    settings: {
      policy,
      debug,
      foreground: o.foreground === true,
      roots,
      configPath,
      socketPath,
      socketGroup: o['socket-group'],
      pidFile,
      simulate,
      simDir,
      firstRequestTimeoutMs,
      idleTimeoutMs,
      maxConnections,
      maxConnectionsPerUid,
      adminIdleTimeoutMs,
      protocolVersion,
      servicesEnabled: svc?.value,
      adminSocketPath,
      metricsListen,
      health: { intervalMs: healthIntervalMs, recoverMs: healthRecoverMs, heartbeat, debugfsRoot },
      metricsAllowRemote,
      logFormat,
      logTarget,
      numaAware,
      shares: shares.rules,
      sharesDir: shares.dir,
      vfioProbe: o['no-vfio-probe'] !== true,
      warnings: boundWarnings(warnings, configPath),
      sources,
      kubelet,
    },
  };
}

function sectionCount(name: string, v: string | undefined, dflt: SectionCount): SectionCount {
  if (v === undefined) return dflt;
  if (v === 'all') return 'all';
  const n = parseIntInRange(v, 0, MAX_POLICY * 16);
  if (n === undefined) throw bad(`command line: --${name}="${v}"`, `is not a number of sections or 'all'`);
  return n;
}

function kubeletSettings(o: Record<string, string | boolean | undefined>, cwd: string): KubeletSettings | undefined {
  const given = Object.keys(o).filter((k) => k.startsWith('kubelet-') && k !== 'kubelet-plugin' && o[k] !== undefined);
  if (o['kubelet-plugin'] !== true) {
    if (given.length) throw bad(`command line: --${given[0]}`, 'needs --kubelet-plugin');
    return undefined;
  }
  const str = (k: string): string | undefined => o[k] as string | undefined;
  const dir = str('kubelet-dir');
  if (dir !== undefined && dir.trim() === '') throw bad('command line: --kubelet-dir=""', 'is empty; give the kubelet\'s directory (e.g. /var/lib/kubelet)');
  const managed = sectionCount('kubelet-managed', str('kubelet-managed'), 0);
  const standalone = sectionCount('kubelet-standalone', str('kubelet-standalone'), 'all');
  if (managed === 'all' && standalone !== 'all' && standalone > 0) throw bad(`command line: --kubelet-standalone="${standalone}"`, 'leaves no section: --kubelet-managed=all takes every one');
  const hi = str('kubelet-health-interval');
  const healthIntervalMs = hi === undefined ? 2000 : parseDurationMs(hi);
  if (healthIntervalMs === undefined || healthIntervalMs < 50 || healthIntervalMs > 3_600_000) throw bad(`command line: --kubelet-health-interval="${hi}"`, `is not a duration 50..3600000 ms (${DURATION_HELP})`);
  return { dir: path.resolve(cwd, dir ?? '/var/lib/kubelet'), managed, standalone, healthIntervalMs };
}

/** Most remarks kept about one settings file: a file of 200,000 unknown keys must not become 200,000 log lines. */
export const MAX_WARNINGS_PER_FILE = 20;

function boundWarnings(warnings: string[], file: string): string[] {
  if (warnings.length <= MAX_WARNINGS_PER_FILE) return warnings;
  return [...warnings.slice(0, MAX_WARNINGS_PER_FILE), `${file}: ${warnings.length - MAX_WARNINGS_PER_FILE} more remarks like these not shown`];
}

/** Keys other parts of the product read from the settings file. */
export const KNOWN_FILE_KEYS = new Set([
  'POLICY', 'ServicesEnabled', 'KernelVfs', 'LKCF_LIST', 'VFIO_DRIVER', 'QAT_USER_GROUP', 'NumaAware', 'Shares', 'IaaCrypto', 'AccelConfig',
  'QATMGR_DEBUG', 'QATMGR_LOG_FORMAT', 'QATMGR_LOG_TARGET', 'QATMGR_METRICS_LISTEN', 'QATMGR_METRICS_ALLOW_REMOTE', 'QATMGR_IDLE_TIMEOUT', 'QATMGR_MAX_CONNECTIONS',
  'QATMGR_HEALTH_INTERVAL', 'QATMGR_HEALTH_RECOVER', 'QATMGR_HEARTBEAT',
]);
