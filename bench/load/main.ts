import { execFileSync } from 'node:child_process';
import { loadAverage } from '../machine.js';
import { RESULTS_FILE, writeResultsSection } from '../results-file.js';
import { brokerVersion } from './broker-counters.js';
import { REPOSITORY_ROOT } from './child-process.js';
import { ServerMonitor } from './database-probe.js';
import { type LoadReport, renderLoadReport, type ScenarioReport } from './report.js';
import type { ScenarioRunResult } from './scenario-result.js';
import type { ScenarioContext } from './scenarios/context.js';
import { type AppendComparisonRun, eventStoreComparisonRun, WRITER_COUNTS } from './scenarios/event-store.js';
import { ingestRun } from './scenarios/ingest.js';
import { recoveryRun } from './scenarios/recovery.js';
import { stormRun } from './scenarios/storm.js';
import { sustainedRun } from './scenarios/sustained.js';
import { ServiceStage } from './service-stage.js';
import { loadSettings, type ScenarioName, type Settings } from './settings.js';

/*
 * `npm run bench:load`: the issue-7 measurements against the built service, scenario after scenario, written to
 * the load section of bench/RESULTS.md (or BENCH_OUTPUT).
 */

/** A run that takes this long or longer is not repeated: the figures of one long run already average over time. */
const REPEAT_BELOW_SECONDS = 60;

interface ServiceScenario {
  name: Exclude<ScenarioName, 'event-store'>;
  title: string;
  describe(settings: Settings): string;
  run(context: ScenarioContext): Promise<ScenarioRunResult>;
}

const serviceScenarios: ServiceScenario[] = [
  {
    name: 'ingest',
    title: 'Ingest, read-your-writes (target 1)',
    describe: (s) =>
      `${s.clients} closed-loop clients send ${s.ingest.triggers.toLocaleString('en-US')} triggers (\`POST /teams/:teamId/alerts\`, default read-your-writes) as fast as they are answered, for at most ${s.ingest.maxSeconds} s, on a one-step webhook flow due after ${s.ingest.delaySeconds} s, so nothing fires during the run.`,
    run: (context) => ingestRun(context, { respondAsync: false }),
  },
  {
    name: 'ingest-async',
    title: 'Ingest, Prefer: respond-async (and memory with alerts in flight, target 7)',
    describe: (s) =>
      `As above with \`Prefer: respond-async\` (202 without waiting for the read models). Afterwards every alert is in flight (its step due after ${s.ingest.delaySeconds} s); the service's resident memory is sampled ${s.ingest.inFlightSettleSeconds} s after the last answer.`,
    run: (context) => ingestRun(context, { respondAsync: true }),
  },
  {
    name: 'sustained',
    title: 'Sustained escalation (target 2)',
    describe: (s) =>
      `${s.sustained.ratePerSecond} alerts/s offered open-loop for ${s.sustained.seconds} s (sent on schedule whatever the answers; response time counted from the scheduled send) with read-your-writes, spread over one-step webhook flows, one per delay of ${s.delaysSeconds[0]}–${s.delaysSeconds.at(-1)} s. The bench then waits until every alert the service recorded is paged, or ${s.pageDrainSeconds} s after the last step is due.`,
    run: sustainedRun,
  },
  {
    name: 'storm',
    title: 'Storm (target 3)',
    describe: (s) =>
      `${s.storm.alerts.toLocaleString('en-US')} alerts offered by ${s.clients} closed-loop clients as fast as they are answered${s.storm.respondAsync ? ' with `Prefer: respond-async` (as integrations send them)' : ' with read-your-writes'}, for at most ${s.storm.maxSeconds} s, on the sustained run's flows (delays ${s.delaysSeconds[0]}–${s.delaysSeconds.at(-1)} s). Every alert must be paged once.`,
    run: stormRun,
  },
  {
    name: 'recovery',
    title: 'Recovery from kill -9 (target 6)',
    describe: (s) =>
      `${s.recovery.ratePerSecond} alerts/s offered open-loop for ${s.recovery.seconds} s on the sustained run's flows; ${s.recovery.killAtSeconds} s in, the only service process is killed with SIGKILL and started again ${s.recovery.downSeconds} s later on the same database, broker names and port. Triggers that fail meanwhile are not retried. The bench waits until every alert the service recorded is paged and no send is left without an outcome, or ${s.recovery.drainSeconds} s after the last step is due.`,
    run: recoveryRun,
  },
  {
    name: 'recovery-within-capacity',
    title: 'Recovery from kill -9 within capacity (target 6)',
    describe: (s) =>
      `As the recovery run, at ${s.recoveryWithinCapacityRate} alerts/s: a rate this machine's engine keeps up with, so the time the restart itself takes shows apart from the backlog an overloaded run builds.`,
    run: (context) =>
      recoveryRun({ ...context, settings: { ...context.settings, recovery: { ...context.settings.recovery, ratePerSecond: context.settings.recoveryWithinCapacityRate } } }),
  },
];

