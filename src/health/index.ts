// The health room's face for its consumers (the admin API, the Kubernetes device plugin): the monitor and its shapes.
//
// In process, `manager.health` is a HealthMonitor: an EventEmitter of 'change' (one PfHealthChange per transition),
// 'host' and 'readmit', with states() (every watched PF's state now) and snapshot() (the `qatctl health --json` view).

export { HealthMonitor } from './monitor.js';
export type { HealthSettings, HealthView, PfHealthView, PfHealthChange, AffectedHolder, HealthEvents, HeartbeatSource, PushedHeartbeat } from './monitor.js';
export { HEALTH_STATES, isWithheld, type HealthState, type Reason, type ReasonCode } from './state.js';
