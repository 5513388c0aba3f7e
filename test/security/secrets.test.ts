import { randomUUID } from 'node:crypto';
import { Writable } from 'node:stream';
import amqp from 'amqplib';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { type Config, loadConfig } from '../../src/config.js';
import { actionLinkKey, signActionToken } from '../../src/infra/action-link-tokens.js';
import { deleteDelayCascade } from '../../src/infra/delay-cascade.js';
import { createLogger } from '../../src/infra/logger.js';
import { type Runtime, startRuntime } from '../../src/runtime.js';
import { brokerNames } from '../../src/infra/broker-messages.js';
import { signUp, signUpWithTeam } from '../support/accounts.js';
import { HttpClient } from '../support/app.js';
import { createTestDatabase, type TestDatabase, uniqueName } from '../support/database.js';

/**
 * Passwords, refresh tokens, invite tokens, integration keys and action link tokens are shown to their owner once and otherwise kept
 * only as hashes: after the flows that carry them, none may be found in any table or in any log line.
 */
describe('secrets at rest and in logs', () => {
  let database: TestDatabase;
  let runtime: Runtime;
  let http: HttpClient;
  let amqpPrefix: string;
  let config: Config;
  const logLines: string[] = [];
  const secrets = new Map<string, string>();

  beforeAll(async () => {
    database = await createTestDatabase();
    amqpPrefix = uniqueName('alertops_secrets').toLowerCase();
    config = loadConfig({
      NODE_ENV: 'test',
      PORT: '0',
      DATABASE_URL: database.url,
      AMQP_URL: inject('amqpUrl'),
      AMQP_PREFIX: amqpPrefix,
      JWT_SECRET: 'secrets-test-secret-long-enough-for-hs256-signing',
    });
    // The service's own logger (redaction included), writing where the test can read every line.
    const sink = new Writable({
      write(chunk: Buffer, _encoding, done) {
        logLines.push(...chunk.toString('utf8').split('\n').filter(Boolean));
        done();
      },
    });
    const logger = createLogger('debug', 'alertops', sink);
    runtime = await startRuntime({ config, api: true, workers: true, migrate: false, logger });
    http = new HttpClient(runtime.url!);
  });
  afterAll(async () => {
    await runtime?.stop();
    const connection = await amqp.connect(inject('amqpUrl'));
    await deleteDelayCascade(connection, brokerNames(amqpPrefix)).finally(() => connection.close());
    await database?.drop();
  });

  it('keeps no password, refresh token, invite token, integration key, webhook secret or action link token in plain text in any table or log line', async () => {
    const owner = await signUpWithTeam(http, 'Vault');
    secrets.set('password', owner.password);
    secrets.set('refresh token', owner.refreshToken);
    const login = await http.post('/auth/login', { email: owner.email, password: owner.password });
    secrets.set('second refresh token', login.body.refreshToken);
    const failed = await http.post('/auth/login', { email: owner.email, password: 'wrong-password-123' });
    expect(failed.status).toBe(401);
    secrets.set('wrong password', 'wrong-password-123');
    const refreshed = await http.post('/auth/refresh', { refreshToken: login.body.refreshToken }, { headers: { 'idempotency-key': randomUUID() } });
    expect(refreshed.status).toBe(200);
    secrets.set('rotated refresh token', refreshed.body.refreshToken);

    const invite = await http.post(`/teams/${owner.teamId}/invites`, { email: `new-${randomUUID()}@example.com`, role: 'member' }, { token: owner.token });
    secrets.set('invite token', invite.body.token);
    const invitee = await signUp(http, { email: (await inviteEmail(owner, invite.body.id)) ?? '', inviteToken: invite.body.token });
    secrets.set('invitee password', invitee.password);
    const newPassword = `changed-${randomUUID()}`;
    const wrongCurrent = `not-current-${randomUUID()}`;
    expect((await http.post('/auth/password', { currentPassword: wrongCurrent, newPassword }, { token: invitee.token })).status).toBe(403);
    expect((await http.post('/auth/password', { currentPassword: invitee.password, newPassword }, { token: invitee.token })).status).toBe(204);
    secrets.set('new password', newPassword);
    secrets.set('wrong current password', wrongCurrent);
    const afterChange = await http.post('/auth/login', { email: invitee.email, password: newPassword });
    expect(afterChange.status).toBe(200);
    expect((await http.post('/auth/logout', { refreshToken: afterChange.body.refreshToken })).status).toBe(204);
    secrets.set('signed-out refresh token', afterChange.body.refreshToken);
    const secondInvite = await http.post(`/teams/${owner.teamId}/invites`, { email: invitee.email.replace('new-', 'also-'), role: 'viewer' }, { token: owner.token });
    secrets.set('second invite token', secondInvite.body.token);
    await http.post('/invites/accept', { token: secondInvite.body.token }, { token: owner.token, headers: { 'idempotency-key': randomUUID() } });

    const flow = await http.post(
      `/teams/${owner.teamId}/flows`,
      { name: 'primary', nodes: [{ name: 'mail', delaySeconds: 3600, target: { type: 'email', email: 'oncall@example.com' } }] },
      { token: owner.token },
    );
    const key = await http.post(`/teams/${owner.teamId}/flows/${flow.body.id}/integration-keys`, undefined, { token: owner.token, headers: { 'idempotency-key': randomUUID() } });
    expect(key.status).toBe(201);
    secrets.set('integration key', key.body.key);
    const events = await http.post(
      `/integrations/events/${key.body.key}`,
      { event_action: 'trigger', dedup_key: 'disk', payload: { summary: 'disk full' } },
      { headers: { 'idempotency-key': randomUUID() } },
    );
    expect(events.status).toBe(202);
    const alertmanager = await http.post(
      `/integrations/alertmanager/${key.body.key}`,
      { version: '4', status: 'firing', alerts: [{ status: 'firing', labels: { alertname: 'CPU' }, fingerprint: 'cpu' }] },
      { headers: { 'idempotency-key': randomUUID() } },
    );
    expect(alertmanager.status).toBe(202);
    // A client that gets the method wrong still sends the key.
    expect((await http.get(`/integrations/events/${key.body.key}`)).status).toBe(405);

    const actionToken = signActionToken(actionLinkKey(config.jwtSecret), {
      alertId: events.body.alertId,
      deliveryId: randomUUID(),
      teamId: owner.teamId,
      userId: null,
      expiresAt: new Date(Date.now() + 3_600_000),
    });
    secrets.set('action link token', actionToken);
    expect((await fetch(`${runtime.url}/a/${actionToken}`)).status).toBe(200);
    expect((await fetch(`${runtime.url}/a/${actionToken}/acknowledge`, { method: 'POST', redirect: 'manual' })).status).toBe(303);
    expect((await fetch(`${runtime.url}/a/${actionToken}/resolve`, { method: 'PUT' })).status).toBe(405);

    const team = await http.get(`/teams/${owner.teamId}`, { token: owner.token });
    secrets.set('webhook secret', team.body.webhookSecret.slice('whsec_'.length));
    const rotated = await http.post(`/teams/${owner.teamId}/webhook-secret/rotate`, undefined, {
      token: owner.token,
      headers: { 'idempotency-key': randomUUID() },
    });
    expect(rotated.status).toBe(200);
    secrets.set('rotated webhook secret', rotated.body.secret.slice('whsec_'.length));

    const found: string[] = [];
    const { rows: tables } = await database.pool.query<{ table_name: string }>(
      `select table_name from information_schema.tables where table_schema = 'public' and table_type = 'BASE TABLE'`,
    );
    for (const { table_name: table } of tables) {
      const { rows } = await database.pool.query<{ row: string }>(`select t::text as row from "${table}" t`);
      for (const [what, secret] of secrets) {
        for (const { row } of rows) if (row.includes(secretPart(secret))) found.push(`${what} in table ${table}: ${row.slice(0, 200)}`);
      }
    }
    for (const [what, secret] of secrets) {
      for (const line of logLines) if (line.includes(secretPart(secret))) found.push(`${what} in a log line: ${line.slice(0, 300)}`);
    }
    expect(tables.length).toBeGreaterThan(5);
    expect(logLines.some((line) => line.includes('"msg":"request"'))).toBe(true);
    expect(found).toEqual([]);
  });

  async function inviteEmail(owner: { teamId: string; token: string }, inviteId: string): Promise<string | undefined> {
    const invites = await http.get(`/teams/${owner.teamId}/invites`, { token: owner.token });
    return (invites.body as { id: string; email: string }[]).find((invite) => invite.id === inviteId)?.email;
  }
});

/** The secret part of `<id>.<secret>` tokens (their id part is a public identifier); other secrets whole. */
function secretPart(secret: string): string {
  const dot = secret.indexOf('.');
  return dot > 0 && /^[0-9a-f-]{36}$/.test(secret.slice(0, dot)) ? secret.slice(dot + 1) : secret;
}

