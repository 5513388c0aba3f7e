import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  DuplicateEventIdError,
  comparePositions,
  type EventMetadata,
  type EventStore,
  type LogPosition,
  type NewEvent,
  type RecordedEvent,
  START_OF_LOG,
  WrongExpectedVersionError,
} from '../../src/eventstore/types.js';
import { waitFor } from '../support/wait.js';

export interface ContractSubject {
  store: EventStore;
  close(): Promise<void>;
}

export interface ContractOptions {
  /**
   * Whether an event id already in the log is refused. PostgreSQL enforces it with a unique index;
   * EventStoreDB treats event ids as per-stream idempotency hints and has no log-wide uniqueness.
   */
  rejectsDuplicateEventIds: boolean;
}

const metadata: EventMetadata = {
  actor: 'user:5f8e1f0c-6c1d-4c8e-9a51-2f0f6a2b9d10',
  correlationId: 'c0ffee00-0000-4000-8000-000000000001',
  causationId: 'c0ffee00-0000-4000-8000-000000000002',
  teamId: '7e3a0b6e-1b3c-4d2e-8f4a-5b6c7d8e9f00',
};

function streamName(prefix: string): string {
  return `${prefix}-${randomUUID()}`;
}

function counted(type: string, count: number, stream = ''): NewEvent[] {
  return Array.from({ length: count }, (_, index) => ({ type, data: { stream, index } }));
}

async function expectWrongVersion(attempt: Promise<unknown>, expected: { streamId: string; actual: number }): Promise<void> {
  const error = await attempt.then(
    () => null,
    (failure: unknown) => failure,
  );
  expect(error, 'the append should have been refused').toBeInstanceOf(WrongExpectedVersionError);
  const wrongVersion = error as WrongExpectedVersionError;
  expect(wrongVersion.streamId).toBe(expected.streamId);
  expect(wrongVersion.actual).toBe(expected.actual);
}

/**
 * The log after `after` once it holds `count` events of `streams`. A gap-safe log may show a commit a moment
 * late (PostgreSQL: until every older transaction of the cluster has ended), never out of order.
 */
async function readUntilVisible(store: EventStore, after: LogPosition, pageSize: number, streams: readonly string[], count: number) {
  return waitFor(`${count} events of ${streams.join(', ')} in the log`, async () => {
    const pages = await readWholeLog(store, after, pageSize);
    const ours = pages.flat().filter((event) => streams.includes(event.streamId));
    return ours.length >= count ? { pages, log: pages.flat(), ours } : false;
  });
}

/** Every event of the log after `after`, paging with `pageSize`; checks each page respects the limit. */
async function readWholeLog(store: EventStore, after: LogPosition, pageSize: number): Promise<RecordedEvent[][]> {
  const pages: RecordedEvent[][] = [];
  let position = after;
  for (;;) {
    const page = await store.readAll({ after: position, maxCount: pageSize });
    if (page.length === 0) return pages;
    expect(page.length).toBeLessThanOrEqual(pageSize);
    pages.push(page);
    position = page.at(-1)!.position;
  }
}

/** Every event after `after`, up to and including `until`. */
async function readBounded(store: EventStore, after: LogPosition, until: LogPosition): Promise<RecordedEvent[]> {
  const events: RecordedEvent[] = [];
  let position = after;
  for (;;) {
    const page = await store.readAll({ after: position, maxCount: 100, until });
    if (page.length === 0) return events;
    events.push(...page);
    position = page.at(-1)!.position;
  }
}

/**
 * The behaviour every EventStore adapter must show. Streams are named uniquely per test, so the suite also
 * runs against a server that holds other data.
 */
