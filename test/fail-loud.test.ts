import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import amqp from 'amqplib';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { deleteDelayCascade } from '../src/infra/delay-cascade.js';
import { brokerNames } from '../src/infra/broker-messages.js';
import { createTestDatabase, type TestDatabase, uniqueName } from './support/database.js';
import { waitFor } from './support/wait.js';

const repositoryRoot = fileURLToPath(new URL('..', import.meta.url));
const CONFIGURATION_ERROR = 78;

interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

interface Started {
  child: ChildProcess;
  output(): { stdout: string; stderr: string };
  /** Resolves when the process exits; rejects (after killing it) when it is still running at the deadline. */
  exited: Promise<Exit>;
}

/** `alertops <command>` as an operator would run it: a real process with only the environment given here. */
function startCli(env: Record<string, string>, options: { command?: string; deadlineMs?: number } = {}): Started {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli.ts', options.command ?? 'start'], {
    cwd: repositoryRoot,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
  const deadlineMs = options.deadlineMs ?? 30_000;
  const exited = new Promise<Exit>((resolve, reject) => {
    const deadline = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`alertops ${options.command ?? 'start'} still running after ${deadlineMs} ms\nstdout: ${stdout}\nstderr: ${stderr}`));
    }, deadlineMs);
    child.once('exit', (code, signal) => {
      clearTimeout(deadline);
      // Let the pipes drain what the process wrote just before exiting.
      setImmediate(() => resolve({ code, signal, stdout, stderr }));
    });
  });
  return { child, output: () => ({ stdout, stderr }), exited };
}

/** A TCP port on loopback that nothing listens on. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** A port that accepts connections and then never says a word: a wrong service, a black-holing proxy. */
async function silentPort(): Promise<{ port: number; server: Server; sockets: Set<Socket> }> {
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { port: (server.address() as { port: number }).port, server, sockets };
}

