import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { actOnAlert, findAlertByDedupKey, triggerAlert } from '../../commands/alerts.js';
import { Severity } from '../../domain/alert/events.js';
import { findIntegration } from '../auth/integration-key.js';
import { routeGroup, type RouteResult } from '../routing.js';

// The routing key travels in the body, so an Idempotency-Key would be scoped to every sender at once: it is ignored.
const route = routeGroup({ tag: 'integrations', replayable: false });

const MAX_SUMMARY = 1024;
const MAX_DEDUP_KEY = 255;
const MAX_FIELD = 1024;
const MAX_CONTEXTS = 50;

const Text = z.string().max(MAX_FIELD);
const Link = z.object({ href: Text, text: Text.optional() });
const Image = z.object({ src: Text, href: Text.optional(), alt: Text.optional() });

/** PagerDuty's Events API v2 event (PD-CEF), as its public documentation describes it. */
const PagerDutyEvent = z.object({
  routing_key: z.string().min(1).max(200),
  event_action: z.enum(['trigger', 'acknowledge', 'resolve']),
  dedup_key: z.string().min(1).max(MAX_DEDUP_KEY).optional(),
  client: Text.optional(),
  client_url: Text.optional(),
  links: z.array(Link).max(MAX_CONTEXTS).optional(),
  images: z.array(Image).max(MAX_CONTEXTS).optional(),
  payload: z
    .object({
      summary: z.string().trim().min(1),
      source: z.string().trim().min(1).max(255),
      severity: Severity,
      timestamp: Text.optional(),
      component: Text.optional(),
      group: Text.optional(),
      class: Text.optional(),
      custom_details: z.unknown().optional(),
    })
    .optional(),
});
type PagerDutyEvent = z.infer<typeof PagerDutyEvent>;

const Processed = z.object({ status: z.literal('success'), message: z.literal('Event processed'), dedup_key: z.string() });
const InvalidEvent = z.object({ status: z.literal('invalid event'), message: z.string(), errors: z.array(z.string()) });

const quoted = (path: readonly PropertyKey[]) => `'${path.map(String).join('.')}'`;

/** Each problem worded as PagerDuty words it, naming the field. */
function describeIssue(issue: z.core.$ZodIssue, event: unknown): string {
  const field = quoted(issue.path);
  const value = valueAt(event, issue.path);
  if (value === undefined || value === null || (typeof value === 'string' && value.trim() === '')) return `${field} is missing or blank`;
  if (issue.code === 'invalid_value') {
    const allowed = issue.values.map((allowedValue) => `'${String(allowedValue)}'`);
    return `${field} is invalid (must be one of the following: ${allowed.slice(0, -1).join(', ')} or ${allowed.at(-1)})`;
  }
  if (issue.code === 'too_big') return `${field} is too long`;
  return `${field} is invalid`;
}

function valueAt(value: unknown, path: readonly PropertyKey[]): unknown {
  return path.reduce<unknown>((inner, key) => (inner && typeof inner === 'object' ? (inner as Record<PropertyKey, unknown>)[key] : undefined), value);
}

const invalidEvent = (errors: string[]): RouteResult => ({
  status: 400,
  body: { status: 'invalid event', message: 'Event object is invalid', errors },
});

/** What a trigger carries besides its summary, source and severity: kept on the alert as its details. */
function detailsOf(event: PagerDutyEvent) {
  const payload = event.payload!;
  const context = {
    custom_details: payload.custom_details,
    timestamp: payload.timestamp,
    component: payload.component,
    group: payload.group,
    class: payload.class,
    client: event.client,
    client_url: event.client_url,
    links: event.links,
    images: event.images,
  };
  return Object.fromEntries(Object.entries(context).filter(([, value]) => value !== undefined));
}

const enqueue = route('post', '/v2/enqueue', {
  summary:
    "PagerDuty Events API v2, wire-compatible: routing_key is an integration key; trigger, acknowledge or resolve by dedup_key with PagerDuty's response shapes",
  permission: 'public',
  async: 'always',
  // PagerDuty's own answer to an invalid event, not problem+json: the route takes any JSON and checks it itself.
  body: PagerDutyEvent.or(z.unknown()),
  responses: { 202: Processed, 400: InvalidEvent, 429: null },
  async handler({ body, services }) {
    const object = body !== null && typeof body === 'object' && !Array.isArray(body) ? (body as Record<string, unknown>) : {};
    // The context of an event is read for a trigger only: an acknowledge or resolve is not refused for it, as PagerDuty does.
    const { payload: _payload, links: _links, images: _images, client: _client, client_url: _clientUrl, ...withoutContext } = object;
    const candidate = object.event_action === 'trigger' ? object : withoutContext;
    const parsed = PagerDutyEvent.safeParse(candidate);
    if (!parsed.success) return invalidEvent(parsed.error.issues.map((issue) => describeIssue(issue, candidate)));
    const event = parsed.data;
    const errors: string[] = [];
    if (event.event_action === 'trigger' && !event.payload) errors.push("'payload' is missing or blank");
    if (event.event_action !== 'trigger' && !event.dedup_key) errors.push("'dedup_key' is missing or blank");
    if (errors.length > 0) return invalidEvent(errors);
    const integration = await findIntegration(services, event.routing_key);
    if (!integration) return invalidEvent(["'routing_key' is not a known integration key"]);

    const { teamId, flow, keyId } = integration;
    const actor = `integration:${keyId}` as const;
    const now = services.clock();
    if (event.event_action === 'trigger') {
      const payload = event.payload!;
      await services.triggerQuota.admit(teamId, 1, now);
      const dedupKey = event.dedup_key ?? randomUUID().replaceAll('-', '');
      const result = await triggerAlert(services, {
        teamId,
        flow,
        // PagerDuty keeps the first 1024 characters of a longer summary rather than refusing the event.
        summary: payload.summary.slice(0, MAX_SUMMARY),
        details: detailsOf(event),
        severity: payload.severity,
        dedupKey,
        source: payload.source,
        actor,
        now,
      });
      return { status: 202, body: { status: 'success', message: 'Event processed', dedup_key: dedupKey }, position: result.position };
    }
    const dedupKey = event.dedup_key!;
    const processed = { status: 202, body: { status: 'success', message: 'Event processed', dedup_key: dedupKey } };
    const alertId = await findAlertByDedupKey(services, teamId, flow.flowId, dedupKey);
    if (!alertId) return processed;
    const result = await actOnAlert(services, { teamId, alertId, action: event.event_action, actor, now });
    return { ...processed, position: result.position };
  },
});

export const pagerDutyRoutes = [enqueue];
