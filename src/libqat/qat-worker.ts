// Worker-thread entry: the thread that owns libqat, submits and polls (completion callbacks arrive here).

import { parentPort, workerData } from 'node:worker_threads';
import { Engine } from './qat-engine.js';
import { isQatmgrError } from '../errors.js';
import type { EngineRequest, EngineMessage } from './qat-messages.js';

const port = parentPort!;
const engine = new Engine(new Int32Array(workerData.stop as SharedArrayBuffer));

function handle(id: number, req: EngineRequest): unknown {
  const progress = (ops: number, elapsedMs: number) => port.postMessage({ type: 'progress', id, ops, elapsedMs } satisfies EngineMessage);
  switch (req.op) {
    case 'start': return engine.start(req.name, req.paths, req.socket);
    case 'dcOpen': return engine.dcOpen(req.instance, req.level, req.checksum);
    case 'dcCompress': return engine.dcCompress(req.session, req.data);
    case 'dcDecompress': return engine.dcDecompress(req.session, req.data, req.maxOutput);
    case 'cyOpen': return engine.cyOpen(req.instance, req.algorithm, req.key);
    case 'cyRun': return engine.cyRun(req.session, req.data, req.iv);
    case 'close': return engine.close(req.session);
    case 'dcLoad': return engine.dcLoad(req.session, req.sizes, req.durationMs, req.incompressible, progress);
    case 'cyLoad': return engine.cyLoad(req.instance, req.sizes, req.durationMs, progress);
    case 'fillRing': return engine.fillRing(req.session, req.size);
    case 'stop': return engine.stop();
  }
}

port.on('message', (msg: { id: number; req: EngineRequest }) => {
  let reply: EngineMessage;
  try {
    reply = { type: 'reply', id: msg.id, ok: true, result: handle(msg.id, msg.req) };
  } catch (e) {
    const err = isQatmgrError(e)
      ? { code: e.code, message: e.message, details: e.details }
      : { code: 'QATMGR_E_INTERNAL', message: (e as Error).stack ?? String(e), details: {} };
    reply = { type: 'reply', id: msg.id, ok: false, error: err };
  }
  port.postMessage(reply);
});
