import { PostgresEventStore } from '../../src/eventstore/postgres.js';
import { createCatalog } from '../../src/catalog.js';
import type { Pool } from '../../src/infra/postgres.js';
import { readModelProjections } from '../../src/projections/index.js';
import { type TableDifference, verifyReadModel } from '../../src/projections/verify.js';
import { startSmtpSink, type SmtpSink } from '../support/smtp-sink.js';
import { waitFor } from '../support/wait.js';
import type { ClusterHttp } from './cluster.js';
import { type ReceivedWebhook, startWebhookReceiver, type WebhookReceiver } from '../support/webhook-receiver.js';

/** One page as the receiving side saw it: a webhook request or an e-mail. */
export interface Page {
  channel: 'webhook' | 'email';
  deliveryId: string;
  alertId: string;
  step: number;
  /** Where it went: the webhook URL requested, or the e-mail's envelope recipients. */
  destination: string;
  /** The receiver accepted it (2xx, or the SMTP sink took the message). */
  delivered: boolean;
  at: number;
}

interface WebhookBody {
  deliveryId: string;
  alert: { id: string };
  step: number;
  attempt: number;
}

/**
 * Where pages land: a webhook receiver and an SMTP sink. Webhook paths containing `flaky` refuse the first attempt
 * of about half their deliveries (500); every reply takes a little while, paths containing `slow` longer, so a
 * killed process leaves sends in flight.
 */
export interface PagingTargets {
  receiver: WebhookReceiver;
  smtp: SmtpSink;
  /** Every page received so far, attributed to its delivery, alert and step. */
  pages(): Page[];
  plannedFailures(): number;
  stop(): Promise<void>;
}

export async function startPagingTargets(): Promise<PagingTargets> {
  const answered = new Map<ReceivedWebhook, number>();
  const receiver = await startWebhookReceiver((request) => {
    const body = request.json as WebhookBody | undefined;
    const idDigit = Number.parseInt(body?.deliveryId?.[0] ?? '0', 16);
    const delayMs = request.path.includes('slow') ? 400 : 20 + idDigit * 8;
    const status = request.path.includes('flaky') && body?.attempt === 1 && idDigit < 8 ? 500 : 200;
    answered.set(request, status);
    return { status, body: status === 200 ? 'ok' : 'planned failure', delayMs };
  });
  const smtp = await startSmtpSink();
  return {
    receiver,
    smtp,
    pages() {
      const pages: Page[] = [];
      for (const request of receiver.requests) {
        const body = request.json as WebhookBody | undefined;
        if (!body?.deliveryId) throw new Error(`a webhook without a delivery id reached ${request.path}`);
        pages.push({
          channel: 'webhook',
          deliveryId: body.deliveryId,
          alertId: body.alert.id,
          step: body.step,
          destination: `${receiver.url}${request.path}`,
          delivered: answered.get(request) === 200,
          at: request.receivedAt.getTime(),
        });
      }
      for (const message of smtp.messages) {
        const deliveryId = /^<([0-9a-f-]{36})@alertops>$/.exec(message.messageId ?? '')?.[1];
        const alertId = /Alert:\s+([0-9a-f-]{36})/.exec(message.text)?.[1];
        const step = /Step:\s+(\d+) \(round \d+\)/.exec(message.text)?.[1];
        if (!deliveryId || !alertId || !step) throw new Error(`an e-mail the sink cannot attribute: ${message.messageId} ${message.text.slice(0, 200)}`);
        pages.push({
          channel: 'email',
          deliveryId,
          alertId,
          step: Number(step) - 1,
          destination: message.to.join(', '),
          delivered: true,
          at: message.receivedAt.getTime(),
        });
      }
      return pages;
    },
    plannedFailures: () => [...answered.values()].filter((status) => status !== 200).length,
    async stop() {
      await receiver.stop();
      await smtp.stop();
    },
  };
}

const retry = { maxAttempts: 4, backoffSeconds: 0.5 };

/** Flow nodes that page the chaos targets: a webhook path on the receiver, an address at the SMTP sink, a member. */
export function chaosNodes(targets: PagingTargets) {
  return {
    hook: (path: string, delaySeconds: number) => ({
      name: path,
      delaySeconds,
      target: { type: 'webhook', url: `${targets.receiver.url}/${path}` } as ChaosTarget,
      retry,
    }),
    mail: (email: string, delaySeconds: number) => ({ name: email, delaySeconds, target: { type: 'email', email } as ChaosTarget, retry }),
    member: (userId: string, delaySeconds: number) => ({ name: 'on-call member', delaySeconds, target: { type: 'user', userId } as ChaosTarget, retry }),
  };
}

export type ChaosTarget = { type: 'webhook'; url: string } | { type: 'email'; email: string } | { type: 'user'; userId: string };

