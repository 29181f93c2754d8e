// The release of qatmgr-ts and the qatlib release whose wire protocol it speaks (one place for --version, status, metrics).

/** Our own release; kept equal to package.json's "version" (a unit test checks it). */
export const RELEASE = '0.2.0';
/** The qatlib release whose protocol (0x1A08) the daemon speaks. */
export const QATLIB_PROTOCOL = '26.08';
export const PRODUCT = 'qatmgr-ts';

/** `qatmgr-ts 0.2.0 (qatlib protocol 26.08)`: what `--version` prints after the command name. */
export function versionLine(): string {
  return `${PRODUCT} ${RELEASE} (qatlib protocol ${QATLIB_PROTOCOL})`;
}
