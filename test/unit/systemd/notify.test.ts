import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createNotifier, formatFields, watchdogIntervalFromEnv } from '../../../src/systemd/notify.js';
import { startNotifyListener, type NotifyListener } from '../../helpers/notify-listener.js';

let dir: string;
let listener: NotifyListener | undefined;

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'qat-notify-'));
});
afterEach(() => {
  listener?.close();
  listener = undefined;
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('notify without a service manager', () => {
  it('is disabled and sends nothing when NOTIFY_SOCKET is unset', () => {
    const n = createNotifier({ env: {} });
    expect(n.enabled).toBe(false);
    expect(n.transport).toBe('none');
    expect(n.ready()).toBe(false);
    expect(n.status('x')).toBe(false);
    expect(n.startWatchdog).toBeTypeOf('function');
    n.startWatchdog()();
  });
});

describe('notify through libc sendto', () => {
  it('delivers READY=1 with the status line to a path socket', async () => {
    listener = startNotifyListener(path.join(dir, 'notify'));
    const n = createNotifier({ env: { NOTIFY_SOCKET: listener.address }, transport: 'libc' });
    expect(n.transport).toBe('libc');
    expect(n.ready('16 sections, 0 held, 2 PFs')).toBe(true);
    expect(await listener.waitFor((m) => m.startsWith('READY=1'))).toBe('READY=1\nSTATUS=16 sections, 0 held, 2 PFs');
    n.close();
  });

  it('delivers to an abstract socket named with a leading @', async () => {
    const name = `@qatmgr-test-${process.pid}-${Date.now()}`;
    listener = startNotifyListener(name);
    const n = createNotifier({ env: { NOTIFY_SOCKET: name }, transport: 'libc' });
    n.stopping();
    expect(await listener.waitFor((m) => m.includes('STOPPING'))).toBe('STOPPING=1');
    n.close();
  });

  it('sends RELOADING=1 then READY=1 around a reload, and keeps STATUS on one line', async () => {
    listener = startNotifyListener(path.join(dir, 'notify'));
    const n = createNotifier({ env: { NOTIFY_SOCKET: listener.address }, transport: 'libc' });
    n.reloading('rescanning');
    n.ready();
    n.status('two\nlines');
    await listener.waitFor((m) => m.startsWith('STATUS=two'));
    expect(listener.messages).toEqual(['RELOADING=1\nSTATUS=rescanning', 'READY=1', 'STATUS=two lines']);
    n.close();
  });

  it('reports a failed send once through onError and never throws', () => {
    const errors: string[] = [];
    const n = createNotifier({ env: { NOTIFY_SOCKET: path.join(dir, 'nobody-listens') }, transport: 'libc', onError: (m) => errors.push(m) });
    expect(n.ready()).toBe(false);
    expect(n.status('x')).toBe(false);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatch(/nobody-listens.*ENOENT/);
    n.close();
  });
});

describe('notify through libsystemd sd_notify', () => {
  it('a daemon process using sd_notify reaches the listener named in its environment', async () => {
    listener = startNotifyListener(path.join(dir, 'notify'));
    const script = `
      import { createNotifier } from ${JSON.stringify(path.resolve('src/systemd/notify.ts'))};
      const n = createNotifier();
      console.log(n.transport);
      n.ready('from sd_notify');`;
    const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      env: { ...process.env, NOTIFY_SOCKET: listener.address },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    const code = await new Promise((r) => child.on('exit', r));
    expect(code).toBe(0);
    expect(out.trim()).toBe('libsystemd');
    expect(await listener.waitFor((m) => m.startsWith('READY=1'))).toBe('READY=1\nSTATUS=from sd_notify');
  });
});

describe('watchdog', () => {
  it('pings at half of WATCHDOG_USEC', () => {
    expect(watchdogIntervalFromEnv({ WATCHDOG_USEC: '10000000' }, 1)).toBe(5000);
  });

  it('ignores a watchdog meant for another process or a malformed value', () => {
    expect(watchdogIntervalFromEnv({ WATCHDOG_USEC: '10000000', WATCHDOG_PID: '2' }, 1)).toBeUndefined();
    expect(watchdogIntervalFromEnv({ WATCHDOG_USEC: '10s' }, 1)).toBeUndefined();
    expect(watchdogIntervalFromEnv({}, 1)).toBeUndefined();
  });

  it('sends WATCHDOG=1 repeatedly from the event loop once started, and stops when told', async () => {
    listener = startNotifyListener(path.join(dir, 'notify'));
    const n = createNotifier({ env: { NOTIFY_SOCKET: listener.address, WATCHDOG_USEC: '40000', WATCHDOG_PID: String(process.pid) }, transport: 'libc' });
    expect(n.watchdogIntervalMs).toBe(20);
    const stop = n.startWatchdog();
    await new Promise((r) => setTimeout(r, 150));
    stop();
    await new Promise((r) => setTimeout(r, 30));
    const count = listener.messages.filter((m) => m === 'WATCHDOG=1').length;
    expect(count).toBeGreaterThanOrEqual(3);
    await new Promise((r) => setTimeout(r, 80));
    await listener.waitFor(() => true);
    expect(listener.messages.filter((m) => m === 'WATCHDOG=1').length).toBe(count);
    n.close();
  });

  it('formats fields as KEY=value lines', () => {
    expect(formatFields({ READY: 1, STATUS: 'a' })).toBe('READY=1\nSTATUS=a');
  });
});
