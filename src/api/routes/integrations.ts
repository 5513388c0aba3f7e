import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { actOnAlert, findAlertByDedupKey, triggerAlert } from '../../commands/alerts.js';
import { Severity } from '../../domain/alert/events.js';
import { HttpProblem, notFoundProblem } from '../problem.js';
import { routeGroup } from '../routing.js';
import { IntegrationKeyParams } from '../schemas.js';

const route = routeGroup({ tag: 'integrations' });

const EventPayload = z.object({
  summary: z.string().trim().min(1).max(1024),
  severity: Severity.default('error'),
  source: z.string().max(255).optional(),
  custom_details: z.unknown().optional(),
});

const EventsBody = z.discriminatedUnion('event_action', [
  z.object({ event_action: z.literal('trigger'), dedup_key: z.string().min(1).max(255).optional(), payload: EventPayload }),
  z.object({ event_action: z.enum(['acknowledge', 'resolve']), dedup_key: z.string().min(1).max(255) }),
]);

const eventsIntegration = route('post', '/integrations/events/:key', {
  summary: 'Events API for monitoring tools: trigger, acknowledge or resolve by dedup key',
  permission: 'integration-key',
  async: 'always',
  params: IntegrationKeyParams,
  body: EventsBody,
  responses: { 202: z.object({ dedup_key: z.string(), alertId: z.uuid() }), 429: null },
  async handler({ body, integration: { teamId, flow }, actor, services }) {
    const now = services.clock();
    if (body.event_action === 'trigger') {
      await services.triggerQuota.admit(teamId, 1, now);
      const dedupKey = body.dedup_key ?? randomUUID();
      const result = await triggerAlert(services, {
        teamId,
        flow,
        summary: body.payload.summary,
        details: body.payload.custom_details ?? null,
        severity: body.payload.severity,
        dedupKey,
        source: body.payload.source ?? null,
        actor,
        now,
      });
      return { status: 202, body: { dedup_key: dedupKey, alertId: result.alertId }, position: result.position };
    }
    const alertId = await findAlertByDedupKey(services, teamId, flow.flowId, body.dedup_key);
    if (!alertId) throw notFoundProblem('no alert has this dedup key');
    const result = await actOnAlert(services, { teamId, alertId, action: body.event_action, actor, now });
    return { status: 202, body: { dedup_key: body.dedup_key, alertId }, position: result.position };
  },
});

const AlertmanagerAlert = z.object({
  status: z.enum(['firing', 'resolved']),
  labels: z.record(z.string(), z.string()).default({}),
  annotations: z.record(z.string(), z.string()).default({}),
  startsAt: z.string().optional(),
  endsAt: z.string().optional(),
  generatorURL: z.string().optional(),
  fingerprint: z.string().min(1).max(255),
});

/** Version 4 is Prometheus Alertmanager's webhook; version 1 is what Grafana's webhook contact point sends, the same alerts with more around them. */
const AlertmanagerBody = z.object({
  version: z.enum(['4', '1']),
  status: z.enum(['firing', 'resolved']),
  receiver: z.string().optional(),
  groupKey: z.string().optional(),
  externalURL: z.string().optional(),
  alerts: z.array(AlertmanagerAlert).min(1),
});

const MAX_ALERTS_PER_REQUEST = 1000;

const alertmanagerSeverity = (label: string | undefined): Severity => {
  const parsed = Severity.safeParse(label?.toLowerCase());
  if (parsed.success) return parsed.data;
  return label?.toLowerCase() === 'page' ? 'critical' : 'error';
};

const alertmanagerIntegration = route('post', '/integrations/alertmanager/:key', {
  summary: "Prometheus Alertmanager webhook (version 4) or Grafana's webhook contact point (version 1): each alert's fingerprint is its dedup key; at most 1000 alerts a request",
  permission: 'integration-key',
  async: 'always',
  params: IntegrationKeyParams,
  body: AlertmanagerBody,
  responses: {
    202: z.object({ alerts: z.array(z.object({ fingerprint: z.string(), alertId: z.uuid().nullable(), action: z.string() })) }),
    413: null,
    429: null,
  },
  async handler({ body, integration: { teamId, flow }, actor, services }) {
    if (body.alerts.length > MAX_ALERTS_PER_REQUEST) {
      throw new HttpProblem(
        413,
        'Content Too Large',
        `a request carries at most ${MAX_ALERTS_PER_REQUEST} alerts, this one ${body.alerts.length}; lower max_alerts in the receiver's webhook_config`,
        { code: 'too_many_alerts' },
      );
    }
    const firing = body.alerts.filter((alert) => alert.status === 'firing').length;
    if (firing > 0) await services.triggerQuota.admit(teamId, firing, services.clock());
    const outcomes: { fingerprint: string; alertId: string | null; action: string }[] = [];
    let position = null;
    for (const alert of body.alerts) {
      const now = services.clock();
      if (alert.status === 'firing') {
        const result = await triggerAlert(services, {
          teamId,
          flow,
          summary: alert.annotations.summary ?? alert.labels.alertname ?? 'Alertmanager alert',
          details: { labels: alert.labels, annotations: alert.annotations, startsAt: alert.startsAt, generatorURL: alert.generatorURL },
          severity: alertmanagerSeverity(alert.labels.severity),
          dedupKey: alert.fingerprint,
          source: body.externalURL ?? 'alertmanager',
          actor,
          now,
        });
        position = result.position ?? position;
        outcomes.push({ fingerprint: alert.fingerprint, alertId: result.alertId, action: result.deduplicated ? 'deduplicated' : 'triggered' });
      } else {
        const alertId = await findAlertByDedupKey(services, teamId, flow.flowId, alert.fingerprint);
        if (!alertId) {
          outcomes.push({ fingerprint: alert.fingerprint, alertId: null, action: 'ignored' });
          continue;
        }
        const result = await actOnAlert(services, { teamId, alertId, action: 'resolve', actor, now });
        position = result.position ?? position;
        outcomes.push({ fingerprint: alert.fingerprint, alertId, action: 'resolved' });
      }
    }
    return { status: 202, body: { alerts: outcomes }, position };
  },
});

export const integrationRoutes = [eventsIntegration, alertmanagerIntegration];
