import { randomBytes, randomUUID } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { createCatalog } from '../src/catalog.js';
import type { AlertEvent } from '../src/domain/alert/events.js';
import type { FlowNode } from '../src/domain/flow/node.js';
import { PostgresEventStore } from '../src/eventstore/postgres.js';
import { comparePositions, type EventMetadata, type LogPosition, START_OF_LOG } from '../src/eventstore/types.js';
import { createLogger } from '../src/infra/logger.js';
import { migrate } from '../src/infra/migrate.js';
import { createPool, dropDatabase, ensureDatabaseExists, type Pool } from '../src/infra/postgres.js';
import { readModelProjections } from '../src/projections/index.js';
import { rebuildReadModels } from '../src/projections/rebuild.js';
import { READ_MODELS, readModelSubscription } from '../src/projections/read-model-subscription.js';
import { SubscriptionRunner } from '../src/projections/runner.js';
import { projectionStatus } from '../src/projections/status.js';
import { machineTable } from './machine.js';
import { PROCESS_GROUPS, ResourceSampler, type ResourceUsage } from './load/resource-sampler.js';
import os from 'node:os';

/*
 * Read models over a long log: a log of alert lifecycles (trigger, schedule, fire, request, attempt, delivery,
 * resolution) appended through the event store, then (1) the live subscription catching up from the start of the
 * log and (2) a rebuild beside the live tables with the atomic switch. Events per second of log.
 */

const LOG_EVENTS = Number(process.env.BENCH_REBUILD_EVENTS ?? 1_000_000);
const WRITERS = 8;
const TEAMS = 50;
const BATCH = Number(process.env.BENCH_REBUILD_BATCH ?? 5000);

const iso = (ms: number) => new Date(ms).toISOString();

/** The events of one alert's life on a one-step webhook flow, as the engine writes them. */
function alertLifecycle(teamId: string, flowId: string, node: FlowNode, startMs: number): AlertEvent[] {
  const alertId = randomUUID();
  const deliveryId = randomUUID();
  const dueAt = iso(startMs + node.delaySeconds * 1000);
  return [
    {
      type: 'AlertTriggered',
      data: {
        alertId, teamId, flowId, flowVersion: 1, summary: `disk full on host-${startMs % 997}`, details: { host: `host-${startMs % 997}`, mount: '/var' },
        severity: 'critical', dedupKey: null, source: 'api', steps: [node], repeat: 0, triggeredAt: iso(startMs),
      },
    },
    { type: 'EscalationStepScheduled', data: { alertId, epoch: 0, loop: 0, step: 0, dueAt } },
    { type: 'EscalationStepFired', data: { alertId, epoch: 0, loop: 0, step: 0, nodeId: node.id, dueAt, firedAt: dueAt, lagMs: 12 } },
    {
      type: 'NotificationRequested',
      data: { alertId, deliveryId, loop: 0, step: 0, nodeId: node.id, target: node.target, retry: node.retry, requestedAt: dueAt },
    },
    { type: 'EscalationExhausted', data: { alertId, loops: 1, at: dueAt } },
    { type: 'NotificationAttemptStarted', data: { alertId, deliveryId, attempt: 1, startedAt: dueAt, sender: 'bench', leaseEndsAt: iso(Date.parse(dueAt) + 30_000) } },
    { type: 'NotificationDelivered', data: { alertId, deliveryId, attempt: 1, deliveredAt: dueAt, detail: 'HTTP 200' } },
    { type: 'AlertResolved', data: { alertId, epoch: 1, by: 'user:00000000-0000-4000-8000-000000000001', at: iso(startMs + 60_000) } },
  ];
}

async function seedLog(pool: Pool): Promise<number> {
  const store = new PostgresEventStore(pool);
  const catalog = createCatalog();
  const teams = Array.from({ length: TEAMS }, () => ({
    teamId: randomUUID(),
    flowId: randomUUID(),
    node: {
      id: randomUUID(), name: 'primary', delaySeconds: 5, target: { type: 'webhook' as const, url: 'https://hooks.example.com/page' },
      retry: { maxAttempts: 3, backoffSeconds: 30 },
    },
  }));
  const perAlert = alertLifecycle(teams[0]!.teamId, teams[0]!.flowId, teams[0]!.node, 0).length;
  const alerts = Math.ceil(LOG_EVENTS / perAlert);
  let next = 0;
  const started = Date.now();
  await Promise.all(
    Array.from({ length: WRITERS }, async () => {
      for (;;) {
        const index = next++;
        if (index >= alerts) return;
        const team = teams[index % TEAMS]!;
        const events = alertLifecycle(team.teamId, team.flowId, team.node, started + index);
        const metadata: EventMetadata = { actor: 'system:bench', correlationId: randomUUID(), causationId: null, teamId: team.teamId };
        await store.append(
          `alert-${(events[0]!.data as { alertId: string }).alertId}`,
          events.map((event) => ({ type: event.type, data: event.data, schemaVersion: catalog.schemaVersionOf(event.type) })),
          { expectedVersion: 'no_stream', metadata },
        );
      }
    }),
  );
  return alerts * perAlert;
}

