import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import type { Kysely } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCatalog } from '../src/catalog.js';
import { aggregateStream } from '../src/commands/handle-command.js';
import { refreshSession, type Session, type SessionCommandDependencies } from '../src/commands/sessions.js';
import { registerUser } from '../src/commands/users.js';
import { sessionDecider } from '../src/domain/session/decider.js';
import type { SessionEvent } from '../src/domain/session/events.js';
import { sessionStreamId } from '../src/domain/session/identity.js';
import { PostgresEventStore } from '../src/eventstore/postgres.js';
import { type EventStore, formatPosition, type LogPosition } from '../src/eventstore/types.js';
import { createKysely } from '../src/infra/kysely.js';
import { createLogger } from '../src/infra/logger.js';
import { newTokenSecret, readSecretToken } from '../src/infra/secret-tokens.js';
import { ProjectionProgress } from '../src/projections/progress.js';
import type { ReadModels } from '../src/projections/read-models.js';
import { readModelSubscription } from '../src/projections/read-model-subscription.js';
import { SubscriptionRunner } from '../src/projections/runner.js';
import { sessionsProjection } from '../src/projections/sessions.js';
import { createTestDatabase, type TestDatabase } from './support/database.js';

const lifetimes = { refreshTokenTtlDays: 30, sessionMaxDays: 90 };
const EARLIER_REFRESHES = 2000;
const SAMPLES = 15;
const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

/** The event store, counting the events each stream read returns. */
function countingReads(store: EventStore): { store: EventStore; eventsRead: number[] } {
  const eventsRead: number[] = [];
  const counting = Object.create(store) as EventStore;
  counting.readStream = async (...args) => {
    const events = await store.readStream(...args);
    eventsRead.push(events.length);
    return events;
  };
  return { eventsRead, store: counting };
}

