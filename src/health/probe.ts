// Reads one PF's health sources through Roots: qat/state, qat_ras counters, the heartbeat, presence and SR-IOV.

import fs from 'node:fs';
import path from 'node:path';
import type { Roots } from '../config/roots.js';
import { KeptAttr } from '../platform/kept-attr.js';
import { readAttr } from '../platform/fsio.js';
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
  private readonly ras: Record<keyof RasCounts, KeptAttr>;
  private readonly hb: DebugfsHeartbeat | undefined;
  readonly judge = new HeartbeatJudge();
  private lastState: 'up' | 'down' | undefined;

  constructor(readonly roots: Roots, readonly pf: PfRef, heartbeat: { debugfsRoot: string } | undefined) {
    this.devLink = path.join(roots.sys, 'bus', 'pci', 'devices', pf.bdf);
    this.state = new KeptAttr(path.join(this.devLink, PF_STATE_FILE));
    const ras = path.join(this.devLink, RAS_DIR);
    this.ras = {
      correctable: new KeptAttr(path.join(ras, 'errors_correctable')),
      nonfatal: new KeptAttr(path.join(ras, 'errors_nonfatal')),
      fatal: new KeptAttr(path.join(ras, 'errors_fatal')),
    };
    this.hb = heartbeat ? new DebugfsHeartbeat(heartbeatDir(heartbeat.debugfsRoot, pf.driver, pf.bdf)) : undefined;
  }

  /** The sources read every tick; `full` adds presence, binding, sriov_numvfs and auto_reset. */
  probe(full: boolean): ProbeResult {
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
    // VFs: look around now, not at the next full probe
    const changed = sample.state !== undefined && this.lastState !== undefined && sample.state !== this.lastState;
    if (sample.state !== undefined) this.lastState = sample.state;
    if (full || changed || (!st.ok && st.error === 'ENOENT')) this.lookAround(sample, problems);
    if (sample.state !== 'down') this.readRas(sample, problems);
    else sample.ras = null;
    let heartbeatError: string | undefined;
    if (this.hb && sample.state !== 'down' && sample.present !== false && sample.bound !== false) {
      const r = this.hb.read();
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

  private readRas(sample: PfSample, problems: Problem[]): void {
    const out: Partial<RasCounts> = {};
    let absent = 0;
    for (const k of ['correctable', 'nonfatal', 'fatal'] as const) {
      const a = this.ras[k];
      const r = a.read();
      if (!r.ok) {
        if (r.error === 'ENOENT') absent++;
        else problems.push({ key: `${a.path}:read`, text: `${a.path}: ${r.error}; RAS counter ignored` });
        continue;
      }
      const v = parseCounter(r.text);
      if (v === undefined) problems.push({ key: `${a.path}:value`, text: `${a.path}: "${r.text.trim()}" is not a count; RAS counter ignored` });
      else out[k] = v;
    }
    if (absent === 3) sample.ras = null;
    else if (out.correctable !== undefined && out.nonfatal !== undefined && out.fatal !== undefined) sample.ras = out as RasCounts;
  }

  /** Presence, driver binding, sriov_numvfs, auto_reset (by path). */
  private lookAround(sample: PfSample, problems: Problem[]): void {
    let dev: string;
    try {
      dev = fs.realpathSync(this.devLink);
    } catch {
      sample.present = false;
      return;
    }
    sample.present = true;
    let driver: string | undefined;
    try { driver = path.basename(fs.readlinkSync(path.join(dev, 'driver'))); } catch { driver = undefined; }
    sample.bound = driver === this.pf.driver;
    if (!sample.bound) return;
    const n = readAttr(path.join(dev, 'sriov_numvfs'));
    if (n.ok) {
      const v = parseCounter(n.text);
      if (v === undefined) problems.push({ key: `${dev}/sriov_numvfs:value`, text: `${dev}/sriov_numvfs: "${n.text.trim()}" is not a number` });
      else sample.vfs = v;
    }
    const ar = readAttr(path.join(dev, PF_AUTO_RESET_FILE));
    // qat/auto_reset exists from kernel 6.9 on (4xxx): without it the device never resets itself
    sample.autoReset = ar.ok ? parseOnOff(ar.text) ?? null : null;
  }

  close(): void {
    this.state.close();
    for (const a of Object.values(this.ras)) a.close();
    this.hb?.close();
  }
}
