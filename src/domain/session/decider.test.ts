import { describe, expect, it } from 'vitest';
import { fold } from '../decider.js';
import { deciderSpecification } from '../decider-specification.js';
import type { SessionCommand } from './commands.js';
import { sessionDecider } from './decider.js';
import type { SessionEvent, SessionEventOf } from './events.js';
import { sessionTokenId } from './identity.js';

const spec = deciderSpecification(sessionDecider);
const sessionId = '00000000-0000-4000-8000-0000000005e1';
const userId = '00000000-0000-4000-8000-00000000a5e7';
const otherUserId = '00000000-0000-4000-8000-00000000b0b0';
const hash = (n: number) => String(n).repeat(64).slice(0, 64);
const t0 = new Date('2026-01-01T00:00:00.000Z');
const later = (days: number) => new Date(t0.getTime() + days * 86_400_000);
const iso = (days: number) => later(days).toISOString();
const token = (generation: number) => sessionTokenId(sessionId, generation);

const start: SessionCommand = {
  type: 'StartSession', sessionId, userId, tokenHash: hash(1), expiresAt: later(30), absoluteExpiresAt: later(90), now: t0,
};
const started: SessionEventOf<'SessionStarted'> = {
  type: 'SessionStarted',
  data: { sessionId, userId, tokenId: token(0), tokenHash: hash(1), startedAt: iso(0), expiresAt: iso(30), absoluteExpiresAt: iso(90) },
};
/** The rotation from `generation - 1` to `generation` at `atDays`, its token hash being hash(generation + 1). */
const rotated = (generation: number, atDays: number, expiresAtDays = atDays + 30): SessionEventOf<'SessionTokenRotated'> => ({
  type: 'SessionTokenRotated',
  data: {
    sessionId, userId, startedAt: iso(0), absoluteExpiresAt: iso(90), generation,
    previousTokenId: token(generation - 1), tokenId: token(generation), tokenHash: hash(generation + 1),
    rotatedAt: iso(atDays), expiresAt: iso(expiresAtDays),
  },
});
const presented = (generation: number, tokenHash = hash(generation + 1)) => ({ tokenId: token(generation), tokenHash, generation });
const rotate = (generation: number, atDays: number, overrides: { tokenHash?: string; sessionsValidAfter?: Date } = {}): SessionCommand => ({
  type: 'RotateSessionToken',
  presented: presented(generation, overrides.tokenHash),
  next: { tokenHash: hash(generation + 2), expiresAt: later(atDays + 30) },
  sessionsValidAfter: overrides.sessionsValidAfter ?? null,
  now: later(atDays),
});
const endedBy = (reason: SessionEventOf<'SessionEnded'>['data']['reason'], atDays: number, generation: number, tokenId: string | null = null): SessionEvent => ({
  type: 'SessionEnded',
  data: { sessionId, userId, reason, generation, tokenId, endedAt: iso(atDays) },
});

