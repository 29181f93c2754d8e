// The health faults the simulator can inject (names shared by the spec parser and the injector).

export const INJECT_KINDS = [
  'heartbeat-fail', 'heartbeat-ok', 'heartbeat-flap', 'fatal', 'correctable', 'nonfatal', 'reset',
  'down', 'up', 'vfs-off', 'vfs-on', 'remove', 'add', 'auto-reset-on', 'auto-reset-off',
] as const;
export type InjectKind = (typeof INJECT_KINDS)[number];

/** Kinds that take no time (a spec's `fault=` may use them). */
export const INSTANT_KINDS: ReadonlySet<InjectKind> = new Set(INJECT_KINDS.filter((k) => k !== 'reset' && k !== 'heartbeat-flap'));

export const INJECT_HELP = `Faults (KIND PF; PF is a BDF such as 0000:70:00.0 or 70:00.0, or a PF index 0, 1, ...):
  heartbeat-fail   the firmware stops answering: heartbeat/status reads -1, queries_failed rises
  heartbeat-ok     it answers again (status 0)
  heartbeat-flap   fail and recover --count times, --period apart
  fatal            a fatal RAS error: qat_ras/errors_fatal rises, the heartbeat fails; with qat/auto_reset on,
                   the device then resets itself (as reset)
  correctable      qat_ras/errors_correctable rises (degraded)
  nonfatal         qat_ras/errors_nonfatal rises (degraded)
  reset            the device resets: down (VFs and health files go), --reset-time later up with its VFs back
  down | up        write qat/state (down removes the VFs; up does not bring them back)
  vfs-off | vfs-on write sriov_numvfs 0 / all VFs (new VFs are bound to vfio-pci, as provisioning does)
  remove | add     the PF leaves the system (unbound, its device gone) / comes back as the host description has it
  auto-reset-on | auto-reset-off   write qat/auto_reset`;

