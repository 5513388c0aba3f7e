import { type BrokerSnapshot, type BrokerTraffic, brokerTraffic, readBrokerCounters } from './broker-counters.js';
import { BenchChild } from './child-process.js';
import { BenchDatabase, type ServerMonitor } from './database-probe.js';
import { ClientFinished, ClientSetupDone, type LoadPlan, type Page, ReceiverListening, ReceiverPages, ReceiverProgress, type TriggerRecord } from './protocol.js';
import { type ResourceUsage, ResourceSampler } from './resource-sampler.js';
import type { Settings } from './settings.js';
import { newServiceInstance, removeServiceState, type ServiceInstance, ServiceProcess } from './service-process.js';

/*
 * One scenario run's world: a fresh service (its own database, broker names and port), a webhook receiver and a
 * load client, each a process of its own, torn down and removed afterwards whatever happened.
 */

const CHILD_START_TIMEOUT_MS = 30_000;
const SETUP_TIMEOUT_MS = 60_000;
/** How long after a window ends the bench waits before reading pg_stat_database: backends report about every second. */
const STATISTICS_FLUSH_MS = 1500;
const PROGRESS_TIMEOUT_MS = 10_000;

export interface MeasurementWindow {
  resources: ResourceUsage;
  /** Transactions committed in the bench database over the window, the bench's own reads left out. */
  transactions: number;
  broker: BrokerTraffic | null;
}

export interface WaitForPagesResult {
  /** Every alert paged and no send left in flight before the deadline. */
  settled: boolean;
  waitedSeconds: number;
}

export class ServiceStage {
  readonly service: ServiceProcess;
  readonly sampler: ResourceSampler;
  private windowStart: { transactions: number; probeTransactions: number; broker: BrokerSnapshot | null } | null = null;

  private constructor(
    readonly instance: ServiceInstance,
    readonly receiver: BenchChild,
    readonly hookBaseUrl: string,
    readonly client: BenchChild,
    readonly database: BenchDatabase,
    private readonly monitor: ServerMonitor,
    service: ServiceProcess,
  ) {
    this.service = service;
    this.sampler = new ResourceSampler({
      service: () => this.service.livePids(),
      loadClient: () => [this.client.pid],
      receiver: () => [this.receiver.pid],
      postgresBackends: () => this.monitor.backendPids(this.instance.databaseName),
    });
  }

  private static readonly active = new Set<() => Promise<void>>();

  /** Tears down every stage still running (an interrupted bench). */
  static async tearDownAll(): Promise<void> {
    await Promise.all([...ServiceStage.active].map((tearDown) => tearDown()));
  }

  /** Builds a stage with flows of the given delays, runs `work` in it, and removes everything afterwards. */
  static async run<T>(
    settings: Settings,
    monitor: ServerMonitor,
    label: string,
    flowDelaysSeconds: number[],
    work: (stage: ServiceStage, flows: { id: string; delaySeconds: number }[]) => Promise<T>,
  ): Promise<T> {
    const instance = await newServiceInstance(settings.databaseUrl, settings.amqpUrl, label);
    const started: { receiver?: BenchChild; service?: ServiceProcess; client?: BenchChild; database?: BenchDatabase } = {};
    let tornDown: Promise<void> | null = null;
    const tearDown = () =>
      (tornDown ??= (async () => {
        await started.client?.stop().catch(() => undefined);
        await started.service?.stop().catch(() => undefined);
        await started.receiver?.stop().catch(() => undefined);
        await started.database?.close();
        await removeServiceState(instance).catch((error: unknown) => process.stderr.write(`cleanup: ${(error as Error).message}\n`));
      })());
    ServiceStage.active.add(tearDown);
    try {
      started.receiver = new BenchChild('webhook receiver', new URL('./receiver.ts', import.meta.url));
      const { port } = await started.receiver.next(ReceiverListening, CHILD_START_TIMEOUT_MS, 'listening port');
      const hookBaseUrl = `http://127.0.0.1:${port}`;
      started.service = new ServiceProcess(instance);
      await started.service.start();
      started.client = new BenchChild('load client', new URL('./load-client.ts', import.meta.url));
      const setup = await started.client.request(
        { type: 'setup', baseUrl: instance.baseUrl, hookBaseUrl, flows: flowDelaysSeconds.map((delaySeconds) => ({ delaySeconds })) },
        ClientSetupDone,
        SETUP_TIMEOUT_MS,
        'team and flows',
      );
      started.database = await BenchDatabase.connect(instance.databaseUrl);
      const stage = new ServiceStage(instance, started.receiver, hookBaseUrl, started.client, started.database, monitor, started.service);
      return await work(stage, setup.flows);
    } finally {
      await tearDown();
      ServiceStage.active.delete(tearDown);
    }
  }