function gitCommit(): string {
  try {
    const commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: REPOSITORY_ROOT, encoding: 'utf8' }).trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--untracked-files=no'], { cwd: REPOSITORY_ROOT, encoding: 'utf8' }).trim();
    return dirty ? `${commit} (with uncommitted changes)` : commit;
  } catch {
    return 'unknown';
  }
}

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

async function runServiceScenario(scenario: ServiceScenario, context: ScenarioContext): Promise<ScenarioReport> {
  const { settings, log } = context;
  const runs: ScenarioRunResult[] = [];
  let runsNote = `Runs: ${settings.runs}.`;
  let error: string | null = null;
  for (let index = 0; index < settings.runs; index++) {
    log(`${scenario.title}: run ${index + 1} of ${settings.runs}`);
    try {
      const result = await scenario.run(context);
      runs.push(result);
      if (index === 0 && settings.runs > 1 && result.durationSeconds >= REPEAT_BELOW_SECONDS) {
        runsNote = `Runs: 1 (it took ${Math.round(result.durationSeconds)} s, so it was not repeated).`;
        break;
      }
    } catch (failure) {
      error = `run ${index + 1}: ${message(failure)}`;
      log(`  failed: ${message(failure)}`);
      break;
    }
  }
  if (runs.length < settings.runs && error) runsNote = `Runs completed: ${runs.length} of ${settings.runs}.`;
  return { name: scenario.name, title: scenario.title, description: scenario.describe(settings), runs, runsNote, error };
}

async function runEventStoreComparison(context: ScenarioContext): Promise<NonNullable<LoadReport['eventStore']>> {
  const runs: AppendComparisonRun[] = [];
  for (let index = 0; index < context.settings.runs; index++) {
    context.log(`Event store beside Emmett (${WRITER_COUNTS.join(' and ')} writers, ${context.settings.appendSeconds} s each): run ${index + 1} of ${context.settings.runs}`);
    try {
      runs.push(await eventStoreComparisonRun(context, index));
    } catch (failure) {
      context.log(`  failed: ${message(failure)}`);
      return { runs, error: message(failure) };
    }
  }
  return { runs, error: null };
}

async function main(): Promise<void> {
  const settings = loadSettings();
  const log = (line: string) => process.stdout.write(`${line}\n`);
  const startedAt = new Date();
  const loadAverageAtStart = loadAverage();
  const monitor = await ServerMonitor.connect(settings.databaseUrl);
  const interrupted = () => {
    log('interrupted: removing the services, databases and broker names of the runs in progress');
    void ServiceStage.tearDownAll().finally(() => process.exit(130));
  };
  process.once('SIGINT', interrupted);
  process.once('SIGTERM', interrupted);
  try {
    const context: ScenarioContext = { settings, monitor, log };
    const report: LoadReport = {
      startedAt,
      finishedAt: startedAt,
      settings,
      commit: gitCommit(),
      postgresVersion: await monitor.serverVersion(),
      rabbitmqVersion: await brokerVersion(settings.amqpUrl),
      loadAverageAtStart,
      eventStore: settings.scenarios.includes('event-store') ? await runEventStoreComparison(context) : null,
      scenarios: [],
    };
    for (const scenario of serviceScenarios) {
      if (settings.scenarios.includes(scenario.name)) report.scenarios.push(await runServiceScenario(scenario, context));
    }
    report.finishedAt = new Date();
    const markdown = renderLoadReport(report);
    const output = settings.output ?? RESULTS_FILE;
    writeResultsSection(output, 'load', markdown);
    log(`\n${markdown}\nwritten to ${output}`);
    if (report.scenarios.some((scenario) => scenario.error) || report.eventStore?.error) process.exitCode = 1;
  } finally {
    await monitor.close();
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`bench:load failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
