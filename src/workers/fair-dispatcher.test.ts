import { describe, expect, it } from 'vitest';
import { FairDispatcher } from './fair-dispatcher.js';

function gate() {
  let open: () => void = () => undefined;
  const opened = new Promise<void>((resolve) => (open = resolve));
  return { opened, open };
}

describe('fair dispatcher', () => {
  it('a team whose sends hang holds at most its share of the senders; another team still gets through at once', async () => {
    const dispatcher = new FairDispatcher({ concurrency: 4, perTeamInFlight: 3, perTeamWaiting: 100 });
    const hang = gate();
    const started: string[] = [];
    for (let index = 0; index < 10; index++) {
      dispatcher.offer('a', async () => {
        started.push(`a${index}`);
        await hang.opened;
      });
    }
    expect(dispatcher.inFlightOf('a')).toBe(3);
    let bRan = false;
    await dispatcher.offer('b', async () => {
      bRan = true;
    });
    expect(bRan).toBe(true);
    expect(started).toEqual(['a0', 'a1', 'a2']);
    hang.open();
  });

  it('takes teams in turn when both have work waiting', async () => {
    const dispatcher = new FairDispatcher({ concurrency: 1, perTeamInFlight: 1, perTeamWaiting: 100 });
    const order: string[] = [];
    const first = gate();
    const all: Promise<void>[] = [];
    all.push(dispatcher.offer('a', () => first.opened.then(() => void order.push('a0'))) as Promise<void>);
    for (let index = 1; index < 4; index++) all.push(dispatcher.offer('a', async () => void order.push(`a${index}`)) as Promise<void>);
    for (let index = 0; index < 3; index++) all.push(dispatcher.offer('b', async () => void order.push(`b${index}`)) as Promise<void>);
    first.open();
    await Promise.all(all);
    // a was already queued for its next turn when b arrived; from then on they alternate.
    expect(order).toEqual(['a0', 'a1', 'b0', 'a2', 'b1', 'a3', 'b2']);
  });

  it('refuses work beyond a team line, without running it, and accepts it again once the line moves', async () => {
    const dispatcher = new FairDispatcher({ concurrency: 1, perTeamInFlight: 1, perTeamWaiting: 2 });
    const hang = gate();
    const running = dispatcher.offer('a', () => hang.opened);
    const waiting = [dispatcher.offer('a', async () => undefined), dispatcher.offer('a', async () => undefined)];
    expect(waiting.every((offer) => offer !== false)).toBe(true);
    expect(dispatcher.offer('a', async () => undefined)).toBe(false);
    hang.open();
    await running;
    await Promise.all(waiting);
    expect(dispatcher.offer('a', async () => undefined)).not.toBe(false);
  });

  it("a team alone may queue up to its lone line; once another team offers work, the ordinary line applies", async () => {
    const dispatcher = new FairDispatcher({ concurrency: 1, perTeamInFlight: 1, perTeamWaiting: 2, perTeamWaitingAlone: 5, othersActiveMs: 60_000 });
    const hang = gate();
    const running = dispatcher.offer('a', () => hang.opened);
    const waiting = Array.from({ length: 5 }, () => dispatcher.offer('a', async () => undefined));
    expect(waiting.every((offer) => offer !== false)).toBe(true);
    expect(dispatcher.offer('a', async () => undefined)).toBe(false);

    const others = dispatcher.offer('b', async () => undefined);
    expect(others).not.toBe(false);
    // With b about, a's line is the ordinary one: full at 2, and a's 5 already waiting stay.
    expect(dispatcher.offer('a', async () => undefined)).toBe(false);
    hang.open();
    await Promise.all([running, ...waiting, others]);
  });

  it('a single team may use every sender but the share kept for others', async () => {
    const dispatcher = new FairDispatcher({ concurrency: 8, perTeamInFlight: 6, perTeamWaiting: 100 });
    const hang = gate();
    for (let index = 0; index < 20; index++) dispatcher.offer('a', () => hang.opened);
    expect(dispatcher.inFlightOf('a')).toBe(6);
    hang.open();
  });

  it("expects a team's new work to wait its turns ahead times its typical send, the hanging ones included", async () => {
    const dispatcher = new FairDispatcher({ concurrency: 4, perTeamInFlight: 2, perTeamWaiting: 100 });
    const now = Date.now();
    expect(dispatcher.expectedWaitMs('a', now)).toBe(0);
    const hang = gate();
    const all = Array.from({ length: 5 }, () => dispatcher.offer('a', () => hang.opened) as Promise<void>);
    // Two in flight for 3 s so far, three waiting: the new one is fourth in line, two turns ahead of it.
    expect(dispatcher.expectedWaitMs('a', now + 3000)).toBeGreaterThanOrEqual(2 * 2990);
    expect(dispatcher.expectedWaitMs('a', now + 3000)).toBeLessThan(2 * 3000 + 100);
    expect(dispatcher.expectedWaitMs('b', now + 3000)).toBe(0);
    hang.open();
    await Promise.all(all);
    // The dispatcher's own bookkeeping settles just after the work it ran.
    await new Promise((resolve) => setImmediate(resolve));
    expect(dispatcher.expectedWaitMs('a')).toBe(0);
  });
});
