import { cpus } from 'node:os';
import { machineTable } from '../machine.js';
import type { AppendStoreName } from './protocol.js';
import { PROCESS_GROUPS } from './resource-sampler.js';
import { FIGURE, type Figure, responseTimeLabel, type RoundTrips, type ScenarioRunResult, type Unit } from './scenario-result.js';
import type { AppendComparisonRun } from './scenarios/event-store.js';
import type { ScenarioName, Settings } from './settings.js';
import { type Spread, spread } from './stats.js';

export interface ScenarioReport {
  name: ScenarioName;
  title: string;
  description: string;
  runs: ScenarioRunResult[];
  /** Why this many runs (fewer than asked when a run took a minute or more). */
  runsNote: string;
  error: string | null;
}

export interface LoadReport {
  startedAt: Date;
  finishedAt: Date;
  settings: Settings;
  commit: string;
  postgresVersion: string;
  rabbitmqVersion: string;
  loadAverageAtStart: string;
  eventStore: { runs: AppendComparisonRun[]; error: string | null } | null;
  scenarios: ScenarioReport[];
}

const STORE_NAMES: Record<AppendStoreName, string> = {
  alertops: 'AlertOps `PostgresEventStore`',
  emmett: 'Emmett `getPostgreSQLEventStore`',
};

function formatValue(value: number | null | undefined, unit: Unit): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return '–';
  switch (unit) {
    case 'count':
    case 'ms':
    case 'per second':
      return Math.round(value).toLocaleString('en-US');
    case 's':
      return value.toFixed(value >= 100 ? 0 : 1);
    case 'MiB':
      return value.toFixed(0);
    case 'per alert':
      return value.toFixed(value >= 10 ? 1 : 2);
  }
}

const unitSuffix: Record<Unit, string> = { count: '', ms: ' (ms)', s: ' (s)', 'per second': ' (/s)', MiB: ' (MiB)', 'per alert': ' (per alert)' };

function formatSpread(values: Spread | null, unit: Unit): string {
  if (!values) return '–';
  if (values.runs === 1 || values.min === values.max) return formatValue(values.median, unit);
  return `${formatValue(values.min, unit)} / **${formatValue(values.median, unit)}** / ${formatValue(values.max, unit)}`;
}

function figureSpread(runs: ScenarioRunResult[], label: string): { spread: Spread | null; unit: Unit } | null {
  const figures = runs.map((run) => run.figures.find((figure) => figure.label === label));
  const first = figures.find((figure): figure is Figure => figure !== undefined);
  if (!first) return null;
  return { spread: spread(figures.map((figure) => figure?.value ?? null)), unit: first.unit };
}

function median(values: (number | null)[]): number | null {
  return spread(values)?.median ?? null;
}

function scenarioSection(scenario: ScenarioReport): string[] {
  const lines = [`### ${scenario.title}`, '', scenario.description, ''];
  if (scenario.error) lines.push(`**The scenario failed:** ${scenario.error}`, '');
  if (scenario.runs.length === 0) return lines;
  lines.push(`${scenario.runsNote}`, '');
  const several = scenario.runs.length > 1;
  lines.push(several ? '| figure | min / **median** / max |' : '| figure | value |', '|---|---:|');
  for (const label of scenario.runs[0]!.figures.map((figure) => figure.label)) {
    const found = figureSpread(scenario.runs, label);
    if (found) lines.push(`| ${label}${unitSuffix[found.unit]} | ${formatSpread(found.spread, found.unit)} |`);
  }
  lines.push('');
  const notes = scenario.runs.flatMap((run, index) => run.notes.map((note) => (several ? `run ${index + 1}: ${note}` : note)));
  if (notes.length) lines.push(...notes.map((note) => `- ${note}`), '');
  return lines;
}

function appendRates(eventStore: NonNullable<LoadReport['eventStore']>, store: AppendStoreName, writers: number): Spread | null {
  return spread(
    eventStore.runs.map((run) => {
      const measurement = run.measurements.get(store)?.find((candidate) => candidate.writers === writers);
      return measurement ? measurement.appends / measurement.seconds : null;
    }),
  );
}

