import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { allocatorFor, holder, makeSim, type SimFixture } from '../../helpers/lifecycle-sim.js';

let sim: SimFixture;
beforeEach(() => { sim = makeSim('4xxx:2x4'); });
afterEach(() => sim.cleanup());

describe('sections kept for someone else', () => {
  it('are skipped by first fit, granted only when asked for among a reservation\'s own, and explained in the refusal', () => {
    const a = allocatorFor(sim.roots);
    a.keep('SSL_INT_0', 'the kubelet plugin');
    a.keep('SSL_INT_1', 'the kubelet plugin');
    expect(a.acquire(holder(1, 11))!.name).toBe('SSL_INT_2');
    expect(a.acquire(holder(2, 12), [a.sections[1]])!.name).toBe('SSL_INT_1');
    expect(a.acquire(holder(3, 13))!.name).toBe('SSL_INT_3');
    expect(a.acquire(holder(4, 14))).toBeNull();
    expect(a.refusalReason()).toBe('3 of 4 sections held (pids 12, 11, 13); 1 free but kept for the kubelet plugin');
    expect(a.acquire(holder(5, 15), [a.sections[1]])).toBeNull();
    expect(a.refusalReason([a.sections[1]])).toBe('1 of 1 sections held (pids 12)');
    a.keep('SSL_INT_0', undefined);
    expect(a.keptFor('SSL_INT_0')).toBeUndefined();
    expect(a.acquire(holder(6, 16))!.name).toBe('SSL_INT_0');
  });
});
