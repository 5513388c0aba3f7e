import http from 'node:http';
import { connect } from 'node:net';
import { parse as parseQuery } from 'node:querystring';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { routes } from '../../src/api/routes/index.js';
import type { AnyRouteSpec } from '../../src/api/routing.js';
import { signUp, type SignedUpUser } from '../support/accounts.js';
import { startTestApp, type TestApp } from '../support/app.js';
import {
  CONTENT_TYPES_JSON,
  CONTENT_TYPES_NOT_JSON,
  deeplyNested,
  type IdPool,
  idLike,
  jsonSchemaOf,
  MALFORMED_JSON,
  mutatedJson,
  NASTY_HEADER_VALUES,
  NASTY_STRINGS,
  Random,
  validValue,
} from './fuzz-inputs.js';
import { rowCountChanges, settledDatabaseState, unexplainedChanges } from '../support/database-state.js';
import { buildTenant, type Tenant } from './tenant.js';

const SEED = Number(process.env.FUZZ_SEED ?? 0x5eed_a1e7);
const REJECTED_REQUESTS = 2000;
const RANDOM_REQUESTS = 3000;
const CONCURRENCY = 6;

interface FuzzRequest {
  method: string;
  path: string;
  headers: Record<string, string>;
  body?: string | Buffer;
  /** Why this request must be refused (rejected phase only). */
  poison?: string;
}

interface FuzzResponse {
  status: number;
  contentType: string;
  text: string;
}

const agent = new http.Agent({ keepAlive: true, maxSockets: CONCURRENCY });

function send(baseUrl: string, request: FuzzRequest): Promise<FuzzResponse> {
  const url = new URL(baseUrl);
  return new Promise((resolve, reject) => {
    // Node frames a DELETE or OPTIONS body only when told its length; unframed bytes would read as a second request.
    const headers = request.body === undefined ? request.headers : { ...request.headers, 'content-length': String(Buffer.byteLength(request.body)) };
    const outgoing = http.request(
      { host: url.hostname, port: url.port, method: request.method, path: request.path, headers, agent },
      (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () =>
          resolve({ status: response.statusCode ?? 0, contentType: String(response.headers['content-type'] ?? ''), text: Buffer.concat(chunks).toString('utf8') }),
        );
        response.on('error', reject);
      },
    );
    outgoing.setTimeout(20_000, () => outgoing.destroy(new Error(`no answer within 20 s to ${request.method} ${request.path}`)));
    outgoing.on('error', reject);
    outgoing.end(request.body);
  });
}

