import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomBytes } from 'node:crypto';
import amqp from 'amqplib';
import { loadConfig } from '../src/config.js';
import { brokerNames } from '../src/infra/broker-messages.js';
import { deleteDelayCascade } from '../src/infra/delay-cascade.js';
import { createLogger } from '../src/infra/logger.js';
import { dropDatabase } from '../src/infra/postgres.js';
import { inTraceOf, traced, traceHeaders } from '../src/infra/tracing.js';
import { startRuntime } from '../src/runtime.js';
import { percentile } from './machine.js';

/*
 * What tracing costs. First the instrumentation points as they run without the SDK (the API's no-op tracer): each
 * wraps an awaited no-op, against the bare awaited no-op. Then the trigger request end to end (read-your-writes, the
 * trigger appended and projected) on one process, with the SDK off and on (exporting to a local sink), alternating.
 */

const CALLS = Number(process.env.BENCH_TRACING_CALLS ?? 1_000_000);
const TRIGGERS = Number(process.env.BENCH_TRACING_TRIGGERS ?? 300);
const ROUNDS = Number(process.env.BENCH_TRACING_ROUNDS ?? 2);

const noop = async () => undefined;

async function nanosecondsPerCall(work: () => Promise<unknown> | unknown): Promise<number> {
  for (let index = 0; index < 10_000; index++) await work();
  const started = process.hrtime.bigint();
  for (let index = 0; index < CALLS; index++) await work();
  return Number(process.hrtime.bigint() - started) / CALLS;
}

async function microBenchmark(): Promise<void> {
  const attributes = { 'alertops.alert.id': '6b1f6a52-9d4e-4a43-9d0e-2f3c1c7b8e11', 'alertops.step': 0 };
  const bare = await nanosecondsPerCall(noop);
  const span = await nanosecondsPerCall(() => traced('bench', attributes, noop));
  const headers = await nanosecondsPerCall(() => traceHeaders());
  const inTrace = await nanosecondsPerCall(() => inTraceOf(undefined, noop));
  const bareAgain = await nanosecondsPerCall(noop);
  console.log(`instrumentation without the SDK (${CALLS.toLocaleString('en')} calls each, ns per call):`);
  console.log(`  awaited no-op (first, last)   ${bare.toFixed(0)}, ${bareAgain.toFixed(0)}`);
  console.log(`  traced(span) around it        ${span.toFixed(0)}  (+${(span - bareAgain).toFixed(0)} on the last)`);
  console.log(`  traceHeaders()                ${headers.toFixed(0)}`);
  console.log(`  inTraceOf(undefined) around   ${inTrace.toFixed(0)}  (+${(inTrace - bareAgain).toFixed(0)} on the last)`);
}

async function triggerLatencies(tracing: boolean, sinkUrl: string): Promise<number[]> {
  const name = `alertops_bench_tracing_${randomBytes(4).toString('hex')}`;
  const base = new URL(process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/alertops');
  base.pathname = `/${name}`;
  const config = loadConfig({
    NODE_ENV: 'test',
    PORT: '0',
    DATABASE_URL: base.toString(),
    AMQP_URL: process.env.AMQP_URL ?? 'amqp://guest:guest@127.0.0.1:5672',
    AMQP_PREFIX: name,
    LOG_LEVEL: 'silent',
    ...(tracing ? { OTEL_EXPORTER_OTLP_ENDPOINT: sinkUrl } : {}),
  });
  const runtime = await startRuntime({ config, api: true, workers: true, migrate: true, logger: createLogger('silent') });
  try {
    const post = async (path: string, body: unknown, token?: string) => {
      const response = await fetch(runtime.url + path, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
        body: JSON.stringify(body),
      });
      return (await response.json()) as Record<string, unknown>;
    };
    const user = await post('/auth/register', { email: `${name}@example.com`, password: 'bench-password-123', name: 'Bench' });
    const token = user.accessToken as string;
    const team = await post('/teams', { name: 'Bench' }, token);
    const flow = await post(
      `/teams/${team.id}/flows`,
      { name: 'bench', nodes: [{ name: 'later', delaySeconds: 3600, target: { type: 'email', email: 'oncall@example.com' } }] },
      token,
    );
    const latencies: number[] = [];
    for (let index = 0; index < TRIGGERS; index++) {
      const started = performance.now();
      await post(`/teams/${team.id}/alerts`, { flowId: flow.id, summary: `bench ${index}` }, token);
      latencies.push(performance.now() - started);
    }
    return latencies.slice(Math.floor(TRIGGERS / 10));
  } finally {
    await runtime.stop();
    const connection = await amqp.connect(config.amqpUrl);
    await deleteDelayCascade(connection, brokerNames(config.amqpPrefix)).finally(() => connection.close());
    await dropDatabase(config.databaseUrl);
  }
}

async function main(): Promise<void> {
  await microBenchmark();
  let spansReceived = 0;
  const sink = createServer((request, response) => {
    request.resume();
    request.on('end', () => {
      spansReceived++;
      response.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((resolve) => sink.listen(0, '127.0.0.1', resolve));
  const sinkUrl = `http://127.0.0.1:${(sink.address() as AddressInfo).port}`;
  const results: Record<'off' | 'on', number[]> = { off: [], on: [] };
  for (let round = 0; round < ROUNDS; round++) {
    for (const mode of ['off', 'on'] as const) results[mode].push(...(await triggerLatencies(mode === 'on', sinkUrl)));
  }
  sink.close();
  console.log(`trigger request (POST /teams/:teamId/alerts, read-your-writes), ${ROUNDS} rounds of ${TRIGGERS}, first 10% of each left out:`);
  for (const mode of ['off', 'on'] as const) {
    const sorted = [...results[mode]].sort((a, b) => a - b);
    const mean = sorted.reduce((sum, value) => sum + value, 0) / sorted.length;
    console.log(
      `  tracing ${mode.padEnd(3)}  mean ${mean.toFixed(2)} ms  p50 ${percentile(sorted, 0.5).toFixed(2)} ms  p99 ${percentile(sorted, 0.99).toFixed(2)} ms  (n=${sorted.length})`,
    );
  }
  console.log(`  exports received by the sink with tracing on: ${spansReceived}`);
}

await main();
