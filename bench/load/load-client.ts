import { randomUUID } from 'node:crypto';
import http from 'node:http';
import { z } from 'zod';
import { reply, serveOrchestrator } from './child-process.js';
import { type ClientSetup, ClientRequest, type LoadPlan, type TriggerRecord } from './protocol.js';

/*
 * The load client, a process of its own: signs up, builds a team and its flows, then triggers alerts over HTTP
 * with kept-alive connections, closed-loop (N clients, each waiting for its answer) or open-loop (a fixed rate,
 * sent on schedule whatever the answers). Open-loop latency counts from the scheduled send time, so a slow
 * server cannot hide its queue by slowing the client down (coordinated omission).
 */

const Registered = z.object({ accessToken: z.string().min(1) });
const Created = z.object({ id: z.uuid() });
const Triggered = z.object({ id: z.uuid() });

interface Session {
  baseUrl: URL;
  token: string;
  teamId: string;
  flowIds: string[];
}

let session: Session | null = null;

async function callApi<T>(baseUrl: URL, path: string, body: unknown, schema: z.ZodType<T>, token?: string): Promise<T> {
  const response = await fetch(new URL(path, baseUrl), {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(30_000),
  });
  const text = await response.text();
  if (!response.ok) throw new Error(`POST ${path}: ${response.status} ${text.slice(0, 300)}`);
  return schema.parse(JSON.parse(text));
}

async function setUp(setup: ClientSetup): Promise<void> {
  const baseUrl = new URL(setup.baseUrl);
  const { accessToken } = await callApi(
    baseUrl,
    '/auth/register',
    { email: `bench-${randomUUID()}@example.com`, password: 'load bench password', name: 'Load bench' },
    Registered,
  );
  const { id: teamId } = await callApi(baseUrl, '/teams', { name: 'Load bench' }, Created, accessToken);
  const flows: { id: string; delaySeconds: number }[] = [];
  for (const flow of setup.flows) {
    const { id } = await callApi(
      baseUrl,
      `/teams/${teamId}/flows`,
      {
        name: `page after ${flow.delaySeconds} s`,
        repeat: 0,
        nodes: [{ name: 'webhook', delaySeconds: flow.delaySeconds, target: { type: 'webhook', url: `${setup.hookBaseUrl}/page/${flow.delaySeconds}s` } }],
      },
      Created,
      accessToken,
    );
    flows.push({ id, delaySeconds: flow.delaySeconds });
  }
  session = { baseUrl, token: accessToken, teamId, flowIds: flows.map((flow) => flow.id) };
  reply({ type: 'setupDone', teamId, flows });
}

function describeFailure(error: Error & { code?: string }): string {
  return error.code ?? error.message;
}

async function run(plan: LoadPlan): Promise<void> {
  if (!session) throw new Error('run before setup');
  const { baseUrl, token, teamId, flowIds } = session;
  const agent = new http.Agent({ keepAlive: true, maxSockets: plan.mode === 'closed' ? plan.clients : plan.connections });
  const records: TriggerRecord[] = [];
  const outstanding = new Set<http.ClientRequest>();
  const path = `/teams/${teamId}/alerts`;
  const headers: http.OutgoingHttpHeaders = {
    'content-type': 'application/json',
    authorization: `Bearer ${token}`,
    ...(plan.respondAsync ? { prefer: 'respond-async' } : {}),
  };

  const trigger = (index: number, scheduledAt: number): Promise<void> => {
    const record: TriggerRecord = { scheduledAt, sentAt: null, answeredAt: null, status: 0, alertId: null, error: null, consistencyPending: false };
    records.push(record);
    const payload = JSON.stringify({ flowId: flowIds[index % flowIds.length], summary: `load bench alert ${index}` });
    return new Promise((resolve) => {
      const request = http.request({
        agent,
        host: baseUrl.hostname,
        port: baseUrl.port,
        method: 'POST',
        path,
        headers: { ...headers, 'content-length': Buffer.byteLength(payload) },
      });
      outstanding.add(request);
      let settled = false;
      const settle = (error: string | null) => {
        if (settled) return;
        settled = true;
        outstanding.delete(request);
        record.answeredAt = Date.now();
        record.error = error;
        resolve();
      };
      request.on('socket', () => {
        record.sentAt = Date.now();
      });
      request.setTimeout(plan.requestTimeoutMs, () => request.destroy(Object.assign(new Error('timeout'), { code: 'timeout' })));
      request.on('error', (error: Error & { code?: string }) => settle(describeFailure(error)));
      request.on('response', (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('error', (error: Error & { code?: string }) => settle(describeFailure(error)));
        response.on('end', () => {
          record.status = response.statusCode ?? 0;
          record.consistencyPending = response.headers['x-alertops-consistency'] === 'pending';
          if (record.status >= 200 && record.status < 300) {
            try {
              record.alertId = Triggered.parse(JSON.parse(Buffer.concat(chunks).toString('utf8'))).id;
              settle(null);
            } catch {
              settle('unreadable answer');
            }
          } else {
            settle(`HTTP ${record.status}`);
          }
        });
      });
      request.end(payload);
    });
  };

  const abandon = setTimeout(
    () => {
      for (const request of outstanding) request.destroy(Object.assign(new Error('abandoned at the deadline'), { code: 'abandoned' }));
    },
    Math.max(0, plan.abandonAt - Date.now()),
  );

  if (plan.mode === 'closed') {
    await sleepUntil(plan.startAt);
    let next = 0;
    await Promise.all(
      Array.from({ length: plan.clients }, async () => {
        while (next < plan.total && Date.now() < plan.stopOfferingAt) {
          const index = next++;
          await trigger(index, Date.now());
        }
      }),
    );
  } else {
    const total = Math.round(plan.ratePerSecond * plan.seconds);
    const interval = 1000 / plan.ratePerSecond;
    const pending: Promise<void>[] = [];
    let next = 0;
    await new Promise<void>((resolve) => {
      const tick = () => {
        const now = Date.now();
        while (next < total && plan.startAt + next * interval <= now) {
          pending.push(trigger(next, plan.startAt + next * interval));
          next++;
        }
        if (next >= total) resolve();
        else setTimeout(tick, Math.max(0, plan.startAt + next * interval - Date.now()));
      };
      setTimeout(tick, Math.max(0, plan.startAt - Date.now()));
    });
    await Promise.all(pending);
  }
  clearTimeout(abandon);
  agent.destroy();
  reply({ type: 'finished', triggers: records });
}

function sleepUntil(at: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, Math.max(0, at - Date.now())));
}

serveOrchestrator(ClientRequest, (request) => (request.type === 'setup' ? setUp(request) : run(request.plan)));
