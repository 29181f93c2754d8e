// The connection policy without sockets: who gets in at a cap, who is closed for them, when output holds or closes.

import { describe, it, expect } from 'vitest';
import { ConnectionTable, defaultPerUid, outputState, CLIENT_OUTPUT, type PolicyConn } from '../../../src/server/conn-policy.js';

interface C extends PolicyConn { name: string; holds: boolean }
const conn = (name: string, uid: number, lastRequestAt: number, holds = false): C => ({ name, uid, lastRequestAt, holds, pinned() { return this.holds; } });

describe('ConnectionTable', () => {
  it('accepts below the cap and, at it, names the connection idle longest that holds nothing', () => {
    const t = new ConnectionTable<C>({ max: 3, perUid: 3 });
    const a = conn('a', 1000, 5);
    const b = conn('b', 1000, 1, true);
    const c = conn('c', 1001, 3);
    for (const x of [a, b, c]) { expect(t.admit(x.uid).kind).toBe('accept'); t.add(x); }
    const r = t.admit(1002);
    expect(r).toMatchObject({ kind: 'evict', victim: c });
    t.delete(c);
    t.add(conn('d', 1002, 9));
    expect(t.admit(1003)).toMatchObject({ kind: 'evict', victim: a });
  });

  it('refuses the newcomer when every candidate holds a section', () => {
    const t = new ConnectionTable<C>({ max: 2, perUid: 2 });
    t.add(conn('a', 1, 1, true));
    t.add(conn('b', 2, 2, true));
    expect(t.admit(3)).toMatchObject({ kind: 'refuse', why: '2 connections open, the most allowed' });
  });

  it('holds one uid to its share by closing that uid\'s own idle connection, and root to perRoot', () => {
    const t = new ConnectionTable<C>({ max: 10, perUid: 2, perRoot: 10 });
    const x1 = conn('x1', 7, 1);
    const x2 = conn('x2', 7, 2);
    const other = conn('o', 8, 0);
    for (const x of [x1, x2, other]) t.add(x);
    expect(t.admit(7)).toMatchObject({ kind: 'evict', victim: x1, why: 'uid 7 has 2 connections, the most one uid may hold' });
    t.add(conn('r1', 0, 3));
    t.add(conn('r2', 0, 4));
    expect(t.admit(0).kind).toBe('accept');
  });

  it('keeps reserved slots for root: other users share the rest and never displace a root connection', () => {
    const t = new ConnectionTable<C>({ max: 4, perUid: 4, reservedForRoot: 2, perRoot: 4 });
    const r = conn('r', 0, 0);
    const u1 = conn('u1', 5, 1);
    const u2 = conn('u2', 6, 2);
    for (const x of [r, u1, u2]) t.add(x);
    expect(t.admit(9)).toMatchObject({ kind: 'evict', victim: u1 });
    expect(t.admit(0).kind).toBe('accept');
    t.add(conn('r2', 0, 3));
    // full: a root newcomer may take the oldest idle of anyone, another user only another user's
    expect(t.admit(0)).toMatchObject({ kind: 'evict', victim: r });
    expect(t.admit(9)).toMatchObject({ kind: 'evict', victim: u1 });
  });

  it('counts per uid through adds and deletes', () => {
    const t = new ConnectionTable<C>({ max: 5, perUid: 5 });
    const a = conn('a', 3, 0);
    t.add(a);
    t.add(conn('b', 3, 0));
    expect(t.countFor(3)).toBe(2);
    expect(t.delete(a)).toBe(true);
    expect(t.delete(a)).toBe(false);
    expect(t.countFor(3)).toBe(1);
    expect(t.size).toBe(1);
  });

  it('defaults the per-uid share to all but min(64, max/4) slots', () => {
    expect(defaultPerUid(1024)).toBe(960);
    expect(defaultPerUid(8)).toBe(6);
    expect(defaultPerUid(1)).toBe(1);
  });
});

describe('outputState', () => {
  it('flows up to 64 KiB of unsent replies, holds above, closes above 1 MiB', () => {
    expect(outputState(64 * 1024, CLIENT_OUTPUT)).toBe('flow');
    expect(outputState(64 * 1024 + 1, CLIENT_OUTPUT)).toBe('hold');
    expect(outputState(1024 * 1024 + 1, CLIENT_OUTPUT)).toBe('close');
  });
});
