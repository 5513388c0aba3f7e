import { Command } from 'commander';
import { ConfigurationError, loadConfig } from './config.js';
import { createLogger } from './infra/logger.js';
import { migrate } from './infra/migrate.js';
import { createPool, ensureDatabaseExists } from './infra/postgres.js';
import { formatPosition, type RecordedEvent } from './eventstore/types.js';
import { verifyHashChains } from './eventstore/verify.js';
import { readModelProjections } from './projections/index.js';
import { rebuildReadModels } from './projections/rebuild.js';
import { READ_MODELS, readModelSubscription } from './projections/read-model-subscription.js';
import { SubscriptionRunner } from './projections/runner.js';
import { ESCALATION_RELAY } from './workers/escalation-relay.js';
import { projectionStatus } from './projections/status.js';
import { verifyReadModel } from './projections/verify.js';
import { startRuntime } from './runtime.js';
import { withToolContext } from './tooling/context.js';
import { countEvents, headPosition, recentEvents } from './tooling/event-log.js';
import { incidentEvents, stateAsOf, timeline } from './tooling/incident.js';
import { renderProgress } from './tooling/progress-bar.js';

const program = new Command('alertops').description('AlertOps: alerting and escalation').showHelpAfterError();

function fail(error: unknown): never {
  const message = error instanceof Error ? error.message : String(error);
  process.stderr.write(`alertops: ${message}\n`);
  process.exit(error instanceof ConfigurationError ? 78 : 1);
}

async function serve(roles: { api: boolean; workers: boolean; migrate: boolean }): Promise<void> {
  const config = loadConfig();
  const logger = createLogger(config.logLevel);
  const runtime = await startRuntime({ config, logger, ...roles });
  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down');
    const forced = setTimeout(() => process.exit(1), 15_000);
    forced.unref();
    runtime.stop().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.on('SIGINT', () => shutdown('SIGINT'));
  process.on('SIGTERM', () => shutdown('SIGTERM'));
}

program
  .command('start', { isDefault: true })
  .description('migrate the database, then serve the API and run every worker in this process')
  .action(() => serve({ api: true, workers: true, migrate: true }).catch(fail));

program
  .command('api')
  .description('serve the HTTP API only (the schema must be current)')
  .action(() => serve({ api: true, workers: false, migrate: false }).catch(fail));

program
  .command('worker')
  .description('run projections and escalation workers only (the schema must be current)')
  .action(() => serve({ api: false, workers: true, migrate: false }).catch(fail));

program
  .command('migrate')
  .description('create the database if missing and apply pending migrations')
  .action(async () => {
    try {
      const config = loadConfig();
      await ensureDatabaseExists(config.databaseUrl);
      const pool = createPool(config.databaseUrl, { max: 1 });
      try {
        const { applied } = await migrate(pool);
        process.stdout.write(applied.length ? `applied: ${applied.join(', ')}\n` : 'schema is up to date\n');
      } finally {
        await pool.end();
      }
    } catch (error) {
      fail(error);
    }
  });

const projections = program.command('projections').description('read models and their checkpoints');

projections
  .command('status')
  .description("every subscription's checkpoint and how many events it is behind")
  .action(() =>
    withToolContext(async ({ pool }) => {
      const statuses = await projectionStatus(pool, [READ_MODELS, ESCALATION_RELAY]);
      for (const status of statuses) {
        process.stdout.write(
          `${status.name.padEnd(24)} ${formatPosition(status.checkpoint).padEnd(24)} behind ${String(status.lag).padStart(8)}  ${status.updatedAt?.toISOString() ?? 'never ran'}\n`,
        );
      }
    }).catch(fail),
  );

projections
  .command('rebuild [name]')
  .description('rebuild read models (all when no name) beside the live ones, then switch atomically, with progress')
  .action((name: string | undefined) =>
    withToolContext(async (context) => {
      const selected = readModelProjections.filter((projection) => !name || projection.name === name);
      if (selected.length === 0) {
        throw new Error(`no read model named ${name}; one of: ${readModelProjections.map((projection) => projection.name).join(', ')}`);
      }
      const label = name ?? READ_MODELS;
      await rebuildReadModels(context, selected, { onProgress: ({ replayed, total }) => renderProgress(label, replayed, Math.max(total, replayed)) });
      process.stderr.write('\n');
      // Brings the read models to the head of the log, unless a running service holds the subscription and does so.
      const runner = new SubscriptionRunner(readModelSubscription(readModelProjections), { ...context, logger: createLogger('warn'), batchSize: 5000 });
      runner.start();
      try {
        for (;;) {
          const status = (await projectionStatus(context.pool, [READ_MODELS])).find((s) => s.name === READ_MODELS)!;
          if (status.lag === 0) break;
          await new Promise((resolve) => setTimeout(resolve, 200));
        }
      } finally {
        await runner.stop();
      }
    }).catch(fail),
  );

