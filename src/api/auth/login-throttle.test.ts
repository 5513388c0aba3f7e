import { describe, expect, it } from 'vitest';
import { bucketStanding, type ThrottlePolicy } from './login-throttle.js';

const policy: ThrottlePolicy = { freeFailures: 5, leakSeconds: 3600, maxWaitSeconds: 3600 };
const t0 = new Date('2026-01-01T00:00:00.000Z');
const at = (seconds: number) => new Date(t0.getTime() + seconds * 1000);
const waitAfter = (failures: number) => (bucketStanding({ failures, lastFailureAt: t0 }, policy, t0).nextAttemptAt.getTime() - t0.getTime()) / 1000;

describe('how a bucket of failed password checks slows the next attempt', () => {
  it('lets the first failures through without a wait', () => {
    for (let failures = 0; failures < 5; failures++) expect(waitAfter(failures)).toBe(0);
  });

  it('doubles the wait with every failure beyond them, up to the longest wait', () => {
    expect([5, 6, 7, 8, 9, 10].map(waitAfter)).toEqual([1, 2, 4, 8, 16, 32]);
    expect(waitAfter(16)).toBe(2048);
    expect(waitAfter(17)).toBe(3600);
    expect(waitAfter(1000)).toBe(3600);
  });

  it('forgets one failure per leak interval since the last one', () => {
    expect(bucketStanding({ failures: 7, lastFailureAt: t0 }, policy, at(3599)).failures).toBe(7);
    expect(bucketStanding({ failures: 7, lastFailureAt: t0 }, policy, at(3600)).failures).toBe(6);
    expect(bucketStanding({ failures: 7, lastFailureAt: t0 }, policy, at(3 * 3600)).failures).toBe(4);
    expect(bucketStanding({ failures: 7, lastFailureAt: t0 }, policy, at(3 * 3600)).nextAttemptAt).toEqual(t0);
    expect(bucketStanding({ failures: 3, lastFailureAt: t0 }, policy, at(100 * 3600)).failures).toBe(0);
  });
});
