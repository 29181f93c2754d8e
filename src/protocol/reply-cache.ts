// Encoded replies per section, built once and reused until the section's plan or its served VF set changes.

import type { Allocator, Section } from '../sections/allocator.js';
import type { PlannedDevice, PlannedSection } from '../sections/plan.js';
import { buildSectionReplies, type SectionReplies } from './replies.js';

interface Entry {
  plan: PlannedSection;
  /** The devices the replies were encoded for (the section's VFs that can be handed out, in order). */
  devices: PlannedDevice[];
  replies: SectionReplies;
}

/** The replies still describe the section: same plan object, same served devices (no array built to check). */
function stillValid(e: Entry, s: Section, a: Allocator): boolean {
  if (e.plan !== s.plan) return false;
  let j = 0;
  for (const d of s.plan.devices) {
    if (!a.serves(d)) continue;
    if (e.devices[j++] !== d) return false;
  }
  return j === e.devices.length;
}

export class SectionReplyCache {
  private readonly entries = new Map<number, Entry>();

  constructor(private readonly version: number, private readonly vm: boolean, private readonly allocator: Allocator) {}

  /** Encoded replies for a section (built on first use, rebuilt when its plan or served VF set changed). */
  for(s: Section): SectionReplies {
    const hit = this.entries.get(s.index);
    if (hit && stillValid(hit, s, this.allocator)) return hit.replies;
    const devices = this.allocator.servedDevices(s);
    const replies = buildSectionReplies(this.version, s.name, devices, this.vm);
    this.entries.set(s.index, { plan: s.plan, devices, replies });
    return replies;
  }

  /** Pre-encode every grantable section's replies now (after a rescan), so that no request pays for it. */
  warm(): void {
    for (const s of this.allocator.sections) if (this.allocator.hasUsableVf(s)) this.for(s);
    for (const i of this.entries.keys()) if (i >= this.allocator.sections.length) this.entries.delete(i);
  }

  /**
   * Pre-encode every section's replies from the event loop, a few milliseconds at a time, so the socket can start
   * accepting first (on 4096 VFs encoding takes ~200 ms). A request for a section not encoded yet builds it then,
   * as for() always does. Resolves when every section is encoded.
   */
  warmLater(sliceMs = 5): Promise<void> {
    return new Promise((resolve) => {
      let i = 0;
      const step = (): void => {
        const until = performance.now() + sliceMs;
        const sections = this.allocator.sections;
        while (i < sections.length) {
          const s = sections[i++];
          if (this.allocator.hasUsableVf(s)) this.for(s);
          if (performance.now() >= until) break;
        }
        if (i < sections.length) setImmediate(step);
        else resolve();
      };
      setImmediate(step);
    });
  }
}