describe('session decider', () => {
  it('signing in starts a session with the first token of its chain', () => {
    spec.given([]).when(start).then([started]);
  });

  it('a session starts once', () => {
    spec.given([started]).when(start).thenThrows('conflict', 'session_exists');
  });

  it('the current refresh token is exchanged for the next generation', () => {
    spec.given([started]).when(rotate(0, 1)).then([rotated(1, 1)]);
    spec.given([started, rotated(1, 1)]).when(rotate(1, 2)).then([rotated(2, 2)]);
  });

  it('rotation never carries a session past its absolute lifetime', () => {
    spec.given([started, rotated(1, 70, 90)]).when(rotate(1, 80)).then([rotated(2, 80, 90)]);
  });

  it('a session is refused and closed once its absolute lifetime is over, however recently it rotated', () => {
    spec.given([started, rotated(1, 70, 90)]).when(rotate(1, 90)).then([endedBy('expired', 90, 1)]);
  });

  it('a refresh token is refused and its session closed once the token has expired', () => {
    spec.given([started]).when(rotate(0, 30)).then([endedBy('expired', 30, 0)]);
  });

  it('a token with the wrong secret is refused without changing anything', () => {
    spec.given([started]).when(rotate(0, 1, { tokenHash: hash(9) })).thenThrows('unauthenticated', 'invalid_refresh_token');
  });

  it('a token id that is not of this session is refused', () => {
    const foreign = { tokenId: sessionTokenId('00000000-0000-4000-8000-000000000bad', 0), tokenHash: hash(1), generation: 0 };
    spec
      .given([started])
      .when({ type: 'RotateSessionToken', presented: foreign, next: { tokenHash: hash(2), expiresAt: later(31) }, sessionsValidAfter: null, now: later(1) })
      .thenThrows('unauthenticated', 'invalid_refresh_token');
  });

  it('a token of a generation the session has not reached is refused', () => {
    spec.given([started]).when(rotate(3, 1)).thenThrows('unauthenticated', 'invalid_refresh_token');
  });

  it('a refresh token for a session that does not exist is refused', () => {
    spec.given([]).when(rotate(0, 1)).thenThrows('unauthenticated', 'invalid_refresh_token');
  });

  it('presenting a spent refresh token ends the whole session', () => {
    spec.given([started, rotated(1, 1), rotated(2, 2)]).when(rotate(0, 3)).then([endedBy('refresh_token_reused', 3, 2, token(0))]);
  });

  it('after reuse is detected, the newest token of the session is refused too', () => {
    spec.given([started, rotated(1, 1), endedBy('refresh_token_reused', 2, 1, token(0))]).when(rotate(1, 3)).thenThrows('unauthenticated');
  });

  it('a session started before the user ended every session is refused and closed', () => {
    spec.given([started, rotated(1, 1)]).when(rotate(1, 2, { sessionsValidAfter: later(1.5) })).then([endedBy('revoked', 2, 1)]);
  });

  it('a session started after the user ended every session keeps working', () => {
    spec.given([started]).when(rotate(0, 1, { sessionsValidAfter: later(-1) })).then([rotated(1, 1)]);
  });

  it('signing out with the current token ends the session', () => {
    spec.given([started, rotated(1, 1)]).when({ type: 'SignOut', presented: presented(1), now: later(2) }).then([endedBy('signed_out', 2, 1, token(1))]);
  });

  it('signing out with a forged secret ends nothing', () => {
    spec.given([started]).when({ type: 'SignOut', presented: presented(0, hash(9)), now: later(1) }).thenNothingHappens();
  });

  it('signing out of a session that has ended changes nothing', () => {
    spec.given([started, endedBy('signed_out', 1, 0, token(0))]).when({ type: 'SignOut', presented: presented(0), now: later(2) }).thenNothingHappens();
  });

  it("closing a user's stale sessions ends one started before their cutoff", () => {
    spec.given([started]).when({ type: 'CloseSession', userId, sessionsValidAfter: later(1), now: later(1) }).then([endedBy('revoked', 1, 0)]);
  });

  it("closing a user's stale sessions ends an expired one", () => {
    spec.given([started]).when({ type: 'CloseSession', userId, sessionsValidAfter: null, now: later(31) }).then([endedBy('expired', 31, 0)]);
  });

  it('closing leaves a valid session alone', () => {
    spec.given([started]).when({ type: 'CloseSession', userId, sessionsValidAfter: later(-1), now: later(1) }).thenNothingHappens();
  });

  it("closing never touches another user's session", () => {
    spec.given([started]).when({ type: 'CloseSession', userId: otherUserId, sessionsValidAfter: later(1), now: later(31) }).thenNothingHappens();
  });

  it('the state after an event follows from that event alone, so a stream can be read from any revision', () => {
    const history: SessionEvent[] = [started, rotated(1, 1), rotated(2, 2), rotated(3, 3), endedBy('signed_out', 4, 3, token(3))];
    for (let from = 0; from < history.length; from++) {
      for (let to = from + 1; to <= history.length; to++) {
        expect(fold(sessionDecider, history.slice(from, to))).toEqual(fold(sessionDecider, history.slice(0, to)));
      }
    }
  });
});
