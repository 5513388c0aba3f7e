/**
 * How a team integrates through a client generated from /openapi.json (openapi-typescript + openapi-fetch). The test
 * generates `generated/alertops.ts` first, type-checks this file against it with tsc, then runs it against the service.
 */
import createClient from 'openapi-fetch';
import type { paths } from './generated/alertops.js';

export interface Walkthrough {
  teamId: string;
  flowId: string;
  alertId: string;
  triggered: { status: number; alertStatus: string };
  staleIfMatch: { status: number; code: string | undefined };
  acknowledged: { status: number; alertStatus: string; replayed: boolean };
  afterwards: { alertStatus: string; notificationTargets: string[] };
}

/** Registers, creates a team and a flow paging `webhookUrl`, triggers an alert, waits for its page, acknowledges it. */
export async function walkThrough(baseUrl: string, webhookUrl: string, pageArrived: (alertId: string) => Promise<void>): Promise<Walkthrough> {
  const client = createClient<paths>({ baseUrl });

  const registered = await client.POST('/auth/register', {
    body: { email: `client-${Date.now()}-${Math.random().toString(36).slice(2)}@example.com`, password: 'correct horse battery', name: 'Generated Client' },
  });
  if (!registered.data) throw new Error(`register: ${registered.response.status} ${registered.error?.detail}`);
  const { accessToken } = registered.data;
  client.use({
    onRequest({ request }) {
      request.headers.set('Authorization', `Bearer ${accessToken}`);
      return request;
    },
  });

  const team = await client.POST('/teams', { body: { name: 'Generated client team' } });
  if (!team.data) throw new Error(`create team: ${team.response.status} ${team.error?.detail}`);
  const teamId = team.data.id;

  const flow = await client.POST('/teams/{teamId}/flows', {
    params: { path: { teamId } },
    body: { name: 'Pager', nodes: [{ name: 'Webhook', delaySeconds: 0, target: { type: 'webhook', url: webhookUrl } }] },
  });
  if (!flow.data) throw new Error(`create flow: ${flow.response.status} ${flow.error?.detail}`);
  const flowId = flow.data.id;

  // An edit based on a version that is no longer current is refused as the document says: 412, a Problem.
  const stale = await client.PATCH('/teams/{teamId}/flows/{flowId}', {
    params: { path: { teamId, flowId }, header: { 'If-Match': `"${flow.data.version + 1}"` } },
    body: { repeat: 1 },
  });

  const triggered = await client.POST('/teams/{teamId}/alerts', {
    params: { path: { teamId } },
    body: { flowId, summary: 'Disk full on db-1', severity: 'critical' },
  });
  if (!triggered.data) throw new Error(`trigger: ${triggered.response.status} ${triggered.error?.detail}`);
  const alertId = triggered.data.id;
  await pageArrived(alertId);

  const acknowledged = await client.POST('/teams/{teamId}/alerts/{alertId}/acknowledge', {
    params: { path: { teamId, alertId }, header: { 'Idempotency-Key': `ack-${alertId}` } },
  });
  if (!acknowledged.data) throw new Error(`acknowledge: ${acknowledged.response.status} ${acknowledged.error?.detail}`);
  const replay = await client.POST('/teams/{teamId}/alerts/{alertId}/acknowledge', {
    params: { path: { teamId, alertId }, header: { 'Idempotency-Key': `ack-${alertId}` } },
  });
  const position = acknowledged.response.headers.get('X-AlertOps-Position') ?? undefined;

  const alert = await client.GET('/teams/{teamId}/alerts/{alertId}', {
    params: { path: { teamId, alertId }, header: { 'X-AlertOps-Position': position } },
  });
  if (!alert.data) throw new Error(`read alert: ${alert.response.status} ${alert.error?.detail}`);

  return {
    teamId,
    flowId,
    alertId,
    triggered: { status: triggered.response.status, alertStatus: triggered.data.status },
    staleIfMatch: { status: stale.response.status, code: stale.error?.code },
    acknowledged: {
      status: acknowledged.response.status,
      alertStatus: acknowledged.data.status,
      replayed: replay.response.headers.get('Idempotent-Replayed') === 'true',
    },
    afterwards: {
      alertStatus: alert.data.status,
      notificationTargets: alert.data.notifications.map((notification) => JSON.stringify(notification.target)),
    },
  };
}

/** Never called: each line must fail to type-check, or the generated types are looser than the API. */
export async function misuses(baseUrl: string): Promise<void> {
  const client = createClient<paths>({ baseUrl });
  // @ts-expect-error a flow needs a name
  await client.POST('/teams/{teamId}/flows', { params: { path: { teamId: 'x' } }, body: { nodes: [] } });
  // @ts-expect-error a severity is one of the enum's values
  await client.POST('/teams/{teamId}/alerts', { params: { path: { teamId: 'x' } }, body: { flowId: 'y', summary: 's', severity: 'apocalyptic' } });
  // @ts-expect-error the status filter is an enum
  await client.GET('/teams/{teamId}/alerts', { params: { path: { teamId: 'x' }, query: { status: 'open' } } });
  // @ts-expect-error an alert is acknowledged with POST only
  await client.GET('/teams/{teamId}/alerts/{alertId}/acknowledge', { params: { path: { teamId: 'x', alertId: 'y' } } });
  const alert = await client.GET('/teams/{teamId}/alerts/{alertId}', { params: { path: { teamId: 'x', alertId: 'y' } } });
  // @ts-expect-error an alert has no such field
  void alert.data?.priority;
}
