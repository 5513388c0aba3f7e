import { z } from 'zod';
import type { RoutePermission } from './authorization.js';
import { IfMatchHeader } from './if-match.js';
import { type AnyRouteSpec, IdempotencyKey } from './routing.js';

type JsonSchema = Record<string, unknown>;
type Reference = { $ref: string };

const ProblemSchema = z.object({
  type: z.string().describe('A URI naming the kind of problem'),
  title: z.string(),
  status: z.int(),
  detail: z.string().optional(),
  code: z.string().optional().describe('A stable machine-readable reason, where the API has one'),
  errors: z
    .array(z.object({ path: z.string().describe('Where the input is at fault: `body.<field>`, `query.<name>`, `path.<name>` or `header`'), message: z.string() }))
    .optional(),
});

const PositionText = z.string().regex(/^\d{1,20}-\d{1,20}$/);

/** The problems every route may answer, as shared responses; a route names those its declaration implies. */
const problemResponses = {
  BadRequest: [400, 'The request is invalid (malformed JSON, a field, parameter or header at fault: see `errors`)'],
  Unauthorized: [401, 'No valid access token'],
  Forbidden: [403, "The caller's role in the team does not allow this"],
  NotFound: [404, "No such resource, or another team's"],
  Conflict: [409, 'The change conflicts with the current state, or a request with this Idempotency-Key is still running'],
  PreconditionFailed: [412, 'If-Match names a version that is no longer current; reload and retry'],
  UnprocessableContent: [422, 'The request is well-formed but cannot be carried out (or its Idempotency-Key was used for another request)'],
  TooManyRequests: [429, "Over a limit (a team's trigger quota, sign-in attempts); retry after Retry-After seconds"],
} as const satisfies Record<string, readonly [number, string]>;

type ProblemResponse = keyof typeof problemResponses;

const problemHeaders: Partial<Record<ProblemResponse, Record<string, unknown>>> = {
  Unauthorized: { 'WWW-Authenticate': { description: 'The scheme to authenticate with', schema: { type: 'string', const: 'Bearer' } } },
  TooManyRequests: { 'Retry-After': { description: 'Seconds to wait before retrying', schema: { type: 'integer', minimum: 0 } } },
};

const problemByStatus = new Map<number, ProblemResponse>(
  Object.entries(problemResponses).map(([name, [status]]) => [status, name as ProblemResponse]),
);

const ref = (kind: 'schemas' | 'responses' | 'parameters' | 'headers' | 'securitySchemes', name: string): Reference => ({
  $ref: `#/components/${kind}/${name}`,
});

/** The operation's id: as the route declares it, or its method and path (`GET /teams/:teamId/flows` is `getTeamsByTeamIdFlows`). */
export function operationIdOf(route: Pick<AnyRouteSpec, 'method' | 'path' | 'operationId'>): string {
  if (route.operationId) return route.operationId;
  const words = route.path
    .split('/')
    .filter(Boolean)
    .map((segment) => (segment.startsWith(':') ? `By${pascalCase(segment.slice(1))}` : pascalCase(segment)));
  return `${route.method}${words.join('')}`;
}

function pascalCase(text: string): string {
  return text
    .split(/[^A-Za-z0-9]+/)
    .filter(Boolean)
    .map((word) => word[0]!.toUpperCase() + word.slice(1))
    .join('');
}

/**
 * What a reader of the document needs, without what only repeats it: zod's own patterns for formats the format names
 * (uuid, date-time), and the safe-integer bounds of every integer. Answers may gain fields, so a client must not
 * refuse one it does not know: responses do not close their objects.
 */
function concise(schema: JsonSchema, io: 'input' | 'output'): void {
  if (schema.format === 'uuid' || schema.format === 'date-time') delete schema.pattern;
  if (schema.minimum === Number.MIN_SAFE_INTEGER) delete schema.minimum;
  if (schema.maximum === Number.MAX_SAFE_INTEGER) delete schema.maximum;
  if (io === 'output' && schema.additionalProperties === false) delete schema.additionalProperties;
}

/** JSON Schema (2020-12, the dialect of OpenAPI 3.1) of zod schemas, with the definitions they share as components. */
class SchemaComponents {
  readonly shared: Record<string, JsonSchema> = {};

