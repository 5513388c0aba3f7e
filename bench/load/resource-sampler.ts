import { CLOCK_TICKS, type ProcessCpu, processesNamed, readMachineCpu, readProcessCpu, readProcessMemory, uptimeTicks } from './process-stats.js';

export const PROCESS_GROUPS = {
  service: 'service',
  loadClient: 'load client',
  receiver: 'webhook receiver',
  rabbitmq: 'RabbitMQ (beam.smp, whole broker)',
  postgresBackends: 'PostgreSQL backends of the bench database',
  postgresServer: 'PostgreSQL, every process of the server',
} as const;
export type ProcessGroupName = (typeof PROCESS_GROUPS)[keyof typeof PROCESS_GROUPS];

export interface ProcessSources {
  service: () => number[];
  loadClient: () => number[];
  receiver: () => number[];
  postgresBackends: () => Promise<number[]>;
}

export interface ResourceUsage {
  seconds: number;
  /** CPU seconds per group, and the share of one core they amount to over the window. */
  cpu: { group: ProcessGroupName; cpuSeconds: number; coreShare: number }[];
  /** Busy share of all cores of the machine over the window (1 = every core busy). */
  machineBusyShare: number;
  /**
   * Cores kept busy by everything but the service, the load client, the receiver and the bench database's backends:
   * RabbitMQ, PostgreSQL's own background work, the bench orchestrator, and any other work on the machine.
   */
  restOfMachineCores: number;
  servicePeakRssMiB: number | null;
}

const SAMPLE_INTERVAL_MS = 500;

/** CPU of a set of processes over a window; a process born inside the window counts from zero. */
class CpuTally {
  private readonly first = new Map<number, number>();
  private readonly last = new Map<number, number>();

  observe(pid: number, ticks: number, bornInWindow: boolean): void {
    if (!this.first.has(pid)) this.first.set(pid, bornInWindow ? 0 : ticks);
    this.last.set(pid, ticks);
  }

  cpuSeconds(): number {
    let ticks = 0;
    for (const [pid, last] of this.last) ticks += last - this.first.get(pid)!;
    return ticks / CLOCK_TICKS;
  }
}

/**
 * Samples /proc twice a second over one scenario: CPU per process group, the machine's busy share and the
 * service's resident memory. A process that exits between samples loses at most its last half second.
 */
export class ResourceSampler {
  private readonly tallies = new Map<ProcessGroupName, CpuTally>();
  private windowStartTicks = 0;
  private startedAt = 0;
  private machineAtStart = readMachineCpu();
  private timer: NodeJS.Timeout | null = null;
  private sampling: Promise<void> | null = null;
  private servicePeakRssKiB: number | null = null;

  constructor(private readonly sources: ProcessSources) {
    for (const group of Object.values(PROCESS_GROUPS)) this.tallies.set(group, new CpuTally());
  }

  async start(): Promise<void> {
    this.windowStartTicks = uptimeTicks();
    this.startedAt = performance.now();
    this.machineAtStart = readMachineCpu();
    await this.sampleNow();
    this.timer = setInterval(() => void this.sampleNow(), SAMPLE_INTERVAL_MS);
  }

  /** Takes a sample now, e.g. just before a process is killed, so its CPU up to that moment counts. */
  sampleNow(): Promise<void> {
    this.sampling ??= this.sample().finally(() => {
      this.sampling = null;
    });
    return this.sampling;
  }

  async stop(): Promise<ResourceUsage> {
    if (this.timer) clearInterval(this.timer);
    await this.sampling;
    await this.sampleNow();
    const seconds = (performance.now() - this.startedAt) / 1000;
    const machine = readMachineCpu();
    const busy = machine.busyTicks - this.machineAtStart.busyTicks;
    const total = machine.totalTicks - this.machineAtStart.totalTicks;
    const ours = [PROCESS_GROUPS.service, PROCESS_GROUPS.loadClient, PROCESS_GROUPS.receiver, PROCESS_GROUPS.postgresBackends].reduce(
      (sum, group) => sum + this.tallies.get(group)!.cpuSeconds(),
      0,
    );
    return {
      seconds,
      cpu: [...this.tallies].map(([group, tally]) => ({ group, cpuSeconds: tally.cpuSeconds(), coreShare: tally.cpuSeconds() / seconds })),
      machineBusyShare: total > 0 ? busy / total : 0,
      restOfMachineCores: Math.max(0, busy / CLOCK_TICKS - ours) / seconds,
      servicePeakRssMiB: this.servicePeakRssKiB === null ? null : this.servicePeakRssKiB / 1024,
    };
  }

  /** Resident memory of the service's live process now, in MiB. */
  serviceRssMiB(): number | null {
    const pid = this.sources.service().at(-1);
    const memory = pid === undefined ? null : readProcessMemory(pid);
    return memory ? memory.rssKiB / 1024 : null;
  }

  private async sample(): Promise<void> {
    const backends = await this.sources.postgresBackends().catch(() => [] as number[]);
    this.observe(PROCESS_GROUPS.service, this.sources.service());
    this.observe(PROCESS_GROUPS.loadClient, this.sources.loadClient());
    this.observe(PROCESS_GROUPS.receiver, this.sources.receiver());
    this.observe(PROCESS_GROUPS.rabbitmq, processesNamed('beam.smp'));
    this.observe(PROCESS_GROUPS.postgresBackends, backends);
    // The postmaster's reaped-children time holds the CPU of backends that ended during the window.
    const postgres = processesNamed('postgres');
    this.observe(PROCESS_GROUPS.postgresServer, postgres, (cpu) => (postgres.includes(cpu.parentPid) ? 0 : cpu.reapedChildTicks));
    for (const pid of this.sources.service()) {
      const memory = readProcessMemory(pid);
      if (memory) this.servicePeakRssKiB = Math.max(this.servicePeakRssKiB ?? 0, memory.peakRssKiB, memory.rssKiB);
    }
  }

  private observe(group: ProcessGroupName, pids: number[], extraTicks: (cpu: ProcessCpu) => number = () => 0): void {
    const tally = this.tallies.get(group)!;
    for (const pid of pids) {
      const cpu = readProcessCpu(pid);
      if (cpu) tally.observe(pid, cpu.ownTicks + extraTicks(cpu), cpu.startTicks >= this.windowStartTicks);
    }
  }
}
