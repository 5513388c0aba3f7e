import { createHash } from 'node:crypto';
import Router from '@koa/router';
import type { Context } from 'koa';
import { z } from 'zod';
import { formatPosition, type LogPosition, parsePosition } from '../eventstore/types.js';
import { apiTokenHolder, isApiToken } from '../commands/api-tokens.js';
import {
  admit,
  type Authenticated,
  type CallerOf,
  requiresSignIn,
  type RoutePermission,
  type TeamRoutePermission,
} from './authorization.js';
import { ifMatchVersion, type VersionedResource } from './if-match.js';
import { badRequest, HttpProblem, toProblem, unauthorized, validationProblem } from './problem.js';
import type { ApiServices } from './services.js';

export type HttpMethod = 'get' | 'post' | 'put' | 'patch' | 'delete';

export interface RouteResult {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
  /** Where the command's events landed; the response waits until the read models have passed it. */
  position?: LogPosition | null;
}

/** A request as its route's schemas parsed it. */
interface RouteRequest<Params, Query, Body> {
  body: Body;
  query: Query;
  params: Params;
  headers: Context['headers'];
  /** The version `If-Match` names, for a route that declares it honours If-Match; undefined without the header. */
  expectedVersion: number | undefined;
  services: ApiServices;
  ctx: Context;
}

/** What a handler gets: the parsed request, and its caller as the route's permission admitted them. */
export type RouteInput<P extends RoutePermission, Params, Query, Body> = CallerOf<P> & RouteRequest<Params, Query, Body>;

/** What the routes of one resource share. */
export interface RouteGroup {
  /** The OpenAPI tag. */
  tag: string;
  /**
   * False for responses that carry a secret shown once (tokens): Idempotency-Key is ignored rather than the secret
   * being kept in plain text for replays.
   */
  replayable?: false;
}

interface RouteDescription extends Pick<RouteGroup, 'replayable'> {
  summary: string;
  /** The operation's id in the OpenAPI document, where the one derived from the method and path reads badly. */
  operationId?: string;
  /**
   * The versioned resource the route answers or changes: its version is the response's ETag. With `ifMatch`, a
   * change honours If-Match, and the handler gets the version it names as `expectedVersion`.
   */
  versioned?: { resource: VersionedResource; ifMatch?: true };
  /** Documented responses: status -> body schema (null: no body). */
  responses: Record<number, z.ZodType | null>;
  /**
   * Every command answers 202 without waiting for the read models when the client asks (`Prefer: respond-async`);
   * high-rate ingest routes always do.
   */
  async?: 'always';
  /**
   * For a route people open in a browser: it answers HTML, and its errors are this page instead of problem+json.
   */
  errorPage?: ErrorPage;
}

/** An HTML page that shows a problem, with the headers it must be served with. */
export type ErrorPage = (problem: HttpProblem) => { html: string; headers: Record<string, string> };

/** The error page of the route the request reached, if that route answers HTML. */
export function errorPageOf(ctx: Context): ErrorPage | undefined {
  return ctx.state.errorPage as ErrorPage | undefined;
}

export interface RouteSpec<P extends RoutePermission, Params, Query, Body> extends RouteDescription {
  permission: P;
  params?: z.ZodType<Params>;
  query?: z.ZodType<Query>;
  body?: z.ZodType<Body>;
  handler: (input: RouteInput<P, Params, Query, Body>) => Promise<RouteResult>;
}

/** A route of the route table, its types erased. */
export interface AnyRouteSpec extends RouteDescription, RouteGroup {
  method: HttpMethod;
  path: string;
  permission: RoutePermission;
  /** Whether an access token is required, as the permission says. */
  auth: 'user' | 'none';
  params?: z.ZodType;
  query?: z.ZodType;
  body?: z.ZodType;
  handler(input: RouteInput<RoutePermission, unknown, unknown, unknown>): Promise<RouteResult>;
}

/** The path parameters a permission is decided by: the team's id, or the integration key. */
type ParamsOf<P extends RoutePermission> = P extends TeamRoutePermission
  ? { teamId: string }
  : P extends 'integration-key'
    ? { key: string }
    : unknown;
type ParamsSchemaOf<P extends RoutePermission, Params> = P extends TeamRoutePermission | 'integration-key'
  ? { params: z.ZodType<Params> }
  : unknown;

