import { z } from 'zod';
import { registerWithInvite } from '../../commands/teams.js';
import { logIn, registerUser, rotateRefreshToken } from '../../commands/users.js';
import { EmailAddress } from '../../domain/user/identity.js';
import { secretTokenId } from '../../infra/secret-tokens.js';
import { clearLoginFailures, loginRetryAfterSeconds, recordLoginFailure } from '../auth/login-throttle.js';
import { HttpProblem, unauthorized } from '../problem.js';
import { defineRoute } from '../routing.js';
import { InviteToken, inviteTeamId } from './invites.js';

const Password = z.string().min(8, 'at least 8 characters').max(200, 'at most 200 characters');
const Tokens = z.object({ accessToken: z.string(), refreshToken: z.string() });

const register = defineRoute({
  method: 'post',
  path: '/auth/register',
  summary: 'Register with email and password (and optionally an invite token, joining its team); returns a session',
  tag: 'auth',
  auth: 'none',
  replayable: false,
  body: z.strictObject({ email: EmailAddress, password: Password, name: z.string().trim().min(1).max(100), inviteToken: InviteToken.optional() }),
  responses: { 201: z.object({ user: z.object({ id: z.uuid(), email: z.string(), name: z.string() }), ...Tokens.shape }) },
  async handler({ body, services }) {
    const registration = { email: body.email, password: body.password, name: body.name, now: services.clock(), refreshTokenTtlDays: services.config.refreshTokenTtlDays };
    const session = body.inviteToken
      ? await registerWithInvite(services, { ...registration, invite: { teamId: await inviteTeamId(services, body.inviteToken), token: body.inviteToken } })
      : await registerUser(services, registration);
    return {
      status: 201,
      body: {
        user: { id: session.userId, email: session.email, name: session.name },
        accessToken: await services.accessTokens.issue(session.userId),
        refreshToken: session.refreshToken,
      },
      position: session.position,
    };
  },
});

const login = defineRoute({
  method: 'post',
  path: '/auth/login',
  summary: 'Sign in; repeated failures for an email or from an address are throttled (429 with Retry-After)',
  tag: 'auth',
  auth: 'none',
  replayable: false,
  body: z.strictObject({ email: EmailAddress, password: z.string().min(1).max(200) }),
  responses: { 200: Tokens },
  async handler({ body, services, ctx }) {
    const retryAfter = await loginRetryAfterSeconds(services, body.email, ctx.ip);
    if (retryAfter !== null) {
      throw new HttpProblem(429, 'Too Many Requests', `too many failed sign-ins; retry in ${retryAfter} s`, {}, { 'Retry-After': String(retryAfter) });
    }
    const now = services.clock();
    const session = await logIn(services, { email: body.email, password: body.password, now, refreshTokenTtlDays: services.config.refreshTokenTtlDays });
    if (!session) {
      await recordLoginFailure(services, body.email, ctx.ip);
      throw unauthorized('the email or password is wrong');
    }
    await clearLoginFailures(services, body.email);
    return {
      status: 200,
      body: { accessToken: await services.accessTokens.issue(session.userId), refreshToken: session.refreshToken },
      position: session.position,
    };
  },
});

const refresh = defineRoute({
  method: 'post',
  path: '/auth/refresh',
  summary: 'Exchange a refresh token for a new session; a spent refresh token signs out its whole session family',
  tag: 'auth',
  auth: 'none',
  replayable: false,
  body: z.strictObject({ refreshToken: z.string().min(1).max(300) }),
  responses: { 200: Tokens },
  async handler({ body, services }) {
    const tokenId = secretTokenId(body.refreshToken);
    const owner = tokenId
      ? await services.db.selectFrom('refresh_tokens').select('user_id').where('token_id', '=', tokenId).executeTakeFirst()
      : undefined;
    if (!owner) throw unauthorized('the refresh token is invalid or expired');
    const now = services.clock();
    const session = await rotateRefreshToken(services, {
      userId: owner.user_id, refreshToken: body.refreshToken, now, refreshTokenTtlDays: services.config.refreshTokenTtlDays,
    });
    return {
      status: 200,
      body: { accessToken: await services.accessTokens.issue(session.userId), refreshToken: session.refreshToken },
      position: session.position,
    };
  },
});

export const authRoutes = [register, login, refresh];
