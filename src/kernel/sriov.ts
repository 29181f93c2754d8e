// The kernel's rule for a write to a PF's `sriov_numvfs` (drivers/pci/iov.c sriov_numvfs_store, adf_sriov.c).

export type NumVfsDecision =
  | { op: 'none' }
  | { op: 'disable' }
  /** Enable SR-IOV; the QAT PF drivers always enable every VF (`count` = sriov_totalvfs), whatever was written. */
  | { op: 'enable'; count: number }
  | { errno: 'EINVAL' | 'ERANGE' | 'ENOENT' | 'EBUSY' };

export interface NumVfsState {
  /** VFs enabled now. */
  current: number;
  /** `sriov_totalvfs`. */
  total: number;
  /** A driver is bound to the PF. */
  driverBound: boolean;
}

/**
 * What writing `written` to sriov_numvfs does: not a u16 -> EINVAL; above totalvfs -> ERANGE; the current count ->
 * nothing; no PF driver -> ENOENT; 0 disables; a non-zero count while VFs are enabled -> EBUSY.
 */
export function numVfsStore(written: string, s: NumVfsState): NumVfsDecision {
  const v = written.endsWith('\n') ? written.slice(0, -1) : written;
  if (!/^\+?[0-9]+$/.test(v) || Number(v) > 0xffff) return { errno: 'EINVAL' };
  const n = Number(v);
  if (n > s.total) return { errno: 'ERANGE' };
  if (n === s.current) return { op: 'none' };
  if (!s.driverBound) return { errno: 'ENOENT' };
  if (n === 0) return { op: 'disable' };
  if (s.current !== 0) return { errno: 'EBUSY' };
  return { op: 'enable', count: s.total };
}
