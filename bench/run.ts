import { randomBytes, randomUUID } from 'node:crypto';
import { z } from 'zod';
import type { DomainEvent } from '../src/domain/decider.js';
import { EventCatalog } from '../src/eventstore/catalog.js';
import { PostgresEventStore } from '../src/eventstore/postgres.js';
import { comparePositions, type EventMetadata, type LogPosition, START_OF_LOG } from '../src/eventstore/types.js';
import { verifyHashChains } from '../src/eventstore/verify.js';
import { createLogger } from '../src/infra/logger.js';
import { migrate } from '../src/infra/migrate.js';
import { createPool, dropDatabase, ensureDatabaseExists, type Pool, redactUrl } from '../src/infra/postgres.js';
import { defineProjection } from '../src/projections/projection.js';
import { readModelSubscription } from '../src/projections/read-model-subscription.js';
import { SubscriptionRunner } from '../src/projections/runner.js';
import { projectionStatus } from '../src/projections/status.js';
import { machineTable, percentile } from './machine.js';
import { RESULTS_FILE, writeResultsSection } from './results-file.js';

/*
 * Throughput of the PostgreSQL event store and the projection runner on this machine, against a database
 * of its own that is dropped at the end. Timed phases are bounded by duration, so a full run stays short.
 */

const APPEND_SECONDS = Number(process.env.BENCH_APPEND_SECONDS ?? 5);
const CONCURRENT_WRITERS = 8;
const SEED_EVENTS = Number(process.env.BENCH_SEED_EVENTS ?? 50_000);
const SEED_BATCH = 50;
const READ_BATCH = 1000;
const REBUILD_BATCH = 500;

interface Measurement {
  name: string;
  events: number;
  seconds: number;
  detail: string;
}

type Deposited = DomainEvent<'Deposited', { accountId: string; amount: number }>;

const catalog = new EventCatalog().register({
  Deposited: { schema: z.object({ accountId: z.string(), amount: z.number().int() }), version: 1 },
});

const balancesProjection = defineProjection<{ bench_balances: { account_id: string; balance: string; deposits: number } }, Deposited>()({
  name: 'bench_balances',
  keys: { bench_balances: ['account_id'] },
  handlers: {
    Deposited({ bench_balances }, { data: { accountId, amount } }) {
      const balance = bench_balances.get({ account_id: accountId });
      bench_balances.put({ account_id: accountId, balance: String(Number(balance?.balance ?? 0) + amount), deposits: (balance?.deposits ?? 0) + 1 });
    },
  },
});

const metadata: EventMetadata = { actor: 'system:bench', correlationId: randomUUID(), causationId: null, teamId: null };

function deposit(index: number) {
  return { type: 'Deposited', data: { accountId: `account-${index % 1000}`, amount: 1 + (index % 97) } };
}

function latencies(samples: number[]): string {
  const sorted = [...samples].sort((a, b) => a - b);
  return `latency p50 ${percentile(sorted, 0.5).toFixed(2)} ms, p99 ${percentile(sorted, 0.99).toFixed(2)} ms`;
}

/** Single-event appends, each to a stream of its own writer, for `seconds`; each writer waits for its previous append. */
async function appendFor(store: PostgresEventStore, writers: number, seconds: number): Promise<{ events: number; elapsed: number; samples: number[] }> {
  const deadline = performance.now() + seconds * 1000;
  const samples: number[] = [];
  const started = performance.now();
  await Promise.all(
    Array.from({ length: writers }, async (_, writer) => {
      const streamId = `bench-${writer}-${randomUUID()}`;
      let version = -1;
      while (performance.now() < deadline) {
        const before = performance.now();
        const result = await store.append(streamId, [deposit(samples.length)], {
          expectedVersion: version === -1 ? 'no_stream' : version,
          metadata,
        });
        samples.push(performance.now() - before);
        version = result.nextExpectedVersion;
      }
    }),
  );
  return { events: samples.length, elapsed: (performance.now() - started) / 1000, samples };
}

async function logHead(pool: Pool): Promise<LogPosition> {
  const { rows } = await pool.query<{ transaction_id: string; global_position: string }>(
    `select transaction_id::text as transaction_id, global_position from events order by transaction_id desc, global_position desc limit 1`,
  );
  const row = rows[0];
  return row ? { transactionId: BigInt(row.transaction_id), globalPosition: BigInt(row.global_position) } : START_OF_LOG;
}

