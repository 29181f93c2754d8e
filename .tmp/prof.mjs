import { HealthMonitor } from '/work/wt-health/dist/src/health/monitor.js';
import { discover } from '/work/wt-health/dist/src/platform/discover.js';
import { buildPlan } from '/work/wt-health/dist/src/sections/plan.js';
import { Allocator } from '/work/wt-health/dist/src/sections/allocator.js';
import { FallbackCapabilitySource } from '/work/wt-health/dist/src/devices/capabilities.js';
import { simulatedRoots } from '/work/wt-health/dist/src/config/roots.js';
import { createLogger } from '/work/wt-health/dist/src/log.js';
const roots = simulatedRoots('/work/wt-health/bench/build/trees/4xxx_256x16');
const log = createLogger({ level: 'warn' });
const inv = discover(roots, log);
const caps = new FallbackCapabilitySource();
const a = new Allocator(buildPlan(inv, 1, (vf) => caps.capsFor(vf)));
const m = new HealthMonitor(roots, a, inv, { intervalMs: 500, recoverMs: 3000, heartbeat: process.argv[2] ?? 'auto', debugfsRoot: roots.sys + '/kernel/debug' }, log);
for (let i = 0; i < 30; i++) { const t = performance.now(); m.poll(); if (i < 12) console.log(i, (performance.now() - t).toFixed(2)); }
