import client from 'prom-client';

export interface Metrics {
  registry: client.Registry;
  httpRequestDuration: client.Histogram<'method' | 'route' | 'status'>;
  escalationLag: client.Histogram;
  escalationTimers: client.Counter<'outcome'>;
  notificationsDelivered: client.Counter<'channel' | 'outcome'>;
}

/** One registry per running app, so several apps in one process (tests) never collide. */
export function createMetrics(): Metrics {
  const registry = new client.Registry();
  client.collectDefaultMetrics({ register: registry });
  return {
    registry,
    httpRequestDuration: new client.Histogram({
      name: 'alertops_http_request_duration_seconds',
      help: 'HTTP request duration by route and status',
      labelNames: ['method', 'route', 'status'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers: [registry],
    }),
    escalationLag: new client.Histogram({
      name: 'alertops_escalation_lag_seconds',
      help: 'Time between an escalation step being due and being fired',
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
  };
}
