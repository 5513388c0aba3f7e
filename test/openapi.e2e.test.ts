import { execFile } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { Validator } from '@seriousme/openapi-schema-validator';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { routes } from '../src/api/routes/index.js';
import { startTestApp, type TestApp } from './support/app.js';
import { waitFor } from './support/wait.js';
import { startWebhookReceiver, type WebhookReceiver } from './support/webhook-receiver.js';

const run = promisify(execFile);
const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const CLIENT = join(ROOT, 'test/openapi-client');
const GENERATED = join(CLIENT, 'generated');

interface Operation {
  operationId?: string;
  security?: Record<string, string[]>[];
  parameters?: ({ $ref: string } | { name: string; in: string; required?: boolean; schema: Record<string, unknown> })[];
  requestBody?: unknown;
  responses: Record<string, { $ref?: string; headers?: Record<string, { $ref: string }>; content?: Record<string, unknown> }>;
}
interface Document {
  openapi: string;
  paths: Record<string, Record<string, Operation>>;
  components: {
    schemas: Record<string, unknown>;
    responses: Record<string, { content: Record<string, { schema: { $ref: string } }> }>;
    parameters: Record<string, { name: string; in: string }>;
    securitySchemes: Record<string, { type: string; scheme?: string; bearerFormat?: string }>;
  };
}

/** What test/openapi-client/usage.ts exports; it is imported by path, so that only its own tsc run reads its types. */
interface UsageModule {
  walkThrough(baseUrl: string, webhookUrl: string, pageArrived: (alertId: string) => Promise<void>): Promise<{
    alertId: string;
    triggered: { status: number; alertStatus: string };
    staleIfMatch: { status: number; code: string | undefined };
    acknowledged: { status: number; alertStatus: string; replayed: boolean };
    afterwards: { alertStatus: string; notificationTargets: string[] };
  }>;
}

const openApiPath = (path: string) => path.replace(/:([A-Za-z0-9_]+)/g, '{$1}');

