// Every error the project raises on purpose: a stable code, a message naming the file/key/value at fault.

export const ErrorCodes = {
  QATMGR_E_CONFIG_SYNTAX: 'QATMGR_E_CONFIG_SYNTAX',
  QATMGR_E_CONFIG_VALUE: 'QATMGR_E_CONFIG_VALUE',
  QATMGR_E_USAGE: 'QATMGR_E_USAGE',
  QATMGR_E_NO_VFIO_DIR: 'QATMGR_E_NO_VFIO_DIR',
  QATMGR_E_NO_DEVICES: 'QATMGR_E_NO_DEVICES',
  QATMGR_E_PF_TABLE: 'QATMGR_E_PF_TABLE',
  QATMGR_E_POLICY_TOO_LARGE: 'QATMGR_E_POLICY_TOO_LARGE',
  QATMGR_E_UNKNOWN_SERVICE: 'QATMGR_E_UNKNOWN_SERVICE',
  QATMGR_E_SOCKET_IN_USE: 'QATMGR_E_SOCKET_IN_USE',
  QATMGR_E_SOCKET: 'QATMGR_E_SOCKET',
  QATMGR_E_PIDFILE: 'QATMGR_E_PIDFILE',
  QATMGR_E_RUN_DIR: 'QATMGR_E_RUN_DIR',
  QATMGR_E_RUN_DIR_BUSY: 'QATMGR_E_RUN_DIR_BUSY',
  QATMGR_E_SIM_SPEC: 'QATMGR_E_SIM_SPEC',
  QATMGR_E_NATIVE: 'QATMGR_E_NATIVE',
  QATMGR_E_SOCKET_ACTIVATION: 'QATMGR_E_SOCKET_ACTIVATION',
  QATMGR_E_LIBQAT_LOAD: 'QATMGR_E_LIBQAT_LOAD',
  QATMGR_E_LIBQAT_START: 'QATMGR_E_LIBQAT_START',
  QATMGR_E_CPA: 'QATMGR_E_CPA',
  QATMGR_E_INTERNAL: 'QATMGR_E_INTERNAL',
  QATMGR_E_OOT_CONFIG: 'QATMGR_E_OOT_CONFIG',
  QATMGR_E_MIGRATE_WRITE: 'QATMGR_E_MIGRATE_WRITE',
  QATMGR_E_NOT_READY: 'QATMGR_E_NOT_READY',
  QATMGR_E_PROVISION_FAILED: 'QATMGR_E_PROVISION_FAILED',
  QATMGR_E_ROLLBACK_INCOMPLETE: 'QATMGR_E_ROLLBACK_INCOMPLETE',
  QATMGR_E_VF_IN_USE: 'QATMGR_E_VF_IN_USE',
  QATMGR_E_PROVISION_BUSY: 'QATMGR_E_PROVISION_BUSY',
  QATMGR_E_IDXD_IN_USE: 'QATMGR_E_IDXD_IN_USE',
  // admin API (answers of the admin socket, and qatctl's view of them)
  QATMGR_E_ADMIN_BAD_REQUEST: 'QATMGR_E_ADMIN_BAD_REQUEST',
  QATMGR_E_ADMIN_VERSION: 'QATMGR_E_ADMIN_VERSION',
  QATMGR_E_ADMIN_UNKNOWN_OP: 'QATMGR_E_ADMIN_UNKNOWN_OP',
  QATMGR_E_ADMIN_TOO_LARGE: 'QATMGR_E_ADMIN_TOO_LARGE',
  QATMGR_E_ADMIN_BUSY: 'QATMGR_E_ADMIN_BUSY',
  QATMGR_E_ADMIN_IDLE: 'QATMGR_E_ADMIN_IDLE',
  QATMGR_E_ADMIN_PERMISSION: 'QATMGR_E_ADMIN_PERMISSION',
  QATMGR_E_ADMIN_NOT_FOUND: 'QATMGR_E_ADMIN_NOT_FOUND',
  QATMGR_E_ADMIN_NOT_HELD: 'QATMGR_E_ADMIN_NOT_HELD',
  QATMGR_E_ADMIN_UNSUPPORTED: 'QATMGR_E_ADMIN_UNSUPPORTED',
  QATMGR_E_ADMIN_RESCAN_FAILED: 'QATMGR_E_ADMIN_RESCAN_FAILED',
  QATMGR_E_ADMIN_UNREACHABLE: 'QATMGR_E_ADMIN_UNREACHABLE',
} as const;

