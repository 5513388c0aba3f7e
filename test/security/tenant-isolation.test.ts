import { randomBytes, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { routes } from '../../src/api/routes/index.js';
import type { AnyRouteSpec } from '../../src/api/routing.js';
import { userStreamId } from '../../src/domain/user/identity.js';
import { actionLinkKey, signActionToken } from '../../src/infra/action-link-tokens.js';
import { signUp } from '../support/accounts.js';
import { startTestApp, type HttpResponse, type TestApp } from '../support/app.js';
import { rowCountChanges, settledDatabaseState, unexplainedChanges } from '../support/database-state.js';
import { jsonSchemaOf } from './fuzz-inputs.js';
import { buildTenant, type Tenant } from './tenant.js';

/** What a path parameter or a body field can name of a team's. */
type Kind =
  | 'teamId' | 'flowId' | 'nodeId' | 'secondNodeId' | 'alertId' | 'inviteId' | 'userId' | 'keyId' | 'dedupKey' | 'inviteToken' | 'inviteeToken'
  | 'scheduleId' | 'overrideId' | 'contactMethodId' | 'windowId' | 'deliveryId' | 'tokenId' | 'subscriptionId';
/** A tenant's ids by kind, and what its own people need to call a route (never attacked: they are the caller's own). */
type Ids = Record<Kind, string> & { integrationKey: string; actionToken: string; inviteEmail: string; ownerEmail: string; ownerPassword: string; refreshToken: string };
type Owner = 'A' | 'B';

/**
 * Path parameters by name. `key` is an integration key and `token` an action link's: the key or token itself is the
 * credential, so whoever holds A's may act for A; what B must not reach is A's alerts through B's own key (the
 * dedup key in the body).
 */
const PATH_PARAMETERS: Record<string, Kind | Capability> = {
  teamId: 'teamId',
  flowId: 'flowId',
  nodeId: 'nodeId',
  alertId: 'alertId',
  inviteId: 'inviteId',
  userId: 'userId',
  keyId: 'keyId',
  scheduleId: 'scheduleId',
  overrideId: 'overrideId',
  contactMethodId: 'contactMethodId',
  windowId: 'windowId',
  deliveryId: 'deliveryId',
  tokenId: 'tokenId',
  subscriptionId: 'subscriptionId',
  key: 'integrationKey',
  token: 'actionToken',
};
type Capability = 'integrationKey' | 'actionToken';
const isCapability = (kind: string | undefined): kind is Capability => kind === 'integrationKey' || kind === 'actionToken';

/** A body field that carries an id, a key or a token. */
interface BodyField {
  /** The kind of another team's resource it can name, attacked like a path parameter; null: it names none (say why). */
  names: Kind | null;
  why?: string;
  /** The answer when it names another team's resource and the path names only the caller's own (404 unless said). */
  answer?: number;
}

interface MatrixCase {
  /**
   * Who calls: B's owner unless said (B's invitee, who has an account and no team; nobody, for sign-up and webhooks;
   * a newcomer signed up for this one call, for routes that end the caller's own sessions — their password and
   * refresh token stand in `ids` for the owner's).
   */
  caller?: 'invitee' | 'nobody' | 'newcomer';
  /** A body the route accepts (checked against its own schema), naming resources through `ids`. */
  body?: (ids: Ids) => unknown;
  /** Every id-bearing field of the body, by path (`[]` for array items); checked against the route's schema. */
  fields?: Record<string, BodyField>;
  /** For a route whose path and body name nothing of a team's: why it cannot reach another team. Checked for leaks. */
  noIds?: string;
  /** A query string, for routes whose answer would otherwise depend on the clock. */
  query?: string;
  /** The answer to an attack when it is not a 4xx (a webhook that must not make Alertmanager retry). */
  attackAnswer?: (response: HttpResponse) => void;
}

const email = (target: string) => ({ type: 'email', email: target });
const pageUser = (userId: string) => ({ type: 'user', userId });
const NOT_A_MEMBER: BodyField = { names: 'userId', answer: 422 };
const pageSchedule = (scheduleId: string) => ({ type: 'schedule', scheduleId });
const NOT_THE_TEAMS_SCHEDULE: BodyField = { names: 'scheduleId', answer: 422 };
const SCHEDULE_ATTACKED_IN_FLOWS: BodyField = {
  names: null,
  why: 'a node target has one kind: the same target schema and check are attacked with a schedule by POST /teams/:teamId/flows',
};
const rotationOf = (userId: string) => ({ name: 'intruder rotation', participants: [userId], start: '2026-01-01T00:00:00Z', shift: { unit: 'days', count: 1 } });
/** A schedule names its people in fields of the body: one who is not a member is a 400 naming the field. */
const NOT_A_MEMBER_FIELD: BodyField = { names: 'userId', answer: 400 };
const ROTATION_FIELDS: Record<string, BodyField> = {
  'rotations[].participants[]': NOT_A_MEMBER_FIELD,
  'rotations[].id': { names: null, why: "the id of a rotation the request defines within the caller's own schedule" },
};

/** Every route of the route table: a route without an entry here fails the coverage test. */
const CASES: Record<string, MatrixCase> = {
  'POST /teams/:teamId/alerts': {
    body: (ids) => ({ flowId: ids.flowId, summary: 'triggered by an intruder', dedupKey: ids.dedupKey }),
    fields: {
      flowId: { names: 'flowId' },
      dedupKey: { names: null, why: "scoped to the caller's team and flow: the same key elsewhere is another alert (tested below)" },
    },
  },
  'GET /teams/:teamId/alerts': {},
  'GET /teams/:teamId/alerts/:alertId': {},
  'POST /teams/:teamId/alerts/:alertId/acknowledge': {},
  'POST /teams/:teamId/alerts/:alertId/resolve': {},
  'POST /teams/:teamId/alerts/:alertId/escalate': {},
  'GET /teams/:teamId/alerts/:alertId/timeline': {},
  'POST /teams/:teamId/alerts/:alertId/snooze': { body: () => ({ minutes: 5 }) },
  'POST /teams/:teamId/alerts/:alertId/notes': { body: () => ({ text: 'a note by an intruder' }) },
  'GET /teams/:teamId/alerts/:alertId/report': {},
  'GET /teams/:teamId/analytics': { query: '?from=2026-11-01T00:00:00Z&to=2027-01-31T00:00:00Z' },
  'GET /teams/:teamId/audit': {},
  'POST /teams/:teamId/flows': {
    body: (ids) => ({
      name: 'intruder flow',
      nodes: [
        { name: 'page them', delaySeconds: 60, target: pageUser(ids.userId) },
        { name: 'page their on-call', delaySeconds: 60, target: pageSchedule(ids.scheduleId) },
      ],
    }),
    fields: { 'nodes[].target.userId': NOT_A_MEMBER, 'nodes[].target.scheduleId': NOT_THE_TEAMS_SCHEDULE },
  },
  'GET /teams/:teamId/flows': {},
  'GET /teams/:teamId/flows/:flowId': {},
  'PATCH /teams/:teamId/flows/:flowId': { body: () => ({ name: 'renamed by an intruder' }) },
  'POST /teams/:teamId/flows/:flowId/nodes': {
    body: (ids) => ({ name: 'intruder node', delaySeconds: 0, target: pageUser(ids.userId), after: ids.nodeId }),
    fields: { after: { names: 'nodeId' }, 'target.userId': NOT_A_MEMBER, 'target.scheduleId': SCHEDULE_ATTACKED_IN_FLOWS },
  },
  'PATCH /teams/:teamId/flows/:flowId/nodes/:nodeId': {
    body: (ids) => ({ target: pageUser(ids.userId) }),
    fields: { 'target.userId': NOT_A_MEMBER, 'target.scheduleId': SCHEDULE_ATTACKED_IN_FLOWS },
  },
  'POST /teams/:teamId/flows/:flowId/nodes/:nodeId/move': { body: (ids) => ({ after: ids.secondNodeId }), fields: { after: { names: 'secondNodeId' } } },
  'DELETE /teams/:teamId/flows/:flowId/nodes/:nodeId': {},
  'POST /teams/:teamId/flows/:flowId/integration-keys': {},
  'GET /teams/:teamId/flows/:flowId/integration-keys': {},
  'DELETE /teams/:teamId/flows/:flowId/integration-keys/:keyId': {},
  'POST /teams/:teamId/schedules': {
    body: (ids) => ({ name: 'intruder schedule', timeZone: 'UTC', rotations: [rotationOf(ids.userId)] }),
    fields: ROTATION_FIELDS,
  },
  'GET /teams/:teamId/schedules': {},
  'GET /teams/:teamId/schedules/:scheduleId': {},
  'PATCH /teams/:teamId/schedules/:scheduleId': { body: (ids) => ({ rotations: [rotationOf(ids.userId)] }), fields: ROTATION_FIELDS },
  'DELETE /teams/:teamId/schedules/:scheduleId': {},
  'POST /teams/:teamId/schedules/:scheduleId/overrides': {
    body: (ids) => ({ userId: ids.userId, start: '2030-01-01T00:00:00Z', end: '2030-01-01T08:00:00Z' }),
    fields: { userId: NOT_A_MEMBER_FIELD },
  },
  'DELETE /teams/:teamId/schedules/:scheduleId/overrides/:overrideId': {},
  'GET /teams/:teamId/schedules/:scheduleId/on-call': { query: '?at=2030-01-01T00:00:00Z' },
  'GET /teams/:teamId/schedules/:scheduleId/shifts': { query: '?from=2030-01-01T00:00:00Z&to=2030-01-15T00:00:00Z' },
  'POST /teams/:teamId/maintenance-windows': {
    body: (ids) => {
      const start = Date.now() + 5 * 86_400_000;
      return { start: new Date(start).toISOString(), end: new Date(start + 3_600_000).toISOString(), reason: 'intruder', flowIds: [ids.flowId] };
    },
    // A flow that is not the team's is a 400 naming the field, as a schedule's member who is not the team's.
    fields: { 'flowIds[]': { names: 'flowId', answer: 400 } },
  },
  'GET /teams/:teamId/maintenance-windows': {},
  'DELETE /teams/:teamId/maintenance-windows/:windowId': {},
  'GET /teams/:teamId/notifications': {},
  'POST /teams/:teamId/notifications/:deliveryId/resend': {},
  'POST /teams/:teamId/api-tokens': { body: () => ({ name: 'intruder token', role: 'member' }) },
  'GET /teams/:teamId/api-tokens': {},
  'DELETE /teams/:teamId/api-tokens/:tokenId': {},
  'POST /teams/:teamId/subscriptions': { body: () => ({ url: 'https://hooks.example.invalid/intruder', events: ['alert.resolved'] }) },
  'GET /teams/:teamId/subscriptions': {},
  'DELETE /teams/:teamId/subscriptions/:subscriptionId': {},
  'POST /integrations/events/:key': {
    caller: 'nobody',
    body: (ids) => ({ event_action: 'resolve', dedup_key: ids.dedupKey }),
    fields: { dedup_key: { names: 'dedupKey' } },
  },
  'POST /integrations/alertmanager/:key': {
    caller: 'nobody',
    body: (ids) => ({ version: '4', status: 'resolved', alerts: [{ status: 'resolved', fingerprint: ids.dedupKey }] }),
    fields: {
      'alerts[].fingerprint': { names: 'dedupKey' },
      groupKey: { names: null, why: "Alertmanager's own grouping of its notifications, kept by nobody here" },
    },
    attackAnswer: (response) => {
      expect(response.status).toBe(202);
      expect(response.body.alerts).toEqual([{ fingerprint: expect.any(String), alertId: null, action: 'ignored' }]);
    },
  },
  'POST /v2/enqueue': {
    caller: 'nobody',
    body: (ids) => ({ routing_key: ids.integrationKey, event_action: 'resolve', dedup_key: ids.dedupKey }),
    fields: {
      dedup_key: { names: 'dedupKey' },
      routing_key: { names: null, why: 'the integration key is the credential, as the key in the path of /integrations/events/:key' },
    },
    // As PagerDuty answers it: an acknowledge or resolve of a dedup key the key's flow does not know is accepted and does nothing.
    attackAnswer: (response) => {
      expect(response.status).toBe(202);
      expect(response.body).toEqual({ status: 'success', message: 'Event processed', dedup_key: expect.any(String) });
    },
  },
  'POST /auth/register': {
    caller: 'nobody',
    body: (ids) => ({ email: ids.inviteEmail, password: 'correct horse battery', name: 'Invitee', inviteToken: ids.inviteToken }),
    // The invite went to another address: registering with it under this one is refused, and creates no account.
    fields: { inviteToken: { names: 'inviteToken', answer: 403 } },
  },
  'GET /a/:token': { caller: 'nobody', noIds: 'the action link token is the credential: it opens the one alert it was signed for' },
  'POST /a/:token/acknowledge': { caller: 'nobody', noIds: 'the action link token is the credential: it acts on the one alert it was signed for' },
  'POST /a/:token/resolve': { caller: 'nobody', noIds: 'the action link token is the credential: it acts on the one alert it was signed for' },
  'POST /auth/login': { caller: 'nobody', body: (ids) => ({ email: ids.ownerEmail, password: ids.ownerPassword }), noIds: "the caller's own credentials" },
  'POST /auth/refresh': {
    caller: 'nobody',
    body: (ids) => ({ refreshToken: ids.refreshToken }),
    fields: { refreshToken: { names: null, why: "a credential: whoever holds it is the session's user" } },
    noIds: "the caller's own session",
  },
  'POST /auth/logout': {
    caller: 'newcomer',
    body: (ids) => ({ refreshToken: ids.refreshToken }),
    fields: { refreshToken: { names: null, why: "a credential: whoever holds it may end that session, and nothing else" } },
    noIds: "the caller's own session",
  },
  'POST /auth/logout-all': { caller: 'newcomer', noIds: "the caller's own sessions" },
  'POST /auth/password': {
    caller: 'newcomer',
    body: (ids) => ({ currentPassword: ids.ownerPassword, newPassword: 'a new password for the newcomer' }),
    noIds: "the caller's own password",
  },
  'GET /me': { noIds: 'the caller and their own teams' },
  'POST /me/contact-methods': { body: (ids) => ({ type: 'email', address: ids.ownerEmail }), noIds: "a new contact method of the caller's own" },
  'GET /me/contact-methods': { noIds: "the caller's own contact methods" },
  'DELETE /me/contact-methods/:contactMethodId': {},
  'POST /me/contact-methods/:contactMethodId/verify': { body: () => ({ code: '123456' }) },
  'GET /me/notification-rules': { noIds: "the caller's own rules" },
  'PUT /me/notification-rules': {
    body: (ids) => [{ contactMethodId: ids.contactMethodId, delayMinutes: 0 }],
    fields: { '[].contactMethodId': { names: 'contactMethodId' } },
  },
  'POST /teams': { body: () => ({ name: 'founded by B' }), noIds: 'a new team of the caller' },
  'GET /teams': { noIds: "the caller's own teams" },
  'GET /teams/:teamId': {},
  'PATCH /teams/:teamId/members/:userId': { body: () => ({ role: 'owner' }) },
  'DELETE /teams/:teamId/members/:userId': {},
  'POST /teams/:teamId/webhook-secret/rotate': {},
  'POST /teams/:teamId/invites': { body: () => ({ email: 'intruder@example.com', role: 'owner' }) },
  'GET /teams/:teamId/invites': {},
  'DELETE /teams/:teamId/invites/:inviteId': {},
  'POST /invites/accept': {
    caller: 'invitee',
    body: (ids) => ({ token: ids.inviteeToken }),
    // Accepting needs the address the invite went to: another team's token is refused, and joins nobody.
    fields: { token: { names: 'inviteeToken', answer: 403 } },
  },
};

const routeName = (route: AnyRouteSpec) => `${route.method.toUpperCase()} ${route.path}`;
const pathParameters = (route: AnyRouteSpec) => [...route.path.matchAll(/:([A-Za-z]+)/g)].map((match) => match[1]!);
const pathKinds = (route: AnyRouteSpec): Kind[] =>
  pathParameters(route).flatMap((name) => {
    const kind = PATH_PARAMETERS[name];
    return kind && !isCapability(kind) ? [kind] : [];
  });
const bodyKinds = (route: AnyRouteSpec): Kind[] =>
  Object.values(CASES[routeName(route)]?.fields ?? {}).flatMap((field) => (field.names ? [field.names] : []));
const kindsOf = (route: AnyRouteSpec): Kind[] => [...new Set([...pathKinds(route), ...bodyKinds(route)])];

const ID_NAME = /(^id$|Id$|_id$|Ids$|token$|Token$|key$|Key$|_key$|fingerprint$)/;

/** Paths of the body fields whose schema is a uuid or whose name says id, token or key, through arrays and unions. */
function idFieldsOf(route: AnyRouteSpec): string[] {
  if (!route.body) return [];
  const found = new Set<string>();
  const visit = (schema: any, path: string, name: string | null): void => {
    if (!schema || typeof schema !== 'object') return;
    for (const branch of [...(schema.anyOf ?? []), ...(schema.oneOf ?? []), ...(schema.allOf ?? [])]) visit(branch, path, name);
    for (const [key, inner] of Object.entries(schema.properties ?? {})) visit(inner, path ? `${path}.${key}` : key, key);
    if (schema.items) visit(schema.items, `${path}[]`, name);
    if (name !== null && !schema.properties && !schema.items && (schema.format === 'uuid' || ID_NAME.test(name))) found.add(path);
  };
  visit(jsonSchemaOf(route.body), '', null);
  return [...found].sort();
}

function idsOf(tenant: Tenant, actionToken: string): Ids {
  return {
    actionToken,
    teamId: tenant.teamId,
    flowId: tenant.flowId,
    nodeId: tenant.nodeId,
    secondNodeId: tenant.secondNodeId,
    alertId: tenant.alertId,
    inviteId: tenant.inviteId,
    userId: tenant.member.userId,
    keyId: tenant.keyId,
    scheduleId: tenant.scheduleId,
    overrideId: tenant.overrideId,
    contactMethodId: tenant.contactMethodId,
    windowId: tenant.windowId,
    deliveryId: tenant.deliveryId,
    tokenId: tenant.apiTokenId,
    subscriptionId: tenant.subscriptionId,
    dedupKey: tenant.dedupKey,
    inviteToken: tenant.inviteToken,
    inviteeToken: tenant.inviteeToken,
    integrationKey: tenant.integrationKey,
    inviteEmail: tenant.inviteEmail,
    ownerEmail: tenant.owner.email,
    ownerPassword: tenant.owner.password,
    refreshToken: tenant.owner.refreshToken,
  };
}

interface Variant {
  /** Whose id each attacked kind is; the rest are B's own. */
  owners: Partial<Record<Kind, Owner>>;
  ids: Ids;
}

/** Every mix of A's and B's ids over the kinds the route names, except all of B's own (the control). */
function variantsOf(route: AnyRouteSpec, tenants: Record<Owner, Ids>): Variant[] {
  const kinds = kindsOf(route);
  const variants: Variant[] = [];
  for (let mask = 1; mask < 2 ** kinds.length; mask++) {
    const owners = Object.fromEntries(kinds.map((kind, bit) => [kind, mask & (1 << bit) ? 'A' : 'B'])) as Partial<Record<Kind, Owner>>;
    const ids = { ...tenants.B };
    for (const kind of kinds) ids[kind] = tenants[owners[kind]!][kind];
    variants.push({ owners, ids });
  }
  return variants;
}

/** What an attack must answer: 404 when the path names A's, else what each of A's ids in the body answers. */
function expectedStatuses(route: AnyRouteSpec, variant: Variant): number[] {
  if (pathKinds(route).some((kind) => variant.owners[kind] === 'A')) return [404];
  const fields = Object.values(CASES[routeName(route)]?.fields ?? {});
  return [...new Set(fields.filter((field) => field.names && variant.owners[field.names] === 'A').map((field) => field.answer ?? 404))];
}

function pathFor(route: AnyRouteSpec, ids: Ids): string {
  const path = route.path.replace(/:([A-Za-z]+)/g, (_, name: string) => {
    const kind = PATH_PARAMETERS[name];
    if (isCapability(kind)) return encodeURIComponent(ids[kind]);
    if (!kind) throw new Error(`no ids for :${name}`);
    return ids[kind];
  });
  return `${path}${CASES[routeName(route)]?.query ?? ''}`;
}

describe('tenant isolation: every route of the route table, called by another team', () => {
  let app: TestApp;
  let a: Tenant;
  let b: Tenant;
  let tenants: Record<Owner, Ids>;
  /** Everything that would give A away: its ids, its people, its names, its keys, tokens and secret. */
  let secretsOfA: string[];

  beforeAll(async () => {
    app = await startTestApp();
    a = await buildTenant(app.http, `tenant-a-${randomBytes(4).toString('hex')}`);
    b = await buildTenant(app.http, `tenant-b-${randomBytes(4).toString('hex')}`);
    // An action link as an address page of the tenant's alert would carry (its first step pages an hour from now).
    const actionTokenOf = (tenant: Tenant) =>
      signActionToken(actionLinkKey(app.config.jwtSecret), {
        alertId: tenant.alertId,
        deliveryId: randomUUID(),
        teamId: tenant.teamId,
        userId: null,
        expiresAt: new Date(Date.now() + 3_600_000),
      });
    tenants = { A: idsOf(a, actionTokenOf(a)), B: idsOf(b, actionTokenOf(b)) };
    const teamOfA = await app.http.get(`/teams/${a.teamId}`, { token: a.owner.token });
    expect(teamOfA.body.webhookSecret).toMatch(/^whsec_/);
    const { owner: _owner, member: _member, invitee: _invitee, ...idsOfA } = a;
    secretsOfA = [
      ...Object.values(idsOfA),
      ...[a.owner, a.member, a.invitee].flatMap((user) => [user.userId, user.email, user.token, user.refreshToken]),
      teamOfA.body.name,
      teamOfA.body.webhookSecret,
    ];
  });
  afterAll(async () => {
    await app?.stop();
  });

  function callerToken(route: AnyRouteSpec): string | undefined {
    const caller = CASES[routeName(route)]?.caller;
    if (caller === 'nobody' || caller === 'newcomer') return undefined;
    return caller === 'invitee' ? b.invitee.token : b.owner.token;
  }

  async function send(route: AnyRouteSpec, ids: Ids, headers: Record<string, string> = {}): Promise<{ response: HttpResponse; sent: string }> {
    const path = pathFor(route, ids);
    const newcomer = CASES[routeName(route)]?.caller === 'newcomer' ? await signUp(app.http) : null;
    const body = CASES[routeName(route)]?.body?.(newcomer ? { ...ids, ownerPassword: newcomer.password, refreshToken: newcomer.refreshToken } : ids);
    const token = newcomer ? newcomer.token : callerToken(route);
    const response = await app.http.request(route.method.toUpperCase(), path, body, { ...(token ? { token } : {}), headers });
    return { response, sent: `${path} ${JSON.stringify(body ?? null)}` };
  }

  /** A's secrets in an answer (body and headers) that the request did not carry itself. */
  function leaksOfA(response: HttpResponse, sent: string): string[] {
    const answer = `${[...response.headers].map(([name, value]) => `${name}: ${value}`).join('\n')}\n${typeof response.body === 'string' ? response.body : JSON.stringify(response.body)}`;
    return secretsOfA.filter((secret) => answer.includes(secret) && !sent.includes(secret));
  }

  /** Everything A's people can read about A through every readable route. */
  async function stateOfA() {
    const reads: Record<string, { status: number; body: unknown }> = {};
    for (const route of routes.filter((candidate) => candidate.method === 'get')) {
      if (pathParameters(route).some((name) => isCapability(PATH_PARAMETERS[name]))) continue;
      const response = await app.http.get(pathFor(route, tenants.A), { token: a.owner.token });
      reads[routeName(route)] = { status: response.status, body: response.body };
    }
    for (const user of [a.member, a.invitee]) {
      reads[`GET /me (${user.email})`] = await app.http.get('/me', { token: user.token }).then(({ status, body }) => ({ status, body }));
    }
    return reads;
  }

  /** Events since `after` in A's team or in the streams of A's people. */
  async function eventsOfA(after: bigint): Promise<string[]> {
    const { rows } = await app.database.pool.query<{ stream_id: string; event_type: string }>(
      `select stream_id, event_type from events
        where global_position > $1 and (metadata->>'teamId' = $2 or stream_id = any($3))
        order by global_position`,
      [after.toString(), a.teamId, [a.owner, a.member, a.invitee].map((user) => userStreamId(user.userId))],
    );
    return rows.map((row) => `${row.stream_id} ${row.event_type}`);
  }

  const lastPosition = async () =>
    BigInt((await app.database.pool.query<{ position: string }>('select coalesce(max(global_position), 0) as position from events')).rows[0]!.position);

  it('covers every route of the route table and every id-bearing field of every body', () => {
    const uncovered: string[] = [];
    for (const route of routes) {
      const name = routeName(route);
      const entry = CASES[name];
      if (!entry) {
        uncovered.push(`${name}: no entry in the isolation matrix`);
        continue;
      }
      const unknown = pathParameters(route).filter((parameter) => !(parameter in PATH_PARAMETERS));
      if (unknown.length) uncovered.push(`${name}: no ids for ${unknown.map((parameter) => `:${parameter}`).join(', ')}`);
      const needsBody = route.body !== undefined && !route.body.safeParse(undefined).success;
      if (needsBody && !entry.body) uncovered.push(`${name}: no body in the matrix`);
      if (route.body && entry.body) {
        const parsed = route.body.safeParse(entry.body(tenants.B));
        if (!parsed.success) uncovered.push(`${name}: the matrix body is not valid for the route (${parsed.error.message})`);
      }
      const found = idFieldsOf(route);
      const declared = Object.keys(entry.fields ?? {});
      for (const field of found.filter((path) => !declared.includes(path))) uncovered.push(`${name}: body field ${field} carries an id the matrix does not attack`);
      for (const field of declared.filter((path) => !found.includes(path))) uncovered.push(`${name}: the matrix names body field ${field}, which the route's body does not have`);
      for (const [field, { names, why }] of Object.entries(entry.fields ?? {})) {
        if (names === null && !why) uncovered.push(`${name}: body field ${field} names nothing of a team's, and the matrix does not say why`);
      }
      if (kindsOf(route).length === 0 && !entry.noIds) uncovered.push(`${name}: names nothing of a team's, and the matrix does not say why`);
      if (kindsOf(route).length > 0 && entry.noIds) uncovered.push(`${name}: names a team's resources, yet the matrix says it does not`);
    }
    const stale = Object.keys(CASES).filter((name) => !routes.some((route) => routeName(route) === name));
    expect(uncovered, 'routes the isolation matrix does not cover').toEqual([]);
    expect(stale, 'matrix entries for routes that no longer exist').toEqual([]);
    expect(routes.length).toBeGreaterThanOrEqual(35);
  });

  it("refuses B every one of A's ids, in A's path, under B's and in B's bodies, and changes nothing in the database", async () => {
    const before = await settledDatabaseState(app.database.pool);
    const failures: string[] = [];
    let attacks = 0;
    for (const route of routes) {
      const expected = CASES[routeName(route)]?.attackAnswer;
      for (const variant of variantsOf(route, tenants)) {
        // A stale If-Match must not turn into a 412 that admits A's flow or schedule exists (for B's own a 412 is right).
        const aimsAtA = variant.owners.teamId === 'A' || variant.owners.flowId === 'A' || variant.owners.scheduleId === 'A';
        const headerSets: Record<string, string>[] = route.method !== 'get' && aimsAtA ? [{}, { 'If-Match': '"1"' }] : [{}];
        for (const headers of headerSets) {
          attacks++;
          const { response, sent } = await send(route, variant.ids, headers);
          const statuses = expectedStatuses(route, variant);
          const label = `${routeName(route)} with A's ${Object.entries(variant.owners)
            .filter(([, owner]) => owner === 'A')
            .map(([kind]) => kind)
            .join(' + ')}${'If-Match' in headers ? ' and a stale If-Match' : ''} (expected ${expected ? 'its own answer' : statuses.join(' or ')}): ${response.status} ${JSON.stringify(response.body)}`;
          try {
            if (expected) {
              expected(response);
            } else {
              expect(statuses).toContain(response.status);
              expect(response.headers.get('content-type')).toContain('application/problem+json');
              expect(response.body.status).toBe(response.status);
              // A 404 from the router would mean the request never reached the route: the matrix is broken.
              expect(response.body.detail).not.toMatch(/^no route for/);
            }
            expect(leaksOfA(response, sent), "A's data in the answer").toEqual([]);
          } catch (error) {
            failures.push(`${label}\n    ${String(error).split('\n')[0]}`);
          }
        }
      }
    }
    console.log(`tenant isolation: ${attacks} cross-team requests over ${routes.filter((route) => kindsOf(route).length > 0).length} routes`);
    expect(failures).toEqual([]);
    const after = await settledDatabaseState(app.database.pool);
    expect(rowCountChanges(before, after)).toEqual({});
    expect(unexplainedChanges(before, after), 'tables the refused requests changed').toEqual([]);
  });

  it('B reaches its own resources on every route with the same requests, and sees nothing of A (the control)', async () => {
    const before = { position: await lastPosition(), a: await stateOfA() };
    const ordered = [...routes.filter((route) => route.method !== 'delete'), ...routes.filter((route) => route.method === 'delete')];
    const answers: string[] = [];
    const leaks: string[] = [];
    for (const route of ordered) {
      const { response, sent } = await send(route, tenants.B);
      answers.push(`${routeName(route)} ${response.status}`);
      expect(response.status, `${routeName(route)}: ${JSON.stringify(response.body)}`).not.toBe(404);
      expect(response.status, `${routeName(route)}: ${JSON.stringify(response.body)}`).toBeLessThan(500);
      const leaked = leaksOfA(response, sent);
      if (leaked.length) leaks.push(`${routeName(route)}: ${leaked.join(', ')}`);
    }
    expect(leaks, "A's data in B's answers").toEqual([]);
    const succeeded = answers.filter((answer) => / 2\d\d$/.test(answer));
    // Refused for B's own reasons: escalating an acknowledged alert (409), deleting the schedule the control's new flow
    // pages (409), an invite the control accepted already (410).
    expect(succeeded.length, answers.join('\n')).toBeGreaterThan(routes.length - 4);
    expect(await eventsOfA(before.position), "events in A's team or A's people's streams").toEqual([]);
    expect(await stateOfA()).toEqual(before.a);
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

  it("B's API token is refused A's team on every route as a non-member is (404), and everything personal (403)", async () => {
    // The control above revoked B's first token.
    const created = await app.http.post(`/teams/${b.teamId}/api-tokens`, { name: 'B automation', role: 'member' }, { token: b.owner.token });
    expect(created.status).toBe(201);
    const tokenOfB = created.body.token as string;
    const before = await settledDatabaseState(app.database.pool);
    const failures: string[] = [];
    for (const route of routes) {
      if (route.auth !== 'user' || CASES[routeName(route)]?.caller === 'newcomer') continue;
      const teamRoute = pathParameters(route).includes('teamId');
      const body = CASES[routeName(route)]?.body?.(tenants.A);
      const response = await app.http.request(route.method.toUpperCase(), pathFor(route, tenants.A), body, { token: tokenOfB });
      const expected = teamRoute ? 404 : 403;
      if (response.status !== expected || !String(response.headers.get('content-type')).includes('application/problem+json')) {
        failures.push(`${routeName(route)}: expected ${expected}, got ${response.status} ${JSON.stringify(response.body)}`);
      }
      const leaked = leaksOfA(response, '');
      if (leaked.length) failures.push(`${routeName(route)}: leaked ${leaked.join(', ')}`);
    }
    expect(failures).toEqual([]);
    const after = await settledDatabaseState(app.database.pool);
    expect(rowCountChanges(before, after)).toEqual({});
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
