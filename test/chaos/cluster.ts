import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import amqp from 'amqplib';
import pg from 'pg';
import { inject } from 'vitest';
import { deleteDelayCascade } from '../../src/infra/delay-cascade.js';
import { brokerNames } from '../../src/infra/broker-messages.js';
import { HttpClient, type HttpResponse, type RequestOptions } from '../support/app.js';
import { brokerServing, rabbitmqctl } from '../support/broker-control.js';
import { waitFor } from '../support/wait.js';

const repositoryRoot = fileURLToPath(new URL('../../', import.meta.url));
const cliEntry = join(repositoryRoot, 'bin/alertops.mjs');
const run = promisify(execFile);

/** The environment every service process of a chaos test gets: one database, one broker prefix, fast sweeps. */
export function serviceEnvironment(options: { databaseUrl: string; amqpPrefix: string; smtpUrl?: string }): Record<string, string> {
  return {
    NODE_ENV: 'test',
    // Warnings (listener leaks and the like) name their origin in the process logs.
    NODE_OPTIONS: '--trace-warnings',
    DATABASE_URL: options.databaseUrl,
    AMQP_URL: inject('amqpUrl'),
    AMQP_PREFIX: options.amqpPrefix,
    JWT_SECRET: 'chaos-secret-that-is-long-enough-for-hs256-signing',
    WEBHOOK_SIGNING_KEY: 'chaos-webhook-signing-key-long-enough-to-use',
    WEBHOOK_ALLOW_PRIVATE: 'true',
    ...(options.smtpUrl ? { SMTP_URL: options.smtpUrl } : {}),
    SWEEPER_GRACE_SECONDS: '2',
    SWEEPER_INTERVAL_SECONDS: '1',
    LOG_LEVEL: 'warn',
  };
}

/** A deterministic pseudo-random sequence (mulberry32), so a failing chaos run can be replayed by its seed. */
export function seededRandom(seed: number): { next(): number; between(low: number, high: number): number; pick<T>(items: readonly T[]): T } {
  let state = seed >>> 0;
  const next = () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
  return {
    next,
    between: (low, high) => low + (high - low) * next(),
    pick: (items) => items[Math.floor(next() * items.length)]!,
  };
}