describe('alertops start fails loudly instead of running wrong', () => {
  let database: TestDatabase;
  let stateDirectory: string;
  const prefixes: string[] = [];

  /** A valid environment on a fresh database and broker prefix; each case breaks one thing. */
  function validEnv(overrides: Record<string, string> = {}): Record<string, string> {
    const prefix = uniqueName('alertops_failloud').toLowerCase();
    prefixes.push(prefix);
    return {
      NODE_ENV: 'test',
      PORT: '0',
      DATABASE_URL: database.url,
      AMQP_URL: inject('amqpUrl'),
      AMQP_PREFIX: prefix,
      JWT_SECRET: 'fail-loud-test-secret-long-enough-for-hs256',
      LOG_LEVEL: 'info',
      STATE_DIR: stateDirectory,
      ...overrides,
    };
  }

  beforeAll(async () => {
    database = await createTestDatabase();
    stateDirectory = mkdtempSync(join(tmpdir(), 'alertops-fail-loud-'));
  });
  afterAll(async () => {
    const connection = await amqp.connect(inject('amqpUrl'));
    try {
      for (const prefix of prefixes) await deleteDelayCascade(connection, brokerNames(prefix));
    } finally {
      await connection.close();
    }
    await database?.drop();
    rmSync(stateDirectory, { recursive: true, force: true });
  });

  it('starts with a valid configuration, answers /healthz, and exits 0 on SIGTERM (the control)', async () => {
    const started = startCli(validEnv());
    const url = await waitFor(
      'the API to listen',
      () => /"url":"(http:\/\/127\.0\.0\.1:\d+)".*AlertOps API listening/.exec(started.output().stdout)?.[1],
      { timeoutMs: 30_000 },
    ).catch(async (error: Error) => {
      started.child.kill('SIGKILL');
      throw new Error(`${error.message}\n${JSON.stringify(started.output())}`);
    });
    const health = await fetch(`${url}/healthz`);
    expect(health.status).toBe(200);
    expect(await health.json()).toEqual({ status: 'ok' });
    started.child.kill('SIGTERM');
    const exit = await started.exited;
    expect(exit, exit.stderr).toMatchObject({ code: 0, signal: null });
  });

  /** The start-up log lines of a process that served and was then stopped. */
  async function startUpLog(env: Record<string, string>): Promise<{ level: number; msg: string; setting?: string }[]> {
    const started = startCli(env);
    await waitFor('the API to listen', () => /AlertOps API listening/.test(started.output().stdout), { timeoutMs: 30_000 }).catch(
      (error: Error) => {
        started.child.kill('SIGKILL');
        throw new Error(`${error.message}\n${JSON.stringify(started.output())}`);
      },
    );
    started.child.kill('SIGTERM');
    const exit = await started.exited;
    expect(exit.code, exit.stderr).toBe(0);
    return exit.stdout.split('\n').filter((line) => line.startsWith('{')).map((line) => JSON.parse(line));
  }

  it('logs one warning per relaxed setting at start-up under the development defaults, and none in production', async () => {
    const { NODE_ENV: _test, JWT_SECRET: _secret, ...development } = validEnv();
    const warnings = (await startUpLog(development)).filter((line) => line.level === 40 && line.setting);
    expect(warnings.map((line) => line.setting)).toEqual(['NODE_ENV', 'JWT_SECRET', 'WEBHOOK_SIGNING_KEY', 'WEBHOOK_ALLOW_LOOPBACK']);
    expect(warnings.find((line) => line.setting === 'WEBHOOK_ALLOW_LOOPBACK')!.msg).toMatch(/^webhooks may target loopback addresses/);

    const production = validEnv({ NODE_ENV: 'production', WEBHOOK_SIGNING_KEY: 'fail-loud-webhook-signing-key-long-enough' });
    expect((await startUpLog(production)).filter((line) => line.level === 40 && line.setting)).toEqual([]);
    const privateAllowed = validEnv({ NODE_ENV: 'production', WEBHOOK_SIGNING_KEY: 'fail-loud-webhook-signing-key-long-enough', WEBHOOK_ALLOW_PRIVATE: 'true' });
    expect((await startUpLog(privateAllowed)).filter((line) => line.level === 40 && line.setting).map((line) => line.setting)).toEqual([
      'WEBHOOK_ALLOW_PRIVATE',
    ]);
  }, 90_000);

  it('exits 1 naming RabbitMQ (password hidden) when nothing listens at AMQP_URL', async () => {
    const port = await closedPort();
    const exit = await startCli(validEnv({ AMQP_URL: `amqp://guest:guest@127.0.0.1:${port}` })).exited;
    expect(exit.code).toBe(1);
    expect(exit.stderr).toMatch(new RegExp(`^alertops: cannot connect to RabbitMQ at amqp://guest:\\*\\*\\*@127\\.0\\.0\\.1:${port}: connect ECONNREFUSED`));
    expect(exit.stderr).not.toContain('guest:guest');
  });

  it('exits 1 when RabbitMQ refuses the credentials', async () => {
    const broker = new URL(inject('amqpUrl'));
    broker.password = 'not-the-password';
    const exit = await startCli(validEnv({ AMQP_URL: broker.toString() })).exited;
    expect(exit.code).toBe(1);
    expect(exit.stderr).toMatch(/^alertops: cannot connect to RabbitMQ at .*ACCESS.REFUSED/);
    expect(exit.stderr).not.toContain('not-the-password');
  });

  it('exits 1 naming PostgreSQL when nothing listens at DATABASE_URL', async () => {
    const port = await closedPort();
    const exit = await startCli(validEnv({ DATABASE_URL: `postgres://postgres@127.0.0.1:${port}/alertops` })).exited;
    expect(exit.code).toBe(1);
    expect(exit.stderr).toMatch(new RegExp(`^alertops: cannot reach PostgreSQL at postgres://postgres@127\\.0\\.0\\.1:${port}/alertops: connect ECONNREFUSED`));
  });

  it('exits 1 within the connect timeouts, instead of hanging, when a port accepts but never answers', async () => {
    const silent = await silentPort();
    try {
      const [broker, postgres] = await Promise.all([
        startCli(validEnv({ AMQP_URL: `amqp://guest:guest@127.0.0.1:${silent.port}` }), { deadlineMs: 30_000 }).exited,
        startCli(validEnv({ DATABASE_URL: `postgres://postgres@127.0.0.1:${silent.port}/alertops` }), { deadlineMs: 30_000 }).exited,
      ]);
      expect(broker.code, broker.stderr).toBe(1);
      expect(broker.stderr).toMatch(/^alertops: cannot connect to RabbitMQ at .*: connect ETIMEDOUT/);
      expect(postgres.code, postgres.stderr).toBe(1);
      expect(postgres.stderr).toMatch(/^alertops: cannot reach PostgreSQL at .*: timeout/);
    } finally {
      for (const socket of silent.sockets) socket.destroy();
      await new Promise((resolve) => silent.server.close(resolve));
    }
  }, 60_000);

  it('with EVENT_STORE=esdb, exits 1 within 10 s with one line naming EventStoreDB when nothing answers at ESDB_URL', async () => {
    const silent = await silentPort();
    try {
      const [refused, unanswered] = await Promise.all(
        ['esdb://127.0.0.1:1?tls=false', `esdb://127.0.0.1:${silent.port}?tls=false`].map(async (esdbUrl) => {
          const exit = await startCli(validEnv({ EVENT_STORE: 'esdb', ESDB_URL: esdbUrl })).exited;
          return { exit, exitedAt: Date.now() };
        }),
      );
      for (const [{ exit, exitedAt }, reason] of [
        [refused!, /ECONNREFUSED/],
        [unanswered!, /no answer within \d+ ms/],
      ] as const) {
        expect(exit.code, exit.stderr).toBe(1);
        expect(exit.stderr).toMatch(/^alertops: cannot reach EventStoreDB at esdb:\/\/127\.0\.0\.1:\d+\?tls=false: /);
        expect(exit.stderr).toMatch(reason);
        expect(exit.stderr.trim().split('\n')).toHaveLength(1);
        const logged = exit.stdout.split('\n').filter((line) => line.startsWith('{')).map((line) => JSON.parse(line) as { level: number; time: number });
        expect(logged.filter((line) => line.level >= 50)).toEqual([]);
        expect(exit.stdout).not.toContain('AlertOps API listening');
        // Measured from the process's first log line, so that loading the code on a busy machine does not count.
        expect(exitedAt - logged[0]!.time).toBeLessThan(10_000);
      }
    } finally {
      for (const socket of silent.sockets) socket.destroy();
      await new Promise((resolve) => silent.server.close(resolve));
    }
  }, 60_000);

  it.each([
    ['PORT is not a number', { PORT: 'abc' }, /PORT: .*expected number/],
    ['JWT_SECRET is too short', { JWT_SECRET: 'short' }, /JWT_SECRET: JWT_SECRET must be at least 32 characters/],
    ['NODE_ENV=production has no JWT_SECRET', { NODE_ENV: 'production', JWT_SECRET: '' }, /JWT_SECRET: required when NODE_ENV=production/],
    ['DATABASE_URL is not PostgreSQL', { DATABASE_URL: 'mysql://root@127.0.0.1/alertops' }, /DATABASE_URL: /],
    ['AMQP_URL is not a URL', { AMQP_URL: 'rabbit at localhost' }, /AMQP_URL: /],
    ['EVENT_STORE=esdb has no ESDB_URL', { EVENT_STORE: 'esdb' }, /ESDB_URL: required when EVENT_STORE=esdb/],
    ['ESDB_URL is not an EventStoreDB connection string', { EVENT_STORE: 'esdb', ESDB_URL: 'http://127.0.0.1:2113' }, /ESDB_URL: ESDB_URL must be an esdb:\/\//],
    ['WEBHOOK_ALLOW_PRIVATE is not a boolean', { WEBHOOK_ALLOW_PRIVATE: 'maybe' }, /WEBHOOK_ALLOW_PRIVATE: /],
    ['WEBHOOK_ALLOW_LOOPBACK is not a boolean', { WEBHOOK_ALLOW_LOOPBACK: 'sometimes' }, /WEBHOOK_ALLOW_LOOPBACK: /],
    [
      'NODE_ENV=production has no WEBHOOK_SIGNING_KEY',
      { NODE_ENV: 'production', WEBHOOK_SIGNING_KEY: '' },
      /WEBHOOK_SIGNING_KEY: required when NODE_ENV=production/,
    ],
    ['WEBHOOK_SIGNING_KEY is too short', { WEBHOOK_SIGNING_KEY: 'short' }, /WEBHOOK_SIGNING_KEY: WEBHOOK_SIGNING_KEY must be at least 32 characters/],
  ])('exits with the configuration error code, naming the variable, when %s', async (_, overrides, message) => {
    const exit = await startCli(validEnv(overrides)).exited;
    expect(exit.code, exit.stderr).toBe(CONFIGURATION_ERROR);
    expect(exit.stderr).toMatch(/^alertops: invalid configuration:\n/);
    expect(exit.stderr).toMatch(message);
    expect(exit.stdout).not.toContain('AlertOps API listening');
  });

  describe('a database schema this code does not match', () => {
    let schemaDatabase: TestDatabase;
    beforeAll(async () => {
      schemaDatabase = await createTestDatabase();
      await schemaDatabase.pool.query(`insert into schema_migrations (version, name) values (9999, 'from_the_future')`);
    });
    afterAll(async () => {
      await schemaDatabase?.drop();
    });

    it.each(['start', 'api', 'worker', 'migrate'])('alertops %s exits 1 on a schema newer than the code, and changes nothing', async (command) => {
      const exit = await startCli(validEnv({ DATABASE_URL: schemaDatabase.url }), { command }).exited;
      expect(exit.code, exit.stderr).toBe(1);
      expect(exit.stderr).toMatch(/^alertops: database schema is at version 9999, newer than this code knows \(\d+\)/);
      const { rows } = await schemaDatabase.pool.query<{ version: number }>('select max(version) as version from schema_migrations');
      expect(rows[0]!.version).toBe(9999);
    });

    it('alertops api exits 1 on a schema behind the code and says to migrate', async () => {
      const behind = await createTestDatabase({ migrate: false });
      try {
        const exit = await startCli(validEnv({ DATABASE_URL: behind.url }), { command: 'api' }).exited;
        expect(exit.code, exit.stderr).toBe(1);
        expect(exit.stderr).toMatch(/^alertops: database schema is at version 0, this code needs \d+: run `alertops migrate`/);
      } finally {
        await behind.drop();
      }
    });
  });

  it('exits 1 naming the queue when the broker holds a conflicting classic queue where the cascade needs a quorum one', async () => {
    const env = validEnv();
    const names = brokerNames(env.AMQP_PREFIX!);
    const connection = await amqp.connect(inject('amqpUrl'));
    try {
      const channel = await connection.createChannel();
      await channel.assertQueue(names.delayLevelQueue(3), { durable: true, arguments: { 'x-queue-type': 'classic', 'x-message-ttl': 1 } });
      const exit = await startCli(env).exited;
      expect(exit.code, exit.stderr).toBe(1);
      expect(exit.stderr).toMatch(new RegExp(`^alertops: RabbitMQ refused the escalation topology: queue '${names.delayLevelQueue(3).replace(/\./g, '\\.')}'`));
      expect(exit.stderr).toMatch(/PRECONDITION/);
      expect(exit.stdout).not.toContain('AlertOps API listening');
      // The broker still holds the operator's queue as it was: nothing was deleted to make room.
      const queue = await channel.checkQueue(names.delayLevelQueue(3));
      expect(queue.queue).toBe(names.delayLevelQueue(3));
      await channel.deleteQueue(names.delayLevelQueue(3));
    } finally {
      await connection.close();
    }
  });
});
