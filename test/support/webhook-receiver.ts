import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ReceivedWebhook {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  rawBody: Buffer;
  /** The body parsed as JSON; undefined when it is not JSON. */
  json: unknown;
  receivedAt: Date;
}

/** How to answer one request: a status (and optional body/headers, optionally after a pause), or never answer at all. */
export type WebhookReply = { status: number; body?: string; headers?: Record<string, string>; delayMs?: number } | { hang: true };

/** Decides the reply to the request numbered `index` (0-based, in arrival order). */
export type ResponsePlan = (request: ReceivedWebhook, index: number) => WebhookReply;

export const alwaysOk: ResponsePlan = () => ({ status: 200, body: 'ok' });

export function failFirst(count: number, status = 500): ResponsePlan {
  return (_, index) => (index < count ? { status, body: `planned failure ${index + 1} of ${count}` } : { status: 200, body: 'ok' });
}

export function hangFirst(count: number): ResponsePlan {
  return (_, index) => (index < count ? { hang: true } : { status: 200, body: 'ok' });
}

export interface WebhookReceiver {
  url: string;
  port: number;
  requests: ReceivedWebhook[];
  /** Replace the reply plan; request numbering keeps counting from the first request ever received. */
  respondWith(plan: ResponsePlan): void;
  stop(): Promise<void>;
}

/** A real HTTP server on loopback that records every request and answers by a programmable plan. */
export async function startWebhookReceiver(plan: ResponsePlan = alwaysOk): Promise<WebhookReceiver> {
  const requests: ReceivedWebhook[] = [];
  let currentPlan = plan;
  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const rawBody = Buffer.concat(chunks);
      let json: unknown;
      try {
        json = JSON.parse(rawBody.toString('utf8'));
      } catch {
        json = undefined;
      }
      const received: ReceivedWebhook = {
        method: request.method ?? '',
        path: request.url ?? '',
        headers: request.headers,
        rawBody,
        json,
        receivedAt: new Date(),
      };
      const index = requests.push(received) - 1;
      const reply = currentPlan(received, index);
      if ('hang' in reply) return;
      const answer = () => {
        if (response.destroyed) return;
        response.writeHead(reply.status, { 'content-type': 'text/plain', ...reply.headers });
        response.end(reply.body ?? '');
      };
      if (reply.delayMs) setTimeout(answer, reply.delayMs);
      else answer();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    requests,
    respondWith(next) {
      currentPlan = next;
    },
    stop: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