export type ErrorCode = (typeof ErrorCodes)[keyof typeof ErrorCodes] | `QATMGR_E_${string}`;

/** Process exit status that each start-up failure maps to (upstream's where it has one, §13). */
export const ExitStatus: Partial<Record<string, number>> = {
  QATMGR_E_CONFIG_SYNTAX: 1,
  QATMGR_E_CONFIG_VALUE: 1,
  QATMGR_E_USAGE: 1,
  QATMGR_E_SIM_SPEC: 1,
  QATMGR_E_OOT_CONFIG: 1,
  QATMGR_E_MIGRATE_WRITE: 1,
  QATMGR_E_NO_VFIO_DIR: 255,
  QATMGR_E_NO_DEVICES: 255,
  QATMGR_E_PF_TABLE: 234,
  QATMGR_E_POLICY_TOO_LARGE: 234,
  QATMGR_E_UNKNOWN_SERVICE: 234,
  QATMGR_E_SOCKET_IN_USE: 255,
  QATMGR_E_SOCKET: 255,
  QATMGR_E_PIDFILE: 255,
  QATMGR_E_RUN_DIR: 255,
  QATMGR_E_RUN_DIR_BUSY: 255,
  QATMGR_E_SOCKET_ACTIVATION: 255,
  QATMGR_E_LIBQAT_LOAD: 3,
  QATMGR_E_LIBQAT_START: 3,
  QATMGR_E_CPA: 1,
  // qatctl provision (docs/provisioning.md)
  QATMGR_E_NOT_READY: 3,
  QATMGR_E_PROVISION_FAILED: 2,
  QATMGR_E_ROLLBACK_INCOMPLETE: 5,
  QATMGR_E_VF_IN_USE: 6,
  QATMGR_E_PROVISION_BUSY: 7,
  QATMGR_E_IDXD_IN_USE: 6,
  // qatctl admin commands: 2 the daemon refused, 3 the daemon cannot be reached, 4 not allowed
  QATMGR_E_ADMIN_BAD_REQUEST: 2,
  QATMGR_E_ADMIN_VERSION: 2,
  QATMGR_E_ADMIN_UNKNOWN_OP: 2,
  QATMGR_E_ADMIN_TOO_LARGE: 2,
  QATMGR_E_ADMIN_NOT_FOUND: 2,
  QATMGR_E_ADMIN_NOT_HELD: 2,
  QATMGR_E_ADMIN_UNSUPPORTED: 2,
  QATMGR_E_ADMIN_RESCAN_FAILED: 2,
  QATMGR_E_ADMIN_BUSY: 3,
  QATMGR_E_ADMIN_IDLE: 3,
  QATMGR_E_ADMIN_UNREACHABLE: 3,
  QATMGR_E_ADMIN_PERMISSION: 4,
};

export class QatmgrError extends Error {
  readonly code: ErrorCode;
  readonly details: Record<string, unknown>;

  constructor(code: ErrorCode, message: string, details: Record<string, unknown> = {}) {
    super(message);
    this.name = 'QatmgrError';
    this.code = code;
    this.details = details;
  }

  get exitStatus(): number {
    return ExitStatus[this.code] ?? 1;
  }
}

export function isQatmgrError(e: unknown): e is QatmgrError {
  return e instanceof QatmgrError;
}

/** errno-style text for a Node system error: "EACCES (permission denied)". */
export function describeSysError(e: unknown): string {
  const err = e as NodeJS.ErrnoException;
  if (err && typeof err === 'object' && err.code) {
    return err.syscall ? `${err.code} from ${err.syscall}` : err.code;
  }
  return String(e);
}

/** Longest piece of a foreign value that a message echoes. */
export const SHOWN_VALUE_CHARS = 80;

/**
 * A value from a file or command line as a message may echo it: quoted, control characters (ESC, CR, C1) escaped so
 * they cannot rewrite a terminal or split a log line, and cut to `max` characters with the full length said.
 */
export function showValue(v: string, max = SHOWN_VALUE_CHARS): string {
  const cut = v.length > max ? v.slice(0, max) : v;
  const quoted = JSON.stringify(cut).replace(/[\u007f-\u009f\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
  return v.length > max ? `${quoted}… (${v.length} characters)` : quoted;
}