async function countLoggedEvents(pool: Pool): Promise<number> {
  const { rows } = await pool.query<{ count: string }>('select count(*) as count from events');
  return Number(rows[0]!.count);
}

/** CPU over one stage: this process (which applies the projections) and PostgreSQL, sampled from /proc. */
async function measuringCpu<T>(pool: Pool, databaseName: string, stage: () => Promise<T>): Promise<{ result: T; usage: ResourceUsage }> {
  const sampler = new ResourceSampler({
    service: () => [process.pid],
    loadClient: () => [],
    receiver: () => [],
    postgresBackends: async () =>
      (await pool.query<{ pid: number }>('select pid from pg_stat_activity where datname = $1', [databaseName])).rows.map((row) => row.pid),
  });
  await sampler.start();
  const result = await stage();
  return { result, usage: await sampler.stop() };
}

/**
 * A row of the limits table: CPU per log event of the process applying the projections and of the bench database's
 * PostgreSQL backends, and the rate at which that work would fill every core of this machine.
 */
function limitRow(stage: string, events: number, usage: ResourceUsage): string {
  const cpu = (group: string) => usage.cpu.find((entry) => entry.group === group)!;
  const own = cpu(PROCESS_GROUPS.service);
  const postgres = cpu(PROCESS_GROUPS.postgresBackends);
  const microsPerEvent = (seconds: number) => (seconds * 1e6) / events;
  const perEvent = microsPerEvent(own.cpuSeconds) + microsPerEvent(postgres.cpuSeconds);
  const ceiling = (os.cpus().length * 1e6) / perEvent;
  return (
    `| ${stage} | ${own.cpuSeconds.toFixed(1)} (${Math.round(own.coreShare * 100)} %) | ${postgres.cpuSeconds.toFixed(1)} (${Math.round(postgres.coreShare * 100)} %) | ` +
    `${Math.round(usage.machineBusyShare * 100)} % | ${microsPerEvent(own.cpuSeconds).toFixed(1)} | ${microsPerEvent(postgres.cpuSeconds).toFixed(1)} | ` +
    `${Math.round(ceiling).toLocaleString('en')} |`
  );
}

async function logHead(pool: Pool): Promise<LogPosition> {
  const { rows } = await pool.query<{ transaction_id: string; global_position: string }>(
    'select transaction_id::text as transaction_id, global_position from events order by transaction_id desc, global_position desc limit 1',
  );
  const row = rows[0];
  return row ? { transactionId: BigInt(row.transaction_id), globalPosition: BigInt(row.global_position) } : START_OF_LOG;
}