async function main(): Promise<void> {
  const base = new URL(process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/alertops');
  base.pathname = `/alertops_bench_${Date.now().toString(36)}_${randomBytes(3).toString('hex')}`;
  const databaseUrl = base.toString();
  const results: Measurement[] = [];
  const log = (line: string) => process.stdout.write(`${line}\n`);

  await ensureDatabaseExists(databaseUrl);
  const pool = createPool(databaseUrl, { max: CONCURRENT_WRITERS + 2, applicationName: 'alertops-bench' });
  try {
    await migrate(pool);
    await pool.query('create table bench_balances (account_id text primary key, balance bigint not null, deposits integer not null)');
    const store = new PostgresEventStore(pool);
    const { rows: versionRows } = await pool.query<{ server_version: string }>('show server_version');
    log(`benchmarking against ${redactUrl(databaseUrl)} (PostgreSQL ${versionRows[0]!.server_version})`);

    await appendFor(store, 1, 0.5);

    const sequential = await appendFor(store, 1, APPEND_SECONDS);
    results.push({ name: 'append, 1 writer, 1 event per append', events: sequential.events, seconds: sequential.elapsed, detail: latencies(sequential.samples) });
    log(`sequential appends: ${sequential.events} in ${sequential.elapsed.toFixed(1)} s`);

    const concurrent = await appendFor(store, CONCURRENT_WRITERS, APPEND_SECONDS);
    results.push({
      name: `append, ${CONCURRENT_WRITERS} concurrent writers, 1 event per append`,
      events: concurrent.events,
      seconds: concurrent.elapsed,
      detail: latencies(concurrent.samples),
    });
    log(`concurrent appends: ${concurrent.events} in ${concurrent.elapsed.toFixed(1)} s`);

    const seedStarted = performance.now();
    for (let appended = 0; appended < SEED_EVENTS; appended += SEED_BATCH) {
      const events = Array.from({ length: Math.min(SEED_BATCH, SEED_EVENTS - appended) }, (_, index) => deposit(appended + index));
      await store.append(`seed-${appended / SEED_BATCH}`, events, { expectedVersion: 'no_stream', metadata });
    }
    const seedSeconds = (performance.now() - seedStarted) / 1000;
    results.push({ name: `append, 1 writer, ${SEED_BATCH} events per append`, events: SEED_EVENTS, seconds: seedSeconds, detail: 'one round trip per append' });
    log(`batched appends: ${SEED_EVENTS} in ${seedSeconds.toFixed(1)} s`);

    const { rows: countRows } = await pool.query<{ count: string }>('select count(*) from events');
    const logSize = Number(countRows[0]!.count);

    const readStarted = performance.now();
    let read = 0;
    let after = START_OF_LOG;
    for (;;) {
      const page = await store.readAll({ after, maxCount: READ_BATCH });
      if (page.length === 0) break;
      read += page.length;
      after = page.at(-1)!.position;
    }
    const readSeconds = (performance.now() - readStarted) / 1000;
    if (read !== logSize) throw new Error(`readAll returned ${read} events of ${logSize}`);
    results.push({ name: 'readAll, whole log', events: read, seconds: readSeconds, detail: `pages of ${READ_BATCH}, gap-safe` });
    log(`readAll: ${read} in ${readSeconds.toFixed(1)} s`);

    await pool.query(`truncate bench_balances; delete from subscription_checkpoints where subscription_name = $1`, [balancesProjection.name]);
    const head = await logHead(pool);
    const runner = new SubscriptionRunner(readModelSubscription([balancesProjection], { name: balancesProjection.name }), {
      databaseUrl,
      eventStore: store,
      catalog,
      logger: createLogger('silent'),
      batchSize: REBUILD_BATCH,
      idlePollMs: 20,
    });
    const rebuildStarted = performance.now();
    runner.start();
    try {
      for (;;) {
        const [status] = await projectionStatus({ pool, eventStore: store }, [balancesProjection.name]);
        if (status && comparePositions(status.checkpoint, head) >= 0) break;
        const failure = runner.status().lastError;
        if (failure) throw new Error(`rebuild failed: ${failure}`);
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    } finally {
      await runner.stop();
    }
    const rebuildSeconds = (performance.now() - rebuildStarted) / 1000;
    const { rows: sumRows } = await pool.query<{ deposits: string }>('select sum(deposits) as deposits from bench_balances');
    if (Number(sumRows[0]!.deposits) !== logSize) throw new Error(`rebuild applied ${sumRows[0]!.deposits} of ${logSize} events`);
    results.push({
      name: 'projection rebuild (one upsert per event)',
      events: logSize,
      seconds: rebuildSeconds,
      detail: `batches of ${REBUILD_BATCH}, checkpoint in each batch's transaction`,
    });
    log(`rebuild: ${logSize} in ${rebuildSeconds.toFixed(1)} s`);

    const verifyStarted = performance.now();
    const chains = await verifyHashChains(pool);
    const verifySeconds = (performance.now() - verifyStarted) / 1000;
    if (chains.broken.length > 0) throw new Error(`hash chains broken: ${JSON.stringify(chains.broken.slice(0, 3))}`);
    results.push({ name: 'hash-chain verification (audit verify)', events: chains.events, seconds: verifySeconds, detail: `${chains.streams} streams, recomputed in SQL` });
    log(`verify: ${chains.events} in ${verifySeconds.toFixed(1)} s`);

    writeResults(results, versionRows[0]!.server_version);
  } finally {
    await pool.end();
    await dropDatabase(databaseUrl);
  }
}

function writeResults(results: Measurement[], postgresVersion: string): void {
  const rate = (measurement: Measurement) => Math.round(measurement.events / measurement.seconds).toLocaleString('en-US');
  const lines = [
    '## Event store',
    '',
    `Run with \`npm run bench\` on ${new Date().toISOString()}. Each run uses a fresh database, dropped afterwards.`,
    '',
    ...machineTable(postgresVersion),
    '',
    '| measurement | events | seconds | events/s | notes |',
    '|---|---:|---:|---:|---|',
    ...results.map(
      (measurement) =>
        `| ${measurement.name} | ${measurement.events.toLocaleString('en-US')} | ${measurement.seconds.toFixed(2)} | ${rate(measurement)} | ${measurement.detail} |`,
    ),
    '',
    'Every append writes the per-stream hash chain and checks the expected version in the same round trip.',
    'PostgreSQL runs on the same machine with its default settings (synchronous commit); other work on the machine',
    'shows in the load average. Compare runs on the same machine only.',
    '',
  ];
  writeResultsSection(RESULTS_FILE, 'event-store', lines.join('\n'));
  process.stdout.write(`\n${lines.join('\n')}\nwritten to ${RESULTS_FILE}\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(`bench failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