  of(schema: z.ZodType, io: 'input' | 'output'): JsonSchema {
    const { $schema: _dialect, $defs, ...converted } = z.toJSONSchema(schema, {
      io,
      unrepresentable: 'any',
      target: 'draft-2020-12',
      override: ({ jsonSchema }) => concise(jsonSchema, io),
    }) as JsonSchema;
    for (const [name, definition] of Object.entries(($defs ?? {}) as Record<string, JsonSchema>)) {
      const located = this.located(definition);
      const existing = this.shared[name];
      if (existing && JSON.stringify(existing) !== JSON.stringify(located)) throw new Error(`two different schemas are both named ${name}`);
      this.shared[name] = located;
    }
    return this.located(converted);
  }

  private located(schema: JsonSchema): JsonSchema {
    return JSON.parse(JSON.stringify(schema).replaceAll('"#/$defs/', '"#/components/schemas/')) as JsonSchema;
  }
}

/** The OpenAPI 3.1 document, generated from the same zod schemas that validate requests. */
export function openApiDocument(routes: readonly AnyRouteSpec[]): Record<string, unknown> {
  const schemas = new SchemaComponents();
  const paths: Record<string, Record<string, unknown>> = {};
  const operationIds = new Map<string, string>();
  for (const route of routes) {
    const operationId = operationIdOf(route);
    const taken = operationIds.get(operationId);
    if (taken) throw new Error(`${route.method.toUpperCase()} ${route.path} and ${taken} would share the operationId ${operationId}`);
    operationIds.set(operationId, `${route.method.toUpperCase()} ${route.path}`);
    const path = route.path.replace(/:([A-Za-z0-9_]+)/g, '{$1}');
    (paths[path] ??= {})[route.method] = operation(route, operationId, schemas);
  }
  for (const [path, method, description] of platformOperations) (paths[path] ??= {})[method] = description;
  return {
    openapi: '3.1.1',
    info: { title: 'AlertOps', version: '1.0.0', description: 'Multi-tenant alerting and escalation API' },
    tags: [...new Set(routes.map((route) => route.tag)), 'platform'].map((name) => ({ name })),
    components: {
      schemas: { ...schemas.shared, Problem: schemas.of(ProblemSchema, 'output') },
      responses: {
        Problem: { description: 'A problem (RFC 9457)', content: { 'application/problem+json': { schema: ref('schemas', 'Problem') } } },
        ...Object.fromEntries(
          Object.entries(problemResponses).map(([name, [, description]]) => [
            name,
            {
              description,
              ...(problemHeaders[name as ProblemResponse] ? { headers: problemHeaders[name as ProblemResponse] } : {}),
              content: { 'application/problem+json': { schema: ref('schemas', 'Problem') } },
            },
          ]),
        ),
      },
      parameters: {
        IfMatch: {
          name: 'If-Match',
          in: 'header',
          required: false,
          description: 'The version the change is based on, as the ETag gave it (`"3"`); a stale one is refused with 412. `*` or none: any version.',
          schema: schemas.of(IfMatchHeader, 'input'),
        },
        IdempotencyKey: {
          name: 'Idempotency-Key',
          in: 'header',
          required: false,
          description:
            'Retrying with the same key and the same request replays the first response (`Idempotent-Replayed: true`); the same key with another request is refused with 422.',
          schema: schemas.of(IdempotencyKey, 'input'),
        },
        Prefer: {
          name: 'Prefer',
          in: 'header',
          required: false,
          description: '`respond-async`: answer 202 as soon as the events are written, without waiting for the read models.',
          schema: { type: 'string', examples: ['respond-async'] },
        },
        PositionHeader: {
          name: 'X-AlertOps-Position',
          in: 'header',
          required: false,
          description: 'A position a command answered: the query waits (bounded) until the read models have passed it.',
          schema: schemas.of(PositionText, 'input'),
        },
        PositionQuery: {
          name: 'position',
          in: 'query',
          required: false,
          description: 'The same as the X-AlertOps-Position header, for clients that cannot set headers.',
          schema: schemas.of(PositionText, 'input'),
        },
      },
      headers: {
        ETag: { description: "The resource's version, for If-Match on its next change", schema: { type: 'string', pattern: '^"\\d+"$' } },
        Position: {
          description: "Where the command's events landed in the log; a query given it sees the change",
          schema: schemas.of(PositionText, 'output'),
        },
        Consistency: {
          description: '`pending` when the read models had not reached the position within the bounded wait',
          schema: { type: 'string', enum: ['pending'] },
        },
        IdempotentReplayed: { description: '`true` when this is the stored response of an earlier request with the same Idempotency-Key', schema: { type: 'string', enum: ['true'] } },
        PreferenceApplied: { description: '`respond-async` when the read models were not waited for', schema: { type: 'string', enum: ['respond-async'] } },
      },
      securitySchemes: {
        bearerAuth: {
          type: 'http',
          scheme: 'bearer',
          bearerFormat: 'JWT',
          description:
            "An access token from /auth/register, /auth/login or /auth/refresh, or a team's API token (`aot_…`, acting with its role in its team only). What it may do is decided per request from current membership or the token's own record.",
        },
        metricsToken: {
          type: 'http',
          scheme: 'bearer',
          description: 'The METRICS_TOKEN the service was started with; /metrics is open when none is set.',
        },
        integrationKey: {
          type: 'apiKey',
          in: 'header',
          name: 'key',
          description:
            "An integration key, which opens one flow. It is sent as the `{key}` segment of an integration route's path, never as a header: OpenAPI places API keys only in headers, queries and cookies, so those operations also declare it as their `key` path parameter.",
        },
      },
    },
    paths,
  };
}

