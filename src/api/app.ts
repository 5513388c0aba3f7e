import { createHash, randomUUID, timingSafeEqual } from 'node:crypto';
import type { Server } from 'node:http';
import type { Socket } from 'node:net';
import Router from '@koa/router';
import Koa from 'koa';
import { SpanAttribute, SpanStatusCode, serveTraced } from '../infra/tracing.js';
import { HttpProblem, notFoundProblem, toProblem, unauthorized } from './problem.js';
import { openApiDocument } from './openapi.js';
import { type AnyRouteSpec, errorPageOf, mountRoutes } from './routing.js';
import type { ApiServices } from './services.js';

/** The Koa application: problem+json errors, bounded JSON bodies, request logs and metrics, then the routes. */
export function createApi(services: ApiServices, routes: readonly AnyRouteSpec[]): Koa {
  // Behind proxies, the client is the entry the nearest trusted proxy appended to X-Forwarded-For: counting from the
  // right, never the leftmost entry, which the client itself can write.
  const hops = services.config.trustProxyHops;
  const app = new Koa({ proxy: hops > 0, maxIpsCount: hops });
  const router = new Router();
  const openapi = openApiDocument(routes);

  if (services.config.tracing) app.use(traceRequests);

  app.use(async (ctx, next) => {
    const started = process.hrtime.bigint();
    const requestId = ctx.get('x-request-id') || randomUUID();
    ctx.state.requestId = requestId;
    ctx.set('X-Request-Id', requestId);
    try {
      await next();
      if (ctx.status === 404 && ctx.body === undefined) throw notFoundProblem(`no route for ${ctx.method} ${ctx.path}`);
      if (ctx.status === 405 || ctx.status === 501) throw new HttpProblem(ctx.status, 'Method Not Allowed', `${ctx.method} is not allowed here`);
    } catch (error) {
      const problem = toProblem(error) ?? new HttpProblem(500, 'Internal Server Error', 'an unexpected error occurred');
      if (problem.body.code === 'quota_exceeded') services.metrics.quotaRejections.inc({ quota: String(problem.body.quota) });
      if (problem.status >= 500) services.logger.error({ err: error, requestId }, 'request failed');
      ctx.status = problem.status;
      for (const [name, value] of Object.entries(problem.headers)) ctx.set(name, value);
      const errorPage = errorPageOf(ctx);
      if (errorPage) {
        const page = errorPage(problem);
        for (const [name, value] of Object.entries(page.headers)) ctx.set(name, value);
        ctx.body = page.html;
      } else {
        ctx.type = 'application/problem+json';
        ctx.body = JSON.stringify(problem.body);
      }
    } finally {
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      const route = routePatternOf(ctx);
      services.metrics.httpRequestDuration.observe({ method: ctx.method, route, status: String(ctx.status) }, seconds);
      services.logger.info(
        { requestId, method: ctx.method, route, path: withoutCredentials(ctx.path), status: ctx.status, ms: Math.round(seconds * 1000) },
        'request',
      );
    }
  });

  app.use(async (ctx, next) => {
    ctx.request.body = await readJsonBody(ctx, services.config.maxBodyBytes);
    await next();
  });

  router.get('/healthz', (ctx) => {
    ctx.body = { status: 'ok' };
  });
  router.get('/readyz', async (ctx) => {
    const checks = await services.readiness();
    const ready = Object.values(checks).every((value) => value === 'ok');
    ctx.status = ready ? 200 : 503;
    ctx.body = { status: ready ? 'ready' : 'not ready', checks };
  });
  router.get('/metrics', async (ctx) => {
    const { metricsToken } = services.config;
    if (metricsToken && !sameSecret(/^Bearer (\S+)$/.exec(ctx.get('authorization'))?.[1] ?? '', metricsToken)) {
      throw unauthorized('/metrics needs the METRICS_TOKEN bearer token');
    }
    ctx.type = services.metrics.registry.contentType;
    ctx.body = await services.metrics.registry.metrics();
  });
  router.get('/openapi.json', (ctx) => {
    ctx.body = openapi;
  });
  mountRoutes(router, routes, services);
  app.use(router.routes());
  app.use(router.allowedMethods({ throw: true, notImplemented: () => new HttpProblem(501, 'Not Implemented', 'method not implemented'), methodNotAllowed: () => new HttpProblem(405, 'Method Not Allowed', 'method not allowed for this resource') }));
  app.on('error', () => undefined);
  return app;
}

/** The route pattern the request matched (never its path, which holds ids and credentials), or `unmatched`. */
function routePatternOf(ctx: Koa.Context): string {
  const matched = (ctx as { _matchedRoute?: unknown })._matchedRoute;
  return (ctx.state.route as string | undefined) ?? (typeof matched === 'string' ? matched : 'unmatched');
}

function sameSecret(given: string, expected: string): boolean {
  const digest = (text: string) => createHash('sha256').update(text).digest();
  return timingSafeEqual(digest(given), digest(expected));
}