const incident = program.command('incident').description('incident review: what happened to an alert, and when');

incident
  .command('timeline <alertId>')
  .description("every event of the alert: time, type, actor, data")
  .action((alertId: string) =>
    withToolContext(async ({ eventStore, catalog }) => {
      for (const line of timeline(await incidentEvents(eventStore, alertId), catalog)) {
        process.stdout.write(`${line.at}  ${line.type.padEnd(28)} ${line.actor.padEnd(48)} ${JSON.stringify(line.data)}\n`);
      }
    }).catch(fail),
  );

incident
  .command('replay <alertId>')
  .requiredOption('--at <time>', 'an ISO 8601 time')
  .description('the state the escalation engine had for the alert at a moment, rebuilt from its events')
  .action((alertId: string, options: { at: string }) =>
    withToolContext(async ({ eventStore, catalog }) => {
      const at = new Date(options.at);
      if (Number.isNaN(at.getTime())) throw new Error(`--at must be an ISO 8601 time, not ${options.at}`);
      const { state, applied } = await stateAsOf({ eventStore, catalog }, alertId, at);
      process.stdout.write(`${JSON.stringify({ at: at.toISOString(), eventsApplied: applied, state }, null, 2)}\n`);
    }).catch(fail),
  );

program
  .command('audit')
  .description('integrity checks')
  .command('verify')
  .description('hash chains intact, and every read model equal to a fresh replay of the log')
  .action(() =>
    withToolContext(async ({ pool, eventStore, catalog }) => {
      let healthy = true;
      const chains = await verifyHashChains(pool);
      process.stdout.write(`hash chains: ${chains.streams} streams, ${chains.events} events, ${chains.broken.length} broken\n`);
      for (const link of chains.broken) process.stdout.write(`  ${link.streamId}@${link.streamVersion}: ${link.reason}\n`);
      healthy &&= chains.broken.length === 0;
      for (const projection of readModelProjections) {
        const report = await verifyReadModel({ pool, eventStore, catalog }, projection);
        const differing = report.differences.filter((difference) => difference.missing + difference.unexpected > 0);
        process.stdout.write(`read model ${projection.name}: ${report.replayedEvents} events replayed, ${differing.length ? 'DIFFERS' : 'equal'}\n`);
        for (const difference of differing) {
          process.stdout.write(`  ${difference.table}: ${difference.missing} missing, ${difference.unexpected} unexpected\n`);
        }
        healthy &&= differing.length === 0;
      }
      if (!healthy) process.exitCode = 2;
    }).catch(fail),
  );

program
  .command('events')
  .description('the global event log')
  .command('tail')
  .option('-n, --lines <count>', 'how many recent events to show first', '20')
  .option('-f, --follow', 'keep printing new events as they are committed')
  .action((options: { lines: string; follow?: boolean }) =>
    withToolContext(async ({ pool, eventStore }) => {
      const print = (event: RecordedEvent) =>
        process.stdout.write(
          `${formatPosition(event.position).padEnd(22)} ${event.recordedAt.toISOString()} ${event.streamId.padEnd(44)} ${event.type.padEnd(28)} ${event.metadata.actor}\n`,
        );
      const count = Math.max(0, Number.parseInt(options.lines, 10) || 0);
      const recent = await recentEvents(pool, count);
      recent.forEach(print);
      if (!options.follow) return;
      let after = recent.at(-1)?.position ?? (await headPosition(pool));
      let stopped = false;
      process.once('SIGINT', () => (stopped = true));
      while (!stopped) {
        const events = await eventStore.readAll({ after, maxCount: 500 });
        events.forEach(print);
        if (events.length) after = events.at(-1)!.position;
        else await new Promise((resolve) => setTimeout(resolve, 250));
      }
    }).catch(fail),
  );

await program.parseAsync(process.argv);