export interface TriggeredAlert {
  alertId: string;
  flow: { key: string; repeat: number; nodes: { target: ChaosTarget }[] };
}

/**
 * Alerts triggered through the cluster, each request built by `request(index)`. A trigger refused by a live process
 * (any answer but 200 or 201), or that reached no process before its deadline, is a failure of the run, recorded in
 * `refused` rather than thrown, so that the faults under way still run to their end.
 */
export class AlertLoad {
  readonly refused: string[] = [];
  private readonly opened = new Map<number, TriggeredAlert>();

  constructor(
    private readonly http: ClusterHttp,
    private readonly request: (index: number) => { path: string; body: unknown; token: string; flow: TriggeredAlert['flow'] },
  ) {}

  async trigger(index: number): Promise<void> {
    const { path, body, token, flow } = this.request(index);
    try {
      const response = await this.http.post(path, body, { token });
      if (response.status === 200 || response.status === 201) {
        this.opened.set(index, { alertId: response.body.id, flow });
        return;
      }
      this.refused.push(`alert ${index}: ${response.status} ${JSON.stringify(response.body).slice(0, 300)}`);
    } catch (error) {
      this.refused.push(`alert ${index}: ${(error as Error).message}`);
    }
  }

  /**
   * Sends every refused trigger of the first `count` again, once the faults are over: the refusals stay failures, but
   * every alert can still be judged (a dedup key per alert folds a retry into whatever the first try opened).
   */
  async retryRefused(count: number): Promise<void> {
    for (let index = 0; index < count; index++) if (!this.opened.has(index)) await this.trigger(index);
  }

  alerts(): TriggeredAlert[] {
    return [...this.opened].sort(([a], [b]) => a - b).map(([, alert]) => alert);
  }
}

export const expectedPageCount = (alerts: readonly TriggeredAlert[]) =>
  alerts.reduce((sum, { flow }) => sum + flow.nodes.length * (flow.repeat + 1), 0);

/**
 * Waits until every alert has run out of steps and shows each notification delivered (one read model, one runner,
 * so the two agree) and the in-flight read model owes nothing: no pending step, no delivery awaiting an attempt or
 * an outcome. Nothing can be sent after that, so a duplicate would already show. False at the deadline.
 */
export async function waitUntilSettled(pool: Pool, alerts: readonly TriggeredAlert[], timeoutMs: number): Promise<boolean> {
  const pageCount = expectedPageCount(alerts);
  try {
    await waitFor(
      'the escalation engine to deliver everything and owe nothing',
      async () => {
        const { rows } = await pool.query<Record<'alerts' | 'running' | 'notifications' | 'undelivered' | 'escalations' | 'deliveries', string>>(
          `select (select count(*) from alerts) as alerts,
                  (select count(*) from alerts where not exhausted) as running,
                  (select count(*) from alert_notifications) as notifications,
                  (select count(*) from alert_notifications where status <> 'delivered') as undelivered,
                  (select count(*) from pending_escalations) as escalations,
                  (select count(*) from pending_deliveries) as deliveries`,
        );
        const row = rows[0]!;
        return (
          Number(row.alerts) === alerts.length &&
          row.running === '0' &&
          Number(row.notifications) === pageCount &&
          row.undelivered === '0' &&
          row.escalations === '0' &&
          row.deliveries === '0'
        );
      },
      { timeoutMs, intervalMs: 500 },
    );
    return true;
  } catch (error) {
    console.log(String(error));
    return false;
  }
}

/** Where a notification sits in its alert: one delivery per (alert, loop, step) is the guarantee. */
const stepKey = (alertId: string, loop: number, step: number) => `${alertId}/${loop}/${step}`;

export interface DeliveryAnalysis {
  expectedPages: number;
  requestedNotifications: number;
  deliveredSteps: number;
  /** Due steps no receiver accepted a page for, each with its alert's history. */
  missing: string[];
  /** Pages whose delivery id the log never requested (or requested for another alert or step). */
  strangers: string[];
  /** Pages that went somewhere other than their step's target: another URL or address, or another channel. */
  misdirected: string[];
  /** Steps accepted under more than one delivery id: a step paged twice. */
  underDifferentIds: string[];
  /** Delivery ids accepted more than once: allowed only where an attempt was recorded as cut off mid-flight. */
  repeatedIds: { deliveryId: string; accepted: number; outcomeUnknown: number }[];
  outcomeUnknownRecorded: number;
  /** Per alert and step, distinct delivery ids accepted, judged from the receiving side alone. */
  idsPerAlertStep: Map<string, number>;
  lagToFirstPageMs: number[];
  /** Each step's due time with the lag of its first page, for judging pages by when they fell due. */
  firstPageLags: { key: string; dueAt: number; lagMs: number }[];
  lagToDeliveryMs: number[];
}