/** Resolves after `ms`: pacing of load and of injected outages, never a substitute for waiting on a condition. */
export function pause(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

export interface ServiceProcess {
  name: string;
  role: 'start' | 'api' | 'worker';
  pid: number;
  url: string | null;
  http: HttpClient | null;
  logFile: string;
  /** Answered /readyz with 200 once (workers: as soon as started). */
  ready: boolean;
  /** Set when the test killed or stopped it on purpose. */
  stoppedByTest: boolean;
  exit: { code: number | null; signal: NodeJS.Signals | null } | null;
  exited: Promise<void>;
  child: ChildProcess;
}

/**
 * AlertOps service processes started the way an operator starts them (`bin/alertops.mjs start`), side by side on
 * one database and one broker prefix, each logging to its own file. Tracks which exits the test caused and which
 * it did not: a process that dies by itself is a finding.
 */
export class ServiceCluster {
  readonly processes: ServiceProcess[] = [];
  readonly logDirectory = mkdtempSync(join(tmpdir(), 'alertops-chaos-'));
  private started = 0;

  constructor(private readonly env: Record<string, string>) {}

  live(): ServiceProcess[] {
    return this.processes.filter((service) => service.exit === null && !service.stoppedByTest);
  }

  /** Live processes that serve the API and have been ready once. */
  serving(): ServiceProcess[] {
    return this.live().filter((service) => service.ready && service.http !== null);
  }

  /** Processes that exited although the test did not stop them. */
  unexpectedExits(): ServiceProcess[] {
    return this.processes.filter((service) => service.exit !== null && !service.stoppedByTest);
  }

  /** Starts one process and waits until it answers /readyz with 200 (workers: until it has run a while without exiting). */
  async start(role: ServiceProcess['role'] = 'start'): Promise<ServiceProcess> {
    const name = `${role}-${++this.started}`;
    const port = role === 'worker' ? 0 : await freePort();
    const logFile = join(this.logDirectory, `${name}.log`);
    const output = openSync(logFile, 'a');
    const child = spawn(process.execPath, [cliEntry, role], {
      cwd: repositoryRoot,
      env: { ...process.env, ...this.env, PORT: String(port) },
      stdio: ['ignore', output, output],
    });
    closeSync(output);
    const url = role === 'worker' ? null : `http://127.0.0.1:${port}`;
    const service: ServiceProcess = {
      name,
      role,
      pid: child.pid ?? -1,
      url,
      http: url ? new HttpClient(url) : null,
      logFile,
      ready: role === 'worker',
      stoppedByTest: false,
      exit: null,
      exited: new Promise((resolve) => child.once('exit', (code, signal) => {
        service.exit = { code, signal };
        resolve();
      })),
      child,
    };
    this.processes.push(service);
    if (service.http) {
      const http = service.http;
      await waitFor(
        `${name} to answer /readyz`,
        async () => {
          if (service.exit) throw new Error(`${name} exited (${JSON.stringify(service.exit)}):\n${this.tail(service)}`);
          return (await http.get('/readyz')).status === 200;
        },
        { timeoutMs: 60_000, intervalMs: 200 },
      );
      service.ready = true;
    }
    return service;
  }

  /** kill -9: no shutdown hooks, sockets cut, whatever was in flight is left half done. */
  async kill(service: ServiceProcess): Promise<void> {
    service.stoppedByTest = true;
    if (service.exit === null) service.child.kill('SIGKILL');
    await service.exited;
  }

  /** Graceful stop (SIGTERM), escalating to SIGKILL when it takes too long. */
  async stop(service: ServiceProcess): Promise<void> {
    service.stoppedByTest = true;
    if (service.exit !== null) return;
    service.child.kill('SIGTERM');
    const forced = setTimeout(() => service.child.kill('SIGKILL'), 20_000);
    await service.exited;
    clearTimeout(forced);
  }

  async stopAll(): Promise<void> {
    await Promise.all(this.processes.map((service) => this.stop(service)));
  }

  /** The last lines a process logged, for failure messages. */
  tail(service: ServiceProcess, lines = 30): string {
    try {
      return readFileSync(service.logFile, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
    } catch {
      return '(no log)';
    }
  }

  /** Log lines at level error or above, over every process that ran. */
  errorLines(): { process: string; line: string }[] {
    const found: { process: string; line: string }[] = [];
    for (const service of this.processes) {
      let text = '';
      try {
        text = readFileSync(service.logFile, 'utf8');
      } catch {
        continue;
      }
      for (const line of text.split('\n')) {
        if (!line.trim()) continue;
        const level = /"level":(\d+)/.exec(line)?.[1];
        if (level === undefined || Number(level) >= 50) found.push({ process: service.name, line: line.slice(0, 600) });
      }
    }
    return found;
  }

  /**
   * An HTTP client spread over the live API processes: a request that meets a dead process (connection refused,
   * reset) is retried on the next one until the deadline. Only for requests that are safe to repeat. An answer is
   * never retried: a 5xx from a live process is returned, and recorded in `serverErrors`.
   */
  http(options: { deadlineMs?: number } = {}): ClusterHttp {
    return new ClusterHttp(this, options.deadlineMs ?? 30_000);
  }
}

export class ClusterHttp {
  private turn = 0;
  /** Requests sent again because a process could not be reached. */
  retries = 0;
  /** Every 5xx answer, with the process that gave it: each one is a failure of the service. */
  readonly serverErrors: string[] = [];

  constructor(
    private readonly cluster: ServiceCluster,
    private readonly deadlineMs: number,
  ) {}

  get<T = any>(path: string, options: RequestOptions = {}) {
    return this.request<T>('GET', path, undefined, options);
  }

  post<T = any>(path: string, body?: unknown, options: RequestOptions = {}) {
    return this.request<T>('POST', path, body, options);
  }

  async request<T>(method: string, path: string, body: unknown, options: RequestOptions = {}): Promise<HttpResponse<T>> {
    const deadline = Date.now() + this.deadlineMs;
    let lastProblem = 'no API process was live';
    for (let attempt = 0; ; attempt++) {
      const apis = this.cluster.serving();
      const service = apis.length ? apis[this.turn++ % apis.length]! : null;
      if (service) {
        let response: HttpResponse<T> | null = null;
        try {
          response = await service.http!.request<T>(method, path, body, options);
        } catch (error) {
          lastProblem = `${service.name}: ${(error as Error).message} ${String((error as { cause?: unknown }).cause ?? '')}`;
        }
        if (response) {
          if (response.status >= 500) {
            this.serverErrors.push(`${method} ${path} -> ${service.name} answered ${response.status}: ${JSON.stringify(response.body).slice(0, 300)}`);
          }
          return response;
        }
      }
      if (Date.now() > deadline) throw new Error(`${method} ${path} kept failing until its deadline: ${lastProblem}`);
      this.retries++;
      await pause(Math.min(1000, 50 * 2 ** Math.min(attempt, 5)));
    }
  }
}

/** `rabbitmqctl stop_app`, a pause, then `start_app` — in a finally block, so the shared broker always comes back. */
export async function restartBroker(options: { down?: (elapsedMs: number) => Promise<void> } = {}): Promise<{ downMs: number }> {
  const stoppedAt = Date.now();
  try {
    await run(rabbitmqctl, ['stop_app'], { timeout: 120_000 });
    await options.down?.(Date.now() - stoppedAt);
  } finally {
    await run(rabbitmqctl, ['start_app'], { timeout: 180_000 });
    await brokerServing(inject('amqpUrl'));
  }
  return { downMs: Date.now() - stoppedAt };
}


/**
 * Terminates every connection to `databaseUrl`'s database (what a database restart or failover does to its
 * clients), from a session on the maintenance database. Returns how many backends were terminated.
 */
export async function terminateDatabaseConnections(databaseUrl: string): Promise<number> {
  const url = new URL(databaseUrl);
  const database = decodeURIComponent(url.pathname.slice(1));
  url.pathname = '/postgres';
  const client = new pg.Client({ connectionString: url.toString() });
  await client.connect();
  try {
    const { rows } = await client.query<{ terminated: string }>(
      `select count(*) filter (where pg_terminate_backend(pid)) as terminated
         from pg_stat_activity where datname = $1 and pid <> pg_backend_pid()`,
      [database],
    );
    return Number(rows[0]!.terminated);
  } finally {
    await client.end();
  }
}

/** Removes the delay cascade and work queues of a broker prefix from the shared broker. */
export async function deleteBrokerPrefix(amqpUrl: string, prefix: string): Promise<void> {
  const connection = await amqp.connect(amqpUrl);
  try {
    await deleteDelayCascade(connection, brokerNames(prefix));
  } finally {
    await connection.close().catch(() => undefined);
  }
}
