import type { EscalationOutcome } from './escalation-analysis.js';
import type { ResourceUsage } from './resource-sampler.js';
import type { MeasurementWindow } from './service-stage.js';
import type { BrokerTraffic } from './broker-counters.js';
import type { ServiceLog } from './service-process.js';
import { describeFailures, type TriggerSummary } from './trigger-analysis.js';

export type Unit = 'count' | 'ms' | 's' | 'per second' | 'MiB' | 'per alert';

/** Labels of the figures that the report also looks up for its summary of the targets. */
export const FIGURE = {
  acceptedPerSecond: 'accepted triggers per second',
  stepsUnpaged: 'steps not paged by the end of the wait',
  lost: '… of which recorded delivered but never received (lost)',
  lagP99: 'lag, p99',
  lagMax: 'lag, max',
  repeatedReceipts: 'duplicate receipts (same delivery id again)',
  repeatedDeliveryIds: 'delivery ids received more than once',
  stepsUnderSeveralDeliveryIds: 'steps paged under more than one delivery id',
  drain: 'backlog drain: last page arrival − last accepted trigger',
  inFlight: 'alerts in flight (scheduled, not fired) when memory was sampled',
  inFlightRss: 'service resident memory with those alerts in flight',
  restartToReady: 'restart to ready (/readyz 200)',
  dueWhileDownAfterRestartMax: '… their page after the restart, max',
  cutOffSends: 'sends cut off by the kill (NotificationOutcomeUnknown)',
  cutOffResendMax: '… resent after the restart, max delay from the restart',
  cutOffNotResent: '… not resent by the end of the wait',
  repeatsExplained: 'repeated delivery ids that match a cut-off send',
} as const;

export function responseTimeLabel(fromSchedule: boolean, statistic: 'p50' | 'p99' | 'max'): string {
  return `${fromSchedule ? 'response time from the scheduled send' : 'response time'}, ${statistic}`;
}

export interface Figure {
  label: string;
  value: number | null;
  unit: Unit;
}

export interface RoundTrips {
  alerts: number;
  events: number;
  transactions: number;
  idleTransactionsPerSecond: number;
  windowSeconds: number;
  broker: BrokerTraffic | null;
}

export interface ScenarioRunResult {
  figures: Figure[];
  resources: ResourceUsage;
  roundTrips: RoundTrips;
  /** What the run saw beyond the figures: limits hit, failures by kind, lag growth. */
  notes: string[];
  durationSeconds: number;
}

export function triggerFigures(summary: TriggerSummary, { fromSchedule }: { fromSchedule: boolean }): Figure[] {
  return [
    { label: 'triggers offered', value: summary.offered, unit: 'count' },
    { label: 'triggers accepted (2xx with an alert id)', value: summary.accepted, unit: 'count' },
    { label: 'triggers failed or unanswered', value: summary.failed, unit: 'count' },
    { label: FIGURE.acceptedPerSecond, value: summary.acceptedPerSecond, unit: 'per second' },
    { label: responseTimeLabel(fromSchedule, 'p50'), value: summary.latencyMs.p50, unit: 'ms' },
    { label: responseTimeLabel(fromSchedule, 'p99'), value: summary.latencyMs.p99, unit: 'ms' },
    { label: responseTimeLabel(fromSchedule, 'max'), value: summary.latencyMs.max, unit: 'ms' },
    ...(fromSchedule ? [{ label: 'send delay behind schedule, p99', value: summary.sendDelayMs.p99, unit: 'ms' as const }] : []),
    { label: 'answered before the read models caught up (X-AlertOps-Consistency: pending)', value: summary.consistencyPending, unit: 'count' },
  ];
}

export function triggerNotes(summary: TriggerSummary): string[] {
  return summary.failed ? [`failed or unanswered triggers: ${describeFailures(summary.failures)}`] : [];
}

export function escalationFigures(outcome: EscalationOutcome): Figure[] {
  return [
    { label: 'alerts recorded by the service', value: outcome.alerts, unit: 'count' },
    { label: 'steps paged', value: outcome.pagedSteps, unit: 'count' },
    { label: FIGURE.stepsUnpaged, value: outcome.unpaged.total, unit: 'count' },
    { label: '… of which not fired yet', value: outcome.unpaged.notFired, unit: 'count' },
    { label: '… of which fired, delivery not recorded', value: outcome.unpaged.firedNotDelivered, unit: 'count' },
    { label: FIGURE.lost, value: outcome.unpaged.recordedDeliveredNotReceived, unit: 'count' },
    { label: 'lag (page arrival − due time), p50', value: outcome.lagMs.p50, unit: 'ms' },
    { label: FIGURE.lagP99, value: outcome.lagMs.p99, unit: 'ms' },
    { label: FIGURE.lagMax, value: outcome.lagMs.max, unit: 'ms' },
    { label: 'fire lag recorded by the engine (firedAt − dueAt), p99', value: outcome.fireLagMs.p99, unit: 'ms' },
    { label: FIGURE.repeatedReceipts, value: outcome.repeatedReceipts, unit: 'count' },
    { label: FIGURE.repeatedDeliveryIds, value: outcome.deliveryIdsReceivedMoreThanOnce, unit: 'count' },
    { label: FIGURE.stepsUnderSeveralDeliveryIds, value: outcome.stepsPagedUnderSeveralDeliveryIds, unit: 'count' },
    { label: 'attempts started without an outcome when the wait ended', value: outcome.openAttempts, unit: 'count' },
    { label: 'pages not matching a step of this run', value: outcome.unattributedPages, unit: 'count' },
  ];
}

export function lagGrowthNote(outcome: EscalationOutcome): string[] {
  if (outcome.lagP99ByWindowMs.length < 2) return [];
  const seconds = outcome.lagP99ByWindowMs.map((lag) => (lag === null ? '–' : (lag / 1000).toFixed(2)));
  return [`lag p99 per 10 s of due time (s): ${seconds.join(', ')}`];
}

/** The service's warnings and errors over the run, as figures and a note naming the most frequent messages. */
export function serviceLogReport(log: ServiceLog): { figures: Figure[]; notes: string[] } {
  const frequent = [...log.messages]
    .sort((a, b) => b[1] - a[1])
    .slice(0, 5)
    .map(([message, count]) => `"${message}" × ${count.toLocaleString('en-US')}`);
  return {
    figures: [
      { label: 'service log lines at warn level', value: log.warnings, unit: 'count' },
      { label: 'service log lines at error level (or not JSON)', value: log.errors, unit: 'count' },
    ],
    notes: frequent.length ? [`the service logged ${frequent.join(', ')}`] : [],
  };
}

export function roundTrips(window: MeasurementWindow, alerts: number, events: number, idleTransactionsPerSecond: number): RoundTrips {
  return { alerts, events, transactions: window.transactions, idleTransactionsPerSecond, windowSeconds: window.resources.seconds, broker: window.broker };
}