describe('the cost of a refresh does not grow with the sessions of an account', () => {
  let database: TestDatabase;
  let db: Kysely<ReadModels>;
  let progress: ProjectionProgress;
  let runner: SubscriptionRunner;
  let reads: ReturnType<typeof countingReads>;
  let deps: SessionCommandDependencies;
  const clock = { now: new Date('2026-03-01T00:00:00.000Z') };
  const tick = () => (clock.now = new Date(clock.now.getTime() + 1000));

  beforeAll(async () => {
    database = await createTestDatabase();
    const catalog = createCatalog();
    reads = countingReads(new PostgresEventStore(database.pool));
    db = createKysely<ReadModels>(database.pool);
    deps = { eventStore: reads.store, catalog, db };
    runner = new SubscriptionRunner(readModelSubscription([sessionsProjection], { name: sessionsProjection.name }), {
      databaseUrl: database.url,
      eventStore: reads.store,
      catalog,
      logger: createLogger('silent'),
      batchSize: 1000,
    });
    runner.start();
    progress = new ProjectionProgress(database.pool, database.url, [sessionsProjection.name], 10);
  });
  afterAll(async () => {
    await progress?.close();
    await runner?.stop();
    await database?.drop();
  });

  async function visible(position: LogPosition | null): Promise<void> {
    // Generous: the log reader waits for the oldest transaction open anywhere in the cluster (other tests' too).
    if (!position || (await progress.waitFor(position, 30_000))) return;
    const { checkpoint, active, lastError } = runner.status();
    throw new Error(`the read model did not reach ${formatPosition(position)} (at ${formatPosition(checkpoint)}, active ${active}, last error ${lastError})`);
  }

  /** One refresh through the command layer, timed; then (untimed) until the read model knows the new token. */
  async function timedRefresh(session: Session): Promise<{ session: Session; ms: number; eventsRead: number }> {
    const readsBefore = reads.eventsRead.length;
    const started = performance.now();
    const next = await refreshSession(deps, { refreshToken: session.refreshToken, now: tick(), lifetimes });
    const ms = performance.now() - started;
    await visible(next.position);
    return { session: next, ms, eventsRead: reads.eventsRead.slice(readsBefore).reduce((sum, count) => sum + count, 0) };
  }

  /**
   * A session's earlier history, decided by the session's own decider and appended 500 events at a time (the
   * history is what matters here, not how long it took to write). Returns the session as it stands afterwards.
   */
  async function rotateMany(session: Session, rotations: number): Promise<Session> {
    const streamId = sessionStreamId(session.sessionId);
    let { state, revision } = await aggregateStream({ eventStore: reads.store, catalog: deps.catalog }, sessionDecider, streamId);
    let token = { secret: session.refreshToken.split('.')[1]!, hash: readSecretToken(session.refreshToken)!.hash };
    let position: LogPosition | null = null;
    for (let written = 0; written < rotations; ) {
      const batch: SessionEvent[] = [];
      for (; batch.length < 500 && written < rotations; written++) {
        if (state.status !== 'active') throw new Error('the session ended while rotating');
        const next = newTokenSecret();
        const [event] = sessionDecider.decide(
          {
            type: 'RotateSessionToken',
            presented: { tokenId: state.tokenId, tokenHash: token.hash, generation: state.generation },
            next: { tokenHash: next.hash, expiresAt: new Date(tick().getTime() + 30 * 86_400_000) },
            sessionsValidAfter: null,
            now: clock.now,
          },
          state,
        );
        batch.push(event!);
        state = sessionDecider.evolve(state, event!);
        token = next;
      }
      const appended = await reads.store.append(
        streamId,
        batch.map((event) => ({ type: event.type, data: event.data })),
        { expectedVersion: revision, metadata: { actor: `user:${session.userId}`, correlationId: randomUUID(), causationId: null, teamId: null } },
      );
      revision = appended.nextExpectedVersion;
      position = appended.position;
    }
    if (state.status !== 'active') throw new Error('the session ended while rotating');
    await visible(position);
    return { ...session, refreshToken: `${state.tokenId}.${token.secret}`, position };
  }

  it(`answers an account's refresh after ${EARLIER_REFRESHES} earlier ones within 2× the time of a new account's first, reading one event`, async () => {
    const register = async (name: string) => {
      const session = await registerUser(deps, { email: `${name}@example.com`, password: 'correct horse battery', name, now: tick(), lifetimes });
      await visible(session.position);
      return session;
    };
    // All of the long-lived account's refreshes rotate one session: the worst case, one stream holding them all.
    let longLived: Session = await rotateMany(await register('long-lived'), EARLIER_REFRESHES);
    let fresh: Session = await register('newcomer');
    // Warm-up (connections, JIT) before anything is timed.
    for (let n = 0; n < 5; n++) await timedRefresh(await register(`warm-up-${n}`));

    // Interleaved, so that whatever else the machine is doing weighs on both alike.
    const early: number[] = [];
    const late: number[] = [];
    const lateEventsRead: number[] = [];
    for (let sample = 0; sample < SAMPLES; sample++) {
      const first = await timedRefresh(fresh);
      fresh = first.session;
      early.push(first.ms);
      const after = await timedRefresh(longLived);
      longLived = after.session;
      late.push(after.ms);
      lateEventsRead.push(after.eventsRead);
    }

    const ratio = median(late) / median(early);
    console.log(
      `refresh cost: an account's refreshes 1..${SAMPLES} median ${median(early).toFixed(2)} ms, refreshes ${EARLIER_REFRESHES + 1}..${EARLIER_REFRESHES + SAMPLES} median ${median(late).toFixed(2)} ms (×${ratio.toFixed(2)})`,
    );
    expect(ratio).toBeLessThan(2);
    expect(lateEventsRead.every((count) => count <= 2)).toBe(true);
    const { rows } = await database.pool.query<{ events: number }>('select count(*)::int as events from events where stream_id = $1', [
      `user-${longLived.userId}`,
    ]);
    expect(rows[0]!.events).toBe(1);
  }, 120_000);

  it('refuses a forged or unknown refresh token without reading any stream', async () => {
    const account = await registerUser(deps, { email: 'forged@example.com', password: 'correct horse battery', name: 'Forged', now: tick(), lifetimes });
    await visible(account.position);
    const tokenId = account.refreshToken.split('.')[0]!;
    const readsBefore = reads.eventsRead.length;
    for (const forged of [`${tokenId}.${'A'.repeat(43)}`, `${randomUUID()}.${'B'.repeat(43)}`, 'not-a-token']) {
      await expect(refreshSession(deps, { refreshToken: forged, now: tick(), lifetimes })).rejects.toMatchObject({ kind: 'unauthenticated' });
    }
    expect(reads.eventsRead.length).toBe(readsBefore);
    const real = await timedRefresh(account);
    expect(real.eventsRead).toBeGreaterThan(0);
  });
});
