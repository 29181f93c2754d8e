// The allocator's decisions with NumaAware and shares: clients x free sections x settings -> grant or refusal with reason.

import { describe, it, expect } from 'vitest';
import { Allocator, NO_RULES, type Holder, type GrantRules, type ClientFacts } from '../../../src/sections/allocator.js';
import type { PlannedSection } from '../../../src/sections/plan.js';
import type { VfInfo } from '../../../src/platform/discover.js';
import { parseShareRule, type ShareRule } from '../../../src/config/shares.js';

/** Sections whose VFs sit on these nodes, e.g. [[0], [0], [1], [1]]. */
function allocatorOn(nodes: number[][], rules: GrantRules = NO_RULES): Allocator {
  let n = 0;
  const plan = nodes.map((vfNodes, index): PlannedSection => ({
    index,
    name: `SSL_INT_${index}`,
    devices: vfNodes.map((node) => ({ vf: { bdf: `0000:00:00.${n++}`, numaNode: node, unavailable: undefined } as unknown as VfInfo } as PlannedSection['devices'][number])),
  }));
  const a = new Allocator(plan);
  a.configure(rules);
  return a;
}

const ids = { user: (n: string) => (n === 'www' ? 33 : undefined), group: (n: string) => (n === 'qat' ? 900 : undefined) };
const share = (text: string, line = 1): ShareRule => parseShareRule(text, `/etc/qat/shares.d/t.conf:${line}`, ids);
let conn = 1;
function client(over: Partial<Holder> & { client?: ClientFacts } = {}): Holder {
  return { connId: conn++, pid: 100 + conn, uid: 1000, gid: 1000, processName: 'SSL', since: 0, requests: 0, ...over };
}
/** The section a client gets, or "refused: <reason>" (with "[rule]" when a rule refused it). */
function ask(a: Allocator, h: Holder): string {
  const g = a.tryAcquire(h);
  return g.section ? g.section.name : `refused${g.byRule ? ' [rule]' : ''}: ${g.reason}`;
}

