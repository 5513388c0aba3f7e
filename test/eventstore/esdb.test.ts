import { createHash, randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { EventStoreDbEventStore } from '../../src/eventstore/esdb.js';
import { brokenLinks, eventHash, type HashedContent } from '../../src/eventstore/hash-chain.js';
import type { RecordedEvent } from '../../src/eventstore/types.js';
import { eventStoreContract } from './event-store.contract.js';

const esdbUrl = process.env.ESDB_URL;

describe.skipIf(!esdbUrl)('EventStoreDB adapter (ESDB_URL)', () => {
  eventStoreContract('EventStoreDB', async () => {
    const store = EventStoreDbEventStore.connect(esdbUrl!);
    return { store, close: () => store.close() };
  }, { rejectsDuplicateEventIds: false });

  it('each event carries a hash of its own content chained to its predecessor', async () => {
    const store = EventStoreDbEventStore.connect(esdbUrl!);
    try {
      const streamId = `chain-${randomUUID()}`;
      const metadata = { actor: 'system:test', correlationId: randomUUID(), causationId: null, teamId: null } as const;
      await store.append(streamId, [{ type: 'Linked', data: { index: 0 } }, { type: 'Linked', data: { index: 1 } }], {
        expectedVersion: 'no_stream',
        metadata,
      });
      await store.append(streamId, [{ type: 'Linked', data: { index: 2 } }], { expectedVersion: 1, metadata });
      expect(brokenLinks(await store.readStream(streamId))).toEqual([]);
    } finally {
      await store.close();
    }
  });
});

describe('EventStoreDB hash chain', () => {
  const recordedAt = new Date('2024-05-06T07:08:09.123Z');
  const content: HashedContent = {
    prevHash: null,
    streamId: 'alert-1',
    streamVersion: 0,
    eventId: '6f1c1f36-54a4-4a8e-9d0b-2b0a5f7f4c11',
    type: 'AlertTriggered',
    schemaVersion: 2,
    data: { summary: 'disk full', nested: { values: [1, 2] } },
    metadata: { actor: 'user:u-1', correlationId: 'c-1', causationId: null, teamId: 't-1' },
    recordedAt,
  };

  function recorded(event: HashedContent, hash: string): RecordedEvent {
    return {
      ...event,
      metadata: { ...event.metadata, prevHash: event.prevHash, hash },
      position: { transactionId: BigInt(event.streamVersion + 1), globalPosition: BigInt(event.streamVersion + 1) },
    };
  }

  function chain(length: number): RecordedEvent[] {
    const events: RecordedEvent[] = [];
    for (let version = 0; version < length; version++) {
      const event = { ...content, streamVersion: version, eventId: randomUUID(), data: { version }, prevHash: events.at(-1)?.metadata.hash ?? null };
      events.push(recorded(event, eventHash(event)));
    }
    return events;
  }

  it('is sha256 over the fields the PostgreSQL event_hash covers, separated the same way', () => {
    const expected = createHash('sha256')
      .update(
        [
          '', 'alert-1', '0', content.eventId, 'AlertTriggered', '2', JSON.stringify(content.data),
          '{"actor":"user:u-1","correlationId":"c-1","causationId":null,"teamId":"t-1"}', '2024-05-06T07:08:09.123Z',
        ].join('\x1f'),
      )
      .digest('hex');
    expect(eventHash(content)).toBe(expected);
  });

  it('does not depend on the order metadata keys were written in, and changes with any field', () => {
    const reordered = { ...content, metadata: { teamId: 't-1', causationId: null, correlationId: 'c-1', actor: 'user:u-1' as const } };
    expect(eventHash(reordered)).toBe(eventHash(content));
    const variants: Partial<HashedContent>[] = [
      { prevHash: 'a'.repeat(64) }, { streamId: 'alert-2' }, { streamVersion: 1 }, { eventId: randomUUID() }, { type: 'AlertResolved' },
      { schemaVersion: 3 }, { data: { summary: 'disk fine', nested: { values: [1, 2] } } }, { metadata: { ...content.metadata, teamId: 't-2' } },
      { recordedAt: new Date(recordedAt.getTime() + 1) },
    ];
    for (const variant of variants) expect(eventHash({ ...content, ...variant })).not.toBe(eventHash(content));
  });

  it('an intact chain has no broken links', () => {
    expect(brokenLinks(chain(4))).toEqual([]);
  });

  it('edited content, a rewritten hash and a missing event are each reported where they break the chain', () => {
    const edited = chain(3);
    edited[1] = { ...edited[1]!, data: { version: 42 } };
    expect(brokenLinks(edited)).toEqual([{ streamVersion: 1, reason: "hash does not match the event's content" }]);

    const rehashed = chain(3);
    const forged = { ...rehashed[1]!, data: { version: 42 } };
    rehashed[1] = recorded({ ...forged, prevHash: forged.metadata.prevHash }, eventHash({ ...forged, prevHash: forged.metadata.prevHash }));
    expect(brokenLinks(rehashed)).toEqual([{ streamVersion: 2, reason: 'prev_hash does not match the hash of the previous event' }]);

    const gap = chain(4);
    gap.splice(1, 1);
    expect(brokenLinks(gap)).toEqual([{ streamVersion: 2, reason: 'events 1..1 are missing' }]);
  });
});