/** Where a step's page must go, as its flow node says: the webhook URL, the e-mail address, the member's address. */
function destinationOf(target: ChaosTarget, addresses: ReadonlyMap<string, string>): { channel: Page['channel']; destination: string } {
  if (target.type === 'webhook') return { channel: 'webhook', destination: target.url };
  if (target.type === 'email') return { channel: 'email', destination: target.email };
  return { channel: 'email', destination: addresses.get(target.userId) ?? `the address of user ${target.userId}` };
}

/**
 * Holds what the receivers saw against what the event log requested and what the flows make due. `addresses` gives
 * the e-mail address of each user a flow pages.
 */
export async function analyseDeliveries(
  pool: Pool,
  alerts: readonly TriggeredAlert[],
  pages: readonly Page[],
  addresses: ReadonlyMap<string, string> = new Map(),
): Promise<DeliveryAnalysis> {
  const { rows: events } = await pool.query<{ event_type: string; data: any }>(
    `select event_type, data from events
      where event_type in ('NotificationRequested', 'NotificationOutcomeUnknown', 'EscalationStepFired')
      order by transaction_id, global_position`,
  );
  const requested = new Map<string, { alertId: string; loop: number; step: number }>();
  const outcomeUnknown = new Map<string, number>();
  const dueAt = new Map<string, number>();
  for (const { event_type: type, data } of events) {
    if (type === 'NotificationRequested') requested.set(data.deliveryId, { alertId: data.alertId, loop: data.loop, step: data.step });
    else if (type === 'NotificationOutcomeUnknown') outcomeUnknown.set(data.deliveryId, (outcomeUnknown.get(data.deliveryId) ?? 0) + 1);
    else dueAt.set(stepKey(data.alertId, data.loop, data.step), Date.parse(data.dueAt));
  }

  const expected = new Set<string>();
  const flowOf = new Map(alerts.map(({ alertId, flow }) => [alertId, flow]));
  for (const { alertId, flow } of alerts) {
    for (let loop = 0; loop <= flow.repeat; loop++) for (let step = 0; step < flow.nodes.length; step++) expected.add(stepKey(alertId, loop, step));
  }

  const deliveredByStep = new Map<string, Set<string>>();
  const acceptedById = new Map<string, number>();
  const firstPageAt = new Map<string, number>();
  const firstDeliveredAt = new Map<string, number>();
  const idsPerAlertStep = new Map<string, Set<string>>();
  const strangers: string[] = [];
  const misdirected: string[] = [];
  for (const page of pages) {
    if (page.delivered) {
      const key = `${page.alertId}/${page.step}`;
      idsPerAlertStep.set(key, (idsPerAlertStep.get(key) ?? new Set()).add(page.deliveryId));
    }
    const origin = requested.get(page.deliveryId);
    if (!origin || origin.alertId !== page.alertId || origin.step !== page.step) {
      strangers.push(`${page.channel} ${page.deliveryId} (alert ${page.alertId} step ${page.step})`);
      continue;
    }
    const node = flowOf.get(origin.alertId)?.nodes[origin.step];
    const intended = node ? destinationOf(node.target, addresses) : null;
    if (!intended || intended.channel !== page.channel || intended.destination !== page.destination) {
      misdirected.push(
        `${page.channel} ${page.deliveryId} (alert ${page.alertId} step ${page.step}) went to ${page.destination}, ` +
          `its step targets ${intended ? `${intended.channel} ${intended.destination}` : 'nothing'}`,
      );
    }
    const key = stepKey(origin.alertId, origin.loop, origin.step);
    firstPageAt.set(key, Math.min(firstPageAt.get(key) ?? Infinity, page.at));
    if (!page.delivered) continue;
    firstDeliveredAt.set(key, Math.min(firstDeliveredAt.get(key) ?? Infinity, page.at));
    acceptedById.set(page.deliveryId, (acceptedById.get(page.deliveryId) ?? 0) + 1);
    deliveredByStep.set(key, (deliveredByStep.get(key) ?? new Set()).add(page.deliveryId));
  }

  const missingKeys = [...expected].filter((key) => !deliveredByStep.has(key));
  const missing: string[] = [];
  for (const key of missingKeys.slice(0, 5)) {
    const { rows } = await pool.query<{ event_type: string; data: unknown }>(
      'select event_type, data from events where stream_id = $1 order by stream_version',
      [`alert-${key.split('/')[0]}`],
    );
    missing.push(`${key}:\n${rows.map((row) => `  ${row.event_type} ${JSON.stringify(row.data).slice(0, 240)}`).join('\n')}`);
  }
  missing.push(...missingKeys.slice(5));

  const lagsTo = (arrivals: Map<string, number>) =>
    [...expected].flatMap((key) => (arrivals.has(key) && dueAt.has(key) ? [arrivals.get(key)! - dueAt.get(key)!] : []));
  return {
    expectedPages: expected.size,
    requestedNotifications: requested.size,
    deliveredSteps: deliveredByStep.size,
    missing,
    strangers,
    misdirected,
    underDifferentIds: [...deliveredByStep].filter(([, ids]) => ids.size > 1).map(([key]) => key),
    repeatedIds: [...acceptedById]
      .filter(([, accepted]) => accepted > 1)
      .map(([deliveryId, accepted]) => ({ deliveryId, accepted, outcomeUnknown: outcomeUnknown.get(deliveryId) ?? 0 })),
    outcomeUnknownRecorded: [...outcomeUnknown.values()].reduce((sum, count) => sum + count, 0),
    idsPerAlertStep: new Map([...idsPerAlertStep].map(([key, ids]) => [key, ids.size])),
    lagToFirstPageMs: lagsTo(firstPageAt),
    firstPageLags: [...expected].flatMap((key) =>
      firstPageAt.has(key) && dueAt.has(key) ? [{ key, dueAt: dueAt.get(key)!, lagMs: firstPageAt.get(key)! - dueAt.get(key)! }] : [],
    ),
    lagToDeliveryMs: lagsTo(firstDeliveredAt),
  };
}

