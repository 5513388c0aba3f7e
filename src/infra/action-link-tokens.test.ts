import { createHmac, randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { type ActionLinkClaims, actionLinkKey, readActionToken, signActionToken } from './action-link-tokens.js';

const key = actionLinkKey('server-secret-for-action-link-tests-long-enough');
const now = new Date('2026-03-01T10:00:00Z');
const claims: ActionLinkClaims = {
  alertId: randomUUID(),
  deliveryId: randomUUID(),
  teamId: randomUUID(),
  userId: randomUUID(),
  expiresAt: new Date('2026-03-02T10:00:00Z'),
};

/** The token with one character of its claims part changed. */
function flipped(token: string, at: number): string {
  const replacement = token[at] === 'A' ? 'B' : 'A';
  return token.slice(0, at) + replacement + token.slice(at + 1);
}

describe('action link tokens', () => {
  it('a token read back before it expires gives the claims it was signed with', () => {
    expect(readActionToken(key, signActionToken(key, claims), now)).toEqual({ status: 'valid', claims });
  });

  it('an address delivery is bound to nobody', () => {
    const forAddress = { ...claims, userId: null };
    expect(readActionToken(key, signActionToken(key, forAddress), now)).toEqual({ status: 'valid', claims: forAddress });
  });

  it('is base64url, and holds no secret: the same claims sign to the same token', () => {
    const token = signActionToken(key, claims);
    expect(token).toMatch(/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]{43}$/);
    expect(signActionToken(key, claims)).toBe(token);
  });

  it('a token read at or after its expiry is expired', () => {
    const token = signActionToken(key, claims);
    expect(readActionToken(key, token, claims.expiresAt)).toEqual({ status: 'expired', claims });
    expect(readActionToken(key, token, new Date('2026-04-01T00:00:00Z')).status).toBe('expired');
  });

  it('a token whose claims were changed is invalid', () => {
    const token = signActionToken(key, claims);
    for (const at of [0, 5, 20, token.indexOf('.') - 1]) expect(readActionToken(key, flipped(token, at), now)).toEqual({ status: 'invalid' });
  });

  it('claims re-signed for another alert, or with a later expiry, without the key are invalid', () => {
    const token = signActionToken(key, claims);
    const signature = token.split('.')[1]!;
    const otherAlert = signActionToken(key, { ...claims, alertId: randomUUID() }).split('.')[0]!;
    const later = signActionToken(key, { ...claims, expiresAt: new Date('2027-01-01T00:00:00Z') }).split('.')[0]!;
    expect(readActionToken(key, `${otherAlert}.${signature}`, now)).toEqual({ status: 'invalid' });
    expect(readActionToken(key, `${later}.${signature}`, now)).toEqual({ status: 'invalid' });
  });

  it('a token signed with another server secret is invalid', () => {
    const otherKey = actionLinkKey('another-server-secret-for-action-link-tests');
    expect(readActionToken(key, signActionToken(otherKey, claims), now)).toEqual({ status: 'invalid' });
  });

  it.each(['', '.', 'abc', 'abc.def', `${'a'.repeat(2000)}.${'b'.repeat(43)}`, 'e30.' + 'A'.repeat(43), 'not a token at all'])(
    'refuses %j as invalid',
    (token) => {
      expect(readActionToken(key, token, now)).toEqual({ status: 'invalid' });
    },
  );

  it('a correctly signed token whose claims are not ours in shape is invalid', () => {
    const payload = Buffer.from(JSON.stringify({ alert: 'a', expires: 1 })).toString('base64url');
    const signature = createHmac('sha256', key).update(payload).digest('base64url');
    expect(readActionToken(key, `${payload}.${signature}`, now)).toEqual({ status: 'invalid' });
  });
});
