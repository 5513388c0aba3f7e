import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import amqp from 'amqplib';
import { loadConfig } from '../src/config.js';
import { deleteDelayCascade } from '../src/infra/delay-cascade.js';
import { createLogger } from '../src/infra/logger.js';
import { dropDatabase } from '../src/infra/postgres.js';
import { startRuntime } from '../src/runtime.js';
import { brokerNames } from '../src/infra/broker-messages.js';
import { machineTable, percentile } from './machine.js';

/*
 * Escalation latency on this machine: alerts triggered over HTTP at a steady rate on a one-step flow with a
 * delay; each page's arrival at a local webhook receiver is compared with the step's due time.
 */

const ALERTS = Number(process.env.BENCH_ALERTS ?? 300);
const RATE_PER_SECOND = Number(process.env.BENCH_ALERT_RATE ?? 50);
const DELAY_SECONDS = 2;

interface Page {
  alertId: string;
  receivedAt: number;
}

async function main(): Promise<void> {
  const suffix = `${Date.now().toString(36)}_${randomBytes(3).toString('hex')}`;
  const base = new URL(process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/alertops');
  base.pathname = `/alertops_bench_${suffix}`;
  const config = loadConfig({
    ...process.env,
    PORT: '0',
    DATABASE_URL: base.toString(),
    AMQP_PREFIX: `alertops_bench_${suffix}`,
    LOG_LEVEL: 'warn',
    WEBHOOK_ALLOW_PRIVATE: 'true',
    JWT_SECRET: randomBytes(32).toString('hex'),
  });

  const pages: Page[] = [];
  const receiver = createServer((request, response) => {
    let body = '';
    request.on('data', (chunk: Buffer) => (body += chunk));
    request.on('end', () => {
      pages.push({ alertId: (JSON.parse(body) as { alert: { id: string } }).alert.id, receivedAt: Date.now() });
      response.end('ok');
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  const hookUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/page`;

  const runtime = await startRuntime({ config, api: true, workers: true, migrate: true, logger: createLogger('warn') });
  try {
    const call = async (method: string, path: string, body: unknown, token?: string) => {
      const response = await fetch(runtime.url + path, {
        method,
        headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
        body: JSON.stringify(body),
      });
      if (!response.ok) throw new Error(`${method} ${path}: ${response.status} ${await response.text()}`);
      return (await response.json()) as Record<string, string>;
    };
    const { accessToken } = await call('POST', '/auth/register', { email: `bench-${suffix}@example.com`, password: 'benchmark password', name: 'Bench' });
    const { id: teamId } = await call('POST', '/teams', { name: 'Bench' }, accessToken);
    const { id: flowId } = await call(
      'POST',
      `/teams/${teamId}/flows`,
      { name: 'bench', nodes: [{ name: 'hook', delaySeconds: DELAY_SECONDS, target: { type: 'webhook', url: hookUrl } }] },
      accessToken,
    );

    const dueAt = new Map<string, number>();
    const triggerLatencies: number[] = [];
    const started = Date.now();
    for (let index = 0; index < ALERTS; index++) {
      const sendAt = started + (index * 1000) / RATE_PER_SECOND;
      if (sendAt > Date.now()) await new Promise((resolve) => setTimeout(resolve, sendAt - Date.now()));
      const before = Date.now();
      const { id } = await call('POST', `/teams/${teamId}/alerts`, { flowId, summary: `bench ${index}` }, accessToken);
      triggerLatencies.push(Date.now() - before);
      const { rows } = await runtime.services.pool.query<{ triggered_at: Date }>('select triggered_at from alerts where id = $1', [id]);
      dueAt.set(id!, rows[0]!.triggered_at.getTime() + DELAY_SECONDS * 1000);
    }
    const deadline = Date.now() + 60_000;
    while (pages.length < ALERTS && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));

    const lags = pages.map((page) => page.receivedAt - dueAt.get(page.alertId)!).sort((a, b) => a - b);
    const triggers = [...triggerLatencies].sort((a, b) => a - b);
    const distinctAlerts = new Set(pages.map((page) => page.alertId)).size;
    const { rows } = await runtime.services.pool.query<{ server_version: string }>('show server_version');
    const lines = [
      '# Escalation latency',
      '',
      `Run with \`npm run bench\` on ${new Date().toISOString()}: ${ALERTS} alerts triggered over HTTP at ${RATE_PER_SECOND}/s on a one-step flow`,
      `(webhook after ${DELAY_SECONDS} s); the API, projections, relay, timer consumer and notifier run in one process, as \`npm start\` runs them.`,
      '',
      ...machineTable(rows[0]!.server_version),
      '',
      '| measurement | p50 | p95 | p99 | max |',
      '|---|---:|---:|---:|---:|',
      `| page arrival after its due time (ms) | ${percentile(lags, 0.5)} | ${percentile(lags, 0.95)} | ${percentile(lags, 0.99)} | ${lags.at(-1) ?? '—'} |`,
      `| trigger request, read-your-writes (ms) | ${percentile(triggers, 0.5)} | ${percentile(triggers, 0.95)} | ${percentile(triggers, 0.99)} | ${triggers.at(-1) ?? '—'} |`,
      '',
      `Pages received: ${pages.length} for ${ALERTS} alerts (${distinctAlerts} distinct; ${pages.length - distinctAlerts} duplicates).`,
      '',
    ];
    const file = fileURLToPath(new URL('./ESCALATION.md', import.meta.url));
    writeFileSync(file, lines.join('\n'));
    process.stdout.write(`${lines.join('\n')}\nwritten to ${file}\n`);
    if (pages.length !== ALERTS || distinctAlerts !== ALERTS) process.exitCode = 1;
  } finally {
    await runtime.stop();
    receiver.close();
    const connection = await amqp.connect(config.amqpUrl);
    await deleteDelayCascade(connection, brokerNames(config.amqpPrefix)).finally(() => connection.close());
    await dropDatabase(config.databaseUrl);
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`bench failed: ${error instanceof Error ? error.stack : String(error)}\n`);
  process.exit(1);
});
