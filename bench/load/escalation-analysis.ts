import { type EscalationFacts, stepKey } from './database-probe.js';
import type { Page } from './protocol.js';
import { type Distribution, distribution } from './stats.js';

export interface StepPage {
  alertId: string;
  step: number;
  dueAt: number;
  /** Arrival of the first page for the step at the receiver. */
  firstArrival: number;
}

export interface EscalationOutcome {
  /** Alerts the service recorded (AlertTriggered in its log), whoever learned of them. */
  alerts: number;
  /** Steps the service scheduled. */
  steps: number;
  pagedSteps: number;
  /** Steps without a page at the receiver by the end of the wait, by how far the service got with them. */
  unpaged: { total: number; notFired: number; firedNotDelivered: number; recordedDeliveredNotReceived: number };
  /** First page arrival minus the step's due time. */
  lagMs: Distribution;
  /** p99 lag per 10 s window of due time, in order: shows lag growing when the engine falls behind. */
  lagP99ByWindowMs: (number | null)[];
  /** The engine's own view (EscalationStepFired firedAt − dueAt), to tell firing lag from delivery time. */
  fireLagMs: Distribution;
  /** Receipts beyond the first of the same delivery id. */
  repeatedReceipts: number;
  deliveryIdsReceivedMoreThanOnce: number;
  /** Of those, how many the service recorded as cut off mid-send (NotificationOutcomeUnknown). */
  repeatsExplainedByCutOffSends: number;
  /** Steps paged under more than one delivery id: a real double page. */
  stepsPagedUnderSeveralDeliveryIds: number;
  /** Pages the receiver could not tie to a scheduled step of this run. */
  unattributedPages: number;
  cutOffSends: number;
  /** Attempts started without an outcome when the wait ended (a cut-off send not yet resolved, or a send in flight). */
  openAttempts: number;
  lastDueAt: number | null;
  lastArrival: number | null;
  stepPages: StepPage[];
}

const WINDOW_MS = 10_000;

export function analyzeEscalations(facts: EscalationFacts, pages: Page[]): EscalationOutcome {
  const receiptsByDelivery = new Map<string, number>();
  const deliveryIdsByStep = new Map<string, Set<string>>();
  const firstArrivalByStep = new Map<string, number>();
  let unattributedPages = 0;
  let lastArrival: number | null = null;
  for (const page of pages) {
    lastArrival = Math.max(lastArrival ?? -Infinity, page.receivedAt);
    if (page.deliveryId) receiptsByDelivery.set(page.deliveryId, (receiptsByDelivery.get(page.deliveryId) ?? 0) + 1);
    const requested = page.deliveryId ? facts.requested.get(page.deliveryId) : undefined;
    const alertId = page.alertId ?? requested?.alertId;
    const step = page.step ?? requested?.step;
    if (!alertId || step === undefined || !facts.scheduled.has(stepKey(alertId, step))) {
      unattributedPages++;
      continue;
    }
    const key = stepKey(alertId, step);
    if (page.deliveryId) deliveryIdsByStep.set(key, (deliveryIdsByStep.get(key) ?? new Set()).add(page.deliveryId));
    firstArrivalByStep.set(key, Math.min(firstArrivalByStep.get(key) ?? Infinity, page.receivedAt));
  }

  const stepPages: StepPage[] = [];
  const unpaged = { total: 0, notFired: 0, firedNotDelivered: 0, recordedDeliveredNotReceived: 0 };
  const deliveredSteps = new Set([...facts.delivered].flatMap((deliveryId) => {
    const requested = facts.requested.get(deliveryId);
    return requested ? [stepKey(requested.alertId, requested.step)] : [];
  }));
  let lastDueAt: number | null = null;
  for (const [key, scheduled] of facts.scheduled) {
    lastDueAt = Math.max(lastDueAt ?? -Infinity, scheduled.dueAt);
    const firstArrival = firstArrivalByStep.get(key);
    if (firstArrival !== undefined) {
      stepPages.push({ alertId: scheduled.alertId, step: scheduled.step, dueAt: scheduled.dueAt, firstArrival });
      continue;
    }
    unpaged.total++;
    if (!facts.fired.has(key)) unpaged.notFired++;
    else if (deliveredSteps.has(key)) unpaged.recordedDeliveredNotReceived++;
    else unpaged.firedNotDelivered++;
  }

  const repeated = [...receiptsByDelivery].filter(([, receipts]) => receipts > 1);
  const firstDue = stepPages.reduce((first, page) => Math.min(first, page.dueAt), Infinity);
  const lagsByWindow: number[][] = [];
  for (const page of stepPages) {
    const window = Math.floor((page.dueAt - firstDue) / WINDOW_MS);
    (lagsByWindow[window] ??= []).push(page.firstArrival - page.dueAt);
  }
  return {
    alerts: facts.alerts.size,
    steps: facts.scheduled.size,
    pagedSteps: stepPages.length,
    unpaged,
    lagMs: distribution(stepPages.map((page) => page.firstArrival - page.dueAt)),
    lagP99ByWindowMs: Array.from(lagsByWindow, (lags) => distribution(lags ?? []).p99),
    fireLagMs: distribution([...facts.fired.values()].map((fired) => fired.firedAt - fired.dueAt)),
    repeatedReceipts: repeated.reduce((sum, [, receipts]) => sum + receipts - 1, 0),
    deliveryIdsReceivedMoreThanOnce: repeated.length,
    repeatsExplainedByCutOffSends: repeated.filter(([deliveryId]) => facts.outcomeUnknown.has(deliveryId)).length,
    stepsPagedUnderSeveralDeliveryIds: [...deliveryIdsByStep.values()].filter((ids) => ids.size > 1).length,
    unattributedPages,
    cutOffSends: facts.outcomeUnknown.size,
    openAttempts: facts.openAttempts,
    lastDueAt,
    lastArrival,
    stepPages,
  };
}
