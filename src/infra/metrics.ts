import client from 'prom-client';

const PAGE_OUTCOMES = ['delivered', 'failed', 'abandoned', 'unknown'] as const;
export type PageOutcome = (typeof PAGE_OUTCOMES)[number];

/** What a scrape asks of the running process: read at scrape time, so nothing polls between scrapes. */
export interface ScrapeSources {
  /** Per subscription: committed events after its checkpoint, and how long the oldest of them has waited. */
  subscriptionLag(): Promise<{ subscription: string; events: number; seconds: number }[]>;
  /** Messages ready in each of the engine's queues (names without the AMQP prefix). */
  queueDepths(): Promise<{ queue: string; messages: number }[]>;
}

export interface Metrics {
  registry: client.Registry;
  httpRequestDuration: client.Histogram<'method' | 'route' | 'status'>;
  escalationLag: client.Histogram<'step'>;
  escalationTimers: client.Counter<'outcome'>;
  notificationsDelivered: client.Counter<'channel' | 'outcome'>;
  pages: client.Counter<'channel' | 'outcome'>;
  sweeperRedrives: client.Counter<'kind'>;
  quotaRejections: client.Counter<'quota'>;
}

/** Steps beyond this share one label value, so a flow of fifty steps cannot make fifty series. */
const STEP_LABELS = 10;

/** The `step` label of a 0-based step index: "0" … "9", then "10+". */
export const stepLabel = (step: number): string => (step < STEP_LABELS ? String(step) : `${STEP_LABELS}+`);

/**
 * One registry per running app, so several apps in one process (tests) never collide. A scrape source that fails
 * (the database or the broker is away) leaves its gauges out of that scrape instead of failing /metrics.
 */
export function createMetrics(sources: Partial<ScrapeSources> = {}, onScrapeError: (error: unknown) => void = () => undefined): Metrics {
  const registry = new client.Registry();
  client.collectDefaultMetrics({ register: registry });

  // Both lag gauges are collected at once on a scrape: they share one reading.
  let lagReading: Promise<Awaited<ReturnType<ScrapeSources['subscriptionLag']>>> | null = null;
  const readLag = () => {
    if (!lagReading && sources.subscriptionLag) {
      const reading = sources.subscriptionLag().finally(() => {
        if (lagReading === reading) lagReading = null;
      });
      lagReading = reading;
    }
    return lagReading;
  };
  const lagGauge = (name: string, help: string, valueOf: (lag: { events: number; seconds: number }) => number) =>
    new client.Gauge({
      name,
      help,
      labelNames: ['subscription'],
      registers: [registry],
      async collect() {
        this.reset();
        try {
          for (const lag of (await readLag()) ?? []) this.set({ subscription: lag.subscription }, valueOf(lag));
        } catch (error) {
          onScrapeError(error);
        }
      },
    });
  lagGauge('alertops_subscription_lag_events', 'Committed events in the log after the subscription checkpoint', (lag) => lag.events);
  lagGauge(
    'alertops_subscription_lag_seconds',
    'Age of the oldest event the subscription has not applied yet (0 when caught up)',
    (lag) => lag.seconds,
  );
  new client.Gauge({
    name: 'alertops_broker_queue_messages',
    help: 'Messages ready in each queue of the escalation engine (delay cascade levels, due timers, deliveries)',
    labelNames: ['queue'],
    registers: [registry],
    async collect() {
      this.reset();
      if (!sources.queueDepths) return;
      try {
        for (const { queue, messages } of await sources.queueDepths()) this.set({ queue }, messages);
      } catch (error) {
        onScrapeError(error);
      }
    },
  });

  const metrics: Metrics = {
    registry,
    httpRequestDuration: new client.Histogram({
      name: 'alertops_http_request_duration_seconds',
      help: 'HTTP request duration by route pattern and status',
      labelNames: ['method', 'route', 'status'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers: [registry],
    }),
    escalationLag: new client.Histogram({
      name: 'alertops_escalation_lag_seconds',
      help: 'Time between an escalation step being due and being fired, by step (0-based; 10+ for the rest)',
      labelNames: ['step'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
      registers: [registry],
    }),
    escalationTimers: new client.Counter({
      name: 'alertops_escalation_timers_total',
      help: 'Escalation timers the timer consumer acted on, by outcome: fired a step, or no-op (stale or duplicate: the engine decided nothing)',
      labelNames: ['outcome'],
      registers: [registry],
    }),
    notificationsDelivered: new client.Counter({
      name: 'alertops_notification_attempts_total',
      help: 'Notification attempts by channel and outcome',
      labelNames: ['channel', 'outcome'],
      registers: [registry],
    }),
    pages: new client.Counter({
      name: 'alertops_pages_total',
      help: 'Notification outcomes recorded, by channel and outcome: delivered, failed (a retry follows), abandoned (attempts used up), unknown (a send cut off mid-flight)',
      labelNames: ['channel', 'outcome'],
      registers: [registry],
    }),
    sweeperRedrives: new client.Counter({
      name: 'alertops_sweeper_redrives_total',
      help: 'Overdue work the sweeper re-drove: escalation steps it fired, deliveries it handed back to the notifier',
      labelNames: ['kind'],
      registers: [registry],
    }),
    quotaRejections: new client.Counter({
      name: 'alertops_quota_rejections_total',
      help: 'Requests refused by a per-team quota, by quota',
      labelNames: ['quota'],
      registers: [registry],
    }),
  };
  // Every series a dashboard or an alert rule reads exists from the start at 0, so a rate over it is never empty.
  for (const channel of ['webhook', 'email']) {
    for (const outcome of PAGE_OUTCOMES) metrics.pages.inc({ channel, outcome }, 0);
  }
  for (const kind of ['step', 'delivery']) metrics.sweeperRedrives.inc({ kind }, 0);
  for (const quota of ['trigger_rate', 'open_alerts']) metrics.quotaRejections.inc({ quota }, 0);
  for (const outcome of ['fired', 'no-op']) metrics.escalationTimers.inc({ outcome }, 0);
  return metrics;
}
