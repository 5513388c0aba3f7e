import { describe, expect, it } from 'vitest';
import type { NotificationOutcome } from '../../domain/alert/commands.js';
import { CircuitBreaker } from './circuit-breaker.js';

const failed: NotificationOutcome = { delivered: false, error: 'timeout after 5000 ms', permanent: false, unanswered: true };
const delivered: NotificationOutcome = { delivered: true, detail: 'HTTP 200' };

describe('circuit breaker', () => {
  let now = 0;
  const breaker = () => new CircuitBreaker({ failuresToOpen: 3, openMs: 10_000, clock: () => now });

  it('opens after consecutive failures and then refuses without sending, for that destination only', async () => {
    now = 0;
    const circuit = breaker();
    let sends = 0;
    const send = (outcome: NotificationOutcome) => () => {
      sends++;
      return Promise.resolve(outcome);
    };
    for (let attempt = 0; attempt < 3; attempt++) await circuit.send('https://down.example', send(failed));
    expect(sends).toBe(3);
    const refused = await circuit.send('https://down.example', send(delivered));
    expect(refused).toMatchObject({ delivered: false, permanent: false, error: expect.stringMatching(/^circuit open/) });
    expect(sends).toBe(3);
    expect(await circuit.send('https://up.example', send(delivered))).toEqual(delivered);
    expect(sends).toBe(4);
  });

  it('lets one trial through once the open period is over, and closes on its success', async () => {
    now = 0;
    const circuit = breaker();
    for (let attempt = 0; attempt < 3; attempt++) await circuit.send('https://flaky.example', () => Promise.resolve(failed));
    now = 10_001;
    let release: (outcome: NotificationOutcome) => void = () => undefined;
    const trial = circuit.send('https://flaky.example', () => new Promise((resolve) => (release = resolve)));
    // While the trial is out, others are still refused.
    expect((await circuit.send('https://flaky.example', () => Promise.resolve(delivered))).delivered).toBe(false);
    release(delivered);
    expect(await trial).toEqual(delivered);
    expect(circuit.isOpen('https://flaky.example')).toBe(false);
    expect(await circuit.send('https://flaky.example', () => Promise.resolve(delivered))).toEqual(delivered);
  });

  it('a failed trial opens the circuit for another period', async () => {
    now = 0;
    const circuit = breaker();
    for (let attempt = 0; attempt < 3; attempt++) await circuit.send('https://down.example', () => Promise.resolve(failed));
    now = 10_001;
    await circuit.send('https://down.example', () => Promise.resolve(failed));
    expect(circuit.isOpen('https://down.example')).toBe(true);
    now = 20_000;
    expect(circuit.isOpen('https://down.example')).toBe(true);
  });

  it('a destination that answers, even with errors, is up: answered failures neither count nor open the circuit', async () => {
    now = 0;
    const circuit = breaker();
    for (let attempt = 0; attempt < 5; attempt++) {
      await circuit.send('https://strict.example', () => Promise.resolve({ delivered: false, error: 'HTTP 500', permanent: false }));
    }
    expect(circuit.isOpen('https://strict.example')).toBe(false);
    await circuit.send('https://strict.example', () => Promise.resolve(failed));
    await circuit.send('https://strict.example', () => Promise.resolve(failed));
    await circuit.send('https://strict.example', () => Promise.resolve({ delivered: false, error: 'HTTP 503', permanent: false }));
    await circuit.send('https://strict.example', () => Promise.resolve(failed));
    expect(circuit.isOpen('https://strict.example')).toBe(false);
  });
});
