import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { routes } from '../../src/api/routes/index.js';
import type { AnyRouteSpec } from '../../src/api/routing.js';
import { startTestApp, type HttpResponse, type TestApp } from '../support/app.js';
import { buildTenant, eventCount, type Tenant } from './tenant.js';

/** What a path parameter or a body field can name. */
type Kind = 'teamId' | 'flowId' | 'nodeId' | 'secondNodeId' | 'alertId' | 'inviteId' | 'userId' | 'keyId' | 'dedupKey';
type Ids = Record<Kind, string> & { integrationKey: string };
type Owner = 'A' | 'B';

/**
 * Path parameters by name. `key` is an integration key: the key itself is the credential, so whoever holds A's
 * key may act for A; what B must not reach is A's alerts through B's own key (the dedup key in the body).
 */
const PATH_PARAMETERS: Record<string, Kind | 'capability'> = {
  teamId: 'teamId',
  flowId: 'flowId',
  nodeId: 'nodeId',
  alertId: 'alertId',
  inviteId: 'inviteId',
  userId: 'userId',
  keyId: 'keyId',
  key: 'capability',
};

interface MatrixCase {
  /** A body the route accepts (checked against its own schema), naming resources through `ids`. */
  body?: (ids: Ids) => unknown;
  /** Kinds the body names, attacked like path parameters. */
  bodyRefs?: Kind[];
  /** The answer to an attack when it is not a 404 (a webhook that must not make Alertmanager retry). */
  attackAnswer?: (response: HttpResponse) => void;
}

const email = (target: string) => ({ type: 'email', email: target });

/** Bodies for the routes that need one; every other route is attacked through its path alone. */
const CASES: Record<string, MatrixCase> = {
  'POST /teams/:teamId/alerts': { body: (ids) => ({ flowId: ids.flowId, summary: 'triggered by an intruder' }), bodyRefs: ['flowId'] },
  'POST /teams/:teamId/flows': { body: () => ({ name: 'intruder flow', nodes: [] }) },
  'PATCH /teams/:teamId/flows/:flowId': { body: () => ({ name: 'renamed by an intruder' }) },
  'POST /teams/:teamId/flows/:flowId/nodes': {
    body: (ids) => ({ name: 'intruder node', delaySeconds: 0, target: email('intruder@example.com'), after: ids.nodeId }),
    bodyRefs: ['nodeId'],
  },
  'PATCH /teams/:teamId/flows/:flowId/nodes/:nodeId': { body: () => ({ target: email('intruder@example.com') }) },
  'POST /teams/:teamId/flows/:flowId/nodes/:nodeId/move': { body: (ids) => ({ after: ids.secondNodeId }), bodyRefs: ['secondNodeId'] },
  'PATCH /teams/:teamId/members/:userId': { body: () => ({ role: 'owner' }) },
  'POST /teams/:teamId/invites': { body: () => ({ email: 'intruder@example.com', role: 'owner' }) },
  'POST /integrations/events/:key': {
    body: (ids) => ({ event_action: 'resolve', dedup_key: ids.dedupKey }),
    bodyRefs: ['dedupKey'],
  },
  'POST /integrations/alertmanager/:key': {
    body: (ids) => ({ version: '4', status: 'resolved', alerts: [{ status: 'resolved', fingerprint: ids.dedupKey }] }),
    bodyRefs: ['dedupKey'],
    attackAnswer: (response) => {
      expect(response.status).toBe(202);
      expect(response.body.alerts).toEqual([{ fingerprint: expect.any(String), alertId: null, action: 'ignored' }]);
    },
  },
};

const routeName = (route: AnyRouteSpec) => `${route.method.toUpperCase()} ${route.path}`;
const pathParameters = (route: AnyRouteSpec) => [...route.path.matchAll(/:([A-Za-z]+)/g)].map((match) => match[1]!);
const withParameters = routes.filter((route) => pathParameters(route).length > 0);

