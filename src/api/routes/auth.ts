import { z } from 'zod';
import { type SessionLifetimes, refreshSession, signOut } from '../../commands/sessions.js';
import { registerWithInvite } from '../../commands/teams.js';
import { changePassword, logIn, registerUser, signOutEverywhere } from '../../commands/users.js';
import { EmailAddress } from '../../domain/user/identity.js';
import { inviteTeamId } from '../../projections/queries/invites.js';
import { chargeSignInAttempt, forgiveSignInAttempt } from '../auth/login-throttle.js';
import { HttpProblem, notFoundProblem, unauthorized } from '../problem.js';
import { noContent, routeGroup } from '../routing.js';
import { InviteToken } from '../schemas.js';
import type { ApiServices } from '../services.js';

/**
 * Every answer here carries a token, or its request a password: Idempotency-Key would keep them (or a hash of the
 * body) for replays, so it is ignored.
 */
const route = routeGroup({ tag: 'auth', replayable: false });

const Password = z.string().min(8, 'at least 8 characters').max(200, 'at most 200 characters');
const Tokens = z.object({ accessToken: z.string(), refreshToken: z.string() });
const RefreshToken = z.string().min(1).max(300);

const lifetimesOf = (services: ApiServices): SessionLifetimes => ({
  refreshTokenTtlDays: services.config.refreshTokenTtlDays,
  sessionMaxDays: services.config.sessionMaxDays,
});

/** Counts a password check against the caller's buckets first; refuses with 429 and Retry-After while they wait. */
async function throttlePasswordCheck(services: ApiServices, email: string, address: string): Promise<void> {
  const refused = await chargeSignInAttempt(services, email, address);
  if (refused) {
    throw new HttpProblem(
      429,
      'Too Many Requests',
      `too many failed password checks from this address; retry in ${refused.retryAfterSeconds} s`,
      { code: 'sign_in_throttled' },
      { 'Retry-After': String(refused.retryAfterSeconds) },
    );
  }
}

/** A fresh access token beside the session's refresh token: what every answer that signs someone in carries. */
async function sessionTokens(services: ApiServices, session: { userId: string; refreshToken: string }, now: Date) {
  return { accessToken: await services.accessTokens.issue(session.userId, now), refreshToken: session.refreshToken };
}

/** The team an invite token names: registering with it joins that team. */
async function invitingTeam(services: ApiServices, token: string): Promise<string> {
  const teamId = await inviteTeamId(services.db, token);
  if (!teamId) throw notFoundProblem('invite not found');
  return teamId;
}

const register = route('post', '/auth/register', {
  summary: 'Register with email and password (and optionally an invite token, joining its team); returns a session',
  permission: 'public',
  body: z.strictObject({ email: EmailAddress, password: Password, name: z.string().trim().min(1).max(100), inviteToken: InviteToken.optional() }),
  responses: { 201: z.object({ user: z.object({ id: z.uuid(), email: z.string(), name: z.string() }), ...Tokens.shape }) },
  async handler({ body, services }) {
    const now = services.clock();
    const registration = { email: body.email, password: body.password, name: body.name, now, lifetimes: lifetimesOf(services) };
    const session = body.inviteToken
      ? await registerWithInvite(services, { ...registration, invite: { teamId: await invitingTeam(services, body.inviteToken), token: body.inviteToken } })
      : await registerUser(services, registration);
    const user = { id: session.userId, email: session.email, name: session.name };
    return { status: 201, body: { user, ...(await sessionTokens(services, session, now)) }, position: session.position };
  },
});

const login = route('post', '/auth/login', {
  summary:
    'Sign in; failed attempts slow further ones from the same address, per account and per address, with growing waits (429 with Retry-After)',
  permission: 'public',
  body: z.strictObject({ email: EmailAddress, password: z.string().min(1).max(200) }),
  responses: { 200: Tokens },
  async handler({ body, services, ctx }) {
    await throttlePasswordCheck(services, body.email, ctx.ip);
    const now = services.clock();
    const session = await logIn(services, { email: body.email, password: body.password, now, lifetimes: lifetimesOf(services) });
    if (!session) throw unauthorized('the email or password is wrong');
    await forgiveSignInAttempt(services, body.email, ctx.ip);
    return { status: 200, body: await sessionTokens(services, session, now), position: session.position };
  },
});

const refresh = route('post', '/auth/refresh', {
  summary:
    'Exchange a refresh token for a new one and an access token; a spent refresh token ends its whole session, and no session outlives SESSION_MAX_DAYS',
  permission: 'public',
  body: z.strictObject({ refreshToken: RefreshToken }),
  responses: { 200: Tokens },
  async handler({ body, services }) {
    const now = services.clock();
    const session = await refreshSession(services, { refreshToken: body.refreshToken, now, lifetimes: lifetimesOf(services) });
    return { status: 200, body: await sessionTokens(services, session, now), position: session.position };
  },
});

const logout = route('post', '/auth/logout', {
  summary:
    'End the session a refresh token belongs to. Always 204 for a well-formed body: a token that opens no session (unknown, spent elsewhere, already signed out) has nothing to end',
  permission: 'public',
  body: z.strictObject({ refreshToken: RefreshToken }),
  responses: { 204: null },
  handler: ({ body, services }) => noContent(signOut(services, { refreshToken: body.refreshToken, now: services.clock() })),
});

const logoutAll = route('post', '/auth/logout-all', {
  summary: "End every session of the signed-in user: their refresh tokens, and every access token issued until now (this one included), are refused",
  permission: 'signed-in',
  responses: { 204: null },
  handler: ({ user, services }) => noContent(signOutEverywhere(services, { userId: user.id, now: services.clock() })),
});

const password = route('post', '/auth/password', {
  summary:
    'Change the password, proving the current one (403 wrong_password if not; throttled like sign-ins); ends every session as /auth/logout-all does',
  permission: 'signed-in',
  body: z.strictObject({ currentPassword: z.string().min(1).max(200), newPassword: Password }),
  responses: { 204: null },
  async handler({ body, user, services, ctx }) {
    const account = await services.db.selectFrom('users').select('email').where('id', '=', user.id).executeTakeFirst();
    if (!account) throw unauthorized('the access token names no user');
    await throttlePasswordCheck(services, account.email, ctx.ip);
    const { position } = await changePassword(services, {
      userId: user.id, currentPassword: body.currentPassword, newPassword: body.newPassword, now: services.clock(),
    });
    await forgiveSignInAttempt(services, account.email, ctx.ip);
    return { status: 204, position };
  },
});

export const authRoutes = [register, login, refresh, logout, logoutAll, password];