/** Percent-encodes any string, lone surrogates included (encodeURIComponent throws on those). */
const encode = (value: string) => [...Buffer.from(value, 'utf8')].map((byte) => (/[A-Za-z0-9_.~-]/.test(String.fromCharCode(byte)) ? String.fromCharCode(byte) : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`)).join('');
const pathParameters = (route: AnyRouteSpec) => [...route.path.matchAll(/:([A-Za-z]+)/g)].map((match) => match[1]!);
const invalidPagerDutyEvent = (response: FuzzResponse) => {
  if (!response.contentType.startsWith('application/json')) return false;
  const body = JSON.parse(response.text) as { status?: unknown; message?: unknown; errors?: unknown };
  return body.status === 'invalid event' && typeof body.message === 'string' && Array.isArray(body.errors) && body.errors.length > 0;
};
const hasBody = (method: string) => method !== 'GET' && method !== 'HEAD';

describe('fuzzing every route with random and malformed requests', () => {
  let app: TestApp;
  let a: Tenant;
  let b: Tenant;
  let stranger: SignedUpUser;
  /** Everyone's tokens, for requests made as anybody. */
  let tokens: string[];
  /** Who sends a request: most requests are coherent (one team's token with that team's ids) so they get past validation. */
  let personas: { weight: number; tokens: string[]; pool: IdPool }[];
  const histogram: Record<string, Record<number, number>> = {};
  const problems: string[] = [];

  beforeAll(async () => {
    // The tenants are built the way clients see them, each read after its write; the fuzzing itself need not wait
    // long for read models, so the service runs it with a short read-your-writes bound.
    app = await startTestApp();
    a = await buildTenant(app.http, 'A');
    b = await buildTenant(app.http, 'B');
    stranger = await signUp(app.http);
    await app.restart({ READ_YOUR_WRITES_TIMEOUT_MS: '200' });
    const ids = (tenant: Tenant) => [tenant.teamId, tenant.flowId, tenant.nodeId, tenant.secondNodeId, tenant.alertId, tenant.inviteId, tenant.keyId, tenant.owner.userId, tenant.member.userId];
    const real = [...ids(a), ...ids(b), stranger.userId];
    const poolOf = (tenants: Tenant[]): IdPool => ({
      real,
      byName: {
        teamId: tenants.map((tenant) => tenant.teamId),
        flowId: tenants.map((tenant) => tenant.flowId),
        nodeId: tenants.flatMap((tenant) => [tenant.nodeId, tenant.secondNodeId]),
        after: tenants.flatMap((tenant) => [tenant.nodeId, tenant.secondNodeId]),
        alertId: tenants.map((tenant) => tenant.alertId),
        inviteId: tenants.map((tenant) => tenant.inviteId),
        keyId: tenants.map((tenant) => tenant.keyId),
        userId: [...tenants.flatMap((tenant) => [tenant.owner.userId, tenant.member.userId]), stranger.userId],
        key: tenants.map((tenant) => tenant.integrationKey),
        routing_key: tenants.map((tenant) => tenant.integrationKey),
        dedup_key: tenants.map((tenant) => tenant.dedupKey),
        dedupKey: tenants.map((tenant) => tenant.dedupKey),
        fingerprint: tenants.map((tenant) => tenant.dedupKey),
        token: tenants.map((tenant) => tenant.inviteToken),
        inviteToken: tenants.map((tenant) => tenant.inviteToken),
        refreshToken: [stranger.refreshToken],
        email: [...tenants.map((tenant) => tenant.owner.email), stranger.email],
      },
    });
    tokens = [a.owner.token, a.member.token, b.owner.token, b.member.token, stranger.token];
    personas = [
      { weight: 0.55, tokens: [a.owner.token, a.owner.token, a.member.token], pool: poolOf([a]) },
      { weight: 0.3, tokens: [b.owner.token], pool: poolOf([b]) },
      { weight: 0.15, tokens, pool: poolOf([a, b]) },
    ];
  });
  afterAll(async () => {
    agent.destroy();
    await app?.stop();
  });

  const bodySchemas = new Map(routes.filter((route) => route.body).map((route) => [route, jsonSchemaOf(route.body!)]));

  type Persona = (typeof personas)[number];

  function personaFor(random: Random): Persona {
    let roll = random.next();
    for (const persona of personas) {
      roll -= persona.weight;
      if (roll < 0) return persona;
    }
    return personas.at(-1)!;
  }

  function pathFor(random: Random, route: AnyRouteSpec, persona: Persona, garbageIn?: string): { path: string; params: Record<string, string> } {
    const { pool } = persona;
    const params: Record<string, string> = {};
    const path = route.path.replace(/:([A-Za-z]+)/g, (_, name: string) => {
      let value: string;
      if (name === garbageIn) value = random.pick(['not-a-uuid', '1', '', 'x'.repeat(600), ...NASTY_STRINGS.filter((text) => text.length > 0 && text.length < 300)]);
      else if (name === 'key') value = random.chance(0.6) ? random.pick(pool.byName.key!) : random.pick([`aok_${random.hex(20)}`, 'short', ...NASTY_STRINGS]);
      else value = random.chance(0.9) ? idLike(random, pool, name) : random.pick(NASTY_STRINGS);
      params[name] = value;
      if (value === '') return random.pick(['', '%20']);
      return random.chance(0.05) ? random.pick(['%zz', '%E0%A4%A', '%', '%00']) : encode(value);
    });
    return { path, params };
  }

  function queryFor(random: Random, route: AnyRouteSpec): string {
    if (!route.query && random.chance(0.8)) return '';
    const pairs: string[] = [];
    for (let n = random.int(4); n > 0; n--) {
      const key = random.pick(['limit', 'status', 'before', 'position', '__proto__[x]', 'constructor', 'a[b][c]', 'limit', 'status']);
      const value = random.pick(['1', '0', '-1', '500', '501', 'abc', '1e3', 'triggered', 'resolved', 'bogus', '1-1', '99999999999999999999999', ...NASTY_STRINGS.slice(0, 20)]);
      pairs.push(`${encode(key)}=${encode(value)}`);
    }
    return pairs.length ? `?${pairs.join('&')}` : '';
  }

  function noiseHeaders(random: Random, route: AnyRouteSpec | null, persona: Persona): Record<string, string> {
    const headers: Record<string, string> = {};
    if (route?.auth === 'user' ? random.chance(0.9) : random.chance(0.2)) headers.authorization = `Bearer ${random.pick(persona.tokens)}`;
    if (random.chance(0.1)) headers['if-match'] = random.chance(0.5) ? `"${random.between(1, 4)}"` : random.pick(NASTY_HEADER_VALUES);
    if (random.chance(0.1)) headers['idempotency-key'] = random.chance(0.5) ? `fuzz-${random.hex(12)}` : random.pick(NASTY_HEADER_VALUES);
    if (random.chance(0.1)) headers.prefer = random.pick(['respond-async', 'return=minimal', 'respond-async, wait=1', ...NASTY_HEADER_VALUES]);
    if (random.chance(0.05)) headers['x-alertops-position'] = random.pick(['1-1', '0-0', '99999999999999999999-99999999999999999999']);
    if (random.chance(0.05)) headers['x-request-id'] = random.pick(NASTY_HEADER_VALUES);
    if (random.chance(0.05)) headers.accept = random.pick(['application/xml', 'text/html', '*/*', 'garbage']);
    if (random.chance(0.03)) headers['content-encoding'] = random.pick(['gzip', 'br', 'identity']);
    return headers;
  }

  /** A body as a client might send it: valid, a mutation of a valid one, malformed, or none. */
  function bodyFor(random: Random, route: AnyRouteSpec, persona: Persona): string | undefined {
    const schema = bodySchemas.get(route);
    const roll = random.next();
    if (roll < 0.07) return undefined;
    if (roll < 0.14) return random.pick(MALFORMED_JSON);
    if (!schema) return random.chance(0.5) ? undefined : JSON.stringify(random.pick([{}, { a: 1 }, [], 'x', null]));
    if (roll < 0.5) return JSON.stringify(validValue(random, schema, persona.pool));
    if (roll < 0.7) return JSON.stringify(validValue(random, schema, persona.pool, { hostility: 0.3 }));
    return mutatedJson(random, validValue(random, schema, persona.pool));
  }

  /**
   * Routes the free-for-all phase calls. Not /auth/logout-all: a valid one would end the personas' sessions, and every
   * request after it would stop at authentication. The rejected phase still sends it flawed requests.
   */
  const freelyFuzzed = routes.filter((route) => route.path !== '/auth/logout-all');

  /** Anything: the valid, the odd and the hostile, with or without a token. */
  function randomRequest(random: Random, candidates: readonly AnyRouteSpec[] = routes): FuzzRequest {
    if (random.chance(0.04)) {
      return {
        method: random.pick(['GET', 'POST', 'PUT', 'DELETE', 'OPTIONS', 'PATCH']),
        // Not /readyz: its 503 while the shared broker restarts is an answer, not an error.
        path: random.pick(['/healthz', '/openapi.json', '/metrics', '/', '/teams/', '/teams//flows', '/%zz', '/..%2f..%2fetc/passwd', `/${random.hex(6)}`, '/TEAMS', '/auth/register/']),
        headers: noiseHeaders(random, null, personaFor(random)),
      };
    }
    const route = random.pick(candidates);
    const persona = personaFor(random);
    const method = random.chance(0.95) ? route.method.toUpperCase() : random.pick(['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']);
    const { path } = pathFor(random, route, persona);
    const headers = noiseHeaders(random, route, persona);
    const body = hasBody(method) || random.chance(0.05) ? bodyFor(random, route, persona) : undefined;
    if (body !== undefined) headers['content-type'] = random.chance(0.9) ? random.pick(CONTENT_TYPES_JSON) : random.pick(CONTENT_TYPES_NOT_JSON);
    return { method, path: path + queryFor(random, route), headers, ...(body === undefined ? {} : { body }) };
  }

  /**
   * A random request made certain to be refused, by a flaw the server must notice before changing anything.
   * Where the route's own schema can tell, the flaw is checked against it here.
   */
  function rejectedRequest(random: Random): FuzzRequest {
    const request = randomRequest(random);
    const route = routes.find((candidate) => candidate.method.toUpperCase() === request.method && new RegExp(`^${candidate.path.replace(/:[A-Za-z]+/g, '[^/?]+')}(\\?|$)`).test(request.path));
    // Without a route (a changed method, an odd path), aim at a path that surely has none: /healthz would answer 200.
    if (!route) return { ...request, path: `/no-such-route/${random.hex(8)}`, poison: 'no such route' };
    const poisons: (() => FuzzRequest | null)[] = [
      () => {
        if (route.auth !== 'user') return null;
        const { authorization: _, ...headers } = request.headers;
        return { ...request, headers, poison: 'no token' };
      },
      () =>
        route.auth === 'user'
          ? { ...request, headers: { ...request.headers, authorization: random.pick(['Bearer garbage', `Bearer ${random.pick(tokens)}x`, 'Basic Zm9vOmJhcg==', `Bearer ${'a'.repeat(4000)}`]) }, poison: 'bad token' }
          : null,
      () =>
        hasBody(request.method)
          ? { ...request, body: random.pick(MALFORMED_JSON), headers: { ...request.headers, 'content-type': 'application/json' }, poison: 'malformed JSON' }
          : null,
      () =>
        hasBody(request.method)
          ? { ...request, body: request.body || '{"name":"x"}', headers: { ...request.headers, 'content-type': random.pick(CONTENT_TYPES_NOT_JSON) }, poison: 'not JSON' }
          : null,
      () => (hasBody(request.method) ? { ...request, body: Buffer.from(`{"name":"${'z'.repeat(app.config.maxBodyBytes)}"}`), headers: { ...request.headers, 'content-type': 'application/json' }, poison: 'too large' } : null),
      () => {
        const uuidParams = pathParameters(route).filter((name) => name !== 'key');
        if (!uuidParams.length || !route.params) return null;
        const garbageIn = random.pick(uuidParams);
        const { path, params } = pathFor(random, route, personaFor(random), garbageIn);
        if (route.params.safeParse(params).success) return null;
        return { ...request, path: path + (request.path.includes('?') ? request.path.slice(request.path.indexOf('?')) : ''), poison: `bad :${garbageIn}` };
      },
      () => {
        if (!route.body || !hasBody(request.method)) return null;
        for (let attempt = 0; attempt < 5; attempt++) {
          const text = mutatedJson(random, validValue(random, bodySchemas.get(route)!, personaFor(random).pool));
          let parsed: unknown;
          try {
            parsed = JSON.parse(text);
          } catch {
            continue;
          }
          if (text.length < app.config.maxBodyBytes && !route.body.safeParse(parsed).success) {
            return { ...request, body: text, headers: { ...request.headers, 'content-type': 'application/json' }, poison: 'body the schema refuses' };
          }
        }
        return null;
      },
      () => {
        if (!route.query) return null;
        const query = random.pick(['limit=0', 'limit=abc', 'limit=100000', 'status=bogus', 'limit=1&limit=2', 'before=-5', 'before=abc']);
        if (route.query.safeParse(parseQuery(query)).success) return null;
        return { ...request, path: `${request.path.split('?')[0]}?${query}`, poison: 'query the schema refuses' };
      },
      () => ({ ...request, headers: { ...request.headers, 'x-alertops-position': random.pick(['abc', '1-', '-1-1', '1_1', '1-1-1', '1 - 1', 'ÿ']) }, poison: 'bad position' }),
      () =>
        hasBody(request.method) && route.method !== 'get' && route.replayable !== false
          ? { ...request, headers: { ...request.headers, 'idempotency-key': random.pick(['has space', 'x'.repeat(201), 'ÿþ', 'tab\there']) }, poison: 'bad Idempotency-Key' }
          : null,
      () => {
        if (!pathParameters(route).includes('teamId') || route.auth !== 'user') return null;
        const path = request.path.replace(/^\/teams\/[^/?]+/, `/teams/${random.uuid()}`);
        return { ...request, path, headers: { ...request.headers, authorization: `Bearer ${random.pick(tokens)}` }, poison: 'team of nobody' };
      },
      () =>
        pathParameters(route).includes('key')
          ? { ...request, path: request.path.replace(/^(\/integrations\/[a-z]+\/)[^/?]+/, `$1aok_${random.hex(24)}`), poison: 'unknown integration key' }
          : null,
    ];
    for (;;) {
      const poisoned = random.pick(poisons)();
      if (poisoned) return poisoned;
    }
  }

  function describeRequest(request: FuzzRequest): string {
    const body = request.body === undefined ? '' : ` body=${String(request.body).slice(0, 160)}`;
    return `${request.method} ${request.path.slice(0, 160)} ${JSON.stringify(request.headers).slice(0, 200)}${body}`;
  }

  function check(phase: string, request: FuzzRequest, response: FuzzResponse): void {
    (histogram[phase] ??= {})[response.status] = (histogram[phase]![response.status] ?? 0) + 1;
    const where = `${phase}: ${describeRequest(request)} -> ${response.status} ${response.text.slice(0, 300)}`;
    if (response.status >= 500) problems.push(`5xx ${where}`);
    // Action pages answer people in browsers: their errors are pages, except for a body refused before any route is reached.
    const htmlError = /^\/a\/[^/?]+(\/(acknowledge|resolve))?(\?|$)/.test(request.path) && response.contentType.startsWith('text/html');
    // PagerDuty's Events API answers an invalid event with its own JSON shape, which senders written for it expect.
    const pagerDutyError = /^\/v2\/enqueue(\?|$)/.test(request.path) && response.status === 400 && invalidPagerDutyEvent(response);
    if (response.status >= 400 && request.method !== 'HEAD' && !htmlError && !pagerDutyError) {
      if (!response.contentType.startsWith('application/problem+json')) problems.push(`not problem+json ${where}`);
      else {
        try {
          const problem = JSON.parse(response.text);
          if (problem.status !== response.status || typeof problem.title !== 'string') problems.push(`problem body mismatch ${where}`);
        } catch {
          problems.push(`unparseable problem ${where}`);
        }
      }
    }
    if (request.poison && response.status < 400) problems.push(`accepted though ${request.poison}: ${where}`);
  }

  async function run(phase: string, count: number, make: (random: Random) => FuzzRequest, random: Random): Promise<void> {
    const requests = Array.from({ length: count }, () => make(random));
    let next = 0;
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        while (next < requests.length) {
          const request = requests[next++]!;
          check(phase, request, await send(app.url, request));
        }
      }),
    );
  }

  it(`refuses ${REJECTED_REQUESTS} flawed requests with problem+json 4xx and changes no table (seed ${SEED})`, async () => {
    const random = new Random(SEED);
    const before = await settledDatabaseState(app.database.pool);
    const started = Date.now();
    await run('rejected', REJECTED_REQUESTS, rejectedRequest, random);
    console.log(`fuzz rejected phase: ${REJECTED_REQUESTS} requests in ${Date.now() - started} ms, statuses ${JSON.stringify(histogram.rejected)}`);
    expect(problems).toEqual([]);
    expect(Object.keys(histogram.rejected!).every((status) => Number(status) >= 400 && Number(status) < 500)).toBe(true);
    const after = await settledDatabaseState(app.database.pool);
    console.log(`fuzz rejected phase: rows added per table ${JSON.stringify(rowCountChanges(before, after))} over ${Object.keys(after.tables).length} tables`);
    expect(unexplainedChanges(before, after), 'tables a refused request changed').toEqual([]);
    expect((await app.http.get('/healthz')).status).toBe(200);
   }, 120_000);

  it('refuses query numbers beyond what PostgreSQL can compare with 400', async () => {
    for (const before of ['9223372036854775808', '99999999999999999999999', '-1', '1e3', 'abc']) {
      const response = await app.http.get(`/teams/${a.teamId}/audit?before=${before}`, { token: a.owner.token });
      expect(response.status, before).toBe(400);
      expect(response.body.errors.map((error: { path: string }) => error.path)).toEqual(['query.before']);
    }
    expect((await app.http.get(`/teams/${a.teamId}/audit?before=9223372036854775807`, { token: a.owner.token })).status).toBe(200);
  });

  it('refuses JSON that PostgreSQL or JSON.stringify cannot keep (NUL, unpaired surrogates, deep nesting) with 400, storing nothing', async () => {
    const before = await settledDatabaseState(app.database.pool);
    const nested = (depth: number) => deeplyNested(new Random(depth), depth);
    const bodies = [
      `{"name":"a\\u0000b"}`,
      `{"name":"\\ud800"}`,
      `{"name":"ok","nodes":[{"name":"x","delaySeconds":1,"target":{"type":"email","email":"a@example.com"},"\\u0000":1}]}`,
    ];
    for (const raw of bodies) {
      const response = await app.http.post(`/teams/${a.teamId}/flows`, undefined, { token: a.owner.token, raw });
      expect(response.status, raw).toBe(400);
      expect(response.body.title).toBe('Unsupported JSON');
    }
    for (const depth of [65, 5000, 100_000]) {
      const raw = `{"flowId":"${a.flowId}","summary":"deep","details":${nested(depth)}}`;
      const response = await app.http.post(`/teams/${a.teamId}/alerts`, undefined, { token: a.owner.token, raw });
      expect(response.status, `depth ${depth}`).toBe(400);
      expect(response.body.detail).toMatch(/nests deeper than 64 levels/);
    }
    expect(unexplainedChanges(before, await settledDatabaseState(app.database.pool)), 'tables the refused bodies changed').toEqual([]);
    const shallowEnough = await app.http.post(
      `/teams/${a.teamId}/alerts`,
      undefined,
      { token: a.owner.token, raw: `{"flowId":"${a.flowId}","summary":"nested details","details":${nested(60)}}` },
    );
    expect(shallowEnough.status, JSON.stringify(shallowEnough.body)).toBe(201);
    const afterAccepted = await settledDatabaseState(app.database.pool);
    expect(unexplainedChanges(before, afterAccepted), 'an accepted trigger shows in the comparison').not.toEqual([]);
    await app.http.post(`/teams/${a.teamId}/flows`, undefined, { token: a.owner.token, raw: bodies[0]! });
    expect(unexplainedChanges(afterAccepted, await settledDatabaseState(app.database.pool))).toEqual([]);
  });

  it('answers requests the HTTP parser refuses with a 4xx and stays up', async () => {
    const random = new Random(SEED + 1);
    const path = `/teams/${a.teamId}`;
    const raw = [
      `GET ${path} HTTP/1.1\r\nHost: x\r\nX-Null: a\u0000b\r\n\r\n`,
      `GET ${path} HTTP/1.1\r\nHost: x\r\nX-Ctl: a\u0001b\r\n\r\n`,
      `GET ${path}\u0000 HTTP/1.1\r\nHost: x\r\n\r\n`,
      `G\u0000ET ${path} HTTP/1.1\r\nHost: x\r\n\r\n`,
      `GET ${path} HTTP/9.9\r\nHost: x\r\n\r\n`,
      `GET ${path} HTTP/1.1\r\nHost: x\r\nNo colon here\r\n\r\n`,
      `GET ${path} HTTP/1.1\r\nHost: x\r\nX-Big: ${'b'.repeat(20_000)}\r\n\r\n`,
      `POST /teams HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n{"a":1}`,
      `POST /teams HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n{}\r\n0\r\n\r\n`,
      `POST /teams HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: -1\r\n\r\n`,
      `POST /teams HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n0\r\n\r\n`,
      `${random.hex(40)}\r\n\r\n`,
    ];
    const statuses: number[] = [];
    for (const request of raw) {
      const answer = await rawExchange(app.url, request);
      const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(answer)?.[1] ?? 0);
      statuses.push(status);
      expect(status, `${JSON.stringify(request.slice(0, 80))} -> ${JSON.stringify(answer.slice(0, 200))}`).toBeGreaterThanOrEqual(400);
      expect(status).toBeLessThan(500);
      expect(answer.toLowerCase(), JSON.stringify(request.slice(0, 80))).toContain('content-type: application/problem+json');
    }
    // On a kept-alive connection, once the first answer is complete.
    const afterAGoodOne = await rawExchange(app.url, `GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n`, {
      after: '{"status":"ok"}',
      then: `G\u0000T ${path} HTTP/1.1\r\nHost: x\r\n\r\n`,
    });
    expect(afterAGoodOne).toMatch(/^HTTP\/1\.1 200 OK\r\n[\s\S]*HTTP\/1\.1 400 Bad Request\r\nContent-Type: application\/problem\+json\r\n/);
    console.log(`fuzz raw HTTP: ${raw.length} requests, statuses ${JSON.stringify(statuses)}`);
    expect((await app.http.get('/healthz')).status).toBe(200);
  });

  // Last: valid random requests may change anything (even who owns team A).
  it(`answers ${RANDOM_REQUESTS} random requests without a 5xx, errors as problem+json, and stays up (seed ${SEED})`, async () => {
    const random = new Random(SEED ^ 0x9e3779b9);
    // The service runs in this process: a polluted Object.prototype would show here.
    const prototypeKeys = Object.getOwnPropertyNames(Object.prototype).sort();
    const started = Date.now();
    for (let batch = 0; batch < RANDOM_REQUESTS / 250; batch++) {
      await run('random', 250, (source) => randomRequest(source, freelyFuzzed), random);
      expect((await app.http.get('/healthz')).status).toBe(200);
    }
    console.log(`fuzz random phase: ${RANDOM_REQUESTS} requests in ${Date.now() - started} ms, statuses ${JSON.stringify(histogram.random)}`);
    expect(problems).toEqual([]);
    const accepted = Object.entries(histogram.random!).filter(([status]) => Number(status) < 300).reduce((sum, [, count]) => sum + count, 0);
    // Random requests that never get past validation would prove little about the handlers behind it.
    expect(accepted).toBeGreaterThan(RANDOM_REQUESTS / 10);
    expect(Object.getOwnPropertyNames(Object.prototype).sort()).toEqual(prototypeKeys);
    expect(({} as Record<string, unknown>).isAdmin).toBeUndefined();
   }, 120_000);
});

/**
 * Writes bytes as they are and reads whatever comes back until the server closes or goes quiet; `then` is
 * written on the same connection once the answer so far contains `after`.
 */
function rawExchange(baseUrl: string, request: string, next?: { after: string; then: string }): Promise<string> {
  const url = new URL(baseUrl);
  return new Promise((resolve, reject) => {
    const socket = connect({ host: url.hostname, port: Number(url.port) });
    const chunks: Buffer[] = [];
    let pending = next;
    socket.setTimeout(3000, () => socket.destroy());
    socket.on('data', (chunk) => {
      chunks.push(chunk);
      if (pending && Buffer.concat(chunks).toString('latin1').includes(pending.after)) {
        socket.write(Buffer.from(pending.then, 'latin1'));
        pending = undefined;
      }
    });
    socket.on('close', () => resolve(Buffer.concat(chunks).toString('latin1')));
    socket.on('error', (error) => (chunks.length ? undefined : reject(error)));
    socket.write(Buffer.from(request, 'latin1'));
  });
}