function eventStoreSection(eventStore: NonNullable<LoadReport['eventStore']>): string[] {
  const lines = [
    '### Event store beside Emmett (target 8)',
    '',
    'Single-event appends for the stated time per writer count, each writer appending to a stream of its own with the',
    'version it last wrote as the expected version; each store in a fresh database and a process of its own, on the',
    'same PostgreSQL server, in the same run (the two stores take turns going first).',
    '',
  ];
  if (eventStore.error) lines.push(`**The comparison failed:** ${eventStore.error}`, '');
  if (eventStore.runs.length === 0) return lines;
  lines.push(
    `Runs: ${eventStore.runs.length}.`,
    '',
    '| store | writers | appends/s (min / **median** / max) | latency p50 (ms, median) | latency p99 (ms, median) |',
    '|---|---:|---:|---:|---:|',
  );
  for (const store of ['alertops', 'emmett'] as const) {
    const perRun = eventStore.runs.map((run) => run.measurements.get(store) ?? []);
    for (const writers of new Set(perRun.flat().map((measurement) => measurement.writers))) {
      const measured = perRun.map((run) => run.find((measurement) => measurement.writers === writers) ?? null);
      lines.push(
        `| ${STORE_NAMES[store]} | ${writers} | ${formatSpread(appendRates(eventStore, store, writers), 'per second')} | ${median(measured.map((m) => m?.latencyP50Ms ?? null))?.toFixed(2) ?? '–'} | ${median(measured.map((m) => m?.latencyP99Ms ?? null))?.toFixed(2) ?? '–'} |`,
      );
    }
  }
  lines.push('');
  return lines;
}

function perAlertMedian(runs: ScenarioRunResult[], pick: (trips: RoundTrips) => number | null | undefined): number | null {
  return median(
    runs.map(({ roundTrips: trips }) => {
      const value = pick(trips);
      return trips.alerts > 0 && value !== null && value !== undefined ? value / trips.alerts : null;
    }),
  );
}

