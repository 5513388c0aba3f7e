import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signUp } from './support/accounts.js';
import { startTestApp, type TestApp } from './support/app.js';

describe('HTTP platform', () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startTestApp();
  });
  afterAll(async () => {
    await app?.stop();
  });

  it('reports health and readiness of PostgreSQL and RabbitMQ', async () => {
    expect((await app.http.get('/healthz')).status).toBe(200);
    const ready = await app.http.get('/readyz');
    expect(ready.status).toBe(200);
    expect(ready.body.checks).toEqual({ postgres: 'ok', rabbitmq: 'ok' });
  });

  it('answers an unknown route with a problem+json 404', async () => {
    const response = await app.http.get('/no/such/route');
    expect(response.status).toBe(404);
    expect(response.headers.get('content-type')).toContain('application/problem+json');
    expect(response.body).toMatchObject({ status: 404, title: 'Not Found' });
  });

  it('refuses malformed JSON with 400 and non-JSON bodies with 415', async () => {
    const malformed = await app.http.post('/teams', undefined, { raw: '{"name":' });
    expect(malformed.status).toBe(400);
    expect(malformed.body.title).toBe('Malformed JSON');
    const text = await app.http.post('/teams', undefined, { raw: 'name=x', headers: { 'content-type': 'text/plain' } });
    expect(text.status).toBe(415);
  });

  it('refuses an oversized body with 413', async () => {
    const response = await app.http.post('/teams', { name: 'x'.repeat(app.config.maxBodyBytes + 1) });
    expect(response.status).toBe(413);
  });

  it('serves metrics and an OpenAPI document', async () => {
    const metrics = await app.http.get('/metrics');
    expect(metrics.status).toBe(200);
    expect(metrics.body).toContain('alertops_http_request_duration_seconds');
    const openapi = await app.http.get('/openapi.json');
    expect(openapi.body.openapi).toBe('3.1.1');
  });

  it('answers a command 202 without waiting when asked to (Prefer: respond-async); a query given its position sees it', async () => {
    const user = await signUp(app.http);
    const created = await app.http.post('/teams', { name: 'Async' }, { token: user.token, headers: { prefer: 'respond-async' } });
    expect(created.status).toBe(202);
    expect(created.headers.get('preference-applied')).toBe('respond-async');
    const position = created.headers.get('x-alertops-position');
    expect(position).toMatch(/^\d+-\d+$/);
    const teams = await app.http.get(`/teams?position=${position}`, { token: user.token });
    expect(teams.body.map((team: { id: string }) => team.id)).toContain(created.body.id);
    const byHeader = await app.http.get(`/teams/${created.body.id}`, { token: user.token, headers: { 'x-alertops-position': position! } });
    expect(byHeader.status).toBe(200);
  });

  it('refuses a malformed position with 400', async () => {
    const user = await signUp(app.http);
    const response = await app.http.get('/teams?position=not-a-position', { token: user.token });
    expect(response.status).toBe(400);
  });
});
