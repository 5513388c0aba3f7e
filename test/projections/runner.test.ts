import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { DomainEvent } from '../../src/domain/decider.js';
import { EventCatalog } from '../../src/eventstore/catalog.js';
import { PostgresEventStore } from '../../src/eventstore/postgres.js';
import { type AppendResult, comparePositions, type EventMetadata, formatPosition, type NewEvent, START_OF_LOG } from '../../src/eventstore/types.js';
import { createLogger } from '../../src/infra/logger.js';
import { defineProjection } from '../../src/projections/projection.js';
import { ProjectionProgress } from '../../src/projections/progress.js';
import { rebuildReadModels } from '../../src/projections/rebuild.js';
import { readModelSubscription } from '../../src/projections/read-model-subscription.js';
import { type Subscription, SubscriptionRunner } from '../../src/projections/runner.js';
import { projectionStatus } from '../../src/projections/status.js';
import { verifyReadModel } from '../../src/projections/verify.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { waitFor } from '../support/wait.js';

interface LedgerTables {
  ledger_balances: { account_id: string; balance: string; deposits: number; last_position: string };
  ledger_entries: { event_id: string; account_id: string; amount: number; recorded_at: Date };
}

type LedgerEvent = DomainEvent<'Deposited', { accountId: string; amount: number }>;

const catalog = new EventCatalog().register({
  Deposited: { schema: z.object({ accountId: z.string(), amount: z.number().int() }), version: 1 },
  Ignored: { schema: z.object({}), version: 1 },
});

/** Deliberately not idempotent (balance += amount): applying a batch twice shows up in the sums. */
const ledgerProjection = defineProjection<LedgerTables, LedgerEvent>()({
  name: 'ledger',
  keys: { ledger_balances: ['account_id'], ledger_entries: ['event_id'] },
  handlers: {
    Deposited({ ledger_balances, ledger_entries }, event) {
      const { accountId, amount } = event.data;
      const balance = ledger_balances.get({ account_id: accountId });
      ledger_balances.put({
        account_id: accountId,
        balance: String(Number(balance?.balance ?? 0) + amount),
        deposits: (balance?.deposits ?? 0) + 1,
        last_position: formatPosition(event.position),
      });
      ledger_entries.put({ event_id: event.eventId, account_id: accountId, amount, recorded_at: event.recordedAt });
    },
  },
});
const ledgerSubscription = () => readModelSubscription([ledgerProjection], { name: 'ledger' });

const metadata: EventMetadata = { actor: 'system:test', correlationId: randomUUID(), causationId: null, teamId: null };
const logger = createLogger('silent');