function targetsSection(report: LoadReport): string[] {
  const runsOf = (name: ScenarioName) => report.scenarios.find((scenario) => scenario.name === name)?.runs ?? [];
  const measured = (name: ScenarioName, label: string) => {
    const found = figureSpread(runsOf(name), label);
    return found?.spread ? `${formatValue(found.spread.median, found.unit)}${found.unit === 'ms' ? ' ms' : found.unit === 's' ? ' s' : found.unit === 'MiB' ? ' MiB' : ''}` : '–';
  };
  const both = (name: ScenarioName, first: string, second: string) => `${measured(name, first)} / ${measured(name, second)}`;
  const recoveryRuns = runsOf('recovery');
  const unexplainedRepeats = median(
    recoveryRuns.map((run) => {
      const repeated = run.figures.find((figure) => figure.label === FIGURE.repeatedDeliveryIds)?.value;
      const explained = run.figures.find((figure) => figure.label === FIGURE.repeatsExplained)?.value;
      return repeated === undefined || explained === undefined || repeated === null || explained === null ? null : repeated - explained;
    }),
  );
  const ratio = (writers: number) => {
    if (!report.eventStore) return '–';
    const ours = appendRates(report.eventStore, 'alertops', writers)?.median;
    const theirs = appendRates(report.eventStore, 'emmett', writers)?.median;
    return ours && theirs ? `${(ours / theirs).toFixed(2)}×` : '–';
  };
  const sustained = runsOf('sustained');
  const rows: [string, string, string, string][] = [
    ['1', 'ingest, read-your-writes: accepted triggers/s', '≥ 1,000 (goal 2,000)', measured('ingest', FIGURE.acceptedPerSecond)],
    ['1', '… response p99', '≤ 100 ms', measured('ingest', responseTimeLabel(false, 'p99'))],
    ['2', 'sustained: lag p99 / max', '≤ 100 ms / ≤ 500 ms', both('sustained', FIGURE.lagP99, FIGURE.lagMax)],
    ['2', '… steps not paged / recorded delivered but never received', '0 / 0', both('sustained', FIGURE.stepsUnpaged, FIGURE.lost)],
    ['2', '… duplicate receipts / steps under several delivery ids', '0 / 0', both('sustained', FIGURE.repeatedReceipts, FIGURE.stepsUnderSeveralDeliveryIds)],
    ['2', '… response p99 from the scheduled send', 'reported', measured('sustained', responseTimeLabel(true, 'p99'))],
    ['3', 'storm: steps not paged / duplicate receipts', '0 / 0', both('storm', FIGURE.stepsUnpaged, FIGURE.repeatedReceipts)],
    ['3', '… lag p99', '≤ 2 s', measured('storm', FIGURE.lagP99)],
    ['3', '… backlog drain after the last trigger', 'reported', measured('storm', FIGURE.drain)],
    ['4, 5', 'rebuild rate over ≥ 1,000,000 events; rebuild without downtime', '≥ 50,000 events/s; no blank read model', 'not measured by `bench:load`'],
    ['6', 'recovery: steps not paged / steps under several delivery ids', '0 / 0', both('recovery', FIGURE.stepsUnpaged, FIGURE.stepsUnderSeveralDeliveryIds)],
    ['6', '… repeated delivery ids without a recorded cut-off send', '0', formatValue(unexplainedRepeats, 'count')],
    ['6', '… steps due while down: page after the restart, max', '≤ 5 s', measured('recovery', FIGURE.dueWhileDownAfterRestartMax)],
    ['6', '… sends cut off by the kill / resent after the restart, max delay', '– / ≤ 5 s', both('recovery', FIGURE.cutOffSends, FIGURE.cutOffResendMax)],
    ['6', '… restart to ready (/readyz 200), at the target rate / within capacity', 'reported', `${measured('recovery', FIGURE.restartToReady)} / ${measured('recovery-within-capacity', FIGURE.restartToReady)}`],
    ['6', 'within capacity: steps not paged / steps under several delivery ids', '0 / 0', both('recovery-within-capacity', FIGURE.stepsUnpaged, FIGURE.stepsUnderSeveralDeliveryIds)],
    ['6', '… steps due while down: page after the restart, max', '≤ 5 s', measured('recovery-within-capacity', FIGURE.dueWhileDownAfterRestartMax)],
    ['6', '… sends cut off by the kill / resent after the restart, max delay', '– / ≤ 5 s', both('recovery-within-capacity', FIGURE.cutOffSends, FIGURE.cutOffResendMax)],
    ['7', `service resident memory with ${measured('ingest-async', FIGURE.inFlight)} alerts in flight`, '< 500 MiB', measured('ingest-async', FIGURE.inFlightRss)],
    ['8', 'AlertOps ÷ Emmett appends/s, 1 writer / 8 writers', '≥ 1 / ≥ 1', `${ratio(1)} / ${ratio(8)}`],
    ['9', 'sustained: PostgreSQL transactions per alert', '≤ 15', formatValue(perAlertMedian(sustained, (trips) => trips.transactions), 'per alert')],
    [
      '9',
      '… broker messages per alert (client publishes + delay-cascade hops)',
      'reported',
      formatValue(perAlertMedian(sustained, (trips) => (trips.broker ? trips.broker.published + trips.broker.deadLetterHops : null)), 'per alert'),
    ],
  ];
  return [
    '### The issue\'s targets at a glance (medians; details below)',
    '',
    '| target | figure | goal | measured |',
    '|---|---|---|---:|',
    ...rows.map((row) => `| ${row.join(' | ')} |`),
    '',
  ];
}

