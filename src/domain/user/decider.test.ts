import { describe, expect, it } from 'vitest';
import { deciderSpecification } from '../decider-specification.js';
import type { UserCommand } from './commands.js';
import { userDecider } from './decider.js';
import type { UserEvent } from './events.js';
import { normalizeEmail, userIdForEmail } from './identity.js';

const spec = deciderSpecification(userDecider);
const userId = userIdForEmail('ada@example.com');
const family = '00000000-0000-4000-8000-0000000000f1';
const token1 = '00000000-0000-4000-8000-0000000000a1';
const token2 = '00000000-0000-4000-8000-0000000000a2';
const token3 = '00000000-0000-4000-8000-0000000000a3';
const token4 = '00000000-0000-4000-8000-0000000000a4';
const hash = (n: number) => String(n).repeat(64).slice(0, 64);
const t0 = new Date('2026-01-01T00:00:00.000Z');
const later = (days: number) => new Date(t0.getTime() + days * 86_400_000);

const register: UserCommand = {
  type: 'RegisterUser',
  userId,
  email: 'ada@example.com',
  name: 'Ada',
  passwordHash: 'scrypt$16384$8$1$salt$hash',
  refreshToken: { familyId: family, tokenId: token1, tokenHash: hash(1), expiresAt: later(30) },
  now: t0,
};
const registered: UserEvent = {
  type: 'UserRegistered',
  data: { userId, email: 'ada@example.com', name: 'Ada', passwordHash: 'scrypt$16384$8$1$salt$hash', registeredAt: t0.toISOString() },
};
const firstTokenIssued: UserEvent = {
  type: 'RefreshTokenIssued',
  data: { userId, familyId: family, tokenId: token1, tokenHash: hash(1), issuedAt: t0.toISOString(), expiresAt: later(30).toISOString() },
};
const rotate = (tokenId: string, presentedHash: string, atDays = 1): UserCommand => ({
  type: 'RotateRefreshToken',
  tokenId,
  presentedHash,
  next: { tokenId: tokenId === token1 ? token2 : token3, tokenHash: tokenId === token1 ? hash(2) : hash(3), expiresAt: later(atDays + 30) },
  now: later(atDays),
});
const rotatedToToken2: UserEvent = {
  type: 'RefreshTokenRotated',
  data: {
    userId, familyId: family, previousTokenId: token1, tokenId: token2, tokenHash: hash(2),
    rotatedAt: later(1).toISOString(), expiresAt: later(31).toISOString(),
  },
};

describe('user identity', () => {
  it('derives the same user id from an email in any case or padding', () => {
    expect(userIdForEmail('  Ada@Example.COM ')).toBe(userId);
    expect(normalizeEmail(' Ada@Example.COM')).toBe('ada@example.com');
  });
});

describe('user decider', () => {
  it('registering records the user and starts a refresh-token family', () => {
    spec.given([]).when(register).then([registered, firstTokenIssued]);
  });

  it('an email can be registered only once', () => {
    spec.given([registered, firstTokenIssued]).when(register).thenThrows('conflict', 'email_taken');
  });

  it('signing in issues a new refresh-token family', () => {
    const family2 = '00000000-0000-4000-8000-0000000000f2';
    spec
      .given([registered])
      .when({ type: 'IssueRefreshToken', refreshToken: { familyId: family2, tokenId: token3, tokenHash: hash(3), expiresAt: later(31) }, now: later(1) })
      .then([
        {
          type: 'RefreshTokenIssued',
          data: { userId, familyId: family2, tokenId: token3, tokenHash: hash(3), issuedAt: later(1).toISOString(), expiresAt: later(31).toISOString() },
        },
      ]);
  });

  it('nobody signs in to a user that does not exist', () => {
    spec
      .given([])
      .when({ type: 'IssueRefreshToken', refreshToken: { familyId: family, tokenId: token1, tokenHash: hash(1), expiresAt: later(30) }, now: t0 })
      .thenThrows('not_found');
  });

  it('the current refresh token is exchanged for a new one', () => {
    spec.given([registered, firstTokenIssued]).when(rotate(token1, hash(1))).then([rotatedToToken2]);
  });

  it('a refresh token with the wrong secret is refused', () => {
    spec.given([registered, firstTokenIssued]).when(rotate(token1, hash(9))).thenThrows('unauthenticated', 'invalid_refresh_token');
  });

  it('an unknown refresh token is refused', () => {
    spec.given([registered, firstTokenIssued]).when(rotate(token3, hash(3))).thenThrows('unauthenticated', 'invalid_refresh_token');
  });

  it('a refresh token is refused once it has expired', () => {
    spec.given([registered, firstTokenIssued]).when(rotate(token1, hash(1), 30)).thenThrows('unauthenticated', 'invalid_refresh_token');
  });

  it('a refresh token for a user that does not exist is refused', () => {
    spec.given([]).when(rotate(token1, hash(1))).thenThrows('unauthenticated', 'invalid_refresh_token');
  });

  it('presenting a spent refresh token revokes its whole family', () => {
    spec
      .given([registered, firstTokenIssued, rotatedToToken2])
      .when(rotate(token1, hash(1), 2))
      .then([{ type: 'RefreshTokenReuseDetected', data: { userId, familyId: family, tokenId: token1, detectedAt: later(2).toISOString() } }]);
  });

  it('a spent refresh token with the wrong secret is refused without revoking anything', () => {
    spec.given([registered, firstTokenIssued, rotatedToToken2]).when(rotate(token1, hash(9), 2)).thenThrows('unauthenticated');
  });

  it('after reuse is detected, the newest token of the family is refused too', () => {
    const reuse: UserEvent = { type: 'RefreshTokenReuseDetected', data: { userId, familyId: family, tokenId: token1, detectedAt: later(2).toISOString() } };
    spec.given([registered, firstTokenIssued, rotatedToToken2, reuse]).when(rotate(token2, hash(2), 3)).thenThrows('unauthenticated');
  });

  it("revoking one family leaves the user's other sessions working", () => {
    const family2 = '00000000-0000-4000-8000-0000000000f2';
    const otherSession: UserEvent = {
      type: 'RefreshTokenIssued',
      data: { userId, familyId: family2, tokenId: token3, tokenHash: hash(3), issuedAt: t0.toISOString(), expiresAt: later(30).toISOString() },
    };
    const reuse: UserEvent = { type: 'RefreshTokenReuseDetected', data: { userId, familyId: family, tokenId: token1, detectedAt: later(2).toISOString() } };
    const rotateOther: UserCommand = {
      type: 'RotateRefreshToken', tokenId: token3, presentedHash: hash(3),
      next: { tokenId: token4, tokenHash: hash(4), expiresAt: later(33) }, now: later(3),
    };
    spec
      .given([registered, firstTokenIssued, otherSession, rotatedToToken2, reuse])
      .when(rotateOther)
      .then([
        {
          type: 'RefreshTokenRotated',
          data: {
            userId, familyId: family2, previousTokenId: token3, tokenId: token4, tokenHash: hash(4),
            rotatedAt: later(3).toISOString(), expiresAt: later(33).toISOString(),
          },
        },
      ]);
  });
});
