import { randomBytes, randomUUID } from 'node:crypto';
import { SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signUp } from './support/accounts.js';
import { startTestApp, type TestApp } from './support/app.js';

const uniqueEmail = (prefix = 'user') => `${prefix}-${randomBytes(6).toString('hex')}@example.com`;

describe('identity: registration, sign-in, sessions', () => {
  let app: TestApp;
  let clockOffsetMs = 0;
  /** Moves the service's clock (never the test's) forward; time-based rules read only that clock. */
  const travel = (minutes: number) => {
    clockOffsetMs += minutes * 60_000;
  };

  beforeAll(async () => {
    app = await startTestApp();
    app.runtime.services.clock = () => new Date(Date.now() + clockOffsetMs);
  });
  afterAll(async () => {
    await app?.stop();
  });

  describe('POST /auth/register', () => {
    it('registers a user, signs them in, and /me sees them at once', async () => {
      const email = uniqueEmail('ada');
      const response = await app.http.post('/auth/register', { email: `  ${email.toUpperCase()} `, password: 'correct horse', name: 'Ada' });
      expect(response.status).toBe(201);
      expect(response.body).toEqual({
        user: { id: expect.any(String), email, name: 'Ada' },
        accessToken: expect.any(String),
        refreshToken: expect.stringMatching(/^[0-9a-f-]{36}\.[A-Za-z0-9_-]+$/),
      });
      const me = await app.http.get('/me', { token: response.body.accessToken });
      expect(me.status).toBe(200);
      expect(me.body).toEqual({ id: response.body.user.id, email, name: 'Ada', teams: [] });
    });

    it('never returns or stores the password in the clear', async () => {
      const password = `secret-${randomBytes(8).toString('hex')}`;
      const response = await app.http.post('/auth/register', { email: uniqueEmail(), password, name: 'Bo' });
      expect(response.status).toBe(201);
      expect(JSON.stringify(response.body)).not.toContain(password);
      const { rows } = await app.database.pool.query(`select data::text as data from events where data::text like $1`, [`%${password}%`]);
      expect(rows).toEqual([]);
      const { rows: hashes } = await app.database.pool.query<{ hash: string }>(
        `select data->>'passwordHash' as hash from events where event_type = 'UserRegistered' and data->>'userId' = $1`,
        [response.body.user.id],
      );
      expect(hashes[0]!.hash).toMatch(/^scrypt\$16384\$8\$1\$/);
    });

    it('refuses an email that is already registered, in any case, with 409', async () => {
      const email = uniqueEmail();
      expect((await app.http.post('/auth/register', { email, password: 'password-1', name: 'One' })).status).toBe(201);
      const again = await app.http.post('/auth/register', { email: email.toUpperCase(), password: 'password-2', name: 'Two' });
      expect(again.status).toBe(409);
      expect(again.headers.get('content-type')).toContain('application/problem+json');
      expect(again.body.code).toBe('email_taken');
    });

    it('lets exactly one of several racing registrations of one email through', async () => {
      const email = uniqueEmail('race');
      const variants = [email, email.toUpperCase(), ` ${email}`, email.replace('race', 'RACE'), `${email} `];
      const responses = await Promise.all(
        variants.map((variant, index) => app.http.post('/auth/register', { email: variant, password: `password-${index}`, name: `Racer ${index}` })),
      );
      expect(responses.map((response) => response.status).sort()).toEqual([201, 409, 409, 409, 409]);
      const { rows } = await app.database.pool.query(`select count(*)::int as users from events where event_type = 'UserRegistered' and data->>'email' = $1`, [email]);
      expect(rows[0].users).toBe(1);
    });

    it.each([
      ['an invalid email', { email: 'not-an-email', password: 'password-1', name: 'X' }, 'body.email'],
      ['a password shorter than 8', { email: uniqueEmail(), password: 'short12', name: 'X' }, 'body.password'],
      ['a password longer than 200', { email: uniqueEmail(), password: 'p'.repeat(201), name: 'X' }, 'body.password'],
      ['a missing name', { email: uniqueEmail(), password: 'password-1' }, 'body.name'],
      ['a blank name', { email: uniqueEmail(), password: 'password-1', name: '   ' }, 'body.name'],
      ['a number for an email', { email: 42, password: 'password-1', name: 'X' }, 'body.email'],
      ['an unknown field', { email: uniqueEmail(), password: 'password-1', name: 'X', admin: true }, 'body'],
    ])('refuses %s with 400 and the field that is wrong', async (_, body, path) => {
      const response = await app.http.post('/auth/register', body);
      expect(response.status).toBe(400);
      expect(response.body.errors.map((error: { path: string }) => error.path)).toContain(path);
    });

    it('refuses malformed JSON and a missing body with 400', async () => {
      expect((await app.http.post('/auth/register', undefined, { raw: '{"email": "a@b.c",' })).status).toBe(400);
      expect((await app.http.post('/auth/register')).status).toBe(400);
      expect((await app.http.post('/auth/register', ['a@b.c'])).status).toBe(400);
    });
  });

  describe('POST /auth/login', () => {
    it('signs in with the right password, in any email case', async () => {
      const user = await signUp(app.http);
      const response = await app.http.post('/auth/login', { email: user.email.toUpperCase(), password: user.password });
      expect(response.status).toBe(200);
      expect(response.body).toEqual({ accessToken: expect.any(String), refreshToken: expect.any(String) });
      expect((await app.http.get('/me', { token: response.body.accessToken })).body.id).toBe(user.userId);
    });

    it('answers a wrong password and an unknown email with the same 401', async () => {
      const user = await signUp(app.http);
      const wrongPassword = await app.http.post('/auth/login', { email: user.email, password: 'not-the-password' });
      const unknownEmail = await app.http.post('/auth/login', { email: uniqueEmail('nobody'), password: user.password });
      expect(wrongPassword.status).toBe(401);
      expect(unknownEmail.status).toBe(401);
      expect(unknownEmail.body).toEqual(wrongPassword.body);
    });

    it('ignores Idempotency-Key rather than keeping issued tokens for replay', async () => {
      const user = await signUp(app.http);
      const key = randomUUID();
      const first = await app.http.post('/auth/login', { email: user.email, password: user.password }, { headers: { 'idempotency-key': key } });
      const second = await app.http.post('/auth/login', { email: user.email, password: user.password }, { headers: { 'idempotency-key': key } });
      expect(first.status).toBe(200);
      expect(second.status).toBe(200);
      expect(second.body.refreshToken).not.toBe(first.body.refreshToken);
      const { rows } = await app.database.pool.query('select 1 from idempotency_keys where idempotency_key = $1', [key]);
      expect(rows).toEqual([]);
    });

    it('counts failures by the connecting address and ignores X-Forwarded-For unless TRUST_PROXY says a proxy writes it', async () => {
      const user = await signUp(app.http);
      const realClock = app.runtime.services.clock;
      const frozen = realClock();
      app.runtime.services.clock = () => frozen;
      try {
        for (let attempt = 1; attempt <= 5; attempt++) {
          const response = await app.http.post('/auth/login', { email: user.email, password: `wrong-${attempt}` }, { headers: { 'x-forwarded-for': `198.51.100.${attempt}` } });
          expect(response.status).toBe(401);
        }
        const fromAnotherClaimedAddress = await app.http.post(
          '/auth/login',
          { email: user.email, password: user.password },
          { headers: { 'x-forwarded-for': '203.0.113.99' } },
        );
        expect(fromAnotherClaimedAddress.status).toBe(429);
        expect(fromAnotherClaimedAddress.headers.get('retry-after')).toBe('1');
      } finally {
        app.runtime.services.clock = realClock;
      }
    });
  });

  describe('POST /auth/refresh', () => {
    it('exchanges a refresh token for a new session and spends the old one', async () => {
      const user = await signUp(app.http);
      const refreshed = await app.http.post('/auth/refresh', { refreshToken: user.refreshToken });
      expect(refreshed.status).toBe(200);
      expect(refreshed.body.refreshToken).not.toBe(user.refreshToken);
      expect((await app.http.get('/me', { token: refreshed.body.accessToken })).status).toBe(200);
      const again = await app.http.post('/auth/refresh', { refreshToken: refreshed.body.refreshToken });
      expect(again.status).toBe(200);
    });

    it('revokes the whole session when a spent refresh token comes back', async () => {
      const user = await signUp(app.http);
      const otherSession = await app.http.post('/auth/login', { email: user.email, password: user.password });
      const rotated = await app.http.post('/auth/refresh', { refreshToken: user.refreshToken });
      expect(rotated.status).toBe(200);

      const replayed = await app.http.post('/auth/refresh', { refreshToken: user.refreshToken });
      expect(replayed.status).toBe(401);
      expect(replayed.body.code).toBe('refresh_token_reused');
      expect((await app.http.post('/auth/refresh', { refreshToken: rotated.body.refreshToken })).status).toBe(401);

      expect((await app.http.post('/auth/refresh', { refreshToken: otherSession.body.refreshToken })).status).toBe(200);
    });

    it('refuses a refresh token once it has expired', async () => {
      const user = await signUp(app.http);
      travel(app.config.refreshTokenTtlDays * 24 * 60 + 1);
      const response = await app.http.post('/auth/refresh', { refreshToken: user.refreshToken });
      expect(response.status).toBe(401);
    });

    it.each([
      ['a forged token for a real token id', async () => `${(await signUp(app.http)).refreshToken.split('.')[0]}.${randomBytes(32).toString('base64url')}`],
      ['an unknown token', async () => `${randomUUID()}.${randomBytes(32).toString('base64url')}`],
      ['a token that is not shaped like one', async () => 'not-a-token'],
    ])('refuses %s with 401', async (_, token) => {
      const response = await app.http.post('/auth/refresh', { refreshToken: await token() });
      expect(response.status).toBe(401);
    });

    it('refuses a refresh token of the wrong type with 400', async () => {
      expect((await app.http.post('/auth/refresh', { refreshToken: 12 })).status).toBe(400);
    });
  });

  describe('access tokens', () => {
    const sign = (key: string, claims: { sub: string; exp: number; typ?: string }) =>
      new SignJWT({ typ: claims.typ ?? 'access' })
        .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
        .setSubject(claims.sub)
        .setIssuer('alertops')
        .setAudience('alertops-api')
        .setIssuedAt(claims.exp - 900)
        .setExpirationTime(claims.exp)
        .sign(new TextEncoder().encode(key));
    const base64url = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

    it('accepts a token signed with the key and not expired (the control for the refusals below)', async () => {
      const user = await signUp(app.http);
      const token = await sign(app.config.jwtSecret, { sub: user.userId, exp: Math.floor(Date.now() / 1000) + 600 });
      expect((await app.http.get('/me', { token })).status).toBe(200);
    });

    it.each([
      ['no token', async () => undefined],
      ['an expired token', async (userId: string) => sign(app.config.jwtSecret, { sub: userId, exp: Math.floor(Date.now() / 1000) - 60 })],
      ['a token signed with another key', async (userId: string) => sign('another-secret-that-is-long-enough-for-hs256', { sub: userId, exp: Math.floor(Date.now() / 1000) + 600 })],
      [
        'an alg:none token',
        async (userId: string) =>
          `${base64url({ alg: 'none', typ: 'JWT' })}.${base64url({ sub: userId, typ: 'access', iss: 'alertops', aud: 'alertops-api', iat: Math.floor(Date.now() / 1000), exp: Math.floor(Date.now() / 1000) + 600 })}.`,
      ],
      ['a token of another type', async (userId: string) => sign(app.config.jwtSecret, { sub: userId, exp: Math.floor(Date.now() / 1000) + 600, typ: 'refresh' })],
      ['garbage', async () => 'garbage'],
    ])('refuses %s with 401', async (_, token) => {
      const user = await signUp(app.http);
      const response = await app.http.get('/me', { token: await token(user.userId) });
      expect(response.status).toBe(401);
      expect(response.headers.get('www-authenticate')).toBe('Bearer');
    });

    it('refuses a refresh token used as an access token', async () => {
      const user = await signUp(app.http);
      expect((await app.http.get('/me', { token: user.refreshToken })).status).toBe(401);
    });
  });
});