describe('NumaAware', () => {
  const twoNodes = [[0], [0], [1], [1]];
  const rows: Array<{ mode: GrantRules['numa']; nodes: number[] | null | undefined; held: number[]; expect: string; local?: boolean | null }> = [
    { mode: 'prefer', nodes: [1], held: [], expect: 'SSL_INT_2', local: true },
    { mode: 'strict', nodes: [1], held: [], expect: 'SSL_INT_2', local: true },
    { mode: 'prefer', nodes: [0], held: [0], expect: 'SSL_INT_1', local: true },
    { mode: 'prefer', nodes: [1], held: [2, 3], expect: 'SSL_INT_0', local: false },
    { mode: 'strict', nodes: [1], held: [2, 3], expect: 'refused [rule]: no free section on NUMA node 1 (NumaAware=strict; 2 free on other nodes)' },
    { mode: 'strict', nodes: [0, 1], held: [0, 1, 2], expect: 'SSL_INT_3', local: true },
    { mode: 'prefer', nodes: [1, 0], held: [], expect: 'SSL_INT_2', local: true },
    { mode: 'strict', nodes: null, held: [], expect: 'SSL_INT_0', local: null },
    { mode: 'prefer', nodes: [], held: [], expect: 'SSL_INT_0', local: null },
    { mode: 'off', nodes: [1], held: [], expect: 'SSL_INT_0', local: undefined },
    { mode: 'strict', nodes: [1], held: [0, 1, 2, 3], expect: 'refused: 4 of 4 sections held (pids 1)' },
  ];
  for (const r of rows) {
    it(`${r.mode}: a client on nodes ${JSON.stringify(r.nodes)} with sections ${JSON.stringify(r.held)} held gets ${r.expect}`, () => {
      const a = allocatorOn(twoNodes, { numa: r.mode, shares: [] });
      for (const i of r.held) a.adopt(a.sections[i], client({ pid: 1 }));
      const h = client({ client: { nodes: r.nodes } });
      expect(ask(a, h)).toBe(r.expect);
      if (!r.expect.startsWith('refused')) expect(h.local).toBe(r.local);
    });
  }

  it('counts a section whose VFs span nodes as local only to a client allowed on all of them', () => {
    const a = allocatorOn([[0, 1], [1]], { numa: 'strict', shares: [] });
    const pinned = client({ client: { nodes: [0] } });
    expect(ask(a, pinned)).toMatch(/^refused \[rule\]: no free section on NUMA node 0/);
    const wide = client({ client: { nodes: [0, 1] } });
    expect(ask(a, wide)).toBe('SSL_INT_0');
    expect(wide.local).toBe(true);
  });

  it('serves a client allowed on two nodes from its first node before the other', () => {
    const a = allocatorOn([[0], [1], [1, 0]], { numa: 'prefer', shares: [] });
    expect(ask(a, client({ client: { nodes: [1, 0] } }))).toBe('SSL_INT_1');
    expect(ask(a, client({ client: { nodes: [1, 0] } }))).toBe('SSL_INT_0');
    expect(ask(a, client({ client: { nodes: [1, 0] } }))).toBe('SSL_INT_2');
  });

  it('never hands out a drained section, whatever node it is on', () => {
    const a = allocatorOn(twoNodes, { numa: 'strict', shares: [] });
    a.setOutOfService(a.sections[2].plan.devices[0].vf.bdf, 'maintenance');
    expect(ask(a, client({ client: { nodes: [1] } }))).toBe('SSL_INT_3');
    expect(ask(a, client({ client: { nodes: [1] } }))).toMatch(/^refused \[rule\]: no free section on NUMA node 1 \(NumaAware=strict; 2 free/);
  });
});

describe('shares', () => {
  it('refuses a client whose share holds its maximum, and grants again after a release', () => {
    const a = allocatorOn([[0], [0], [0], [0]], { numa: 'off', shares: [share('uid:1000: max 2')] });
    const h1 = client();
    expect(ask(a, h1)).toBe('SSL_INT_0');
    expect(ask(a, client())).toBe('SSL_INT_1');
    expect(ask(a, client())).toBe('refused [rule]: uid:1000 holds its maximum of 2');
    expect(ask(a, client({ uid: 7 }))).toBe('SSL_INT_2');
    a.release(a.sections[0], h1.connId, 'put');
    expect(ask(a, client())).toBe('SSL_INT_0');
    expect(a.sharesHeld()).toEqual([2]);
  });

  it('keeps reserved sections for their owner while it is below its minimum', () => {
    const a = allocatorOn([[0], [0], [0], [0]], { numa: 'off', shares: [share('nginx.service: min 2, max 3')] });
    const nginx = (): Holder => client({ uid: 33, client: { cgroup: '/system.slice/nginx.service' } });
    expect(ask(a, client())).toBe('SSL_INT_0');
    expect(ask(a, client())).toBe('SSL_INT_1');
    expect(ask(a, client())).toBe('refused [rule]: the 2 free sections are reserved (nginx.service: min 2, holds 0)');
    expect(ask(a, nginx())).toBe('SSL_INT_2');
    expect(ask(a, client())).toBe('refused [rule]: the 1 free section is reserved (nginx.service: min 2, holds 1)');
    expect(ask(a, nginx())).toBe('SSL_INT_3');
    // nginx is at its minimum: the next refusal is plain exhaustion, not a rule
    expect(ask(a, nginx())).toMatch(/^refused: 4 of 4 sections held \(pids /);
  });

  it('lets a client that belongs to a share take from its own reservation even when others are reserved too', () => {
    const a = allocatorOn([[0], [0], [0]], { numa: 'off', shares: [share('uid:33: min 1'), share('name:worker: min 1')] });
    expect(ask(a, client({ processName: 'worker' }))).toBe('SSL_INT_0');
    expect(ask(a, client())).toBe('SSL_INT_1');
    expect(ask(a, client())).toBe('refused [rule]: the 1 free section is reserved (uid:33: min 1, holds 0)');
    expect(ask(a, client({ uid: 33 }))).toBe('SSL_INT_2');
  });

  it('counts a client against every share it matches: the first full cap refuses it', () => {
    const a = allocatorOn([[0], [0], [0], [0]], { numa: 'off', shares: [share('uid:1000: max 3'), share('group:qat: max 1')] });
    expect(ask(a, client({ client: { groups: [900] } }))).toBe('SSL_INT_0');
    expect(ask(a, client({ gid: 900 }))).toBe('refused [rule]: group:qat holds its maximum of 1');
    expect(ask(a, client())).toBe('SSL_INT_1');
    expect(a.sharesHeld()).toEqual([2, 1]);
  });

  it('matches units by cgroup path component: a template names every instance, a slice everything below it', () => {
    const a = allocatorOn([[0], [0], [0], [0], [0]], { numa: 'off', shares: [share('worker@.service: max 1'), share('batch.slice: max 1'), share('web@blue.service: max 1')] });
    const at = (cgroup: string | null): Holder => client({ client: { cgroup } });
    expect(ask(a, at('/system.slice/system-worker.slice/worker@1.service'))).toBe('SSL_INT_0');
    expect(ask(a, at('/system.slice/system-worker.slice/worker@2.service'))).toBe('refused [rule]: worker@.service holds its maximum of 1');
    expect(ask(a, at('/batch.slice/job-7.scope'))).toBe('SSL_INT_1');
    expect(ask(a, at('/batch.slice/job-8.scope'))).toBe('refused [rule]: batch.slice holds its maximum of 1');
    expect(ask(a, at('/system.slice/web@blue.service'))).toBe('SSL_INT_2');
    expect(ask(a, at('/system.slice/web@green.service'))).toBe('SSL_INT_3');
    // a client whose cgroup could not be read matches no unit share
    expect(ask(a, at(null))).toBe('SSL_INT_4');
  });

  it('counts sections adopted from the ledger and released by force', () => {
    const a = allocatorOn([[0], [0], [0]], { numa: 'off', shares: [share('name:SSL: max 2')] });
    a.adopt(a.sections[1], client());
    expect(a.sharesHeld()).toEqual([1]);
    expect(ask(a, client())).toBe('SSL_INT_0');
    expect(ask(a, client())).toBe('refused [rule]: name:SSL holds its maximum of 2');
    a.forceRelease(1);
    expect(ask(a, client())).toBe('SSL_INT_1');
  });

  it('applies new rules on reload without moving held sections: a holder above a lowered cap keeps what it has', () => {
    const a = allocatorOn([[0], [0], [0], [0]], { numa: 'off', shares: [share('uid:1000: max 3')] });
    const held = [client(), client(), client()];
    for (const h of held) ask(a, h);
    a.configure({ numa: 'off', shares: [share('uid:1000: max 1')] });
    expect(a.sections.slice(0, 3).map((s) => s.holder?.connId)).toEqual(held.map((h) => h.connId));
    expect(a.sharesHeld()).toEqual([3]);
    expect(ask(a, client())).toBe('refused [rule]: uid:1000 holds its maximum of 1');
    for (const [i, h] of held.entries()) a.release(a.sections[i], h.connId, 'put');
    expect(ask(a, client())).toBe('SSL_INT_0');
    a.configure(NO_RULES);
    expect(ask(a, client())).toBe('SSL_INT_1');
  });

  it('checks caps and reservations before NUMA: a strict client is refused by its cap, not by its node', () => {
    const a = allocatorOn([[0], [1]], { numa: 'strict', shares: [share('uid:1000: max 1')] });
    expect(ask(a, client({ client: { nodes: [1] } }))).toBe('SSL_INT_1');
    expect(ask(a, client({ client: { nodes: [0] } }))).toBe('refused [rule]: uid:1000 holds its maximum of 1');
  });
});