/**
 * A server span per request, continuing the caller's trace (traceparent), named after the route pattern. Its
 * attributes are the pattern, the status and the team and alert ids of the path: never the path, which can carry
 * integration keys and action link tokens.
 */
const traceRequests: Koa.Middleware = (ctx, next) =>
  serveTraced(ctx.method, ctx.headers, async (span) => {
    try {
      await next();
    } finally {
      const route = routePatternOf(ctx);
      const params = (ctx as { params?: Record<string, string> }).params ?? {};
      span.updateName(`${ctx.method} ${route}`);
      span.setAttributes({
        'http.request.method': ctx.method,
        'http.route': route,
        'http.response.status_code': ctx.status,
        ...(params.teamId ? { [SpanAttribute.teamId]: params.teamId } : {}),
        ...(params.alertId ? { [SpanAttribute.alertId]: params.alertId } : {}),
      });
      if (ctx.status >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
    }
  });

/** Integration keys and action link tokens are credentials that travel in the path (even when the method is wrong): logs never keep them. */
function withoutCredentials(path: string): string {
  return path.replace(/^(\/integrations\/[^/]+\/)[^/]+/, '$1[redacted]').replace(/^\/a\/[^/]+/, '/a/[redacted]');
}

const unparseable: Record<string, { status: number; title: string }> = {
  HPE_HEADER_OVERFLOW: { status: 431, title: 'Request Header Fields Too Large' },
  ERR_HTTP_REQUEST_TIMEOUT: { status: 408, title: 'Request Timeout' },
};

/**
 * Requests Node's HTTP parser refuses (control characters, broken framing, oversized headers) never reach Koa;
 * they get the same problem+json answer as every other error instead of Node's bare "400 Bad Request".
 */
export function answerUnparseableRequests(server: Server): void {
  server.on('clientError', (error: NodeJS.ErrnoException, socket: Socket & { _httpMessage?: { headersSent: boolean } | null }) => {
    // As Node itself does: never write into a response already under way on this connection.
    if (error.code === 'ECONNRESET' || !socket.writable || socket._httpMessage?.headersSent) {
      socket.destroy();
      return;
    }
    const { status, title } = unparseable[error.code ?? ''] ?? { status: 400, title: 'Bad Request' };
    const body = JSON.stringify(new HttpProblem(status, title, `the request is not valid HTTP/1.1 (${error.code ?? error.message})`).body);
    socket.end(
      `HTTP/1.1 ${status} ${title}\r\nContent-Type: application/problem+json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
    );
  });
}

async function readJsonBody(ctx: Koa.Context, limit: number): Promise<unknown> {
  if (ctx.method === 'GET' || ctx.method === 'HEAD') return undefined;
  const declared = Number(ctx.get('content-length') || 0);
  if (declared > limit) throw new HttpProblem(413, 'Content Too Large', `the body must be at most ${limit} bytes`);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of ctx.req) {
    size += (chunk as Buffer).length;
    if (size > limit) throw new HttpProblem(413, 'Content Too Large', `the body must be at most ${limit} bytes`);
    chunks.push(chunk as Buffer);
  }
  if (size === 0) return undefined;
  if (!ctx.is('application/json', 'application/*+json')) {
    throw new HttpProblem(415, 'Unsupported Media Type', 'send the body as application/json');
  }
  const text = Buffer.concat(chunks).toString('utf8');
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch (error) {
    throw new HttpProblem(400, 'Malformed JSON', `the body is not valid JSON: ${(error as Error).message}`);
  }
  const unstorable = unstorableJson(body);
  if (unstorable) throw new HttpProblem(400, 'Unsupported JSON', unstorable);
  return body;
}

export const MAX_JSON_DEPTH = 64;
const NUL_OR_LONE_SURROGATE = /\u0000|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/**
 * Valid JSON that cannot be kept: PostgreSQL refuses NUL and unpaired surrogates in text and jsonb, and nesting
 * deeper than any real payload needs overflows the stack of JSON.stringify when the event is written. Walked
 * without recursion, since the nesting is what is being measured.
 */
function unstorableJson(value: unknown): string | null {
  const pending: [unknown, number][] = [[value, 0]];
  while (pending.length > 0) {
    const [current, depth] = pending.pop()!;
    if (typeof current === 'string') {
      if (NUL_OR_LONE_SURROGATE.test(current)) return 'strings in the body must be Unicode text without NUL characters';
      continue;
    }
    if (current === null || typeof current !== 'object') continue;
    if (depth >= MAX_JSON_DEPTH) return `the body nests deeper than ${MAX_JSON_DEPTH} levels`;
    for (const [key, inner] of Object.entries(current)) {
      if (NUL_OR_LONE_SURROGATE.test(key)) return 'keys in the body must be Unicode text without NUL characters';
      pending.push([inner, depth + 1]);
    }
  }
  return null;
}
