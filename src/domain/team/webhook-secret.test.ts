import { describe, expect, it } from 'vitest';
import { SIGNATURE_OVERLAP_MS, signingGenerations } from './webhook-secret.js';

describe('webhook secret generations that sign a delivery', () => {
  const rotatedAt = new Date('2026-03-01T12:00:00.000Z');
  const after = (ms: number) => new Date(rotatedAt.getTime() + ms);

  it('a team that never rotated signs with generation 0 alone', () => {
    expect(signingGenerations({ generation: 0, rotatedAt: null }, after(0))).toEqual([0]);
  });

  it('for a day after a rotation deliveries are signed with the new and the previous generation', () => {
    expect(signingGenerations({ generation: 3, rotatedAt }, after(0))).toEqual([3, 2]);
    expect(signingGenerations({ generation: 3, rotatedAt }, after(SIGNATURE_OVERLAP_MS - 1))).toEqual([3, 2]);
  });

  it('a day after the rotation only the new generation signs', () => {
    expect(signingGenerations({ generation: 3, rotatedAt }, after(SIGNATURE_OVERLAP_MS))).toEqual([3]);
  });
});
