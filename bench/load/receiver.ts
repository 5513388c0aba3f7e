import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { z } from 'zod';
import { reply, serveOrchestrator } from './child-process.js';
import { type Page, ReceiverRequest } from './protocol.js';

/*
 * The webhook receiver, a process of its own: records every page as it arrives and answers 200 at once.
 */

const WebhookBody = z.object({
  alert: z.object({ id: z.string() }),
  step: z.number().optional(),
  attempt: z.number().optional(),
});

const pages: Page[] = [];
const pagedAlerts = new Set<string>();
let lastArrival: number | null = null;

const server = createServer((request, response) => {
  const receivedAt = Date.now();
  const chunks: Buffer[] = [];
  request.on('data', (chunk: Buffer) => chunks.push(chunk));
  request.on('end', () => {
    const delivery = request.headers['x-alertops-delivery'];
    let body: z.infer<typeof WebhookBody> | null = null;
    try {
      const parsed = WebhookBody.safeParse(JSON.parse(Buffer.concat(chunks).toString('utf8')));
      body = parsed.success ? parsed.data : null;
    } catch {
      body = null;
    }
    pages.push({
      deliveryId: typeof delivery === 'string' ? delivery : null,
      alertId: body?.alert.id ?? null,
      step: body?.step ?? null,
      attempt: body?.attempt ?? null,
      path: request.url ?? '',
      receivedAt,
    });
    if (body) pagedAlerts.add(body.alert.id);
    lastArrival = receivedAt;
    response.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
  });
});
server.keepAliveTimeout = 30_000;

server.listen(0, '127.0.0.1', () => {
  reply({ type: 'listening', port: (server.address() as AddressInfo).port });
});

serveOrchestrator(ReceiverRequest, (request) => {
  if (request.type === 'progress') {
    reply({ type: 'progress', requests: pages.length, distinctAlerts: pagedAlerts.size, lastArrival });
  } else {
    reply({ type: 'pages', pages });
  }
});