  /** Committed transactions per second while nothing is asked of the service: its background polling. */
  async idleTransactionsPerSecond(seconds: number): Promise<number> {
    // Transactions of the set-up are reported up to a second late; they must not count as idle ones.
    await sleep(STATISTICS_FLUSH_MS);
    const before = await this.committedTransactions();
    await sleep(seconds * 1000);
    return ((await this.committedTransactions()) - before) / seconds;
  }

  async beginWindow(): Promise<void> {
    this.windowStart = { transactions: await this.committedTransactions(), probeTransactions: this.database.transactionsIssued, broker: await readBrokerCounters() };
    await this.sampler.start();
  }

  async endWindow(): Promise<MeasurementWindow> {
    if (!this.windowStart) throw new Error('endWindow without beginWindow');
    const resources = await this.sampler.stop();
    const broker = brokerTraffic(this.windowStart.broker, await readBrokerCounters(), this.instance.amqpPrefix);
    await sleep(STATISTICS_FLUSH_MS);
    const transactions = (await this.committedTransactions()) - this.windowStart.transactions - (this.database.transactionsIssued - this.windowStart.probeTransactions);
    return { resources, transactions, broker };
  }

  /** Runs a load plan in the client and returns every trigger as the client saw it. */
  async trigger(plan: LoadPlan): Promise<TriggerRecord[]> {
    const { triggers } = await this.client.request({ type: 'run', plan }, ClientFinished, plan.abandonAt - Date.now() + 30_000, 'load results');
    return triggers;
  }

  async receiverProgress(): Promise<ReceiverProgress> {
    return this.receiver.request({ type: 'progress' }, ReceiverProgress, PROGRESS_TIMEOUT_MS, 'receiver progress');
  }

  async pages(): Promise<Page[]> {
    return (await this.receiver.request({ type: 'pages' }, ReceiverPages, 60_000, 'pages')).pages;
  }

  /**
   * Waits until every alert the service recorded has been paged and no send is left without an outcome (so a
   * resend of a cut-off send would be seen), or until the deadline (epoch ms).
   */
  async waitForPages(deadline: number, log: (line: string) => void): Promise<WaitForPagesResult> {
    const started = Date.now();
    let lastReport = 0;
    while (Date.now() < deadline) {
      const [progress, alerts] = await Promise.all([this.receiverProgress(), this.database.alertCount()]);
      if (alerts > 0 && progress.distinctAlerts >= alerts && (await this.database.unresolvedAttempts()) === 0) {
        // Later repeats of a page (duplicates) get a moment to show up too.
        await sleep(2000);
        return { settled: true, waitedSeconds: (Date.now() - started) / 1000 };
      }
      if (Date.now() - lastReport >= 10_000) {
        lastReport = Date.now();
        log(`  waiting for pages: ${progress.distinctAlerts.toLocaleString('en-US')} of ${alerts.toLocaleString('en-US')} alerts paged`);
      }
      await sleep(1000);
    }
    return { settled: false, waitedSeconds: (Date.now() - started) / 1000 };
  }

  private committedTransactions(): Promise<number> {
    return this.monitor.committedTransactions(this.instance.databaseName);
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)));
}