/** Declares the routes of one resource: each its method, path and permission, the group what they share. */
export function routeGroup(group: RouteGroup) {
  return function defineRoute<
    const P extends RoutePermission,
    Params extends ParamsOf<P> = never,
    Query = undefined,
    Body = undefined,
  >(
    method: HttpMethod,
    path: string,
    spec: RouteSpec<P, Params, Query, Body> & ParamsSchemaOf<P, Params>,
  ): AnyRouteSpec {
    return { ...group, method, path, ...spec, auth: requiresSignIn(spec.permission) ? 'user' : 'none' };
  };
}

/** The answer of a command that has nothing to say but where its events landed. */
export async function noContent(command: Promise<{ position: LogPosition | null }>): Promise<RouteResult> {
  return { status: 204, position: (await command).position };
}

export const POSITION_HEADER = 'x-alertops-position';
export const IdempotencyKey = z.string().min(1).max(200).regex(/^[\x21-\x7e]+$/, 'printable ASCII without spaces');

export function mountRoutes(router: Router, routes: readonly AnyRouteSpec[], services: ApiServices): void {
  for (const route of routes) {
    router[route.method](route.path, async (ctx) => {
      ctx.state.route = route.path;
      ctx.state.errorPage = route.errorPage;
      const user = await authenticate(ctx, services, route.auth);
      await waitForRequestedPosition(ctx, services);
      const request: RouteRequest<unknown, unknown, unknown> = {
        params: parseOrThrow(route.params, ctx.params, 'path'),
        query: parseOrThrow(route.query, withoutPosition(ctx.query), 'query'),
        body: route.body ? parseOrThrow(route.body, ctx.request.body, 'body') : undefined,
        headers: ctx.headers,
        expectedVersion: undefined,
        services,
        ctx,
      };
      const idempotencyKey = ctx.get('idempotency-key');
      const result =
        route.method !== 'get' && route.replayable !== false && idempotencyKey
          ? await withIdempotency(ctx, services, user, idempotencyKey, () => run(route, user, request))
          : await run(route, user, request);
      ctx.status = result.status;
      for (const [name, value] of Object.entries(result.headers ?? {})) ctx.set(name, value);
      if (result.body !== undefined) ctx.body = result.body;
    });
  }
}

/** Admits the caller as the route's permission says, runs the handler, and waits for the read models when asked to. */
async function run(route: AnyRouteSpec, user: Authenticated | null, request: RouteRequest<unknown, unknown, unknown>): Promise<RouteResult> {
  const { services, ctx } = request;
  const caller = await admit(route.permission, services, user, request.params);
  const expectedVersion = route.versioned?.ifMatch ? ifMatchVersion(ctx, route.versioned.resource) : undefined;
  const result = await route.handler({ ...request, ...caller, expectedVersion });
  const headers = { ...result.headers };
  if (result.position) {
    headers['X-AlertOps-Position'] = formatPosition(result.position);
    const respondAsync = route.async === 'always' || /respond-async/i.test(ctx.get('prefer'));
    if (respondAsync) {
      return { ...result, status: result.status < 300 ? 202 : result.status, headers: { ...headers, 'Preference-Applied': 'respond-async' } };
    }
    const visible = await services.progress.waitFor(result.position, services.config.readYourWritesTimeoutMs);
    if (!visible) headers['X-AlertOps-Consistency'] = 'pending';
  }
  return { ...result, headers };
}

function parseOrThrow<T>(schema: z.ZodType<T> | undefined, value: unknown, where: 'body' | 'query' | 'path'): T {
  if (!schema) return undefined as T;
  const parsed = schema.safeParse(value);
  if (!parsed.success) throw validationProblem(parsed.error, where);
  return parsed.data;
}

async function authenticate(ctx: Context, services: ApiServices, mode: 'user' | 'none'): Promise<Authenticated | null> {
  const header = ctx.get('authorization');
  if (!header) {
    if (mode === 'user') throw unauthorized();
    return null;
  }
  const match = /^Bearer ([A-Za-z0-9._~+/=-]+)$/.exec(header);
  if (match && isApiToken(match[1]!)) {
    const holder = await apiTokenHolder(services, match[1]!);
    if (!holder && mode === 'user') throw unauthorized('the API token is unknown or revoked');
    return holder ? { apiToken: holder } : null;
  }
  const claims = match ? await services.accessTokens.verify(match[1]!) : null;
  if (!claims) {
    if (mode === 'user') throw unauthorized('the access token is invalid or expired');
    return null;
  }
  if (await issuedBeforeCutoff(services, claims.userId, claims.issuedAt)) {
    if (mode === 'user') throw unauthorized('the session of this access token has ended; sign in again');
    return null;
  }
  return { id: claims.userId };
}