function idsOf(tenant: Tenant): Ids {
  return {
    teamId: tenant.teamId,
    flowId: tenant.flowId,
    nodeId: tenant.nodeId,
    secondNodeId: tenant.secondNodeId,
    alertId: tenant.alertId,
    inviteId: tenant.inviteId,
    userId: tenant.member.userId,
    keyId: tenant.keyId,
    dedupKey: tenant.dedupKey,
    integrationKey: tenant.integrationKey,
  };
}

interface Variant {
  /** Whose id each attacked kind is; the rest are B's own. */
  owners: Partial<Record<Kind, Owner>>;
  ids: Ids;
}

/** Every mix of A's and B's ids over the kinds the route names, except all of B's own (the control). */
function variantsOf(route: AnyRouteSpec, tenants: Record<Owner, Ids>): Variant[] {
  const kinds = [
    ...new Set([
      ...pathParameters(route).flatMap((name) => {
        const kind = PATH_PARAMETERS[name];
        return kind && kind !== 'capability' ? [kind] : [];
      }),
      ...(CASES[routeName(route)]?.bodyRefs ?? []),
    ]),
  ];
  const variants: Variant[] = [];
  for (let mask = 1; mask < 2 ** kinds.length; mask++) {
    const owners = Object.fromEntries(kinds.map((kind, bit) => [kind, mask & (1 << bit) ? 'A' : 'B'])) as Partial<Record<Kind, Owner>>;
    const ids = { ...tenants.B };
    for (const kind of kinds) ids[kind] = tenants[owners[kind]!][kind];
    variants.push({ owners, ids });
  }
  return variants;
}

function pathFor(route: AnyRouteSpec, ids: Ids): string {
  return route.path.replace(/:([A-Za-z]+)/g, (_, name: string) => {
    const kind = PATH_PARAMETERS[name];
    if (kind === 'capability') return encodeURIComponent(ids.integrationKey);
    if (!kind) throw new Error(`no ids for :${name}`);
    return ids[kind];
  });
}

