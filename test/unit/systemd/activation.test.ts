import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { chooseListenFd, clearListenEnv, listenFdsFromEnv } from '../../../src/systemd/activation.js';

describe('LISTEN_FDS', () => {
  it('is ignored when absent', () => {
    expect(listenFdsFromEnv({}, 10)).toBeUndefined();
  });

  it('is ignored when LISTEN_PID names another process', () => {
    expect(listenFdsFromEnv({ LISTEN_FDS: '1', LISTEN_PID: '11' }, 10)).toBeUndefined();
  });

  it('names descriptors from fd 3 with LISTEN_FDNAMES', () => {
    expect(listenFdsFromEnv({ LISTEN_FDS: '2', LISTEN_PID: '10', LISTEN_FDNAMES: 'qat.socket:admin' }, 10)).toEqual([
      { fd: 3, name: 'qat.socket' },
      { fd: 4, name: 'admin' },
    ]);
  });

  it('rejects a malformed LISTEN_FDS with a message naming the variable and value', () => {
    expect(() => listenFdsFromEnv({ LISTEN_FDS: 'x', LISTEN_PID: '10' }, 10)).toThrow(/LISTEN_FDS="x"/);
    expect(() => listenFdsFromEnv({ LISTEN_FDS: '1', LISTEN_PID: 'ten' }, 10)).toThrow(/LISTEN_PID="ten"/);
  });

  it('clears the variables so a child never takes them for its own', () => {
    const env: NodeJS.ProcessEnv = { LISTEN_FDS: '1', LISTEN_PID: '10', LISTEN_FDNAMES: 'x', KEEP: '1' };
    clearListenEnv(env);
    expect(env).toEqual({ KEEP: '1' });
  });

  it('refuses a passed descriptor that is not a socket', () => {
    const fd = fs.openSync(os.devNull, 'r');
    try {
      expect(() => chooseListenFd([{ fd, name: 'qat.socket' }])).toThrow(/is not a socket/);
    } finally {
      fs.closeSync(fd);
    }
  });

  it('prefers the descriptor named qat.socket', () => {
    // fd 0..2 are not sockets under vitest, so only the name choice is checked through the error text
    expect(() => chooseListenFd([{ fd: 999, name: 'other' }, { fd: 998, name: 'qat.socket' }])).toThrow(/fd 998 \(qat.socket\)/);
  });

  it.skipIf(!fs.existsSync('/usr/bin/systemd-socket-activate'))('a process started on first connect serves the passed fd 3 and leaves the path to its owner', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'qat-act-'));
    const sock = path.join(dir, 'qatmgr.sock');
    const script = `
      import net from 'node:net';
      import { takeActivationSocket } from ${JSON.stringify(path.resolve('src/systemd/activation.ts'))};
      const a = takeActivationSocket();
      const s = net.createServer((c) => { c.end('served by ' + a.name + ' on fd ' + a.fd + ', LISTEN_FDS ' + (process.env.LISTEN_FDS ?? 'cleared')); s.close(); });
      s.listen({ fd: a.fd });`;
    // systemd-socket-activate binds the path, waits for the first connection, then starts the service with LISTEN_FDS
    const mgr = spawn('/usr/bin/systemd-socket-activate', ['-l', sock, '--fdname=qat.socket', process.execPath, '--import', 'tsx', '--input-type=module', '-e', script], {
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    try {
      for (let i = 0; i < 100 && !fs.existsSync(sock); i++) await new Promise((r) => setTimeout(r, 20));
      const reply = await new Promise<string>((resolve, reject) => {
        const c = net.connect(sock);
        let r = '';
        c.on('data', (d) => (r += d));
        c.on('end', () => resolve(r));
        c.on('error', reject);
      });
      expect(reply).toBe('served by qat.socket on fd 3, LISTEN_FDS cleared');
      // the service closed its server; the path still belongs to (and exists for) the socket's owner
      await new Promise((r) => setTimeout(r, 200));
      expect(fs.statSync(sock).isSocket()).toBe(true);
    } finally {
      mgr.kill('SIGTERM');
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
