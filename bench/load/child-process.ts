import { type ChildProcess, fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';

const ChildFailure = z.object({ type: z.literal('failed'), error: z.string() });

export const REPOSITORY_ROOT = fileURLToPath(new URL('../../', import.meta.url));

interface Waiter {
  accept(message: unknown): boolean;
  reject(error: Error): void;
}

/**
 * A bench process forked from the orchestrator (run from TypeScript through tsx), spoken to over IPC.
 * Every wait for an answer has a deadline; a child that reports a failure or exits fails every wait.
 */
export class BenchChild {
  private readonly child: ChildProcess;
  private readonly inbox: unknown[] = [];
  private readonly waiters = new Set<Waiter>();
  private exited: Error | null = null;
  private readonly exitPromise: Promise<void>;

  constructor(
    readonly name: string,
    moduleUrl: URL,
  ) {
    this.child = fork(fileURLToPath(moduleUrl), [], {
      cwd: REPOSITORY_ROOT,
      execArgv: ['--import', 'tsx'],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    this.child.on('message', (message) => this.deliver(message));
    this.exitPromise = new Promise((resolve) => {
      this.child.once('exit', (code, signal) => {
        this.exited = new Error(`${name} exited (${signal ?? `code ${code}`})`);
        for (const waiter of this.waiters) waiter.reject(this.exited);
        this.waiters.clear();
        resolve();
      });
    });
  }

  get pid(): number {
    if (this.child.pid === undefined) throw new Error(`${this.name} has no process id`);
    return this.child.pid;
  }

  send(message: unknown): void {
    if (this.exited) throw this.exited;
    this.child.send(message as object);
  }

  /** The next message matching `schema` (possibly one that arrived earlier and was not yet taken). */
  next<T>(schema: z.ZodType<T>, timeoutMs: number, what: string): Promise<T> {
    for (let index = 0; index < this.inbox.length; index++) {
      const parsed = schema.safeParse(this.inbox[index]);
      if (parsed.success) {
        this.inbox.splice(index, 1);
        return Promise.resolve(parsed.data);
      }
    }
    if (this.exited) return Promise.reject(this.exited);
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters.delete(waiter);
        reject(new Error(`${this.name}: no ${what} within ${Math.round(timeoutMs / 1000)} s`));
      }, timeoutMs);
      const waiter: Waiter = {
        accept: (message) => {
          const parsed = schema.safeParse(message);
          if (!parsed.success) return false;
          clearTimeout(timer);
          resolve(parsed.data);
          return true;
        },
        reject: (error) => {
          clearTimeout(timer);
          reject(error);
        },
      };
      this.waiters.add(waiter);
    });
  }

  async request<T>(message: unknown, schema: z.ZodType<T>, timeoutMs: number, what: string): Promise<T> {
    const answer = this.next(schema, timeoutMs, what);
    this.send(message);
    return answer;
  }

  /** Lets the child exit by closing its IPC channel; kills it when it does not within the deadline. */
  async stop(timeoutMs = 5000): Promise<void> {
    if (this.exited) return;
    if (this.child.connected) this.child.disconnect();
    const deadline = new Promise<'late'>((resolve) => setTimeout(() => resolve('late'), timeoutMs).unref());
    if ((await Promise.race([this.exitPromise.then(() => 'exited' as const), deadline])) === 'late') {
      this.child.kill('SIGKILL');
      await this.exitPromise;
    }
  }

  private deliver(message: unknown): void {
    const failure = ChildFailure.safeParse(message);
    if (failure.success) {
      const error = new Error(`${this.name} failed: ${failure.data.error}`);
      for (const waiter of this.waiters) waiter.reject(error);
      this.waiters.clear();
      return;
    }
    for (const waiter of this.waiters) {
      if (waiter.accept(message)) {
        this.waiters.delete(waiter);
        return;
      }
    }
    this.inbox.push(message);
  }
}

/** For child modules: handles each parsed request from the orchestrator; reports a failure instead of dying silently. */
export function serveOrchestrator<T>(schema: z.ZodType<T>, handle: (request: T) => Promise<void> | void): void {
  const send = (message: unknown) => process.send?.(message as object);
  process.on('message', (raw) => {
    const parsed = schema.safeParse(raw);
    if (!parsed.success) {
      send({ type: 'failed', error: `unexpected message: ${parsed.error.message}` });
      return;
    }
    Promise.resolve()
      .then(() => handle(parsed.data))
      .catch((error: unknown) => send({ type: 'failed', error: error instanceof Error ? (error.stack ?? error.message) : String(error) }));
  });
  process.on('disconnect', () => process.exit(0));
}

export function reply(message: unknown): void {
  process.send?.(message as object);
}
