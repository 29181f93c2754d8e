// Reads one PF's health sources through Roots: qat/state, qat_ras counters, the heartbeat, presence and SR-IOV.

import fs from 'node:fs';
import path from 'node:path';
import type { Roots } from '../config/roots.js';
import { KeptAttr } from '../platform/kept-attr.js';
import { PF_AUTO_RESET_FILE, PF_STATE_FILE, RAS_DIR, parseCounter, parseOnOff, parseState } from '../kernel/health.js';
import { DebugfsHeartbeat, HeartbeatJudge, heartbeatDir, type HeartbeatReading } from './heartbeat.js';
import type { PfSample, RasCounts } from './state.js';

export interface PfRef {
  bdf: string;
  /** The PF driver (`4xxx`, `420xx`, `6xxx`): also the device class in the debugfs name. */
  driver: string;
}

/** Something a source said that the operator should hear about once (key: what, for de-duplication). */
export interface Problem {
  key: string;
  text: string;
}

export interface ProbeResult {
  sample: PfSample;
  problems: Problem[];
  /** The heartbeat read failed with this errno (EACCES: debugfs is root-only; ENOENT: no heartbeat files). */
  heartbeatError?: string;
}

/**
 * Every source of one PF. The values read every tick (state, RAS counters, heartbeat) go through kept descriptors
 * (one pread each); presence, driver binding, sriov_numvfs and auto_reset are read by path on full probes.
 */
export class PfProbe {
  private readonly devLink: string;
  private readonly state: KeptAttr;
  private readonly fatal: KeptAttr;
  /** Read on full looks only: a rise makes a PF degraded, nothing that needs telling within seconds. */
  private readonly correctable: KeptAttr;
  private readonly nonfatal: KeptAttr;
  private readonly numVfs: KeptAttr;
  private readonly autoReset: KeptAttr;
  private readonly hb: DebugfsHeartbeat | undefined;
  readonly judge = new HeartbeatJudge();
  private lastState: 'up' | 'down' | undefined;
  private lastRas: RasCounts | undefined;

  constructor(readonly roots: Roots, readonly pf: PfRef, heartbeat: { debugfsRoot: string } | undefined) {
    this.devLink = path.join(roots.sys, 'bus', 'pci', 'devices', pf.bdf);
    this.state = new KeptAttr(path.join(this.devLink, PF_STATE_FILE));
    const ras = path.join(this.devLink, RAS_DIR);
    this.fatal = new KeptAttr(path.join(ras, 'errors_fatal'));
    this.correctable = new KeptAttr(path.join(ras, 'errors_correctable'));
    this.nonfatal = new KeptAttr(path.join(ras, 'errors_nonfatal'));
    this.numVfs = new KeptAttr(path.join(this.devLink, 'sriov_numvfs'));
    this.autoReset = new KeptAttr(path.join(this.devLink, PF_AUTO_RESET_FILE));
    this.hb = heartbeat ? new DebugfsHeartbeat(heartbeatDir(heartbeat.debugfsRoot, pf.driver, pf.bdf)) : undefined;
  }