function operation(route: AnyRouteSpec, operationId: string, schemas: SchemaComponents): Record<string, unknown> {
  const command = route.method !== 'get';
  const idempotent = command && route.replayable !== false;
  const success = Object.entries(route.responses).find(([status]) => Number(status) < 300);
  // Only a 2xx answer becomes 202 when the client prefers not to wait (a redirect stays one).
  const acceptsPrefer = command && route.async !== 'always' && success !== undefined;
  const parameters: unknown[] = [...pathParameters(route, schemas), ...queryParameters(route, schemas)];
  if (!command) parameters.push(ref('parameters', 'PositionQuery'), ref('parameters', 'PositionHeader'));
  if (route.versioned?.ifMatch) parameters.push(ref('parameters', 'IfMatch'));
  if (idempotent) parameters.push(ref('parameters', 'IdempotencyKey'));
  if (acceptsPrefer) parameters.push(ref('parameters', 'Prefer'));

  const successHeaders = (status: number): Record<string, Reference> => ({
    ...(route.versioned ? { ETag: ref('headers', 'ETag') } : {}),
    ...(command ? { 'X-AlertOps-Position': ref('headers', 'Position') } : {}),
    'X-AlertOps-Consistency': ref('headers', 'Consistency'),
    ...(idempotent ? { 'Idempotent-Replayed': ref('headers', 'IdempotentReplayed') } : {}),
    ...(status === 202 && command ? { 'Preference-Applied': ref('headers', 'PreferenceApplied') } : {}),
  });
  const mediaType = route.errorPage ? 'text/html' : 'application/json';
  const responses: Record<string, unknown> = {};
  for (const [status, schema] of Object.entries(route.responses)) {
    const code = Number(status);
    if (code >= 400 && !route.errorPage) {
      responses[status] = ref('responses', problemByStatus.get(code) ?? 'Problem');
      continue;
    }
    responses[status] = {
      description: describeStatus(code),
      headers: successHeaders(code),
      ...(schema ? { content: { [mediaType]: { schema: schemas.of(schema, 'output') } } } : {}),
    };
  }
  if (acceptsPrefer && success && !('202' in responses)) {
    const [, schema] = success;
    responses['202'] = {
      description: 'Accepted (`Prefer: respond-async`): the events are written; the read models may not show them yet',
      headers: successHeaders(202),
      ...(schema ? { content: { [mediaType]: { schema: schemas.of(schema, 'output') } } } : {}),
    };
  }
  if (route.errorPage) {
    responses.default = { description: 'An error page', content: { 'text/html': { schema: { type: 'string' } } } };
  } else {
    for (const problem of implicitProblems(route)) {
      const status = String(problemResponses[problem][0]);
      responses[status] ??= ref('responses', problem);
    }
    responses.default = ref('responses', 'Problem');
  }

  return {
    operationId,
    summary: route.summary,
    description: describePermission(route.permission),
    tags: [route.tag],
    ...(route.auth === 'user' ? { security: [{ bearerAuth: [] }] } : {}),
    ...(route.permission === 'integration-key' ? { security: [{ integrationKey: [] }] } : {}),
    ...(parameters.length ? { parameters } : {}),
    ...(route.body
      ? {
          requestBody: {
            required: !route.body.safeParse(undefined).success,
            content: { 'application/json': { schema: schemas.of(route.body, 'input') } },
          },
        }
      : {}),
    responses,
  };
}

