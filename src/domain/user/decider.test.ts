import { describe, expect, it } from 'vitest';
import { fold } from '../decider.js';
import { deciderSpecification } from '../decider-specification.js';
import type { UserCommand } from './commands.js';
import { userDecider } from './decider.js';
import type { UserEvent } from './events.js';
import { normalizeEmail, userIdForEmail } from './identity.js';

const spec = deciderSpecification(userDecider);
const userId = userIdForEmail('ada@example.com');
const family = '00000000-0000-4000-8000-0000000000f1';
const token1 = '00000000-0000-4000-8000-0000000000a1';
const hash = (n: number) => String(n).repeat(64).slice(0, 64);
const t0 = new Date('2026-01-01T00:00:00.000Z');
const later = (days: number) => new Date(t0.getTime() + days * 86_400_000);
const oldHash = 'scrypt$16384$8$1$salt$hash';
const newHash = 'scrypt$16384$8$1$salt2$hash2';

const register: UserCommand = { type: 'RegisterUser', userId, email: 'ada@example.com', name: 'Ada', passwordHash: oldHash, now: t0 };
const registered: UserEvent = {
  type: 'UserRegistered',
  data: { userId, email: 'ada@example.com', name: 'Ada', passwordHash: oldHash, registeredAt: t0.toISOString() },
};
const revoked = (days: number, reason: 'signed_out_everywhere' | 'password_changed' = 'signed_out_everywhere'): UserEvent => ({
  type: 'AllSessionsRevoked',
  data: { userId, reason, revokedAt: later(days).toISOString() },
});
const changePassword = (verifiedPasswordHash: string, days = 1): UserCommand => ({
  type: 'ChangePassword', verifiedPasswordHash, newPasswordHash: newHash, now: later(days),
});

describe('user identity', () => {
  it('derives the same user id from an email in any case or padding', () => {
    expect(userIdForEmail('  Ada@Example.COM ')).toBe(userId);
    expect(normalizeEmail(' Ada@Example.COM')).toBe('ada@example.com');
  });
});

describe('user decider', () => {
  it('registering records the user', () => {
    spec.given([]).when(register).then([registered]);
  });

  it('an email can be registered only once', () => {
    spec.given([registered]).when(register).thenThrows('conflict', 'email_taken');
  });

  it('changing the password records the new hash and ends every session', () => {
    spec
      .given([registered])
      .when(changePassword(oldHash))
      .then([
        { type: 'PasswordChanged', data: { userId, passwordHash: newHash, changedAt: later(1).toISOString() } },
        revoked(1, 'password_changed'),
      ]);
  });

  it('a password change verified against a hash that is no longer current is a conflict', () => {
    const changed: UserEvent = { type: 'PasswordChanged', data: { userId, passwordHash: newHash, changedAt: later(1).toISOString() } };
    spec.given([registered, changed]).when(changePassword(oldHash, 2)).thenThrows('conflict', 'password_changed_meanwhile');
  });

  it('signing out everywhere sets the instant before which sessions and access tokens are refused', () => {
    spec.given([registered]).when({ type: 'RevokeAllSessions', now: later(3) }).then([revoked(3)]);
  });

  it('the cutoff never moves back, even when a clock does', () => {
    spec.given([registered, revoked(5)]).when({ type: 'RevokeAllSessions', now: later(4) }).then([revoked(5)]);
  });

  it('nobody signs out everywhere or changes the password of a user that does not exist', () => {
    spec.given([]).when({ type: 'RevokeAllSessions', now: t0 }).thenThrows('not_found');
    spec.given([]).when(changePassword(oldHash)).thenThrows('not_found');
  });

  it('refresh tokens recorded in the user stream before sessions had their own streams change nothing', () => {
    const legacy: UserEvent[] = [
      { type: 'RefreshTokenIssued', data: { userId, familyId: family, tokenId: token1, tokenHash: hash(1), issuedAt: t0.toISOString(), expiresAt: later(30).toISOString() } },
      { type: 'RefreshTokenReuseDetected', data: { userId, familyId: family, tokenId: token1, detectedAt: later(1).toISOString() } },
    ];
    expect(fold(userDecider, [registered, ...legacy])).toEqual(fold(userDecider, [registered]));
  });

  it('the state tracks the latest password and cutoff', () => {
    const changed: UserEvent = { type: 'PasswordChanged', data: { userId, passwordHash: newHash, changedAt: later(1).toISOString() } };
    expect(fold(userDecider, [registered, changed, revoked(1, 'password_changed')])).toMatchObject({
      passwordHash: newHash,
      sessionsValidAfter: later(1).toISOString(),
    });
  });
});
