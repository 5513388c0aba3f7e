import { z } from 'zod';
import type { RoutePermission } from './authorization.js';
import type { AnyRouteSpec } from './routing.js';

const ProblemSchema = z.object({
  type: z.string(),
  title: z.string(),
  status: z.number().int(),
  detail: z.string().optional(),
  errors: z.array(z.object({ path: z.string(), message: z.string() })).optional(),
});

function jsonSchema(schema: z.ZodType, io: 'input' | 'output'): unknown {
  return z.toJSONSchema(schema, { io, unrepresentable: 'any', target: 'openapi-3.0' });
}

/** The OpenAPI document, generated from the same zod schemas that validate requests. */
export function openApiDocument(routes: readonly AnyRouteSpec[]): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const route of routes) {
    const path = route.path.replace(/:([A-Za-z0-9_]+)/g, '{$1}');
    const parameters: unknown[] = [];
    for (const [name, where] of [
      ...[...route.path.matchAll(/:([A-Za-z0-9_]+)/g)].map((m) => [m[1]!, 'path'] as const),
      ...queryNames(route.query).map((name) => [name, 'query'] as const),
    ]) {
      parameters.push({ name, in: where, required: where === 'path', schema: { type: 'string' } });
    }
    const responses: Record<string, unknown> = {};
    const mediaType = route.errorPage ? 'text/html' : 'application/json';
    for (const [status, schema] of Object.entries(route.responses)) {
      responses[status] = schema
        ? { description: `HTTP ${status}`, content: { [mediaType]: { schema: jsonSchema(schema, 'output') } } }
        : { description: `HTTP ${status}` };
    }
    responses.default = route.errorPage
      ? { description: 'An error page', content: { 'text/html': { schema: { type: 'string' } } } }
      : { description: 'A problem (RFC 9457)', content: { 'application/problem+json': { schema: jsonSchema(ProblemSchema, 'output') } } };
    (paths[path] ??= {})[route.method] = {
      summary: route.summary,
      description: describePermission(route.permission),
      tags: [route.tag],
      ...(route.auth === 'user' ? { security: [{ bearer: [] }] } : {}),
      ...(parameters.length ? { parameters } : {}),
      ...(route.body
        ? { requestBody: { required: true, content: { 'application/json': { schema: jsonSchema(route.body, 'input') } } } }
        : {}),
      responses,
    };
  }
  return {
    openapi: '3.0.3',
    info: { title: 'AlertOps', version: '1.0.0', description: 'Multi-tenant alerting and escalation API' },
    components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' } } },
    paths,
  };
}

function describePermission(permission: RoutePermission): string {
  if (permission === 'public') return 'Permission: none; open to anyone.';
  if (permission === 'signed-in') return 'Permission: any signed-in user.';
  if (permission === 'integration-key') return 'Permission: the integration key in the path.';
  if (typeof permission === 'string') return `Permission: \`${permission}\` in team {teamId}, from its current membership.`;
  return `Permission: \`${permission.team}\` in team {teamId}, from the team's own event stream.`;
}

function queryNames(schema: z.ZodType | undefined): string[] {
  if (schema instanceof z.ZodObject) return Object.keys(schema.shape);
  return [];
}
