import { randomUUID } from 'node:crypto';
import { reply, serveOrchestrator } from './child-process.js';
import { type AppendMeasurement, AppendRequest, type AppendStoreName } from './protocol.js';
import { distribution } from './stats.js';

/*
 * Single-event appends against one event store, in a process of its own: Emmett's PostgreSQL driver sets
 * process-wide pg type parsers, so the two stores never share a process. Each writer appends to a stream of its
 * own with the version it last wrote as the expected version (optimistic concurrency checked on every append).
 */

/** Appends the next event of a writer's stream; the first call of each writer creates the stream. */
type AppendNext = (streamId: string, index: number) => Promise<void>;

interface StoreUnderTest {
  writerFor(): AppendNext;
  close(): Promise<void>;
}

function deposit(index: number) {
  return { type: 'Deposited', data: { accountId: `account-${index % 1000}`, amount: 1 + (index % 97) } };
}

async function openAlertOps(databaseUrl: string, maxWriters: number): Promise<StoreUnderTest> {
  const { createPool } = await import('../../src/infra/postgres.js');
  const { migrate } = await import('../../src/infra/migrate.js');
  const { PostgresEventStore } = await import('../../src/eventstore/postgres.js');
  const pool = createPool(databaseUrl, { max: maxWriters + 2, applicationName: 'alertops-append-bench' });
  await migrate(pool);
  const store = new PostgresEventStore(pool);
  const metadata = { actor: 'system:bench', correlationId: randomUUID(), causationId: null, teamId: null } as const;
  return {
    writerFor() {
      let version: number | null = null;
      return async (streamId, index) => {
        const result = await store.append(streamId, [deposit(index)], { expectedVersion: version ?? 'no_stream', metadata });
        version = result.nextExpectedVersion;
      };
    },
    close: () => pool.end(),
  };
}

async function openEmmett(databaseUrl: string): Promise<StoreUnderTest> {
  const { getPostgreSQLEventStore } = await import('@event-driven-io/emmett-postgresql');
  const { STREAM_DOES_NOT_EXIST } = await import('@event-driven-io/emmett');
  const store = getPostgreSQLEventStore(databaseUrl);
  return {
    writerFor() {
      let version: bigint | null = null;
      return async (streamId, index) => {
        const result = await store.appendToStream(streamId, [deposit(index)], { expectedStreamVersion: version ?? STREAM_DOES_NOT_EXIST });
        version = result.nextExpectedStreamVersion;
      };
    },
    close: () => store.close(),
  };
}

async function appendFor(store: StoreUnderTest, writers: number, seconds: number): Promise<AppendMeasurement> {
  const deadline = performance.now() + seconds * 1000;
  const latencies: number[] = [];
  const started = performance.now();
  await Promise.all(
    Array.from({ length: writers }, async () => {
      const append = store.writerFor();
      const streamId = `bench-${randomUUID()}`;
      while (performance.now() < deadline) {
        const before = performance.now();
        await append(streamId, latencies.length);
        latencies.push(performance.now() - before);
      }
    }),
  );
  const elapsed = (performance.now() - started) / 1000;
  const { p50, p99 } = distribution(latencies);
  return { writers, appends: latencies.length, seconds: elapsed, latencyP50Ms: p50 ?? 0, latencyP99Ms: p99 ?? 0 };
}

async function measure(store: AppendStoreName, request: AppendRequest): Promise<void> {
  const maxWriters = Math.max(...request.writerCounts);
  const underTest = store === 'alertops' ? await openAlertOps(request.databaseUrl, maxWriters) : await openEmmett(request.databaseUrl);
  try {
    // The warm-up also lets Emmett create its schema, which it does on first use.
    if (request.warmupSeconds > 0) await appendFor(underTest, maxWriters, request.warmupSeconds);
    const measurements: AppendMeasurement[] = [];
    for (const writers of request.writerCounts) measurements.push(await appendFor(underTest, writers, request.seconds));
    reply({ type: 'measured', measurements });
  } finally {
    await underTest.close();
  }
}

serveOrchestrator(AppendRequest, (request) => measure(request.store, request));
