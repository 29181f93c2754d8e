// A flood of identical warnings becomes one line per window, with the count of lines held back.

import { describe, it, expect } from 'vitest';
import { LogThrottle } from '../../src/log.js';

describe('LogThrottle', () => {
  it('logs the first line of a key, holds back the rest of the window, and reports how many on the next one', () => {
    let now = 0;
    const t = new LogThrottle(1000, () => now);
    expect(t.take('no_section')).toEqual({ log: true, held: 0 });
    expect(t.take('no_section')).toEqual({ log: false, held: 1 });
    expect(t.take('no_section')).toEqual({ log: false, held: 2 });
    expect(t.take('version_mismatch')).toEqual({ log: true, held: 0 });
    now = 1000;
    expect(t.take('no_section')).toEqual({ log: true, held: 2 });
    expect(t.take('no_section')).toEqual({ log: false, held: 1 });
  });
});