describe('the OpenAPI 3.1 document', () => {
  let app: TestApp;
  let receiver: WebhookReceiver;
  let document: Document;

  beforeAll(async () => {
    [app, receiver] = await Promise.all([startTestApp(), startWebhookReceiver()]);
    const response = await app.http.get('/openapi.json');
    expect(response.status).toBe(200);
    document = response.body as Document;
  });
  afterAll(async () => {
    await receiver?.stop();
    await app?.stop();
  });

  const operations = () =>
    Object.entries(document.paths).flatMap(([path, methods]) => Object.entries(methods).map(([method, operation]) => ({ path, method, operation })));
  const operationOf = (method: string, path: string) => document.paths[openApiPath(path)]![method]!;
  const parameterNames = (operation: Operation) =>
    (operation.parameters ?? []).map((parameter) => ('$ref' in parameter ? document.components.parameters[parameter.$ref.split('/').at(-1)!]!.name : parameter.name));
  const pathParameter = (operation: Operation, name: string) =>
    operation.parameters!.find((parameter) => !('$ref' in parameter) && parameter.name === name && parameter.in === 'path') as { schema: Record<string, unknown> };

  it('is valid OpenAPI 3.1', async () => {
    expect(document.openapi).toMatch(/^3\.1\.\d+$/);
    const result = await new Validator().validate(document as unknown as Record<string, unknown>);
    expect(result.errors).toBeUndefined();
    expect(result.valid).toBe(true);
  });

  it('describes every route of the route table, each with its own operationId derived from the declaration', () => {
    for (const route of routes) {
      expect(document.paths[openApiPath(route.path)]?.[route.method], `${route.method} ${route.path}`).toBeDefined();
    }
    const ids = operations().map(({ operation }) => operation.operationId);
    expect(ids.every((id) => typeof id === 'string' && /^[a-z][A-Za-z0-9]*$/.test(id))).toBe(true);
    expect(new Set(ids).size).toBe(ids.length);
    expect(operationOf('post', '/teams/:teamId/alerts/:alertId/acknowledge').operationId).toBe('postTeamsByTeamIdAlertsByAlertIdAcknowledge');
    expect(operationOf('get', '/teams/:teamId/flows').operationId).toBe('getTeamsByTeamIdFlows');
  });

  it('types path and query parameters: ids are uuids, filters enums, page sizes bounded integers', () => {
    const alerts = operationOf('get', '/teams/:teamId/alerts');
    expect(pathParameter(alerts, 'teamId').schema).toEqual({ type: 'string', format: 'uuid' });
    const query = Object.fromEntries(
      alerts.parameters!.flatMap((parameter) => ('$ref' in parameter || parameter.in !== 'query' ? [] : [[parameter.name, parameter]])),
    );
    expect(query.status).toMatchObject({ required: false, schema: { type: 'string', enum: ['triggered', 'acknowledged', 'resolved'] } });
    expect(query.limit).toMatchObject({ required: false, schema: { type: 'integer', minimum: 1, maximum: 500 } });
    expect(query.before).toMatchObject({ schema: { type: 'string', format: 'uuid' } });
    expect(pathParameter(operationOf('delete', '/teams/:teamId/flows/:flowId/nodes/:nodeId'), 'nodeId').schema).toMatchObject({ format: 'uuid' });
    expect(pathParameter(operationOf('post', '/integrations/events/:key'), 'key').schema).toMatchObject({ type: 'string', minLength: 8 });
  });

  it('documents If-Match and ETag where versions are checked, Idempotency-Key and Prefer on commands, X-AlertOps-Position both ways', () => {
    const editNode = operationOf('patch', '/teams/:teamId/flows/:flowId/nodes/:nodeId');
    expect(parameterNames(editNode)).toEqual(expect.arrayContaining(['If-Match', 'Idempotency-Key', 'Prefer']));
    expect(editNode.responses['200']!.headers).toMatchObject({ ETag: { $ref: '#/components/headers/ETag' }, 'X-AlertOps-Position': expect.anything() });
    expect(editNode.responses['412']).toEqual({ $ref: '#/components/responses/PreconditionFailed' });
    expect(editNode.responses['202']!.headers).toHaveProperty('Preference-Applied');
    expect(parameterNames(operationOf('delete', '/teams/:teamId/schedules/:scheduleId'))).toContain('If-Match');

    const getFlow = operationOf('get', '/teams/:teamId/flows/:flowId');
    expect(getFlow.responses['200']!.headers).toHaveProperty('ETag');
    expect(parameterNames(getFlow)).toEqual(expect.arrayContaining(['X-AlertOps-Position', 'position']));
    expect(parameterNames(getFlow)).not.toContain('If-Match');
    expect(parameterNames(getFlow)).not.toContain('Idempotency-Key');

    const trigger = operationOf('post', '/teams/:teamId/alerts');
    expect(parameterNames(trigger)).not.toContain('If-Match');
    expect(trigger.responses['201']!.headers).not.toHaveProperty('ETag');
    expect(trigger.responses['201']!.headers).toHaveProperty('X-AlertOps-Position');
    // Responses that carry a secret are never replayed, and integrations always answer 202.
    expect(parameterNames(operationOf('post', '/teams/:teamId/flows/:flowId/integration-keys'))).not.toContain('Idempotency-Key');
    expect(parameterNames(operationOf('post', '/auth/login'))).not.toContain('Idempotency-Key');
    expect(parameterNames(operationOf('post', '/integrations/events/:key'))).not.toContain('Prefer');
  });

  it('answers problems with the shared problem+json response', () => {
    const problem = document.components.responses.Problem!;
    expect(problem.content['application/problem+json']!.schema).toEqual({ $ref: '#/components/schemas/Problem' });
    expect(document.components.schemas.Problem).toMatchObject({ required: ['type', 'title', 'status'] });
    for (const { path, method, operation } of operations()) {
      if (path.startsWith('/a/') || ['/healthz', '/readyz', '/metrics', '/openapi.json'].includes(path)) continue;
      expect(operation.responses.default, `${method} ${path}`).toEqual({ $ref: '#/components/responses/Problem' });
      expect(operation.responses['400'], `${method} ${path}`).toEqual({ $ref: '#/components/responses/BadRequest' });
    }
    expect(operationOf('post', '/teams/:teamId/alerts').responses['429']).toEqual({ $ref: '#/components/responses/TooManyRequests' });
    expect(operationOf('get', '/teams/:teamId/flows').responses['403']).toEqual({ $ref: '#/components/responses/Forbidden' });
  });

  it('names the security of every route from its permission: bearer access tokens, integration keys, or none', () => {
    expect(document.components.securitySchemes.bearerAuth).toMatchObject({ type: 'http', scheme: 'bearer', bearerFormat: 'JWT' });
    expect(document.components.securitySchemes.integrationKey).toMatchObject({ type: 'apiKey' });
    for (const route of routes) {
      const expected = route.permission === 'integration-key' ? [{ integrationKey: [] }] : route.auth === 'user' ? [{ bearerAuth: [] }] : undefined;
      expect(operationOf(route.method, route.path).security, `${route.method} ${route.path}`).toEqual(expected);
    }
  });

  // Longer than the default timeout: generating the client and running tsc take seconds of CPU each.
  it('generates a TypeScript client that type-checks and registers, creates a team and a flow, triggers and acknowledges an alert', async () => {
    mkdirSync(GENERATED, { recursive: true });
    writeFileSync(join(GENERATED, 'openapi.json'), JSON.stringify(document));
    const generator = join(CLIENT, 'generator/node_modules/openapi-typescript/bin/cli.js');
    await run(process.execPath, [generator, join(GENERATED, 'openapi.json'), '--output', join(GENERATED, 'alertops.ts')], { cwd: ROOT });

    const tsc = await run(join(ROOT, 'node_modules/.bin/tsc'), ['-p', join(CLIENT, 'tsconfig.json')], { cwd: ROOT }).catch(
      (error: { stdout: string; stderr: string }) => ({ stdout: error.stdout, stderr: error.stderr, failed: true }),
    );
    expect(tsc).not.toHaveProperty('failed');

    const usagePath = join(CLIENT, 'usage.ts');
    const usage = (await import(/* @vite-ignore */ usagePath)) as UsageModule;
    const outcome = await usage.walkThrough(app.url, `${receiver.url}/pager`, (alertId) =>
      waitFor('the page of the alert', () =>
        receiver.requests.some((request) => request.path === '/pager' && (request.json as { alert?: { id?: string } }).alert?.id === alertId),
      ).then(() => undefined),
    );
    expect(outcome.triggered).toEqual({ status: 201, alertStatus: 'triggered' });
    expect(outcome.staleIfMatch).toEqual({ status: 412, code: 'stale_version' });
    expect(outcome.acknowledged).toEqual({ status: 200, alertStatus: 'acknowledged', replayed: true });
    expect(outcome.afterwards.alertStatus).toBe('acknowledged');
    expect(outcome.afterwards.notificationTargets).toHaveLength(1);
  }, 120_000);
});