/** Whether the user ended every session (sign-out everywhere, a password change) after this token was issued. */
async function issuedBeforeCutoff(services: ApiServices, userId: string, issuedAt: Date): Promise<boolean> {
  const cutoff = await services.db
    .selectFrom('session_cutoffs')
    .select('sessions_valid_after')
    .where('user_id', '=', userId)
    .executeTakeFirst();
  return cutoff !== undefined && issuedAt.getTime() < cutoff.sessions_valid_after.getTime();
}

function withoutPosition(query: Context['query']): Record<string, unknown> {
  const { position: _position, ...rest } = query;
  return rest;
}

/** A query given a position waits (bounded) until the read models have passed it. */
async function waitForRequestedPosition(ctx: Context, services: ApiServices): Promise<void> {
  const requested = ctx.get(POSITION_HEADER) || (typeof ctx.query.position === 'string' ? ctx.query.position : '');
  if (!requested) return;
  const position = parsePosition(requested);
  if (!position) throw badRequest('position must look like <transaction>-<position>, as returned in X-AlertOps-Position');
  const visible = await services.progress.waitFor(position, services.config.readYourWritesTimeoutMs);
  if (!visible) ctx.set('X-AlertOps-Consistency', 'pending');
}

/** Same key and same request replays the first response; same key with another request is refused. */
async function withIdempotency(
  ctx: Context,
  services: ApiServices,
  caller: Authenticated | null,
  rawKey: string,
  execute: () => Promise<RouteResult>,
): Promise<RouteResult> {
  const key = IdempotencyKey.safeParse(rawKey);
  if (!key.success) throw validationProblem(key.error, 'header');
  // Hashed: an integration key is part of its path, and this table must not keep it in plain text.
  const callerId = !caller ? 'anonymous' : 'apiToken' in caller ? `token:${caller.apiToken.tokenId}` : caller.id;
  const scope = `${callerId} ${ctx.method} ${createHash('sha256').update(ctx.path).digest('hex')}`;
  const requestHash = createHash('sha256').update(JSON.stringify(ctx.request.body ?? null)).digest('hex');
  const reserved = await services.pool.query(
    `insert into idempotency_keys (scope, idempotency_key, request_hash, status, headers)
     values ($1, $2, $3, 0, '{}') on conflict do nothing`,
    [scope, key.data, requestHash],
  );
  if (reserved.rowCount === 0) {
    const { rows } = await services.pool.query<{ request_hash: string; status: number; headers: Record<string, string>; body: unknown }>(
      'select request_hash, status, headers, body from idempotency_keys where scope = $1 and idempotency_key = $2',
      [scope, key.data],
    );
    const stored = rows[0];
    if (!stored) throw new HttpProblem(409, 'Conflict', 'a request with this Idempotency-Key is being processed; retry');
    if (stored.request_hash !== requestHash) {
      throw new HttpProblem(422, 'Unprocessable Content', 'this Idempotency-Key was used with a different request', {
        code: 'idempotency_key_reused',
      });
    }
    if (stored.status === 0) throw new HttpProblem(409, 'Conflict', 'a request with this Idempotency-Key is being processed; retry');
    return { status: stored.status, body: stored.body ?? undefined, headers: { ...stored.headers, 'Idempotent-Replayed': 'true' } };
  }
  try {
    const result = await execute();
    await services.pool.query(
      `update idempotency_keys set status = $3, headers = $4, body = $5 where scope = $1 and idempotency_key = $2`,
      [scope, key.data, result.status, JSON.stringify(result.headers ?? {}), JSON.stringify(result.body ?? null)],
    );
    return result;
  } catch (error) {
    const problem = toProblem(error);
    if (problem && problem.status < 500) {
      await services.pool.query(
        `update idempotency_keys set status = $3, headers = $4, body = $5 where scope = $1 and idempotency_key = $2`,
        [scope, key.data, problem.status, JSON.stringify({ 'Content-Type': 'application/problem+json' }), JSON.stringify(problem.body)],
      );
    } else {
      await services.pool.query('delete from idempotency_keys where scope = $1 and idempotency_key = $2', [scope, key.data]);
    }
    throw error;
  }
}
