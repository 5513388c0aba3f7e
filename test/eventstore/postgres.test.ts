import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { z } from 'zod';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EventCatalog, UnknownEventError } from '../../src/eventstore/catalog.js';
import { PostgresEventStore } from '../../src/eventstore/postgres.js';
import { type EventMetadata, START_OF_LOG } from '../../src/eventstore/types.js';
import { verifyHashChains } from '../../src/eventstore/verify.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { waitFor } from '../support/wait.js';
import { eventStoreContract } from './event-store.contract.js';

eventStoreContract('PostgreSQL', async () => {
  const database = await createTestDatabase();
  return { store: new PostgresEventStore(database.pool), close: () => database.drop() };
});

const metadata: EventMetadata = { actor: 'system:test', correlationId: randomUUID(), causationId: null, teamId: null };

describe('PostgreSQL event store', () => {
  let database: TestDatabase;
  let store: PostgresEventStore;

  beforeAll(async () => {
    database = await createTestDatabase();
    store = new PostgresEventStore(database.pool);
  });
  afterAll(async () => {
    await database?.drop();
  });

  describe('gap safety', () => {
    it('a reader never passes an event that commits late below a position it has already seen', async () => {
      const seeded = await store.append(`seed-${randomUUID()}`, [{ type: 'Seeded', data: {} }], { expectedVersion: 'any', metadata });
      // Other databases' transactions hold the cluster-wide horizon back for a moment; let the seed through first.
      await waitFor('the seed event to be visible', async () => (await store.readAll({ after: START_OF_LOG, maxCount: 100 })).length === 1);

      const slowWriter = new pg.Client({ connectionString: database.url });
      await slowWriter.connect();
      try {
        await slowWriter.query('begin');
        const slowStream = `slow-${randomUUID()}`;
        const slow = await slowWriter.query<{ global_position: string }>(
          `select global_position from append_events($1, 'no_stream', $2)`,
          [slowStream, JSON.stringify([{ eventId: randomUUID(), eventType: 'Slow', schemaVersion: 1, data: {}, metadata }])],
        );

        const fastStream = `fast-${randomUUID()}`;
        const fast = await store.append(fastStream, [{ type: 'Fast', data: {} }], { expectedVersion: 'no_stream', metadata });
        // The trap: the committed event holds the higher sequence number while the lower one is still in flight.
        expect(fast.position.globalPosition).toBeGreaterThan(BigInt(slow.rows[0]!.global_position));

        const whileOpen = await store.readAll({ after: START_OF_LOG, maxCount: 100 });
        expect(whileOpen.map((event) => event.type)).toEqual(['Seeded']);
        const checkpoint = whileOpen.at(-1)!.position;
        expect(checkpoint).toEqual(seeded.position);
        expect(await store.readAll({ after: checkpoint, maxCount: 100 })).toEqual([]);

        await slowWriter.query('commit');

        const afterCommit = await waitFor('both events once the slow one committed', async () => {
          const events = await store.readAll({ after: checkpoint, maxCount: 100 });
          return events.length === 2 && events;
        });
        expect(afterCommit.map((event) => event.streamId)).toEqual([slowStream, fastStream]);
        expect(afterCommit[0]!.position.globalPosition).toBe(BigInt(slow.rows[0]!.global_position));
        expect(afterCommit[1]!.position).toEqual(fast.position);
      } finally {
        await slowWriter.query('rollback').catch(() => undefined);
        await slowWriter.end();
      }
    });

    it('a rolled-back append leaves no trace and does not hold readers back once it is gone', async () => {
      const { rows } = await database.pool.query<{ count: string }>('select count(*) from events');
      const head = await waitFor('every committed event to be visible', async () => {
        const before = await store.readAll({ after: START_OF_LOG, maxCount: 10_000 });
        return before.length === Number(rows[0]!.count) && (before.at(-1)?.position ?? START_OF_LOG);
      });
      const abandoned = new pg.Client({ connectionString: database.url });
      await abandoned.connect();
      try {
        await abandoned.query('begin');
        await abandoned.query(`select * from append_events($1, 'any', $2)`, [
          `abandoned-${randomUUID()}`,
          JSON.stringify([{ eventId: randomUUID(), eventType: 'Abandoned', schemaVersion: 1, data: {}, metadata }]),
        ]);
        const committed = await store.append(`kept-${randomUUID()}`, [{ type: 'Kept', data: {} }], { expectedVersion: 'any', metadata });
        expect(await store.readAll({ after: head, maxCount: 100 })).toEqual([]);

        await abandoned.query('rollback');
        const visible = await waitFor('the kept event', async () => {
          const events = await store.readAll({ after: head, maxCount: 100 });
          return events.length > 0 && events;
        });
        expect(visible.map((event) => event.type)).toEqual(['Kept']);
        expect(visible[0]!.position).toEqual(committed.position);
      } finally {
        await abandoned.end();
      }
    });
  });

  describe('hash chain', () => {
    async function appendChain(events: number): Promise<string> {
      const streamId = `chain-${randomUUID()}`;
      await store.append(
        streamId,
        Array.from({ length: events }, (_, index) => ({ type: 'Linked', data: { index } })),
        { expectedVersion: 'no_stream', metadata },
      );
      return streamId;
    }

    async function brokenLinksOf(streamId: string) {
      const report = await verifyHashChains(database.pool);
      return report.broken.filter((link) => link.streamId === streamId);
    }

    it('every stored prev_hash is the hash of the previous event of its stream, recomputable in SQL', async () => {
      const streamId = await appendChain(4);
      await store.append(streamId, [{ type: 'Linked', data: { index: 4 } }], { expectedVersion: 3, metadata });
      const { rows } = await database.pool.query<{ stream_version: string; prev_hash: string | null; hash: string; recomputed: string }>(
        `select stream_version, prev_hash, hash,
                event_hash(prev_hash, stream_id, stream_version, event_id, event_type, schema_version, data, metadata, recorded_at) as recomputed
           from events where stream_id = $1 order by stream_version`,
        [streamId],
      );
      expect(rows).toHaveLength(5);
      rows.forEach((row, index) => {
        expect(row.prev_hash).toBe(index === 0 ? null : rows[index - 1]!.hash);
        expect(row.recomputed).toBe(row.hash);
      });
      const report = await verifyHashChains(database.pool);
      expect(report.broken).toEqual([]);
      expect(report.events).toBeGreaterThanOrEqual(5);
      expect(report.streams).toBeGreaterThanOrEqual(1);
    });

    it('an event whose data was edited after the fact is reported', async () => {
      const streamId = await appendChain(3);
      await database.pool.query(
        `update events set data = jsonb_set(data, '{index}', '42') where stream_id = $1 and stream_version = 1`,
        [streamId],
      );
      expect(await brokenLinksOf(streamId)).toEqual([{ streamId, streamVersion: 1, reason: "hash does not match the event's content" }]);
    });

    it('an edit that also rewrites the edited event’s hash breaks the link to its successor', async () => {
      const streamId = await appendChain(3);
      await database.pool.query(
        `update events set data = '{"index": 42}',
                hash = event_hash(prev_hash, stream_id, stream_version, event_id, event_type, schema_version, '{"index": 42}', metadata, recorded_at)
          where stream_id = $1 and stream_version = 1`,
        [streamId],
      );
      expect(await brokenLinksOf(streamId)).toEqual([
        { streamId, streamVersion: 2, reason: 'prev_hash does not match the hash of the previous event' },
      ]);
    });

    it('a deleted middle event is reported at its successor', async () => {
      const streamId = await appendChain(4);
      await database.pool.query('delete from events where stream_id = $1 and stream_version = 1', [streamId]);
      expect(await brokenLinksOf(streamId)).toEqual([{ streamId, streamVersion: 2, reason: 'events 1..1 are missing' }]);
    });

    it('a deleted last event is reported at the stream head', async () => {
      const streamId = await appendChain(3);
      await database.pool.query('delete from events where stream_id = $1 and stream_version = 2', [streamId]);
      expect(await brokenLinksOf(streamId)).toEqual([
        { streamId, streamVersion: 2, reason: 'the stream head is at 2 but its last event is 1' },
      ]);
    });
  });

  describe('schema versions', () => {
    const catalog = new EventCatalog().register({
      PriceSet: {
        schema: z.object({ amountCents: z.number().int(), currency: z.string().length(3) }),
        version: 3,
        upcasters: {
          1: (data) => {
            const { price } = z.object({ price: z.number() }).parse(data);
            return { amount: price, currency: 'EUR' };
          },
          2: (data) => {
            const { amount, currency } = z.object({ amount: z.number(), currency: z.string() }).parse(data);
            return { amountCents: Math.round(amount * 100), currency };
          },
        },
      },
    });

    it('an event stored at version 1 is read as version 3 through the upcaster chain; the stored row is untouched', async () => {
      const streamId = `price-${randomUUID()}`;
      await store.append(
        streamId,
        [
          { type: 'PriceSet', data: { price: 12.34 }, schemaVersion: 1 },
          { type: 'PriceSet', data: { amount: 5, currency: 'CHF' }, schemaVersion: 2 },
          { type: 'PriceSet', data: { amountCents: 99, currency: 'USD' }, schemaVersion: catalog.schemaVersionOf('PriceSet') },
        ],
        { expectedVersion: 'no_stream', metadata },
      );
      const stored = await store.readStream(streamId);
      expect(stored.map((event) => catalog.parse(event).data)).toEqual([
        { amountCents: 1234, currency: 'EUR' },
        { amountCents: 500, currency: 'CHF' },
        { amountCents: 99, currency: 'USD' },
      ]);
      const { rows } = await database.pool.query('select schema_version, data from events where stream_id = $1 order by stream_version', [
        streamId,
      ]);
      expect(rows[0]).toEqual({ schema_version: 1, data: { price: 12.34 } });
      expect((await verifyHashChains(database.pool)).broken.filter((link) => link.streamId === streamId)).toEqual([]);
    });

    it('an event written by newer code (schema version above the catalog’s) is refused, not guessed at', async () => {
      const streamId = `price-${randomUUID()}`;
      await store.append(streamId, [{ type: 'PriceSet', data: { amountCents: 1, currency: 'EUR', tax: 1 }, schemaVersion: 4 }], {
        expectedVersion: 'no_stream',
        metadata,
      });
      const [stored] = await store.readStream(streamId);
      expect(() => catalog.parse(stored!)).toThrow(UnknownEventError);
      expect(() => catalog.parse(stored!)).toThrow(/schema version 4, newer than this code/);
    });

    it('an old shape without an upcaster for its version, or one that no longer validates, is refused', () => {
      expect(() => catalog.parse({ type: 'PriceSet', schemaVersion: 0, data: {}, eventId: randomUUID() })).toThrow(/no upcaster/);
      expect(() => catalog.parse({ type: 'PriceSet', schemaVersion: 2, data: { amount: 'x', currency: 'EUR' }, eventId: randomUUID() })).toThrow();
      expect(() => catalog.parse({ type: 'PriceSet', schemaVersion: 3, data: { amountCents: 1 }, eventId: randomUUID() })).toThrow(
        /does not match its schema/,
      );
      expect(() => catalog.parse({ type: 'PriceChanged', schemaVersion: 1, data: {}, eventId: randomUUID() })).toThrow(/unknown event type/);
    });
  });
});
