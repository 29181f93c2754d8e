// A test stand-in for systemd's notification socket: binds a unix datagram socket and collects what arrives.

import koffi from 'koffi';
import { dgramSocket, bindUnix, recvDatagram, closeFd } from '../../src/native/unix-dgram.js';

export interface NotifyListener {
  /** Address to put in NOTIFY_SOCKET (a path, or '@name' for an abstract socket). */
  address: string;
  messages: string[];
  /** Resolve with the first message matching `pred` (already received or arriving within timeoutMs). */
  waitFor(pred: (m: string) => boolean, timeoutMs?: number): Promise<string>;
  close(): void;
}

export function startNotifyListener(address: string): NotifyListener {
  const fd = dgramSocket(true);
  bindUnix(fd, address);
  const messages: string[] = [];
  const waiters: Array<{ pred: (m: string) => boolean; resolve: (m: string) => void }> = [];
  const drain = (): void => {
    for (;;) {
      const b = recvDatagram(fd);
      if (!b) return;
      const m = b.toString('utf8');
      messages.push(m);
      for (const w of [...waiters]) {
        if (w.pred(m)) {
          waiters.splice(waiters.indexOf(w), 1);
          w.resolve(m);
        }
      }
    }
  };
  const handle = koffi.node.poll(fd, { readable: true }, () => drain());
  return {
    address,
    messages,
    waitFor(pred, timeoutMs = 5000) {
      drain();
      const have = messages.find(pred);
      if (have !== undefined) return Promise.resolve(have);
      return new Promise((resolve, reject) => {
        const t = setTimeout(() => reject(new Error(`no notify message matched within ${timeoutMs} ms; got ${JSON.stringify(messages)}`)), timeoutMs);
        waiters.push({ pred, resolve: (m) => { clearTimeout(t); resolve(m); } });
      });
    },
    close() {
      handle.close();
      closeFd(fd);
    },
  };
}
