// TEST-ONLY hooks, active only with QATMGR_TEST_HOOKS=1: SIGUSR2 blocks the event loop so the e2e can see the watchdog fire.

import type { Logger } from '../log.js';

/** Never set QATMGR_TEST_HOOKS in production: SIGUSR2 would hang the daemon until the watchdog kills it. */
export function installTestHooks(env: NodeJS.ProcessEnv, log: Logger): boolean {
  if (env.QATMGR_TEST_HOOKS !== '1') return false;
  delete env.QATMGR_TEST_HOOKS;
  log.warn({ event: 'test_hooks' }, 'QATMGR_TEST_HOOKS=1: SIGUSR2 will block the event loop (test only)');
  process.on('SIGUSR2', () => {
    log.warn({ event: 'test_hang' }, 'SIGUSR2 (test hook): blocking the event loop');
    const until = Number.MAX_SAFE_INTEGER;
    // a busy loop, not a sleep: nothing on the event loop (watchdog pings included) may run
    while (Date.now() < until) { /* stuck on purpose */ }
  });
  return true;
}
