// Admin request parsing, the root-only policy, and the event ring.

import { describe, it, expect } from 'vitest';
import { parseRequest, AdminError, okLine, errorLine } from '../../../src/admin/wire.js';
import { authorize } from '../../../src/admin/policy.js';
import { EventRing } from '../../../src/admin/events.js';

function code(f: () => unknown): string {
  try { f(); } catch (e) { return (e as AdminError).code; }
  return 'none';
}

describe('parseRequest', () => {
  it('accepts {"v":1,"id","op","args"} and defaults id to null and args to {}', () => {
    expect(parseRequest('{"v":1,"op":"status"}')).toEqual({ v: 1, id: null, op: 'status', args: {} });
    expect(parseRequest('{"v":1,"id":"a","op":"events","args":{"limit":3}}')).toEqual({ v: 1, id: 'a', op: 'events', args: { limit: 3 } });
  });

  it('rejects non-JSON, non-objects, bad ids, other versions, missing op and non-object args with a stable code', () => {
    expect(code(() => parseRequest('{'))).toBe('QATMGR_E_ADMIN_BAD_REQUEST');
    expect(code(() => parseRequest('"status"'))).toBe('QATMGR_E_ADMIN_BAD_REQUEST');
    expect(code(() => parseRequest('{"v":1,"id":{},"op":"x"}'))).toBe('QATMGR_E_ADMIN_BAD_REQUEST');
    expect(code(() => parseRequest('{"op":"status"}'))).toBe('QATMGR_E_ADMIN_VERSION');
    expect(code(() => parseRequest('{"v":1}'))).toBe('QATMGR_E_ADMIN_BAD_REQUEST');
    expect(code(() => parseRequest('{"v":1,"op":"x","args":"y"}'))).toBe('QATMGR_E_ADMIN_BAD_REQUEST');
  });

  it('answers are one JSON line with the version and the id', () => {
    expect(okLine(3, { a: 1 })).toBe('{"v":1,"id":3,"ok":true,"result":{"a":1}}\n');
    expect(JSON.parse(errorLine(null, 'QATMGR_E_ADMIN_UNKNOWN_OP', 'm'))).toEqual({ v: 1, id: null, ok: false, error: { code: 'QATMGR_E_ADMIN_UNKNOWN_OP', message: 'm' } });
  });
});

describe('authorize', () => {
  it('lets anyone run read-only ops and only uid 0 run mutating ones; unknown credentials never mutate', () => {
    expect(() => authorize('status', false, undefined)).not.toThrow();
    expect(() => authorize('status', false, { pid: 1, uid: 1000, gid: 1000 })).not.toThrow();
    expect(() => authorize('release', true, { pid: 1, uid: 0, gid: 0 })).not.toThrow();
    expect(code(() => authorize('release', true, { pid: 9, uid: 1000, gid: 0 }))).toBe('QATMGR_E_ADMIN_PERMISSION');
    // root's group is not enough
    expect(code(() => authorize('drain', true, { pid: 9, uid: 65534, gid: 0 }))).toBe('QATMGR_E_ADMIN_PERMISSION');
    expect(code(() => authorize('drain', true, undefined))).toBe('QATMGR_E_ADMIN_PERMISSION');
  });
});

describe('EventRing', () => {
  const ev = { kind: 'grant' as const, section: 'SSL_INT_0', pid: 1, uid: 0, processName: 'p', bdfs: [], reason: null };

  it('keeps the last `capacity` events in order with increasing sequence numbers', () => {
    const r = new EventRing(1000);
    for (let i = 0; i < 2500; i++) r.push({ ...ev, pid: i });
    const all = r.list();
    expect(all).toHaveLength(1000);
    expect(all[0].seq).toBe(1501);
    expect(all.at(-1)!.seq).toBe(2500);
    expect(all.map((e) => e.pid)).toEqual(Array.from({ length: 1000 }, (_, i) => 1500 + i));
    expect(r.lastSeq).toBe(2500);
  });

  it('filters by sequence, kind and limit', () => {
    const r = new EventRing(10);
    r.push(ev);
    r.push({ ...ev, kind: 'refusal' });
    r.push(ev);
    r.push({ ...ev, kind: 'refusal' });
    expect(r.list({ kinds: ['refusal'] }).map((e) => e.seq)).toEqual([2, 4]);
    expect(r.list({ afterSeq: 2 }).map((e) => e.seq)).toEqual([3, 4]);
    expect(r.list({ limit: 1 }).map((e) => e.seq)).toEqual([4]);
  });
});