async function main(): Promise<void> {
  // BENCH_REBUILD_DATABASE: a database an earlier run kept (BENCH_KEEP_DATABASE=true), used as it is, seed and all.
  const reused = process.env.BENCH_REBUILD_DATABASE;
  const base = new URL(process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/alertops');
  base.pathname = `/alertops_bench_rebuild_${Date.now().toString(36)}_${randomBytes(3).toString('hex')}`;
  const databaseUrl = reused ?? base.toString();
  const log = (line: string) => process.stdout.write(`${line}\n`);
  await ensureDatabaseExists(databaseUrl);
  const pool = createPool(databaseUrl, { max: WRITERS + 4, applicationName: 'alertops-bench' });
  const rows: string[] = [];
  const limits: string[] = [];
  const databaseName = decodeURIComponent(new URL(databaseUrl).pathname.slice(1));
  try {
    await migrate(pool);
    const { rows: version } = await pool.query<{ server_version: string }>('show server_version');
    const seedStarted = performance.now();
    const events = reused ? await countLoggedEvents(pool) : await seedLog(pool);
    const seedSeconds = (performance.now() - seedStarted) / 1000;
    log(reused ? `reusing ${events} events in ${reused}` : `seeded ${events} events in ${seedSeconds.toFixed(1)} s`);
    const { rows: logged } = await pool.query<{ count: string }>('select count(*) as count from events');
    if (Number(logged[0]!.count) !== events) throw new Error(`the log holds ${logged[0]!.count} events, ${events} were appended`);
    const expectedAlerts = events / 8;
    const assertReadModelsWhole = async (stage: string) => {
      const { rows: counted } = await pool.query<{ alerts: string }>('select count(*) as alerts from alerts');
      if (Number(counted[0]!.alerts) !== expectedAlerts) {
        throw new Error(`after the ${stage} the alerts read model holds ${counted[0]!.alerts} alerts, the log ${expectedAlerts}`);
      }
    };
    if (!reused) {
      rows.push(`| seed: alert lifecycles appended, ${WRITERS} writers, 8 events per append | ${events.toLocaleString('en')} | ${seedSeconds.toFixed(1)} | ${Math.round(events / seedSeconds).toLocaleString('en')} |`);
    }
    await pool.query('vacuum analyze events');

    // BENCH_REBUILD_SKIP_CATCH_UP=true (with a reused database): only the rebuild, from the read models kept.
    const skipCatchUp = reused !== undefined && process.env.BENCH_REBUILD_SKIP_CATCH_UP === 'true';
    if (reused && !skipCatchUp) {
      // The kept database's read models and checkpoint are from the earlier run: the catch-up starts from nothing.
      const tables = readModelProjections.flatMap((projection) => Object.keys(projection.keys));
      await pool.query(`truncate ${tables.join(', ')}`);
      await pool.query('delete from subscription_checkpoints where subscription_name = $1', [READ_MODELS]);
    }
    const deps = { pool, eventStore: new PostgresEventStore(pool), catalog: createCatalog() };
    const head = await logHead(pool);
    if (!skipCatchUp) {
      const runner = new SubscriptionRunner(readModelSubscription(readModelProjections), {
        databaseUrl, eventStore: deps.eventStore, catalog: deps.catalog, logger: createLogger('warn'), batchSize: BATCH, idlePollMs: 20,
      });
      const catchUpStarted = performance.now();
      const { usage } = await measuringCpu(pool, databaseName, async () => {
        runner.start();
        try {
          for (;;) {
            const [status] = await projectionStatus({ pool, eventStore: deps.eventStore }, [READ_MODELS]);
            if (status && comparePositions(status.checkpoint, head) >= 0) break;
            if (runner.status().lastError) throw new Error(runner.status().lastError!);
            await new Promise((resolve) => setTimeout(resolve, 50));
          }
        } finally {
          await runner.stop();
        }
      });
      const catchUpSeconds = (performance.now() - catchUpStarted) / 1000;
      limits.push(limitRow('catch-up', events, usage));
      log(`live subscription caught up with ${events} events in ${catchUpSeconds.toFixed(1)} s`);
      await assertReadModelsWhole('catch-up');
      rows.push(`| catch-up: the live subscription from the start of the log, all read models, batches of ${BATCH} | ${events.toLocaleString('en')} | ${catchUpSeconds.toFixed(1)} | ${Math.round(events / catchUpSeconds).toLocaleString('en')} |`);
    }

    const rebuildStarted = performance.now();
    const { result: rebuilt, usage } = await measuringCpu(pool, databaseName, () => rebuildReadModels(deps, readModelProjections, { batchSize: BATCH }));
    const rebuildSeconds = (performance.now() - rebuildStarted) / 1000;
    limits.push(limitRow('rebuild', rebuilt.replayed, usage));
    log(`rebuilt beside the live tables and switched: ${rebuilt.replayed} events in ${rebuildSeconds.toFixed(1)} s`);
    await assertReadModelsWhole('rebuild');
    rows.push(`| rebuild beside the live tables, then the atomic switch, all read models | ${rebuilt.replayed.toLocaleString('en')} | ${rebuildSeconds.toFixed(1)} | ${Math.round(rebuilt.replayed / rebuildSeconds).toLocaleString('en')} |`);

    const { rows: counts } = await pool.query<{ alerts: string; notifications: string }>(
      'select (select count(*) from alerts) as alerts, (select count(*) from alert_notifications) as notifications',
    );
    log(`read models: ${counts[0]!.alerts} alerts, ${counts[0]!.notifications} notifications`);

    const output = fileURLToPath(new URL('./REBUILD.md', import.meta.url));
    writeFileSync(
      output,
      [
        '# Read models over a long log',
        '',
        `Run with \`npm run bench:rebuild\` on ${new Date().toISOString()}: a fresh database, dropped afterwards.`,
        '',
        ...machineTable(version[0]!.server_version),
        '',
        '| measurement | log events | seconds | log events/s |',
        '|---|---:|---:|---:|',
        ...rows,
        '',
        `The log holds ${TEAMS} teams' alerts, each a whole lifecycle of 8 events (the events every read model reads).`,
        'Both the catch-up and the rebuild apply each batch set-based: the handlers change rows in memory and each table is',
        'written with one statement per kind of change. The rebuild writes to tables beside the live ones and swaps them in.',
        '',
        '## What limits it',
        '',
        'CPU over each stage, sampled from /proc twice a second: the process that reads the log and applies the projections',
        "(one Node.js thread), and the bench database's PostgreSQL backends (the server's WAL writer and checkpointer are",
        'left out; they show in the machine busy share). The ceiling is the rate at which that work per event would keep all',
        `${os.cpus().length} cores of this machine busy, with reading, applying and writing perfectly overlapped.`,
        '',
        '| stage | applying process, CPU s (share of a core) | PostgreSQL backends, CPU s (share of a core) | machine busy | applying process, CPU µs per event | PostgreSQL backends, CPU µs per event | ceiling on this machine (events/s) |',
        '|---|---:|---:|---:|---:|---:|---:|',
        ...limits,
        '',
      ].join('\n'),
    );
    log(`wrote ${output}`);
  } finally {
    await pool.end();
    if (reused || process.env.BENCH_KEEP_DATABASE === 'true') log(`kept ${databaseUrl}`);
    else await dropDatabase(databaseUrl);
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`${(error as Error).stack ?? String(error)}\n`);
  process.exit(1);
});
