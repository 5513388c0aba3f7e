import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import amqp from 'amqplib';
import { z } from 'zod';
import { deleteDelayCascade } from '../../src/infra/delay-cascade.js';
import { dropDatabase } from '../../src/infra/postgres.js';
import { brokerNames } from '../../src/infra/broker-messages.js';
import { REPOSITORY_ROOT } from './child-process.js';

export const BUILT_CLI = join(REPOSITORY_ROOT, 'dist', 'cli.js');

const READY_TIMEOUT_MS = 60_000;
const STOP_TIMEOUT_MS = 15_000;

/** Where one service under test keeps its state: a database and broker names of its own, and its port. */
export interface ServiceInstance {
  databaseUrl: string;
  databaseName: string;
  amqpUrl: string;
  amqpPrefix: string;
  port: number;
  baseUrl: string;
  env: NodeJS.ProcessEnv;
}

function databaseName(databaseUrl: string): string {
  return decodeURIComponent(new URL(databaseUrl).pathname.replace(/^\//, ''));
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

export async function newServiceInstance(baseDatabaseUrl: string, amqpUrl: string, label: string): Promise<ServiceInstance> {
  const suffix = `${Date.now().toString(36)}_${randomBytes(3).toString('hex')}`;
  const url = new URL(baseDatabaseUrl);
  url.pathname = `/alertops_load_${label.replaceAll('-', '_')}_${suffix}`;
  const port = await freePort();
  const amqpPrefix = `alertops_load_${suffix}`;
  return {
    databaseUrl: url.toString(),
    databaseName: databaseName(url.toString()),
    amqpUrl,
    amqpPrefix,
    port,
    baseUrl: `http://127.0.0.1:${port}`,
    env: {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      NODE_ENV: 'development',
      PORT: String(port),
      DATABASE_URL: url.toString(),
      AMQP_URL: amqpUrl,
      AMQP_PREFIX: amqpPrefix,
      LOG_LEVEL: 'warn',
      WEBHOOK_ALLOW_PRIVATE: 'true',
      JWT_SECRET: randomBytes(32).toString('hex'),
      WEBHOOK_SIGNING_KEY: randomBytes(32).toString('hex'),
      // One team offers the whole storm here: the per-team quotas would refuse most of it by design.
      QUOTA_TRIGGERS_PER_MINUTE: '10000000',
      QUOTA_OPEN_ALERTS: '10000000',
    },
  };
}

/** What the service logged at warn level or above (pino JSON lines), and its last lines for error messages. */
export interface ServiceLog {
  warnings: number;
  errors: number;
  /** Messages at warn level or above, with how often each was logged. */
  messages: Map<string, number>;
  lastLines: string[];
}

const PinoLine = z.object({ level: z.number(), msg: z.string().optional() });
const PINO_WARN = 40;
const PINO_ERROR = 50;

/**
 * The service as a user runs it: `alertops start` from the built code, a process of its own. It can be killed
 * (SIGKILL, nothing flushed) and started again on the same database, broker names and port.
 */
export class ServiceProcess {
  private process: ChildProcess | null = null;
  private exit: Promise<void> = Promise.resolve();
  readonly pids: number[] = [];
  readonly log: ServiceLog = { warnings: 0, errors: 0, messages: new Map(), lastLines: [] };

  constructor(readonly instance: ServiceInstance) {
    if (!existsSync(BUILT_CLI)) throw new Error(`${BUILT_CLI} is missing: run \`npm run build\` first`);
  }

  /** Starts a process and resolves once /readyz answers 200; spawnedAt and readyAt are epoch ms. */
  async start(): Promise<{ spawnedAt: number; readyAt: number }> {
    const spawnedAt = Date.now();
    const child = spawn(process.execPath, [BUILT_CLI, 'start'], { cwd: REPOSITORY_ROOT, env: this.instance.env, stdio: ['ignore', 'pipe', 'pipe'] });
    this.process = child;
    if (child.pid !== undefined) this.pids.push(child.pid);
    let exitedWith: string | null = null;
    this.exit = new Promise((resolve) =>
      child.once('exit', (code, signal) => {
        exitedWith = signal ?? `code ${code}`;
        resolve();
      }),
    );
    for (const stream of [child.stdout, child.stderr]) createInterface({ input: stream }).on('line', (line) => this.record(line));

    const deadline = spawnedAt + READY_TIMEOUT_MS;
    while (Date.now() < deadline) {
      if (exitedWith) throw new Error(`the service exited during start-up (${exitedWith}):\n${this.log.lastLines.join('\n')}`);
      const ready = await fetch(`${this.instance.baseUrl}/readyz`, { signal: AbortSignal.timeout(2000) }).then(
        (response) => response.ok,
        () => false,
      );
      if (ready) return { spawnedAt, readyAt: Date.now() };
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    throw new Error(`the service was not ready within ${READY_TIMEOUT_MS / 1000} s:\n${this.log.lastLines.join('\n')}`);
  }

  livePids(): number[] {
    return this.process && this.process.exitCode === null && this.process.signalCode === null && this.process.pid !== undefined ? [this.process.pid] : [];
  }

  /** kill -9: the process gets no chance to finish a send, record an outcome or close a connection. */
  async kill(): Promise<number> {
    const killedAt = Date.now();
    this.process?.kill('SIGKILL');
    await this.exit;
    this.process = null;
    return killedAt;
  }

  async stop(): Promise<void> {
    const child = this.process;
    if (!child) return;
    child.kill('SIGTERM');
    const late = await Promise.race([
      this.exit.then(() => false),
      new Promise<boolean>((resolve) => setTimeout(() => resolve(true), STOP_TIMEOUT_MS).unref()),
    ]);
    if (late) {
      child.kill('SIGKILL');
      await this.exit;
    }
    this.process = null;
  }

  private record(line: string): void {
    let entry: z.infer<typeof PinoLine>;
    try {
      const parsed = PinoLine.safeParse(JSON.parse(line));
      entry = parsed.success ? parsed.data : { level: PINO_ERROR, msg: line.slice(0, 200) };
    } catch {
      // Not a log line: a crash's stack trace, or a runtime warning.
      entry = { level: PINO_ERROR, msg: line.slice(0, 200) };
    }
    if (entry.level >= PINO_ERROR) this.log.errors++;
    else if (entry.level >= PINO_WARN) this.log.warnings++;
    if (entry.level >= PINO_WARN) {
      const message = entry.msg ?? '(no message)';
      this.log.messages.set(message, (this.log.messages.get(message) ?? 0) + 1);
    }
    this.log.lastLines.push(line.length > 500 ? `${line.slice(0, 500)}…` : line);
    if (this.log.lastLines.length > 20) this.log.lastLines.shift();
  }
}

/** Drops the instance's database and deletes its broker topology (and any timers still in it). */
export async function removeServiceState(instance: ServiceInstance): Promise<void> {
  const failures: string[] = [];
  try {
    const connection = await amqp.connect(instance.amqpUrl);
    try {
      await deleteDelayCascade(connection, brokerNames(instance.amqpPrefix));
    } finally {
      await connection.close().catch(() => undefined);
    }
  } catch (error) {
    failures.push(`broker topology ${instance.amqpPrefix}: ${(error as Error).message}`);
  }
  try {
    await dropDatabase(instance.databaseUrl);
  } catch (error) {
    failures.push(`database ${instance.databaseName}: ${(error as Error).message}`);
  }
  if (failures.length) throw new Error(`could not remove ${failures.join('; ')}`);
}
