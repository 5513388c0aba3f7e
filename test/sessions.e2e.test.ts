import { randomBytes, randomUUID } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { signUp, type SignedUpUser } from './support/accounts.js';
import { startTestApp, type TestApp } from './support/app.js';
import { waitFor } from './support/wait.js';

const DAY_MS = 86_400_000;
const uniqueEmail = (prefix = 'user') => `${prefix}-${randomBytes(6).toString('hex')}@example.com`;

describe('sessions and the sign-in throttle', () => {
  let app: TestApp;
  let clockOffsetMs = 0;
  /** Set by a test that needs time to stand still (throttle waits); cleared after each test. */
  let frozenAt: Date | null = null;
  let addresses = 0;
  /** A client address of its own per use, so that one test's failures never throttle another's. */
  const newAddress = () => {
    addresses += 1;
    return `198.18.${addresses >> 8}.${addresses & 255}`;
  };
  /** Moves the service's clock forward; time-based rules read only that clock. */
  const travel = (ms: number) => {
    if (frozenAt) frozenAt = new Date(frozenAt.getTime() + ms);
    else clockOffsetMs += ms;
  };
  const freeze = () => {
    frozenAt = app.runtime.services.clock();
  };

  const login = (email: string, password: string, address?: string) =>
    app.http.post('/auth/login', { email, password }, address ? { headers: { 'x-forwarded-for': address } } : {});
  const refresh = (refreshToken: string) => app.http.post('/auth/refresh', { refreshToken });
  const me = (token: string) => app.http.get('/me', { token });
  const sessionIdOf = async (refreshToken: string) => {
    const { rows } = await app.database.pool.query<{ session_id: string }>('select session_id from session_tokens where token_id = $1', [
      refreshToken.split('.')[0],
    ]);
    return rows[0]?.session_id;
  };
  const endReasons = async (userId: string) => {
    const { rows } = await app.database.pool.query<{ reason: string }>(
      `select data->>'reason' as reason from events where event_type = 'SessionEnded' and data->>'userId' = $1 order by global_position`,
      [userId],
    );
    return rows.map((row) => row.reason);
  };

  beforeAll(async () => {
    app = await startTestApp({ TRUST_PROXY: 'true' });
    app.runtime.services.clock = () => frozenAt ?? new Date(Date.now() + clockOffsetMs);
  });
  afterEach(() => {
    frozenAt = null;
  });
  afterAll(async () => {
    await app?.stop();
  });

  describe('POST /auth/logout', () => {
    it("ends the refresh token's session, leaves no row of it behind, and leaves the user's other sessions working", async () => {
      const user = await signUp(app.http);
      const other = await login(user.email, user.password);
      expect(other.status).toBe(200);
      const sessionId = await sessionIdOf(user.refreshToken);
      expect(sessionId).toBeDefined();

      const response = await app.http.post('/auth/logout', { refreshToken: user.refreshToken });
      expect(response.status).toBe(204);
      expect(response.body).toBe('');

      expect((await refresh(user.refreshToken)).status).toBe(401);
      expect((await refresh(other.body.refreshToken)).status).toBe(200);
      expect(await endReasons(user.userId)).toEqual(['signed_out']);
      const { rows } = await app.database.pool.query(
        `select (select count(*) from sessions where id = $1)::int as sessions, (select count(*) from session_tokens where session_id = $1)::int as tokens`,
        [sessionId],
      );
      expect(rows[0]).toEqual({ sessions: 0, tokens: 0 });
    });

    it('signs out with a token the session already spent, too', async () => {
      const user = await signUp(app.http);
      const rotated = await refresh(user.refreshToken);
      expect(rotated.status).toBe(200);
      expect((await app.http.post('/auth/logout', { refreshToken: user.refreshToken })).status).toBe(204);
      expect((await refresh(rotated.body.refreshToken)).status).toBe(401);
    });

    it.each([
      ['an unknown token', async () => `${randomUUID()}.${randomBytes(32).toString('base64url')}`],
      ['a forged secret for a real token id', async (user: SignedUpUser) => `${user.refreshToken.split('.')[0]}.${randomBytes(32).toString('base64url')}`],
      ['a string that is not shaped like a token', async () => 'not-a-token'],
      [
        'a token already signed out',
        async () => {
          const someone = await signUp(app.http);
          await app.http.post('/auth/logout', { refreshToken: someone.refreshToken });
          return someone.refreshToken;
        },
      ],
    ])('answers 204 to %s and ends nothing', async (_, token) => {
      const user = await signUp(app.http);
      const response = await app.http.post('/auth/logout', { refreshToken: await token(user) });
      expect(response.status).toBe(204);
      expect(await endReasons(user.userId)).toEqual([]);
      expect((await refresh(user.refreshToken)).status).toBe(200);
    });

    it.each([
      ['a number', { refreshToken: 12 }, 'body.refreshToken'],
      ['no token', {}, 'body.refreshToken'],
      ['an unknown field', { refreshToken: 'x', everywhere: true }, 'body'],
    ])('refuses %s with 400 naming the field', async (_, body, path) => {
      const response = await app.http.post('/auth/logout', body);
      expect(response.status).toBe(400);
      expect(response.body.errors.map((error: { path: string }) => error.path)).toContain(path);
    });
  });

  describe('POST /auth/logout-all', () => {
    it('ends every session and refuses every access token issued before it; signing in again works at once', async () => {
      const user = await signUp(app.http);
      const laptop = await login(user.email, user.password);
      const phone = await login(user.email, user.password);
      expect((await me(laptop.body.accessToken)).status).toBe(200);

      const response = await app.http.post('/auth/logout-all', undefined, { token: laptop.body.accessToken });
      expect(response.status).toBe(204);

      for (const token of [user.token, laptop.body.accessToken, phone.body.accessToken]) {
        const refused = await me(token);
        expect(refused.status).toBe(401);
        expect(refused.headers.get('www-authenticate')).toBe('Bearer');
      }
      for (const refreshToken of [user.refreshToken, laptop.body.refreshToken, phone.body.refreshToken]) {
        expect((await refresh(refreshToken)).status).toBe(401);
      }
      expect(await endReasons(user.userId)).toEqual(['revoked', 'revoked', 'revoked']);
      const { rows } = await app.database.pool.query('select count(*)::int as open from sessions where user_id = $1', [user.userId]);
      expect(rows[0].open).toBe(0);

      // Within the same second as the sign-out: told apart to the millisecond.
      const again = await login(user.email, user.password);
      expect(again.status).toBe(200);
      expect((await me(again.body.accessToken)).status).toBe(200);
      expect((await refresh(again.body.refreshToken)).status).toBe(200);
    });

    it("refuses a session the sign-out did not close (it was not in the read model yet) when it is presented, and closes it then", async () => {
      const user = await signUp(app.http);
      const sessionId = await sessionIdOf(user.refreshToken);
      // The session stays open in its stream; only the user's cutoff knows it no longer counts.
      await app.database.pool.query('update sessions set started_at = started_at + interval \'1 day\' where id = $1', [sessionId]);
      const signedIn = await login(user.email, user.password);
      expect((await app.http.post('/auth/logout-all', undefined, { token: signedIn.body.accessToken })).status).toBe(204);
      expect(await endReasons(user.userId)).toEqual(['revoked']);

      const refused = await refresh(user.refreshToken);
      expect(refused.status).toBe(401);
      expect(refused.body.code).toBe('session_revoked');
      expect(await endReasons(user.userId)).toEqual(['revoked', 'revoked']);
    });

    it('needs a signed-in user', async () => {
      expect((await app.http.post('/auth/logout-all')).status).toBe(401);
      expect((await app.http.post('/auth/logout-all', undefined, { token: 'garbage' })).status).toBe(401);
    });
  });

  describe('POST /auth/password', () => {
    it('changes the password, ends every session and refuses access tokens issued before the change', async () => {
      const user = await signUp(app.http);
      const other = await login(user.email, user.password);
      const newPassword = `new-${randomBytes(9).toString('base64url')}`;

      const response = await app.http.post('/auth/password', { currentPassword: user.password, newPassword }, { token: user.token });
      expect(response.status).toBe(204);

      expect((await me(user.token)).status).toBe(401);
      expect((await me(other.body.accessToken)).status).toBe(401);
      expect((await refresh(user.refreshToken)).status).toBe(401);
      expect((await refresh(other.body.refreshToken)).status).toBe(401);
      expect((await login(user.email, user.password)).status).toBe(401);
      const withNew = await login(user.email, newPassword);
      expect(withNew.status).toBe(200);
      expect((await me(withNew.body.accessToken)).status).toBe(200);
    });

    it('refuses a wrong current password with 403 and changes nothing', async () => {
      const user = await signUp(app.http);
      const response = await app.http.post('/auth/password', { currentPassword: 'not-my-password', newPassword: 'brand-new-password' }, { token: user.token });
      expect(response.status).toBe(403);
      expect(response.headers.get('content-type')).toContain('application/problem+json');
      expect(response.body.code).toBe('wrong_password');
      expect((await me(user.token)).status).toBe(200);
      expect((await refresh(user.refreshToken)).status).toBe(200);
      expect((await login(user.email, user.password)).status).toBe(200);
    });

    it.each([
      ['a new password shorter than 8', (user: SignedUpUser) => ({ currentPassword: user.password, newPassword: 'short12' }), 'body.newPassword'],
      ['a new password longer than 200', (user: SignedUpUser) => ({ currentPassword: user.password, newPassword: 'p'.repeat(201) }), 'body.newPassword'],
      ['no current password', () => ({ newPassword: 'long-enough-password' }), 'body.currentPassword'],
      ['a number for a password', (user: SignedUpUser) => ({ currentPassword: user.password, newPassword: 12345678 }), 'body.newPassword'],
    ])('refuses %s with 400 naming the field, and changes nothing', async (_, body, path) => {
      const user = await signUp(app.http);
      const response = await app.http.post('/auth/password', body(user), { token: user.token });
      expect(response.status).toBe(400);
      expect(response.body.errors.map((error: { path: string }) => error.path)).toContain(path);
      expect((await me(user.token)).status).toBe(200);
    });

    it('needs a signed-in user', async () => {
      expect((await app.http.post('/auth/password', { currentPassword: 'whatever-1', newPassword: 'whatever-2' })).status).toBe(401);
    });

    it('counts a wrong current password as a failed sign-in from that address', async () => {
      const user = await signUp(app.http);
      const address = newAddress();
      freeze();
      for (let attempt = 1; attempt <= 5; attempt++) {
        const response = await app.http.post(
          '/auth/password',
          { currentPassword: `guess-${attempt}`, newPassword: 'attacker-password' },
          { token: user.token, headers: { 'x-forwarded-for': address } },
        );
        expect(response.status).toBe(403);
      }
      const throttled = await app.http.post(
        '/auth/password',
        { currentPassword: user.password, newPassword: 'attacker-password' },
        { token: user.token, headers: { 'x-forwarded-for': address } },
      );
      expect(throttled.status).toBe(429);
      expect((await login(user.email, user.password, address)).status).toBe(429);
    });
  });

  describe('session lifetime', () => {
    it('ends a session SESSION_MAX_DAYS after sign-in however often it rotates', async () => {
      const user = await signUp(app.http);
      const sessionId = await sessionIdOf(user.refreshToken);
      let refreshToken = user.refreshToken;
      for (const days of [25, 25, 25, 14]) {
        travel(days * DAY_MS);
        const rotated = await refresh(refreshToken);
        expect(rotated.status, `after ${days} more days`).toBe(200);
        refreshToken = rotated.body.refreshToken;
      }
      const { rows } = await app.database.pool.query<{ expires_at: Date; absolute_expires_at: Date }>(
        'select expires_at, absolute_expires_at from sessions where id = $1',
        [sessionId],
      );
      expect(rows[0]!.expires_at).toEqual(rows[0]!.absolute_expires_at);
      travel(DAY_MS);
      const expired = await refresh(refreshToken);
      expect(expired.status).toBe(401);
      expect(await endReasons(user.userId)).toEqual(['expired']);
    });

    it('closes sessions that expired unused when their user signs in again', async () => {
      const user = await signUp(app.http);
      const stale = await sessionIdOf(user.refreshToken);
      travel((app.config.refreshTokenTtlDays + 1) * DAY_MS);
      expect((await login(user.email, user.password)).status).toBe(200);
      await waitFor('the expired session to leave the read model', async () => {
        const { rows } = await app.database.pool.query('select 1 from sessions where id = $1', [stale]);
        return rows.length === 0;
      });
      expect(await endReasons(user.userId)).toEqual(['expired']);
    });

    it('still ends the whole session when a spent refresh token comes back', async () => {
      const user = await signUp(app.http);
      const rotated = await refresh(user.refreshToken);
      const replayed = await refresh(user.refreshToken);
      expect(replayed.status).toBe(401);
      expect(replayed.body.code).toBe('refresh_token_reused');
      expect((await refresh(rotated.body.refreshToken)).status).toBe(401);
      expect(await endReasons(user.userId)).toEqual(['refresh_token_reused']);
    });

    it('keeps the user stream to what the user did: refreshes append only to the session', async () => {
      const user = await signUp(app.http);
      let refreshToken = user.refreshToken;
      for (let n = 0; n < 5; n++) refreshToken = (await refresh(refreshToken)).body.refreshToken;
      const { rows } = await app.database.pool.query<{ stream_id: string; events: number }>(
        `select stream_id, count(*)::int as events from events where data->>'userId' = $1 group by stream_id order by stream_id`,
        [user.userId],
      );
      expect(rows).toEqual([
        { stream_id: expect.stringMatching(/^session-/), events: 6 },
        { stream_id: `user-${user.userId}`, events: 1 },
      ]);
    });
  });

  describe('sign-in throttle', () => {
    it('lets parallel wrong guesses from one address through no more than five times', async () => {
      const user = await signUp(app.http);
      const attacker = newAddress();
      freeze();
      const guesses = await Promise.all(Array.from({ length: 30 }, (_, n) => login(user.email, `guess-${n}`, attacker)));
      const statuses = guesses.map((guess) => guess.status);
      expect(statuses.filter((status) => status === 401)).toHaveLength(5);
      expect(statuses.filter((status) => status === 429)).toHaveLength(25);
      for (const guess of guesses.filter((candidate) => candidate.status === 429)) {
        expect(guess.headers.get('content-type')).toContain('application/problem+json');
        expect(Number(guess.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
      }
    });

    it('lets the rightful user sign in from another address while a guesser is throttled', async () => {
      const user = await signUp(app.http);
      const attacker = newAddress();
      freeze();
      for (let attempt = 1; attempt <= 5; attempt++) expect((await login(user.email, `guess-${attempt}`, attacker)).status).toBe(401);
      expect((await login(user.email, 'guess-6', attacker)).status).toBe(429);
      expect((await login(user.email, user.password, attacker)).status).toBe(429);

      const signedIn = await login(user.email, user.password, newAddress());
      expect(signedIn.status).toBe(200);
      expect((await me(signedIn.body.accessToken)).status).toBe(200);
      expect((await login(user.email, 'guess-7', attacker)).status).toBe(429);
    });

    it('doubles the wait with every further failure', async () => {
      const user = await signUp(app.http);
      const attacker = newAddress();
      freeze();
      for (let attempt = 1; attempt <= 5; attempt++) expect((await login(user.email, `guess-${attempt}`, attacker)).status).toBe(401);
      const waits: number[] = [];
      for (let round = 0; round < 4; round++) {
        const refused = await login(user.email, 'too-soon', attacker);
        expect(refused.status).toBe(429);
        const wait = Number(refused.headers.get('retry-after'));
        waits.push(wait);
        travel(wait * 1000 - 1);
        expect((await login(user.email, 'still-too-soon', attacker)).status).toBe(429);
        travel(1);
        expect((await login(user.email, `guess-after-${wait}`, attacker)).status).toBe(401);
      }
      expect(waits).toEqual([1, 2, 4, 8]);
    });

    it("forgives an account's failures at an address once the right password is given there", async () => {
      const user = await signUp(app.http);
      const address = newAddress();
      freeze();
      for (let attempt = 1; attempt <= 4; attempt++) expect((await login(user.email, `typo-${attempt}`, address)).status).toBe(401);
      expect((await login(user.email, user.password, address)).status).toBe(200);
      for (let attempt = 1; attempt <= 5; attempt++) expect((await login(user.email, `typo-again-${attempt}`, address)).status).toBe(401);
      expect((await login(user.email, user.password, address)).status).toBe(429);
    });

    it('lets failures leak away over time', async () => {
      const user = await signUp(app.http);
      const address = newAddress();
      freeze();
      for (let attempt = 1; attempt <= 5; attempt++) expect((await login(user.email, `guess-${attempt}`, address)).status).toBe(401);
      expect((await login(user.email, user.password, address)).status).toBe(429);
      travel(61 * 60_000);
      expect((await login(user.email, user.password, address)).status).toBe(200);
    });

    it('counts IPv6 clients by their /64', async () => {
      const user = await signUp(app.http);
      freeze();
      for (let host = 1; host <= 5; host++) expect((await login(user.email, `guess-${host}`, `2001:db8:5e:${addresses}::${host}`)).status).toBe(401);
      expect((await login(user.email, 'guess-6', `2001:db8:5e:${addresses}:ffff:ffff:ffff:ffff`)).status).toBe(429);
      expect((await login(user.email, user.password, `2001:db8:5e:${addresses + 1}::1`)).status).toBe(200);
    });

    it('throttles an address that sprays many accounts, for every account, and no other address', async () => {
      const user = await signUp(app.http);
      const sprayer = newAddress();
      freeze();
      for (let attempt = 1; attempt <= 20; attempt++) {
        expect((await login(uniqueEmail('spray'), 'Summer2026!', sprayer)).status).toBe(401);
      }
      const refused = await login(user.email, user.password, sprayer);
      expect(refused.status).toBe(429);
      expect(refused.headers.get('retry-after')).toBe('1');
      expect((await login(user.email, user.password, newAddress())).status).toBe(200);
    });

    it('takes the client address from the X-Forwarded-For entry the proxy appended, never from what the client wrote before it', async () => {
      const user = await signUp(app.http);
      const client = newAddress();
      freeze();
      for (let attempt = 1; attempt <= 5; attempt++) {
        const spoofed = `203.0.113.${attempt}, ${client}`;
        expect((await login(user.email, `guess-${attempt}`, spoofed)).status).toBe(401);
      }
      expect((await login(user.email, user.password, `203.0.113.77, ${client}`)).status).toBe(429);
      expect((await login(user.email, user.password, `${client}, ${newAddress()}`)).status).toBe(200);
    });
  });
});