/** p50, p99 and max of a list of milliseconds. */
export function lagPercentiles(lagsMs: readonly number[]): { p50: number; p99: number; max: number } {
  const sorted = [...lagsMs].sort((a, b) => a - b);
  const at = (p: number) => sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] ?? NaN;
  return { p50: at(0.5), p99: at(0.99), max: sorted.at(-1) ?? NaN };
}

/** p50, p99 and max of a list of milliseconds, in seconds. */
export function lagFigures(lagsMs: readonly number[]): { p50: string; p99: string; max: string } {
  const { p50, p99, max } = lagPercentiles(lagsMs);
  return { p50: inSeconds(p50), p99: inSeconds(p99), max: inSeconds(max) };
}

/**
 * How late, after its due time, a step's first page may arrive through the faults these suites inject. A healthy
 * run stays well inside: three chaos runs measured p50 0.13–0.16 s, p99 6.4–6.6 s and max 6.7–32.3 s. The p99 is
 * pages due while the broker was down (2–5 s) or while a killed process's work was taken over; the max is a send
 * cut off by kill -9 and resent once its 30 s lease ran out, so it is bounded by the lease plus the outage.
 */
export const LAG_BOUNDS_MS = { p50: 1_000, p99: 15_000, max: 45_000 };

/** The percentiles of `lagsMs` beyond their bound, one line each; empty when within. */
export function lagBeyondBounds(lagsMs: readonly number[], bounds: { p50: number; p99: number; max: number } = LAG_BOUNDS_MS): string[] {
  if (lagsMs.length === 0) return ['no lag measured at all'];
  const measured = lagPercentiles(lagsMs);
  return (['p50', 'p99', 'max'] as const)
    .filter((figure) => !(measured[figure] <= bounds[figure]))
    .map((figure) => `${figure} ${inSeconds(measured[figure])} beyond ${inSeconds(bounds[figure])}`);
}

export const inSeconds = (ms: number) => `${(ms / 1000).toFixed(2)} s`;

/** Every read model compared row by row with a fresh replay of the log: anything applied twice or skipped shows. */
export async function readModelDifferences(pool: Pool): Promise<Record<string, TableDifference[]>> {
  const catalog = createCatalog();
  const differences: Record<string, TableDifference[]> = {};
  for (const projection of readModelProjections) {
    const report = await verifyReadModel({ pool, eventStore: new PostgresEventStore(pool), catalog }, projection);
    if (report.differences.length > 0) differences[projection.name] = report.differences;
  }
  return differences;
}

/** Waits until every subscription (read models and the relay) has read up to the head of the log. */
export async function waitForCheckpointsAtHead(pool: Pool, timeoutMs: number): Promise<void> {
  await waitFor(
    'every subscription to reach the head of the log',
    async () => {
      const { rows } = await pool.query<{ behind: string; subscriptions: string }>(
        `with head as (select transaction_id, global_position from events order by transaction_id desc, global_position desc limit 1)
         select count(*) filter (where (c.transaction_id, c.global_position) <> (head.transaction_id, head.global_position)) as behind,
                count(*) as subscriptions
           from subscription_checkpoints c cross join head`,
      );
      return rows[0]!.behind === '0' && Number(rows[0]!.subscriptions) > 0;
    },
    { timeoutMs, intervalMs: 250 },
  );
}