describe('subscription runner', () => {
  let database: TestDatabase;
  let store: PostgresEventStore;
  let progress: ProjectionProgress;
  const runners: SubscriptionRunner[] = [];
  let expectedTotal = 0;
  let expectedEntries = 0;
  let head: AppendResult['position'] = START_OF_LOG;

  function runner(subscription: Subscription = ledgerSubscription(), batchSize = 25): SubscriptionRunner {
    const created = new SubscriptionRunner(subscription, {
      databaseUrl: database.url,
      eventStore: store,
      catalog,
      logger,
      batchSize,
      idlePollMs: 50,
      standbyPollMs: 50,
    });
    runners.push(created);
    return created;
  }

  async function deposit(count: number): Promise<void> {
    for (let index = 0; index < count; index++) {
      const accountId = `account-${index % 7}`;
      const amount = 1 + ((index * 37) % 101);
      const events: NewEvent[] = [{ type: 'Deposited', data: { accountId, amount } }];
      // Events the projection does not handle still move its checkpoint.
      if (index % 10 === 0) events.push({ type: 'Ignored', data: {} });
      const appended = await store.append(`ledger-${accountId}`, events, { expectedVersion: 'any', metadata });
      head = appended.position;
      expectedTotal += amount;
      expectedEntries++;
    }
  }

  async function ledger() {
    const balances = await database.pool.query('select account_id, balance, deposits, last_position from ledger_balances order by account_id');
    const entries = await database.pool.query('select event_id, account_id, amount, recorded_at from ledger_entries order by event_id');
    return { balances: balances.rows, entries: entries.rows };
  }

  /** Every index of the ledger's tables, with its definition and the constraint it backs. */
  async function ledgerLayout() {
    const { rows } = await database.pool.query<{ name: string; definition: string; constraint: string | null }>(
      `select c.relname as name, pg_get_indexdef(i.indexrelid) as definition, k.conname as constraint
         from pg_index i join pg_class c on c.oid = i.indexrelid left join pg_constraint k on k.conindid = i.indexrelid
        where i.indrelid in ('ledger_balances'::regclass, 'ledger_entries'::regclass)
        order by c.relname`,
    );
    return rows;
  }

  async function totals(): Promise<{ total: number; deposits: number; entries: number; entryTotal: number }> {
    const { rows } = await database.pool.query<{ total: string | null; deposits: string | null; entries: string; entry_total: string | null }>(
      `select (select sum(balance) from ledger_balances) as total, (select sum(deposits) from ledger_balances) as deposits,
              (select count(*) from ledger_entries) as entries, (select sum(amount) from ledger_entries) as entry_total`,
    );
    const row = rows[0]!;
    return { total: Number(row.total ?? 0), deposits: Number(row.deposits ?? 0), entries: Number(row.entries), entryTotal: Number(row.entry_total ?? 0) };
  }

  async function caughtUp(): Promise<void> {
    await waitFor(
      `ledger to reach ${formatPosition(head)}`,
      async () => {
        const [status] = await projectionStatus({ pool: database.pool, eventStore: store }, ['ledger']);
        return status && comparePositions(status.checkpoint, head) >= 0;
      },
      { timeoutMs: 20_000 },
    );
  }

  async function expectExactlyOnce(): Promise<void> {
    expect(await totals()).toEqual({ total: expectedTotal, deposits: expectedEntries, entries: expectedEntries, entryTotal: expectedTotal });
  }

  beforeAll(async () => {
    database = await createTestDatabase();
    store = new PostgresEventStore(database.pool);
    await database.pool.query(`
      create table ledger_balances (account_id text primary key, balance bigint not null, deposits integer not null, last_position text not null);
      create table ledger_entries (event_id uuid primary key, account_id text not null, amount integer not null, recorded_at timestamptz not null,
                                   constraint ledger_entries_once_per_time unique (event_id, recorded_at));
      create index ledger_entries_by_account on ledger_entries (account_id, recorded_at desc) where amount > 0;
    `);
    progress = new ProjectionProgress(database.pool, database.url, ['ledger'], 20);
  });

  beforeEach(async () => {
    // Each test starts from an empty read model; the log keeps every earlier test's events, replayed again.
    await database.pool.query(`truncate ledger_balances, ledger_entries; delete from subscription_checkpoints where subscription_name = 'ledger'`);
  });

  afterEach(async () => {
    await Promise.all(runners.splice(0).map((running) => running.stop()));
  });

  afterAll(async () => {
    await progress?.close();
    await database?.drop();
  });

  it('a rebuild replays the log beside the live read model and swaps in an identical one at the same checkpoint', async () => {
    await deposit(120);
    runner().start();
    await caughtUp();
    const first = await ledger();
    expect(first.entries).toHaveLength(expectedEntries);
    await expectExactlyOnce();
    await Promise.all(runners.splice(0).map((running) => running.stop()));
    const [before] = await projectionStatus({ pool: database.pool, eventStore: store }, ['ledger']);

    const layoutBefore = await ledgerLayout();
    expect(layoutBefore.map(({ name }) => name)).toEqual([
      'ledger_balances_pkey', 'ledger_entries_by_account', 'ledger_entries_once_per_time', 'ledger_entries_pkey',
    ]);

    const rebuilt = await rebuildReadModels({ pool: database.pool, eventStore: store, catalog }, [ledgerProjection], {
      subscription: 'ledger',
      batchSize: 7,
    });
    expect(rebuilt.replayed).toBe(rebuilt.total);
    expect(await ledger()).toEqual(first);
    // Built after the bulk of the log went in, under names of their own, then given the live ones' names.
    expect(await ledgerLayout()).toEqual(layoutBefore);
    const [after] = await projectionStatus({ pool: database.pool, eventStore: store }, ['ledger']);
    expect(after!.checkpoint).toEqual(before!.checkpoint);
    const { rows } = await database.pool.query(`select 1 from pg_tables where tablename like 'ledger%rebuild'`);
    expect(rows).toEqual([]);
  });

  it('readers never see an empty or half-built read model while a rebuild runs under a live runner', async () => {
    await deposit(200);
    runner().start();
    await caughtUp();
    const entriesBefore = expectedEntries;
    let rebuilding = true;
    const seen: number[] = [];
    const reading = (async () => {
      while (rebuilding) {
        const { rows } = await database.pool.query<{ count: string }>('select count(*) as count from ledger_entries');
        seen.push(Number(rows[0]!.count));
      }
    })();
    const depositing = deposit(50);
    await rebuildReadModels({ pool: database.pool, eventStore: store, catalog }, [ledgerProjection], { subscription: 'ledger', batchSize: 20 });
    await depositing;
    rebuilding = false;
    await reading;
    expect(seen.length).toBeGreaterThan(0);
    // Entries only ever grow: the live table until the switch, the rebuilt one (caught up to the same checkpoint) after.
    for (let index = 1; index < seen.length; index++) expect(seen[index]).toBeGreaterThanOrEqual(seen[index - 1]!);
    expect(Math.min(...seen)).toBeGreaterThanOrEqual(entriesBefore);
    await caughtUp();
    await expectExactlyOnce();
  });

  it('a batch that fails part-way is rolled back with its checkpoint and redone once: nothing lost, nothing doubled', async () => {
    await deposit(100);
    const inner = ledgerSubscription();
    let batches = 0;
    let failed = 0;
    const crashing: Subscription = {
      ...inner,
      async handleBatch(client, events) {
        batches++;
        await inner.handleBatch(client, events);
        // The statements above ran; the crash lands before the checkpoint moves.
        if (batches === 3 || batches === 5) {
          failed++;
          throw new Error(`crash in batch ${batches}`);
        }
      },
    };
    const crashingRunner = runner(crashing, 10);
    crashingRunner.start();
    await caughtUp();
    expect(failed).toBe(2);
    await expectExactlyOnce();
    expect(crashingRunner.status().lastError).toBeNull();
  });

  it('a checkpoint that fails to move takes its batch down with it', async () => {
    await deposit(60);
    // The database refuses every third checkpoint move: had the batch been committed apart from its
    // checkpoint, the retry would apply it a second time.
    await database.pool.query(`
      create sequence ledger_checkpoint_moves;
      create function refuse_every_third_checkpoint() returns trigger language plpgsql as $$
      begin
        if nextval('ledger_checkpoint_moves') % 3 = 0 then raise exception 'checkpoint store unavailable'; end if;
        return new;
      end $$;
      create trigger refuse_every_third_checkpoint before update on subscription_checkpoints
        for each row when (new.subscription_name = 'ledger') execute function refuse_every_third_checkpoint();
    `);
    try {
      runner(ledgerSubscription(), 10).start();
      await caughtUp();
      const { rows } = await database.pool.query<{ moves: string }>('select last_value as moves from ledger_checkpoint_moves');
      expect(Number(rows[0]!.moves)).toBeGreaterThanOrEqual(3);
      await expectExactlyOnce();
    } finally {
      await database.pool.query(`
        drop trigger refuse_every_third_checkpoint on subscription_checkpoints;
        drop function refuse_every_third_checkpoint();
        drop sequence ledger_checkpoint_moves;
      `);
    }
  });

  it('a runner whose connection is killed mid-batch reconnects and resumes from its checkpoint', async () => {
    await deposit(100);
    const inner = ledgerSubscription();
    let batches = 0;
    let killed = 0;
    const killedOnce: Subscription = {
      ...inner,
      async handleBatch(client, events) {
        batches++;
        await inner.handleBatch(client, events);
        if (batches === 4) {
          killed++;
          const { rows } = await client.query<{ pid: number }>('select pg_backend_pid() as pid');
          await database.pool.query('select pg_terminate_backend($1)', [rows[0]!.pid]);
          await client.query('select 1');
        }
      },
    };
    runner(killedOnce, 10).start();
    await caughtUp();
    expect(killed).toBe(1);
    expect(batches).toBeGreaterThan(4);
    await expectExactlyOnce();
  });

  it('two runners of one subscription: one is active, the other takes over when it stops', async () => {
    await deposit(30);
    const first = runner();
    first.start();
    await waitFor('the first runner to hold the subscription', () => first.status().active);
    const second = runner();
    second.start();
    await caughtUp();
    // Long enough for the standby to have tried the lock many times (standbyPollMs is 50).
    await waitFor('the second runner to have stayed on standby', async () => {
      const { rows } = await database.pool.query<{ count: string }>(
        `select count(*) from pg_stat_activity where application_name = 'alertops:ledger' and datname = current_database()`,
      );
      return Number(rows[0]!.count) === 2 && !second.status().active;
    });
    expect(first.status().active).toBe(true);
    expect(second.status().active).toBe(false);

    await first.stop();
    await waitFor('the second runner to take over', () => second.status().active);
    expect(first.status().active).toBe(false);
    await deposit(30);
    await caughtUp();
    await expectExactlyOnce();
  });

  it('ProjectionProgress.waitFor resolves once the checkpoint passes a position and reports false at its deadline', async () => {
    await deposit(5);
    const target = head;
    const started = Date.now();
    expect(await progress.waitFor(target, 300)).toBe(false);
    expect(Date.now() - started).toBeGreaterThanOrEqual(290);

    const waiting = progress.waitFor(target, 15_000);
    runner().start();
    expect(await waiting).toBe(true);
    const [status] = await projectionStatus({ pool: database.pool, eventStore: store }, ['ledger']);
    expect(comparePositions(status!.checkpoint, target)).toBeGreaterThanOrEqual(0);
    expect(await progress.waitFor(target, 5000)).toBe(true);
  });

  it('projectionStatus reports each checkpoint and its lag behind the head of the log', async () => {
    await deposit(12);
    const { rows } = await database.pool.query<{ count: string }>('select count(*) from events');
    // Lag counts what readers can see: a commit shows once every older transaction of the cluster has ended.
    const [behind, neverRun] = await waitFor('the whole log to be visible', async () => {
      const statuses = await projectionStatus({ pool: database.pool, eventStore: store }, ['ledger', 'never-run']);
      return statuses[0]!.lag === Number(rows[0]!.count) && statuses;
    });
    expect(behind).toMatchObject({ name: 'ledger', checkpoint: START_OF_LOG });
    expect(neverRun).toMatchObject({ name: 'never-run', checkpoint: START_OF_LOG, updatedAt: null, lag: Number(rows[0]!.count) });

    runner().start();
    await caughtUp();
    const [current] = await projectionStatus({ pool: database.pool, eventStore: store }, ['ledger']);
    expect(current!.lag).toBe(0);
    expect(current!.checkpoint).toEqual(head);
    expect(current!.updatedAt).toBeInstanceOf(Date);
  });

  it('verifyReadModel finds the live read model equal to a fresh replay, and reports a row edited behind its back', async () => {
    await deposit(20);
    runner().start();
    await caughtUp();
    const clean = await verifyReadModel({ pool: database.pool, eventStore: store, catalog }, ledgerProjection, { batchSize: 9, subscription: 'ledger' });
    expect(clean.differences).toEqual([]);
    expect(clean.replayedEvents).toBe(expectedEntries);
    expect(clean.checkpoint).toEqual(head);

    await Promise.all(runners.splice(0).map((running) => running.stop()));
    await database.pool.query(`update ledger_balances set balance = balance + 1 where account_id = 'account-3'`);
    await database.pool.query(`delete from ledger_entries where event_id = (select event_id from ledger_entries order by event_id limit 1)`);
    const tampered = await verifyReadModel({ pool: database.pool, eventStore: store, catalog }, ledgerProjection, { subscription: 'ledger' });
    expect(tampered.differences.map(({ table, missing, unexpected }) => ({ table, missing, unexpected }))).toEqual([
      { table: 'ledger_balances', missing: 1, unexpected: 1 },
      { table: 'ledger_entries', missing: 1, unexpected: 0 },
    ]);
    expect(tampered.differences[0]!.examples.unexpected).toEqual([expect.objectContaining({ account_id: 'account-3' })]);
    // The replay ran in temporary tables: the live read model is as it was left.
    const { rows } = await database.pool.query<{ count: string }>('select count(*) from ledger_entries');
    expect(Number(rows[0]!.count)).toBe(expectedEntries - 1);
  });
});
