import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { verifyChainsInLog } from '../../src/eventstore/hash-chain.js';
import { InMemoryEventStore } from '../../src/eventstore/memory.js';
import { type EventMetadata, type ReadAllOptions, START_OF_LOG } from '../../src/eventstore/types.js';
import { eventStoreContract } from './event-store.contract.js';

eventStoreContract('in memory', async () => {
  const store = new InMemoryEventStore();
  return { store, close: () => store.close() };
});

const metadata: EventMetadata = { actor: 'system:test', correlationId: randomUUID(), causationId: null, teamId: null };

describe('in-memory event store', () => {
  it('keeps what was appended, whatever the caller does afterwards with the objects it passed or was given', async () => {
    const store = new InMemoryEventStore();
    const data = { items: ['a'], at: new Date('2026-01-02T03:04:05.000Z') };
    await store.append('order-1', [{ type: 'OrderPlaced', data }], { expectedVersion: 'no_stream', metadata });
    data.items.push('b');
    const [read] = await store.readStream('order-1');
    (read!.data as { items: string[] }).items.push('c');
    // Stored as a JSON store stores it: the date as its ISO text.
    expect((await store.readStream('order-1'))[0]!.data).toEqual({ items: ['a'], at: '2026-01-02T03:04:05.000Z' });
  });

  it('reports an event whose content no longer matches its hash, and a missing one, where they break the chain', async () => {
    const store = new InMemoryEventStore();
    await store.append('chain-1', [1, 2, 3, 4].map((index) => ({ type: 'Linked', data: { index } })), { expectedVersion: 'no_stream', metadata });
    const [, second, third] = await store.readStream('chain-1');
    const tampered = {
      headPosition: () => store.headPosition(),
      async readAll(options: ReadAllOptions) {
        return (await store.readAll(options))
          .filter((event) => event.eventId !== third!.eventId)
          .map((event) => (event.eventId === second!.eventId ? { ...event, data: { index: 42 } } : event));
      },
    };
    expect(await verifyChainsInLog(tampered)).toEqual({
      streams: 1,
      events: 3,
      broken: [
        { streamId: 'chain-1', streamVersion: 1, reason: "hash does not match the event's content" },
        { streamId: 'chain-1', streamVersion: 3, reason: 'events 2..2 are missing' },
      ],
    });
    expect((await store.verifyHashChains()).broken).toEqual([]);
    expect(await store.countEvents({ after: START_OF_LOG })).toBe(4);
  });
});
