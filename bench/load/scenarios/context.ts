import type { ServerMonitor } from '../database-probe.js';
import type { Settings } from '../settings.js';

export interface ScenarioContext {
  settings: Settings;
  monitor: ServerMonitor;
  log: (line: string) => void;
}

/** Seconds of idleness measured before each run, to separate the service's background transactions from the load's. */
export function idleSeconds(context: ScenarioContext): number {
  return context.settings.quick ? 1 : 3;
}

/** A short lead so that every process is past its set-up work when the first trigger is due. */
export const START_LEAD_MS = 300;
