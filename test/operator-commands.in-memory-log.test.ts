import { Command } from 'commander';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addOperatorCommands } from '../src/tooling/operator-commands.js';
import type { ToolContext } from '../src/tooling/context.js';
import { signUpWithTeam, type TeamOwner } from './support/accounts.js';
import { startTestApp, type TestApp } from './support/app.js';
import { waitFor } from './support/wait.js';

/**
 * The operator commands against a service whose event log is kept in memory. Such a log lives in the service's
 * process alone, so the commands run in that process, on its event store, as `alertops` runs them on the configured one.
 */
describe('operator commands on an event log kept in memory', () => {
  let app: TestApp;
  let owner: TeamOwner;
  let alertId: string;

  async function alertops(...args: string[]): Promise<{ stdout: string; exitCode: number }> {
    const { services } = app.runtime;
    const context: ToolContext = { databaseUrl: app.database.url, pool: services.pool, eventStore: services.eventStore, catalog: services.catalog };
    let stdout = '';
    let exitCode = 0;
    const program = new Command('alertops').exitOverride();
    addOperatorCommands(program, {
      withContext: (work) => work(context),
      print: (text) => (stdout += text),
      setExitCode: (code) => (exitCode = code),
      onInterrupt: () => undefined,
    });
    await program.parseAsync(args, { from: 'user' });
    return { stdout, exitCode };
  }

  beforeAll(async () => {
    app = await startTestApp({ EVENT_STORE: 'memory' });
    owner = await signUpWithTeam(app.http, 'Memory');
    const flow = await app.http.post(
      `/teams/${owner.teamId}/flows`,
      { name: 'later', nodes: [{ name: 'ops', delaySeconds: 600, target: { type: 'email', email: 'ops@example.com' } }] },
      { token: owner.token },
    );
    expect(flow.status, JSON.stringify(flow.body)).toBe(201);
    const alert = await app.http.post(`/teams/${owner.teamId}/alerts`, { flowId: flow.body.id, summary: 'disk full' }, { token: owner.token });
    expect(alert.status, JSON.stringify(alert.body)).toBe(201);
    alertId = alert.body.id;
  });
  afterAll(async () => {
    await app?.stop();
  });

  it('prints an incident timeline and replays its state', async () => {
    const { stdout } = await alertops('incident', 'timeline', alertId);
    expect(stdout).toMatch(/AlertTriggered/);
    expect(stdout).toMatch(/EscalationStepScheduled/);
    const replay = await alertops('incident', 'replay', alertId, '--at', new Date(Date.now() + 60_000).toISOString());
    expect(JSON.parse(replay.stdout)).toMatchObject({ eventsApplied: 2, state: { status: 'triggered', pending: { step: 0 } } });
  });

  it('reports every subscription caught up, rebuilds the read models, and verifies them and the hash chains', async () => {
    await waitFor('every subscription to catch up', async () => {
      const { stdout } = await alertops('projections', 'status');
      return /read-models\s+\S+\s+behind\s+0\s/.test(stdout) && /escalation-relay\s+\S+\s+behind\s+0\s/.test(stdout);
    });
    await alertops('projections', 'rebuild');
    const verified = await alertops('audit', 'verify');
    expect(verified.exitCode).toBe(0);
    expect(verified.stdout).toMatch(/hash chains: \d+ streams, \d+ events, 0 broken/);
    expect(verified.stdout).not.toContain('DIFFERS');
    expect(verified.stdout).toContain('read model alerts: ');
  });

  it('tails the end of the log', async () => {
    const last = await app.runtime.services.eventStore.readLast(3);
    const { stdout } = await alertops('events', 'tail', '-n', '3');
    expect(stdout.trim().split('\n').map((line) => line.split(/\s+/)[3])).toEqual(last.map((event) => event.type));
  });

  it("leaves PostgreSQL's events table empty: the log is the store's alone", async () => {
    const { rows } = await app.database.pool.query<{ events: number; streams: number }>(
      'select (select count(*)::int from events) as events, (select count(*)::int from streams) as streams',
    );
    expect(rows[0]).toEqual({ events: 0, streams: 0 });
    expect(await app.runtime.services.eventStore.countEvents({ after: { transactionId: 0n, globalPosition: 0n } })).toBeGreaterThan(5);
  });
});
