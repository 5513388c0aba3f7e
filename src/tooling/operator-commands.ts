import type { Command } from 'commander';
import { formatPosition, type RecordedEvent } from '../eventstore/types.js';
import { createLogger } from '../infra/logger.js';
import { readModelProjections } from '../projections/index.js';
import { READ_MODELS, readModelSubscription } from '../projections/read-model-subscription.js';
import { rebuildReadModels } from '../projections/rebuild.js';
import { SubscriptionRunner } from '../projections/runner.js';
import { projectionStatus } from '../projections/status.js';
import { verifyReadModel } from '../projections/verify.js';
import { ESCALATION_RELAY } from '../workers/escalation-relay.js';
import type { ToolContext } from './context.js';
import { incidentEvents, incidentReportFor, stateAsOf, timeline } from './incident.js';
import { renderProgress } from './progress-bar.js';

/** Where the operator commands find the database and the event store, and where their answers go. */
export interface OperatorConsole {
  withContext<T>(work: (context: ToolContext) => Promise<T>): Promise<T>;
  print(text: string): void;
  /** The exit code a check that found damage leaves behind (the command still runs to its end). */
  setExitCode(code: number): void;
  /** Calls `stop` when the operator interrupts a command that runs until then (`events tail --follow`). */
  onInterrupt(stop: () => void): void;
}

/** `projections`, `incident`, `audit` and `events`: read and check what a running service keeps, through the EventStore. */
export function addOperatorCommands(program: Command, io: OperatorConsole): void {
  const projections = program.command('projections').description('read models and their checkpoints');

  projections
    .command('status')
    .description("every subscription's checkpoint and how many events it is behind")
    .action(() =>
      io.withContext(async (context) => {
        const statuses = await projectionStatus(context, [READ_MODELS, ESCALATION_RELAY]);
        for (const status of statuses) {
          io.print(
            `${status.name.padEnd(24)} ${formatPosition(status.checkpoint).padEnd(24)} behind ${String(status.lag).padStart(8)}  ${status.updatedAt?.toISOString() ?? 'never ran'}\n`,
          );
        }
      }),
    );

  projections
    .command('rebuild [name]')
    .description('rebuild read models (all when no name) beside the live ones, then switch atomically, with progress')
    .action((name: string | undefined) =>
      io.withContext(async (context) => {
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
            const status = (await projectionStatus(context, [READ_MODELS])).find((s) => s.name === READ_MODELS)!;
            if (status.lag === 0) break;
            await new Promise((resolve) => setTimeout(resolve, 200));
          }
        } finally {
          await runner.stop();
        }
      }),
    );

  const incident = program.command('incident').description('incident review: what happened to an alert, and when');

  incident
    .command('timeline <alertId>')
    .description('every event of the alert: time, type, actor, data')
    .action((alertId: string) =>
      io.withContext(async ({ eventStore, catalog }) => {
        for (const line of timeline(await incidentEvents(eventStore, alertId), catalog)) {
          io.print(`${line.at}  ${line.type.padEnd(28)} ${line.actor.padEnd(48)} ${JSON.stringify(line.data)}\n`);
        }
      }),
    );

  incident
    .command('replay <alertId>')
    .requiredOption('--at <time>', 'an ISO 8601 time')
    .description('the state the escalation engine had for the alert at a moment, rebuilt from its events')
    .action((alertId: string, options: { at: string }) =>
      io.withContext(async ({ eventStore, catalog }) => {
        const at = new Date(options.at);
        if (Number.isNaN(at.getTime())) throw new Error(`--at must be an ISO 8601 time, not ${options.at}`);
        const { state, applied } = await stateAsOf({ eventStore, catalog }, alertId, at);
        io.print(`${JSON.stringify({ at: at.toISOString(), eventsApplied: applied, state }, null, 2)}\n`);
      }),
    );

  incident
    .command('report <alertId>')
    .option('--format <format>', 'md (for people) or json', 'md')
    .description('one reviewable account of the alert: times to acknowledge and resolve, steps with lag, who was paged and how, notes')
    .action((alertId: string, options: { format: string }) =>
      io.withContext(async (context) => {
        if (options.format !== 'md' && options.format !== 'json') throw new Error(`--format must be md or json, not ${options.format}`);
        io.print(await incidentReportFor(context, alertId, options.format));
      }),
    );

  program
    .command('audit')
    .description('integrity checks')
    .command('verify')
    .description('hash chains intact, and every read model equal to a fresh replay of the log')
    .action(() =>
      io.withContext(async (context) => {
        let healthy = true;
        const chains = await context.eventStore.verifyHashChains();
        io.print(`hash chains: ${chains.streams} streams, ${chains.events} events, ${chains.broken.length} broken\n`);
        for (const link of chains.broken) io.print(`  ${link.streamId}@${link.streamVersion}: ${link.reason}\n`);
        healthy &&= chains.broken.length === 0;
        for (const projection of readModelProjections) {
          const report = await verifyReadModel(context, projection);
          const differing = report.differences.filter((difference) => difference.missing + difference.unexpected > 0);
          io.print(`read model ${projection.name}: ${report.replayedEvents} events replayed, ${differing.length ? 'DIFFERS' : 'equal'}\n`);
          for (const difference of differing) {
            io.print(`  ${difference.table}: ${difference.missing} missing, ${difference.unexpected} unexpected\n`);
          }
          healthy &&= differing.length === 0;
        }
        if (!healthy) io.setExitCode(2);
      }),
    );

  program
    .command('events')
    .description('the global event log')
    .command('tail')
    .option('-n, --lines <count>', 'how many recent events to show first', '20')
    .option('-f, --follow', 'keep printing new events as they are committed')
    .action((options: { lines: string; follow?: boolean }) =>
      io.withContext(async ({ eventStore }) => {
        const print = (event: RecordedEvent) =>
          io.print(
            `${formatPosition(event.position).padEnd(22)} ${event.recordedAt.toISOString()} ${event.streamId.padEnd(44)} ${event.type.padEnd(28)} ${event.metadata.actor}\n`,
          );
        const count = Math.max(0, Number.parseInt(options.lines, 10) || 0);
        const recent = count > 0 ? await eventStore.readLast(count) : [];
        recent.forEach(print);
        if (!options.follow) return;
        let after = recent.at(-1)?.position ?? (await eventStore.headPosition());
        const watch = eventStore.watchAppends({});
        let interrupted = false;
        io.onInterrupt(() => {
          interrupted = true;
          void watch.close();
        });
        try {
          while (!interrupted) {
            const events = await eventStore.readAll({ after, maxCount: 500 });
            events.forEach(print);
            if (events.length) after = events.at(-1)!.position;
            else await watch.next();
          }
        } finally {
          await watch.close();
        }
      }),
    );
}