describe('tenant isolation: every route with ids, called by another team', () => {
  let app: TestApp;
  let a: Tenant;
  let b: Tenant;
  let tenants: Record<Owner, Ids>;

  beforeAll(async () => {
    app = await startTestApp();
    a = await buildTenant(app.http, 'A');
    b = await buildTenant(app.http, 'B');
    tenants = { A: idsOf(a), B: idsOf(b) };
  });
  afterAll(async () => {
    await app?.stop();
  });

  function send(route: AnyRouteSpec, ids: Ids, token: string, headers: Record<string, string> = {}) {
    const body = CASES[routeName(route)]?.body?.(ids);
    return app.http.request(route.method.toUpperCase(), pathFor(route, ids), body, { token, headers });
  }

  /** Everything A's owner can read about A, through every readable route, plus who A's people are. */
  async function stateOfA() {
    const reads: Record<string, { status: number; body: unknown }> = {};
    for (const route of routes.filter((candidate) => candidate.method === 'get')) {
      if (pathParameters(route).some((name) => PATH_PARAMETERS[name] === 'capability')) continue;
      const response = await app.http.get(pathFor(route, tenants.A), { token: a.owner.token });
      reads[routeName(route)] = { status: response.status, body: response.body };
    }
    reads['GET /me (member)'] = await app.http.get('/me', { token: a.member.token }).then(({ status, body }) => ({ status, body }));
    return reads;
  }

  it('covers every route that names a resource in its path', () => {
    const uncovered: string[] = [];
    for (const route of withParameters) {
      const name = routeName(route);
      const unknown = pathParameters(route).filter((parameter) => !(parameter in PATH_PARAMETERS));
      if (unknown.length) uncovered.push(`${name}: no ids for ${unknown.map((parameter) => `:${parameter}`).join(', ')}`);
      const needsBody = route.body !== undefined && !route.body.safeParse(undefined).success;
      if (needsBody && !CASES[name]?.body) uncovered.push(`${name}: no body in the matrix`);
      if (variantsOf(route, tenants).length === 0) uncovered.push(`${name}: nothing of A's to aim at`);
      if (route.body && CASES[name]?.body) {
        const parsed = route.body.safeParse(CASES[name].body!(tenants.B));
        if (!parsed.success) uncovered.push(`${name}: the matrix body is not valid for the route (${parsed.error.message})`);
      }
    }
    const stale = Object.keys(CASES).filter((name) => !withParameters.some((route) => routeName(route) === name));
    expect(uncovered, 'routes the isolation matrix does not cover').toEqual([]);
    expect(stale, 'matrix entries for routes that no longer exist').toEqual([]);
    expect(withParameters.length).toBeGreaterThanOrEqual(25);
  });

  it("answers B's owner 404 for A's ids on every route, in A's path and under B's, and changes nothing of A's", async () => {
    const before = { events: await eventCount(app.database.pool), a: await stateOfA() };
    const failures: string[] = [];
    let attacks = 0;
    for (const route of withParameters) {
      const expected = CASES[routeName(route)]?.attackAnswer;
      for (const variant of variantsOf(route, tenants)) {
        // A stale If-Match must not turn into a 412 that admits A's flow exists (for B's own flow a 412 is right).
        const aimsAtA = variant.owners.teamId === 'A' || variant.owners.flowId === 'A';
        const headerSets: Record<string, string>[] = route.method !== 'get' && aimsAtA ? [{}, { 'If-Match': '"1"' }] : [{}];
        for (const headers of headerSets) {
          attacks++;
          const response: HttpResponse = await send(route, variant.ids, b.owner.token, headers);
          const label = `${routeName(route)} with A's ${Object.entries(variant.owners)
            .filter(([, owner]) => owner === 'A')
            .map(([kind]) => kind)
            .join(' + ')}${'If-Match' in headers ? ' and a stale If-Match' : ''}: ${response.status} ${JSON.stringify(response.body)}`;
          try {
            if (expected) {
              expected(response);
            } else {
              expect(response.status).toBe(404);
              expect(response.headers.get('content-type')).toContain('application/problem+json');
              expect(response.body.status).toBe(404);
              // A 404 from the router would mean the request never reached the route: the matrix is broken.
              expect(response.body.detail).not.toMatch(/^no route for/);
            }
          } catch {
            failures.push(label);
          }
        }
      }
    }
    console.log(`tenant isolation: ${attacks} cross-team requests over ${withParameters.length} routes`);
    expect(failures).toEqual([]);
    expect(await eventCount(app.database.pool)).toBe(before.events);
    expect(await stateOfA()).toEqual(before.a);
  });

  it('B reaches its own resources on the same routes with the same requests (the control)', async () => {
    const ordered = [...withParameters.filter((route) => route.method !== 'delete'), ...withParameters.filter((route) => route.method === 'delete')];
    const answers: string[] = [];
    for (const route of ordered) {
      const response = await send(route, tenants.B, b.owner.token);
      answers.push(`${routeName(route)} ${response.status}`);
      expect(response.status, `${routeName(route)}: ${JSON.stringify(response.body)}`).not.toBe(404);
      expect(response.status, `${routeName(route)}: ${JSON.stringify(response.body)}`).toBeLessThan(500);
    }
    expect(answers.filter((answer) => / 2\d\d$/.test(answer)).length).toBeGreaterThan(withParameters.length - 3);
  });

  it("one team's integration key never reaches the other team's alert, even under the same dedup key", async () => {
    const shared = a.dedupKey;
    const mine = await app.http.post(`/teams/${b.teamId}/alerts`, { flowId: b.flowId, summary: 'same key, other team', dedupKey: shared }, { token: b.owner.token });
    expect(mine.status).toBe(201);
    expect(mine.body.id).not.toBe(a.alertId);
    // The control above revoked B's first key.
    const key = await app.http.post(`/teams/${b.teamId}/flows/${b.flowId}/integration-keys`, undefined, { token: b.owner.token });
    expect(key.status).toBe(201);
    const resolved = await app.http.post(`/integrations/events/${key.body.key}`, { event_action: 'resolve', dedup_key: shared });
    expect(resolved.status).toBe(202);
    expect(resolved.body.alertId).toBe(mine.body.id);
    const fired = await app.http.post(`/integrations/alertmanager/${key.body.key}`, {
      version: '4',
      status: 'firing',
      alerts: [{ status: 'firing', labels: { alertname: 'DiskFull' }, fingerprint: shared }],
    });
    expect(fired.status).toBe(202);
    expect(fired.body.alerts[0].alertId).not.toBe(a.alertId);

    const alertOfA = await app.http.get(`/teams/${a.teamId}/alerts/${a.alertId}`, { token: a.owner.token });
    expect(alertOfA.body).toMatchObject({ status: 'triggered', dedupCount: 0 });
  });

  it("an Idempotency-Key never replays another team's response", async () => {
    const key = randomUUID();
    const body = { name: 'same request, other team' };
    const mine = await app.http.post(`/teams/${a.teamId}/flows`, body, { token: a.owner.token, headers: { 'idempotency-key': key } });
    expect(mine.status).toBe(201);
    const theirs = await app.http.post(`/teams/${a.teamId}/flows`, body, { token: b.owner.token, headers: { 'idempotency-key': key } });
    expect(theirs.status).toBe(404);
    expect(theirs.headers.get('idempotent-replayed')).toBeNull();

    // Integrations have no user: the key in the path is what separates one team's replays from another's.
    const keyOf = async (tenant: Tenant) =>
      (await app.http.post(`/teams/${tenant.teamId}/flows/${tenant.flowId}/integration-keys`, undefined, { token: tenant.owner.token })).body.key as string;
    const event = { event_action: 'trigger', dedup_key: `shared-${randomUUID()}`, payload: { summary: 'same event, two teams' } };
    const forA = await app.http.post(`/integrations/events/${await keyOf(a)}`, event, { headers: { 'idempotency-key': key } });
    const forB = await app.http.post(`/integrations/events/${await keyOf(b)}`, event, { headers: { 'idempotency-key': key } });
    expect([forA.status, forB.status]).toEqual([202, 202]);
    expect(forB.headers.get('idempotent-replayed')).toBeNull();
    expect(forB.body.alertId).not.toBe(forA.body.alertId);
    // 202 answers do not wait for the read models; the position they return does.
    const readAs = (tenant: Tenant, alertId: string, position: string) =>
      app.http.get(`/teams/${tenant.teamId}/alerts/${alertId}`, { token: tenant.owner.token, headers: { 'x-alertops-position': position } });
    expect((await readAs(b, forB.body.alertId, forB.headers.get('x-alertops-position')!)).status).toBe(200);
    expect((await readAs(b, forA.body.alertId, forA.headers.get('x-alertops-position')!)).status).toBe(404);
    expect((await readAs(a, forA.body.alertId, forA.headers.get('x-alertops-position')!)).status).toBe(200);
  });

  it("a body naming another team's member is answered exactly as for a user who does not exist", async () => {
    const node = (userId: string) => ({ name: 'page them', delaySeconds: 60, target: { type: 'user', userId } });
    const path = `/teams/${b.teamId}/flows`;
    const theirs = await app.http.post(path, { name: 'poach', nodes: [node(a.member.userId)] }, { token: b.owner.token });
    const nobody = await app.http.post(path, { name: 'poach', nodes: [node(randomUUID())] }, { token: b.owner.token });
    expect(theirs.status).toBe(422);
    expect([nobody.status, nobody.body.code]).toEqual([theirs.status, theirs.body.code]);
  });
});