function resourcesSection(scenarios: ScenarioReport[]): string[] {
  const groups = Object.values(PROCESS_GROUPS);
  const lines = [
    '### Resources per scenario (median over runs)',
    '',
    'CPU seconds over the measurement window and, in parentheses, the share of one core they amount to. RabbitMQ and',
    "\"every process of the server\" are shared with whatever else runs on this machine; the bench database's backends",
    'are sampled from `pg_stat_activity` twice a second. Machine busy is the share of all cores; the rest of the',
    "machine is every busy core not spent by the service, the load client, the receiver or the bench database's",
    'backends (so RabbitMQ, PostgreSQL background work, the orchestrator and any other work on the machine), in cores.',
    '',
    `| scenario | window (s) | ${groups.join(' | ')} | machine busy | rest of the machine (cores) | service peak RSS (MiB) |`,
    `|---|---:|${groups.map(() => '---:').join('|')}|---:|---:|---:|`,
  ];
  for (const scenario of scenarios) {
    if (scenario.runs.length === 0) continue;
    const cells = groups.map((group) => {
      const usage = scenario.runs.map((run) => run.resources.cpu.find((entry) => entry.group === group) ?? null);
      const seconds = median(usage.map((entry) => entry?.cpuSeconds ?? null));
      const share = median(usage.map((entry) => entry?.coreShare ?? null));
      return seconds === null || share === null ? '–' : `${seconds.toFixed(1)} (${Math.round(share * 100)} %)`;
    });
    const windowSeconds = median(scenario.runs.map((run) => run.resources.seconds));
    const busy = median(scenario.runs.map((run) => run.resources.machineBusyShare));
    const rest = median(scenario.runs.map((run) => run.resources.restOfMachineCores));
    const peak = median(scenario.runs.map((run) => run.resources.servicePeakRssMiB));
    lines.push(
      `| ${scenario.title} | ${formatValue(windowSeconds, 's')} | ${cells.join(' | ')} | ${busy === null ? '–' : `${Math.round(busy * 100)} %`} | ${rest?.toFixed(2) ?? '–'} | ${formatValue(peak, 'MiB')} |`,
    );
  }
  lines.push('');
  return lines;
}

/** The rate each scenario's target asks of the engine, in alerts per second; null where the target is not a rate. */
const TARGET_RATES: Partial<Record<ScenarioName, number>> = { ingest: 1000, sustained: 300, recovery: 300 };

function limitsSection(scenarios: ScenarioReport[]): string[] {
  const groups = [
    PROCESS_GROUPS.service,
    PROCESS_GROUPS.postgresServer,
    PROCESS_GROUPS.rabbitmq,
    PROCESS_GROUPS.loadClient,
    PROCESS_GROUPS.receiver,
  ];
  const lines = [
    '### What limits this machine (median over runs)',
    '',
    'CPU milliseconds per alert the service recorded, per process group, over the same window as the resources above',
    '(PostgreSQL counted as every process of the server, so its WAL writer and checkpointer are in). At the rate a',
    "target asks, the sum is the number of cores the run's work would need; this machine has",
    `${cpus().length}. A target whose rate needs more cores than the machine has is limited by CPU saturation here.`,
    '',
    `| scenario | alerts | ${groups.map((group) => `${group} (ms/alert)`).join(' | ')} | total (ms/alert) | target rate (/s) | cores needed at that rate | machine busy |`,
    `|---|---:|${groups.map(() => '---:').join('|')}|---:|---:|---:|---:|`,
  ];
  for (const scenario of scenarios) {
    if (scenario.runs.length === 0) continue;
    const perAlert = groups.map((group) =>
      median(
        scenario.runs.map((run) => {
          const usage = run.resources.cpu.find((entry) => entry.group === group);
          return usage && run.roundTrips.alerts > 0 ? (usage.cpuSeconds * 1000) / run.roundTrips.alerts : null;
        }),
      ),
    );
    const total = perAlert.every((value) => value !== null) ? perAlert.reduce((sum, value) => sum! + value!, 0)! : null;
    const rate = TARGET_RATES[scenario.name] ?? null;
    const busy = median(scenario.runs.map((run) => run.resources.machineBusyShare));
    const cells = [
      formatValue(median(scenario.runs.map((run) => run.roundTrips.alerts)), 'count'),
      ...perAlert.map((value) => (value === null ? '–' : value.toFixed(2))),
      total === null ? '–' : total.toFixed(2),
      rate === null ? '–' : formatValue(rate, 'per second'),
      rate === null || total === null ? '–' : ((total * rate) / 1000).toFixed(1),
      busy === null ? '–' : `${Math.round(busy * 100)} %`,
    ];
    lines.push(`| ${scenario.title} | ${cells.join(' | ')} |`);
  }
  lines.push('');
  return lines;
}