/** The problems a route's declaration implies: what it parses, who it admits, which resource it names. */
function implicitProblems(route: AnyRouteSpec): ProblemResponse[] {
  const problems: ProblemResponse[] = ['BadRequest'];
  if (route.auth === 'user') problems.push('Unauthorized');
  if (typeof route.permission === 'object' || !['public', 'signed-in', 'integration-key'].includes(route.permission)) problems.push('Forbidden');
  if (route.path.includes(':')) problems.push('NotFound');
  if (route.method !== 'get') problems.push('Conflict', 'UnprocessableContent');
  if (route.versioned?.ifMatch) problems.push('PreconditionFailed');
  return problems;
}

function pathParameters(route: AnyRouteSpec, schemas: SchemaComponents): unknown[] {
  const { properties } = objectSchema(route.params, schemas);
  return [...route.path.matchAll(/:([A-Za-z0-9_]+)/g)].map(([, name]) => ({
    name,
    in: 'path',
    required: true,
    schema: properties[name!] ?? { type: 'string' },
    ...(route.permission === 'integration-key' && name === 'key' ? { description: 'The integration key: the credential of this route' } : {}),
  }));
}

function queryParameters(route: AnyRouteSpec, schemas: SchemaComponents): unknown[] {
  const { properties, required } = objectSchema(route.query, schemas);
  return Object.entries(properties).map(([name, schema]) => ({ name, in: 'query', required: required.includes(name), schema }));
}

function objectSchema(schema: z.ZodType | undefined, schemas: SchemaComponents): { properties: Record<string, JsonSchema>; required: string[] } {
  if (!schema) return { properties: {}, required: [] };
  const converted = schemas.of(schema, 'input');
  return {
    properties: (converted.properties ?? {}) as Record<string, JsonSchema>,
    required: (converted.required ?? []) as string[],
  };
}

function describeStatus(status: number): string {
  const known: Record<number, string> = { 200: 'OK', 201: 'Created', 202: 'Accepted', 204: 'No Content', 303: 'See Other' };
  return known[status] ?? `HTTP ${status}`;
}

function describePermission(permission: RoutePermission): string {
  if (permission === 'public') return 'Permission: none; open to anyone.';
  if (permission === 'signed-in') return 'Permission: any signed-in user.';
  if (permission === 'integration-key') return 'Permission: the integration key in the path.';
  if (typeof permission === 'string') return `Permission: \`${permission}\` in team {teamId}, from its current membership.`;
  return `Permission: \`${permission.team}\` in team {teamId}, from the team's own event stream.`;
}

/** The routes the application serves beside the route table. */
const platformOperations: [string, 'get', Record<string, unknown>][] = [
  [
    '/healthz',
    'get',
    {
      operationId: 'getHealthz',
      summary: 'Liveness: the process answers',
      tags: ['platform'],
      responses: { 200: { description: 'OK', content: { 'application/json': { schema: { type: 'object', properties: { status: { type: 'string' } } } } } } },
    },
  ],
  [
    '/readyz',
    'get',
    {
      operationId: 'getReadyz',
      summary: 'Readiness: PostgreSQL, RabbitMQ and the workers are usable',
      tags: ['platform'],
      responses: {
        200: { description: 'Ready', content: { 'application/json': { schema: { type: 'object' } } } },
        503: { description: 'Not ready', content: { 'application/json': { schema: { type: 'object' } } } },
      },
    },
  ],
  [
    '/metrics',
    'get',
    {
      operationId: 'getMetrics',
      summary: 'Prometheus metrics',
      tags: ['platform'],
      security: [{}, { metricsToken: [] }],
      responses: {
        200: { description: 'The Prometheus text format', content: { 'text/plain': { schema: { type: 'string' } } } },
        401: ref('responses', 'Unauthorized'),
      },
    },
  ],
  [
    '/openapi.json',
    'get',
    {
      operationId: 'getOpenapiJson',
      summary: 'This document',
      tags: ['platform'],
      responses: { 200: { description: 'OpenAPI 3.1', content: { 'application/json': { schema: { type: 'object' } } } } },
    },
  ],
];