export function eventStoreContract(
  name: string,
  makeStore: () => Promise<ContractSubject>,
  options: ContractOptions = { rejectsDuplicateEventIds: true },
): void {
  describe(`EventStore contract: ${name}`, () => {
    let subject: ContractSubject;
    let store: EventStore;

    beforeAll(async () => {
      subject = await makeStore();
      store = subject.store;
    });
    afterAll(async () => {
      await subject?.close();
    });

    describe('appending and reading a stream', () => {
      it('reads back appended events in stream order with their data, type and schema version', async () => {
        const streamId = streamName('order');
        const first = await store.append(
          streamId,
          [
            { type: 'OrderPlaced', data: { items: [{ sku: 'a-1', quantity: 2 }], note: 'zürich ✓' } },
            { type: 'OrderPaid', data: { amount: 12.5 }, schemaVersion: 3 },
          ],
          { expectedVersion: 'no_stream', metadata },
        );
        expect(first.nextExpectedVersion).toBe(1);
        const second = await store.append(streamId, [{ type: 'OrderShipped', data: { carrier: null } }], {
          expectedVersion: 1,
          metadata,
        });
        expect(second.nextExpectedVersion).toBe(2);

        const events = await store.readStream(streamId);
        expect(events.map((event) => [event.streamId, event.streamVersion, event.type, event.schemaVersion, event.data])).toEqual([
          [streamId, 0, 'OrderPlaced', 1, { items: [{ sku: 'a-1', quantity: 2 }], note: 'zürich ✓' }],
          [streamId, 1, 'OrderPaid', 3, { amount: 12.5 }],
          [streamId, 2, 'OrderShipped', 1, { carrier: null }],
        ]);
      });

      it('reads a stream from a version, at most maxCount events', async () => {
        const streamId = streamName('paged');
        await store.append(streamId, counted('Counted', 6), { expectedVersion: 'no_stream', metadata });
        const page = await store.readStream(streamId, { fromVersion: 2, maxCount: 3 });
        expect(page.map((event) => event.streamVersion)).toEqual([2, 3, 4]);
        expect(await store.readStream(streamId, { fromVersion: 6 })).toEqual([]);
      });

      it('reads a stream that does not exist as empty', async () => {
        expect(await store.readStream(streamName('missing'))).toEqual([]);
      });

      it('keeps the metadata: actor, correlation, causation and team, with a per-stream hash chain', async () => {
        const streamId = streamName('meta');
        const before = Date.now();
        await store.append(streamId, counted('Counted', 2), { expectedVersion: 'no_stream', metadata });
        const systemMetadata: EventMetadata = { actor: 'system:sweeper', correlationId: randomUUID(), causationId: null, teamId: null };
        await store.append(streamId, counted('Counted', 1), { expectedVersion: 1, metadata: systemMetadata });

        const [first, second, third] = await store.readStream(streamId);
        expect(first!.metadata).toMatchObject(metadata);
        expect(third!.metadata).toMatchObject(systemMetadata);
        expect(first!.metadata.prevHash).toBeNull();
        expect(first!.metadata.hash).toMatch(/^[0-9a-f]{64}$/);
        expect(second!.metadata.prevHash).toBe(first!.metadata.hash);
        expect(third!.metadata.prevHash).toBe(second!.metadata.hash);
        expect(new Set([first, second, third].map((event) => event!.metadata.hash)).size).toBe(3);
        for (const event of [first, second, third]) {
          expect(event!.recordedAt).toBeInstanceOf(Date);
          expect(event!.recordedAt.getTime()).toBeGreaterThanOrEqual(before - 1000);
          expect(event!.recordedAt.getTime()).toBeLessThanOrEqual(Date.now() + 1000);
        }
      });

      it('keeps the event ids it is given and makes unique ones otherwise', async () => {
        const streamId = streamName('ids');
        const eventId = randomUUID();
        await store.append(streamId, [{ type: 'Counted', data: {}, eventId }, { type: 'Counted', data: {} }], {
          expectedVersion: 'any',
          metadata,
        });
        const [given, generated] = await store.readStream(streamId);
        expect(given!.eventId).toBe(eventId);
        expect(generated!.eventId).toMatch(/^[0-9a-f-]{36}$/);
        expect(generated!.eventId).not.toBe(eventId);
      });

      if (options.rejectsDuplicateEventIds) {
        it('refuses an event id that is already in the log, writing nothing', async () => {
          const eventId = randomUUID();
          const original = streamName('original');
          await store.append(original, [{ type: 'Counted', data: {}, eventId }], { expectedVersion: 'no_stream', metadata });

          const copy = streamName('copy');
          await expect(
            store.append(copy, [{ type: 'Counted', data: {} }, { type: 'Counted', data: {}, eventId }], {
              expectedVersion: 'any',
              metadata,
            }),
          ).rejects.toBeInstanceOf(DuplicateEventIdError);
          await expect(store.append(original, [{ type: 'Counted', data: {}, eventId }], { expectedVersion: 0, metadata })).rejects.toBeInstanceOf(
            DuplicateEventIdError,
          );

          expect(await store.readStream(copy)).toEqual([]);
          expect((await store.readStream(original)).map((event) => event.eventId)).toEqual([eventId]);
        });
      }
    });

    describe('expected version', () => {
      it('no_stream is accepted for a new stream and refused once it exists, with the actual revision', async () => {
        const streamId = streamName('no-stream');
        await expect(store.append(streamId, counted('Counted', 2), { expectedVersion: 'no_stream', metadata })).resolves.toMatchObject({
          nextExpectedVersion: 1,
        });
        await expectWrongVersion(store.append(streamId, counted('Counted', 1), { expectedVersion: 'no_stream', metadata }), {
          streamId,
          actual: 1,
        });
      });

      it('stream_exists is refused for a new stream (actual -1) and accepted once it exists', async () => {
        const streamId = streamName('exists');
        await expectWrongVersion(store.append(streamId, counted('Counted', 1), { expectedVersion: 'stream_exists', metadata }), {
          streamId,
          actual: -1,
        });
        expect(await store.readStream(streamId)).toEqual([]);
        await store.append(streamId, counted('Counted', 1), { expectedVersion: 'no_stream', metadata });
        await expect(store.append(streamId, counted('Counted', 1), { expectedVersion: 'stream_exists', metadata })).resolves.toMatchObject({
          nextExpectedVersion: 1,
        });
      });

      it('a revision is accepted when it is the last event and refused otherwise, with the actual revision', async () => {
        const streamId = streamName('revision');
        await expectWrongVersion(store.append(streamId, counted('Counted', 1), { expectedVersion: 0, metadata }), {
          streamId,
          actual: -1,
        });
        await store.append(streamId, counted('Counted', 3), { expectedVersion: 'no_stream', metadata });
        await expectWrongVersion(store.append(streamId, counted('Counted', 1), { expectedVersion: 1, metadata }), { streamId, actual: 2 });
        await expectWrongVersion(store.append(streamId, counted('Counted', 1), { expectedVersion: 3, metadata }), { streamId, actual: 2 });
        await expect(store.append(streamId, counted('Counted', 1), { expectedVersion: 2, metadata })).resolves.toMatchObject({
          nextExpectedVersion: 3,
        });
      });

      it('any is accepted whether or not the stream exists', async () => {
        const streamId = streamName('any');
        await expect(store.append(streamId, counted('Counted', 1), { expectedVersion: 'any', metadata })).resolves.toMatchObject({
          nextExpectedVersion: 0,
        });
        await expect(store.append(streamId, counted('Counted', 2), { expectedVersion: 'any', metadata })).resolves.toMatchObject({
          nextExpectedVersion: 2,
        });
      });

      it('a refused append writes nothing and the error names the stream, the expectation and the revision', async () => {
        const streamId = streamName('refused');
        await store.append(streamId, counted('Counted', 2, 'kept'), { expectedVersion: 'no_stream', metadata });
        const error = await store.append(streamId, counted('Lost', 3), { expectedVersion: 0, metadata }).catch((failure: unknown) => failure);
        expect(error).toBeInstanceOf(WrongExpectedVersionError);
        expect(error).toMatchObject({ streamId, expected: 0, actual: 1 });
        expect((await store.readStream(streamId)).map((event) => event.type)).toEqual(['Counted', 'Counted']);
      });
    });

    describe('concurrent appends', () => {
      it('of 20 appends expecting the same revision, exactly one wins and the others learn the new revision', async () => {
        const streamId = streamName('race');
        await store.append(streamId, counted('Counted', 1), { expectedVersion: 'no_stream', metadata });
        const outcomes = await Promise.allSettled(
          Array.from({ length: 20 }, (_, writer) =>
            store.append(streamId, [{ type: 'Won', data: { writer } }], { expectedVersion: 0, metadata }),
          ),
        );
        const winners = outcomes.filter((outcome) => outcome.status === 'fulfilled');
        const losers = outcomes.flatMap((outcome) => (outcome.status === 'rejected' ? [outcome.reason as unknown] : []));
        expect(winners).toHaveLength(1);
        expect(losers).toHaveLength(19);
        for (const loser of losers) {
          expect(loser).toBeInstanceOf(WrongExpectedVersionError);
          expect((loser as WrongExpectedVersionError).actual).toBe(1);
        }
        const events = await store.readStream(streamId);
        expect(events.map((event) => event.type)).toEqual(['Counted', 'Won']);
      });

      it('of 20 appends creating the same stream with no_stream, exactly one wins', async () => {
        const streamId = streamName('create-race');
        const outcomes = await Promise.allSettled(
          Array.from({ length: 20 }, (_, writer) =>
            store.append(streamId, [{ type: 'Created', data: { writer } }], { expectedVersion: 'no_stream', metadata }),
          ),
        );
        expect(outcomes.filter((outcome) => outcome.status === 'fulfilled')).toHaveLength(1);
        for (const outcome of outcomes) {
          if (outcome.status === 'rejected') expect(outcome.reason).toBeInstanceOf(WrongExpectedVersionError);
        }
        expect(await store.readStream(streamId)).toHaveLength(1);
      });

      it('20 concurrent appends with any all land, on consecutive revisions with an unbroken hash chain', async () => {
        const streamId = streamName('any-race');
        const results = await Promise.all(
          Array.from({ length: 20 }, (_, writer) =>
            store.append(streamId, [{ type: 'Counted', data: { writer } }], { expectedVersion: 'any', metadata }),
          ),
        );
        expect(results.map((result) => result.nextExpectedVersion).sort((a, b) => a - b)).toEqual(
          Array.from({ length: 20 }, (_, revision) => revision),
        );
        const events = await store.readStream(streamId);
        expect(events.map((event) => event.streamVersion)).toEqual(Array.from({ length: 20 }, (_, revision) => revision));
        expect(new Set(events.map((event) => (event.data as { writer: number }).writer)).size).toBe(20);
        events.forEach((event, index) => {
          expect(event.metadata.prevHash).toBe(index === 0 ? null : events[index - 1]!.metadata.hash);
        });
      });
    });

    describe('reading the global log', () => {
      it('returns every event in append order, page by page with maxCount and after, positions increasing', async () => {
        const streams = [streamName('log-a'), streamName('log-b')];
        const written: string[] = [];
        for (let index = 0; index < 7; index++) {
          const streamId = streams[index % 2]!;
          const eventId = randomUUID();
          await store.append(streamId, [{ type: 'Counted', data: { index }, eventId }], { expectedVersion: 'any', metadata });
          written.push(eventId);
        }

        const { pages, log, ours } = await readUntilVisible(store, START_OF_LOG, 3, streams, written.length);
        expect(ours.map((event) => event.eventId)).toEqual(written);
        for (let index = 1; index < log.length; index++) {
          expect(comparePositions(log[index - 1]!.position, log[index]!.position)).toBeLessThan(0);
        }
        expect(pages.slice(0, -1).every((page) => page.length === 3)).toBe(true);
      });

      it('reads after a position exclusively, and an append reports the position of its last event', async () => {
        const streamId = streamName('position');
        const first = await store.append(streamId, counted('Counted', 1), { expectedVersion: 'no_stream', metadata });
        const second = await store.append(streamId, counted('Counted', 3), { expectedVersion: 0, metadata });
        expect(comparePositions(first.position, second.position)).toBeLessThan(0);

        const { ours } = await readUntilVisible(store, first.position, 100, [streamId], 3);
        expect(ours.map((event) => event.streamVersion)).toEqual([1, 2, 3]);
        expect(ours.at(-1)!.position).toEqual(second.position);
        for (const event of ours) expect(comparePositions(event.position, second.position)).toBeLessThanOrEqual(0);
        expect(await store.readAll({ after: second.position, maxCount: 100 }).then((events) => events.filter((e) => e.streamId === streamId))).toEqual(
          [],
        );
      });

      it('reads up to and including a position some reader has passed, and nothing beyond it', async () => {
        const streamId = streamName('until');
        await store.append(streamId, counted('Counted', 2), { expectedVersion: 'no_stream', metadata });
        const { ours } = await readUntilVisible(store, START_OF_LOG, 500, [streamId], 2);
        const until = ours[0]!.position;
        await store.append(streamId, counted('Counted', 1), { expectedVersion: 1, metadata });
        const bounded: RecordedEvent[] = [];
        let after = START_OF_LOG;
        for (;;) {
          const page = await store.readAll({ after, maxCount: 50, until });
          if (page.length === 0) break;
          bounded.push(...page);
          after = page.at(-1)!.position;
        }
        expect(bounded.filter((event) => event.streamId === streamId).map((event) => event.streamVersion)).toEqual([0]);
        expect(bounded.at(-1)!.position).toEqual(until);
        for (const event of bounded) expect(comparePositions(event.position, until)).toBeLessThanOrEqual(0);
      });

      it('counts the events it shows after a position, up to and including an until bound', async () => {
        const streamId = streamName('counted');
        const first = await store.append(streamId, counted('Counted', 1), { expectedVersion: 'no_stream', metadata });
        await store.append(streamId, counted('Counted', 3), { expectedVersion: 0, metadata });
        const { ours } = await readUntilVisible(store, first.position, 100, [streamId], 3);
        expect(await store.countEvents({ after: first.position, until: ours[1]!.position })).toBe(2);
        expect(await store.countEvents({ after: ours[2]!.position, until: ours[2]!.position })).toBe(0);
        expect(await store.countEvents({ after: START_OF_LOG, until: START_OF_LOG })).toBe(0);
        expect(await store.countEvents({ after: first.position })).toBeGreaterThanOrEqual(3);
        const head = await store.headPosition();
        expect(await store.countEvents({ after: first.position, until: head })).toBe((await readBounded(store, first.position, head)).length);
      });

      it('carries the same event, metadata and position as reading its stream', async () => {
        const streamId = streamName('same');
        const appended = await store.append(streamId, counted('Counted', 2), { expectedVersion: 'no_stream', metadata });
        const fromStream = await store.readStream(streamId);
        const { ours: fromLog } = await readUntilVisible(store, START_OF_LOG, 500, [streamId], 2);
        expect(fromLog).toEqual(fromStream);
        expect(fromLog.at(-1)!.position).toEqual(appended.position);
      });
    });

    describe('the end of the log', () => {
      it('the head is the position of the last event readAll shows, and readLast shows the last events in log order', async () => {
        const streamId = streamName('tail');
        await store.append(streamId, counted('Counted', 3), { expectedVersion: 'no_stream', metadata });
        await readUntilVisible(store, START_OF_LOG, 500, [streamId], 3);
        // Other writers of a shared server may append meanwhile: compare with one reading that agrees with the head.
        const { head, last, log } = await waitFor('a quiet moment at the end of the log', async () => {
          const before = await store.headPosition();
          const last = await store.readLast(3);
          const log = (await readWholeLog(store, START_OF_LOG, 500)).flat();
          const after = await store.headPosition();
          return comparePositions(before, after) === 0 && { head: after, last, log };
        });
        expect(log.at(-1)!.position).toEqual(head);
        expect(last.map((event) => event.eventId)).toEqual(log.slice(-3).map((event) => event.eventId));
        expect(last.at(-1)!.position).toEqual(head);
        expect(await store.readLast(0)).toEqual([]);
      });
    });

    describe("a team's log", () => {
      it("reads a team's events in streams of the given categories, newest first, paging by global position", async () => {
        const teamId = randomUUID();
        const ofTeam = { ...metadata, teamId };
        const teamStream = `team-${randomUUID()}`;
        const flowStream = `flow-${randomUUID()}`;
        await store.append(teamStream, [{ type: 'TeamCreated', data: { n: 1 } }], { expectedVersion: 'no_stream', metadata: ofTeam });
        await store.append(flowStream, [{ type: 'FlowCreated', data: { n: 2 } }], { expectedVersion: 'no_stream', metadata: ofTeam });
        await store.append(`alert-${randomUUID()}`, [{ type: 'AlertTriggered', data: {} }], { expectedVersion: 'no_stream', metadata: ofTeam });
        await store.append(`teamster-${randomUUID()}`, [{ type: 'Other', data: {} }], { expectedVersion: 'no_stream', metadata: ofTeam });
        await store.append(`team-${randomUUID()}`, [{ type: 'TeamCreated', data: {} }], { expectedVersion: 'no_stream', metadata });
        await store.append(teamStream, [{ type: 'MemberAdded', data: { n: 3 } }], { expectedVersion: 0, metadata: ofTeam });

        const all = await store.readTeamLog({ teamId, categories: ['team', 'flow'], maxCount: 100 });
        expect(all.map((event) => [event.streamId, event.type])).toEqual([
          [teamStream, 'MemberAdded'],
          [flowStream, 'FlowCreated'],
          [teamStream, 'TeamCreated'],
        ]);
        expect(all[0]).toEqual((await store.readStream(teamStream))[1]);

        const first = await store.readTeamLog({ teamId, categories: ['team', 'flow'], maxCount: 2 });
        expect(first.map((event) => event.type)).toEqual(['MemberAdded', 'FlowCreated']);
        const next = await store.readTeamLog({ teamId, categories: ['team', 'flow'], maxCount: 2, before: first.at(-1)!.position.globalPosition });
        expect(next.map((event) => event.type)).toEqual(['TeamCreated']);
        expect(await store.readTeamLog({ teamId, categories: ['flow'], maxCount: 100 })).toHaveLength(1);
        expect(await store.readTeamLog({ teamId: randomUUID(), categories: ['team', 'flow'], maxCount: 100 })).toEqual([]);
      });
    });

    describe('announcing appends', () => {
      const within = <T>(promise: Promise<T>, ms: number) =>
        Promise.race([promise, new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`nothing within ${ms} ms`)), ms))]);

      it('a watcher waiting for appends of a type it watches is released by one, and at once once closed', async () => {
        const watch = store.watchAppends({ types: new Set(['Watched']) });
        try {
          const streamId = streamName('watched');
          // A store may release a waiting reader early (it is a hint); an append must release it within moments.
          for (let attempt = 0; attempt < 3; attempt++) {
            const waiting = watch.next();
            await store.append(streamId, [{ type: 'Watched', data: {} }], { expectedVersion: 'any', metadata });
            await within(waiting, 5000);
          }
        } finally {
          await watch.close();
        }
        await within(watch.next(), 100);
      });
    });

    describe('integrity and health', () => {
      it("finds every stream's hash chain intact after appends, counting what it checked", async () => {
        const streamId = streamName('intact');
        await store.append(streamId, counted('Counted', 3), { expectedVersion: 'no_stream', metadata });
        await store.append(streamId, counted('Counted', 2), { expectedVersion: 2, metadata });
        await readUntilVisible(store, START_OF_LOG, 500, [streamId], 5);
        const report = await store.verifyHashChains();
        expect(report.broken.filter((link) => link.streamId === streamId)).toEqual([]);
        expect(report.events).toBeGreaterThanOrEqual(5);
        expect(report.streams).toBeGreaterThanOrEqual(1);
      });

      it('answers a health check', async () => {
        await expect(store.checkHealth()).resolves.toBeUndefined();
      });
    });
  });
}