function roundTripsSection(scenarios: ScenarioReport[]): string[] {
  const lines = [
    '### Round trips per alert (target 9; median over runs)',
    '',
    'PostgreSQL: `xact_commit` of the bench database in `pg_stat_database` over the measurement window (the bench',
    "harness's own reads left out) divided by the alerts the service recorded; the service's idle rate was measured",
    'just before the window ("beyond the idle rate" subtracts that rate over the window). Broker: RabbitMQ 3.10',
    'global counters read with `rabbitmqctl eval` (they count every client of the broker: the Raft commands applied',
    "by other queues meanwhile show whether anything else was using it), and the Raft commands applied by this run's",
    'own quorum queues.',
    '',
    '| scenario | alerts | PG transactions per alert | idle PG transactions/s | PG transactions per alert beyond the idle rate | events per alert | broker publishes per alert | delay-cascade hops per alert | deliveries to consumers per alert | Raft commands per alert (own queues) | Raft commands on other queues |',
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
  ];
  for (const scenario of scenarios) {
    if (scenario.runs.length === 0) continue;
    const trips = scenario.runs.map((run) => run.roundTrips);
    const perAlert = (pick: (trip: RoundTrips) => number | null | undefined) => formatValue(perAlertMedian(scenario.runs, pick), 'per alert');
    const cells = [
      formatValue(median(trips.map((trip) => trip.alerts)), 'count'),
      perAlert((trip) => trip.transactions),
      formatValue(median(trips.map((trip) => trip.idleTransactionsPerSecond)), 'per second'),
      perAlert((trip) => trip.transactions - trip.idleTransactionsPerSecond * trip.windowSeconds),
      perAlert((trip) => trip.events),
      perAlert((trip) => trip.broker?.published),
      perAlert((trip) => trip.broker?.deadLetterHops),
      perAlert((trip) => trip.broker?.delivered),
      perAlert((trip) => trip.broker?.raftCommandsOnPrefix),
      formatValue(median(trips.map((trip) => trip.broker?.raftCommandsElsewhere ?? null)), 'count'),
    ];
    lines.push(`| ${scenario.title} | ${cells.join(' | ')} |`);
  }
  lines.push('');
  return lines;
}

function settingsLine(settings: Settings): string {
  return [
    `runs ${settings.runs}`,
    `${settings.clients} closed-loop clients`,
    `open loop over at most ${settings.openLoopConnections} connections`,
    `flow delays ${settings.delaysSeconds[0]}–${settings.delaysSeconds.at(-1)} s`,
    `page wait ${settings.pageDrainSeconds} s after the last due time (recovery ${settings.recovery.drainSeconds} s)`,
    `answers abandoned ${settings.responseDrainSeconds} s after the last offer`,
  ].join(', ');
}

export function renderLoadReport(report: LoadReport): string {
  const minutes = (report.finishedAt.getTime() - report.startedAt.getTime()) / 60_000;
  const lines = [
    '## Load: the service as users meet it',
    '',
    `Run with \`npm run bench:load\`${report.settings.quick ? ' in quick mode (`BENCH_QUICK=1`: small counts, for smoke tests only)' : ''} on ${report.startedAt.toISOString()}, ${minutes.toFixed(1)} min, at commit ${report.commit}.`,
    'The service is built with `npm run build` (`tsc -p tsconfig.build.json` into `dist/`) and runs as its own process,',
    '`node dist/cli.js start` (API, projections and every worker in one process), against a fresh database and broker',
    'names per run, both removed afterwards. The load client and the webhook receiver are processes of their own; the',
    'client speaks HTTP/1.1 over kept-alive connections. Lag is the receiver\'s arrival time minus the due time the',
    'engine recorded (`EscalationStepScheduled.dueAt` in the event log), all on this machine\'s clock.',
    '',
    ...machineTable(report.postgresVersion, [
      ['RabbitMQ', report.rabbitmqVersion],
      ['load average at the start (1/5/15 min)', report.loadAverageAtStart],
    ]),
    '',
    `Settings: ${settingsLine(report.settings)}. Every figure that took under a minute per run is shown as min / **median** / max over the runs.`,
    '',
  ];
  lines.push(...targetsSection(report));
  if (report.eventStore) lines.push(...eventStoreSection(report.eventStore));
  for (const scenario of report.scenarios) lines.push(...scenarioSection(scenario));
  lines.push(...resourcesSection(report.scenarios), ...limitsSection(report.scenarios), ...roundTripsSection(report.scenarios));
  lines.push(
    'The machine is shared: other work shows in the load average and in the CPU of the shared processes. Compare runs',
    'on the same machine only.',
    '',
  );
  return lines.join('\n');
}