  /**
   * Every tick: qat/state and heartbeat/status (one pread each); errors_fatal when `ras` (every other tick: a fatal
   * error is seen within two ticks, and it fails the heartbeat too). Full looks (and a tick where the state changed or
   * qat/state went away) add presence, binding, sriov_numvfs, auto_reset, all RAS counters and the heartbeat counters.
   */
  probe(full: boolean, ras = true): ProbeResult {
    const problems: Problem[] = [];
    const sample: PfSample = {};
    const st = this.state.read();
    if (st.ok) {
      const v = parseState(st.text);
      if (v === undefined) problems.push({ key: `${this.state.path}:value`, text: `${this.state.path}: "${st.text.trim()}" is not up or down; keeping the last known state` });
      else sample.state = v;
    } else if (st.error !== 'ENOENT') {
      problems.push({ key: `${this.state.path}:read`, text: `${this.state.path}: ${st.error}; keeping the last known state` });
    }
    // a missing qat/state means the PF or its driver went away, and a device that stopped or started has other
    // VFs: look around now, not at the next full look
    const changed = sample.state !== undefined && this.lastState !== undefined && sample.state !== this.lastState;
    if (sample.state !== undefined) this.lastState = sample.state;
    const look = full || changed || (!st.ok && st.error === 'ENOENT');
    if (look) this.lookAround(sample, problems);
    if (sample.state === 'down') { sample.ras = null; this.lastRas = undefined; }
    else if (ras || look) this.readRas(sample, problems, look);
    let heartbeatError: string | undefined;
    if (this.hb && sample.state !== 'down' && sample.present !== false && sample.bound !== false) {
      const r = this.hb.read(look);
      if (r.ok) this.judgeReading(r.reading, sample);
      else if (r.error === 'EBADVALUE') problems.push({ key: `${r.path}:value`, text: `${r.path}: "${(r.text ?? '').replace(/\0/g, '').trim()}" is not 0 or -1; heartbeat ignored` });
      else heartbeatError = r.error;
    }
    return { sample, problems, heartbeatError };
  }

  /** A heartbeat reading (read here, or pushed by the relay) into the sample. */
  judgeReading(r: HeartbeatReading, sample: PfSample): void {
    sample.heartbeat = this.judge.judge(r);
    if (r.failed !== undefined) sample.heartbeatFailed = r.failed;
  }

  private counter(a: KeptAttr, problems: Problem[]): number | undefined | 'absent' {
    const r = a.read();
    if (!r.ok) {
      if (r.error === 'ENOENT') return 'absent';
      problems.push({ key: `${a.path}:read`, text: `${a.path}: ${r.error}; RAS counter ignored` });
      return undefined;
    }
    const v = parseCounter(r.text);
    if (v === undefined) problems.push({ key: `${a.path}:value`, text: `${a.path}: "${r.text.trim()}" is not a count; RAS counter ignored` });
    return v;
  }

  /** errors_fatal every tick; the other two on full looks (between those their last values stand). */
  private readRas(sample: PfSample, problems: Problem[], all: boolean): void {
    const fatal = this.counter(this.fatal, problems);
    if (fatal === 'absent') { sample.ras = null; this.lastRas = undefined; return; }
    if (fatal === undefined) return;
    let correctable = this.lastRas?.correctable;
    let nonfatal = this.lastRas?.nonfatal;
    if (all || correctable === undefined || nonfatal === undefined || fatal < (this.lastRas?.fatal ?? 0)) {
      const c = this.counter(this.correctable, problems);
      const n = this.counter(this.nonfatal, problems);
      if (typeof c !== 'number' || typeof n !== 'number') return;
      correctable = c;
      nonfatal = n;
    }
    this.lastRas = { correctable, nonfatal, fatal };
    sample.ras = this.lastRas;
  }

  /** Presence and binding (one readlink), sriov_numvfs, auto_reset. */
  private lookAround(sample: PfSample, problems: Problem[]): void {
    let driver: string | undefined;
    try {
      driver = path.basename(fs.readlinkSync(path.join(this.devLink, 'driver')));
    } catch {
      if (!fs.existsSync(this.devLink)) { sample.present = false; return; }
    }
    sample.present = true;
    sample.bound = driver === this.pf.driver;
    if (!sample.bound) return;
    const n = this.numVfs.read();
    if (n.ok) {
      const v = parseCounter(n.text);
      if (v === undefined) problems.push({ key: `${this.numVfs.path}:value`, text: `${this.numVfs.path}: "${n.text.trim()}" is not a number` });
      else sample.vfs = v;
    }
    const ar = this.autoReset.read();
    // qat/auto_reset exists from kernel 6.9 on (4xxx): without it the device never resets itself
    sample.autoReset = ar.ok ? parseOnOff(ar.text) ?? null : null;
  }

  close(): void {
    for (const a of [this.state, this.fatal, this.correctable, this.nonfatal, this.numVfs, this.autoReset]) a.close();
    this.hb?.close();
  }
}
