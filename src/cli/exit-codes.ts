// qatctl's exit statuses: one meaning per number across every command (qatctl(8), `qatctl help exit-codes`).

export const EXIT = {
  OK: 0,
  USAGE: 1,
  FAILED: 2,
  UNREACHABLE: 3,
  NOT_ALLOWED: 4,
  ROLLBACK_INCOMPLETE: 5,
  VF_IN_USE: 6,
  BUSY: 7,
  INTERRUPTED: 130,
} as const;

/** [status, meaning] rows, in order. */
export const EXIT_TABLE: Array<[number, string]> = [
  [EXIT.OK, 'success (doctor: no FAIL; warnings allowed)'],
  [EXIT.USAGE, 'bad usage or settings: unknown command or option, bad value, malformed file (the message names it); an unexpected internal error'],
  [EXIT.FAILED, 'refused or failed: the daemon refused (unknown section or VF, no section available), doctor found a FAIL, a selftest instance failed, a provisioning step failed and was rolled back'],
  [EXIT.UNREACHABLE, 'unreachable or no answer within --timeout: qatmgr not running or not answering, the QAT driver not ready, libqat not loadable or not starting'],
  [EXIT.NOT_ALLOWED, 'not allowed: the request needs root (or membership of group qat)'],
  [EXIT.ROLLBACK_INCOMPLETE, 'provision: a step failed and the rollback was incomplete (the message lists what is left)'],
  [EXIT.VF_IN_USE, 'provision: VFs or IAA/DSA work queues the plan would change are in use by a process or by zswap (named; nothing changed)'],
  [EXIT.BUSY, 'provision: another provisioning run holds the lock'],
  [EXIT.INTERRUPTED, 'interrupted (Ctrl-C); sections are released'],
];

/** The table as help text. */
export function exitHelp(): string {
  return `Exit status (the same for every command):\n${EXIT_TABLE.map(([n, t]) => `  ${String(n).padStart(3)}  ${t}`).join('\n')}\n`;
}
