// Who may run which admin op: read-only ops for anyone who can connect, mutating ops only for uid 0 (SO_PEERCRED).

import type { PeerCred } from '../native/libc.js';
import { AdminError } from './wire.js';

/** Throws QATMGR_E_ADMIN_PERMISSION unless `cred` may run the op. Unknown credentials never mutate. */
export function authorize(op: string, mutating: boolean, cred: PeerCred | undefined): void {
  if (!mutating) return;
  if (cred === undefined) throw new AdminError('QATMGR_E_ADMIN_PERMISSION', `"${op}" changes the manager's state; the caller's credentials could not be read`);
  if (cred.uid !== 0) throw new AdminError('QATMGR_E_ADMIN_PERMISSION', `"${op}" changes the manager's state and needs root (caller uid ${cred.uid}, pid ${cred.pid})`);
}
