import { connect } from 'node:net';
import type { TestProject } from 'vitest/node';

declare module 'vitest' {
  export interface ProvidedContext {
    databaseUrl: string;
    amqpUrl: string;
    /** Where the test service keeps its event log; the configured default (PostgreSQL) when not provided. */
    eventStore?: 'postgres' | 'memory';
  }
}

const LOCAL_DATABASE_URL = 'postgres://postgres@127.0.0.1:5432/postgres';
const LOCAL_AMQP_URL = 'amqp://guest:guest@127.0.0.1:5672';

/**
 * Where the tests find PostgreSQL and RabbitMQ: DATABASE_URL / AMQP_URL when given; else the local
 * services when they answer; else containers when a Docker engine runs; else a message saying what to start.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const stops: (() => Promise<unknown>)[] = [];
  let databaseUrl = process.env.DATABASE_URL;
  let amqpUrl = process.env.AMQP_URL;

  if (!databaseUrl && (await reachable('127.0.0.1', 5432))) databaseUrl = LOCAL_DATABASE_URL;
  if (!amqpUrl && (await reachable('127.0.0.1', 5672))) amqpUrl = LOCAL_AMQP_URL;

  if (!databaseUrl || !amqpUrl) {
    const containers = await startContainers(!databaseUrl, !amqpUrl).catch((error: Error) => {
      throw new Error(
        'The tests need PostgreSQL and RabbitMQ. Set DATABASE_URL and AMQP_URL, start them locally ' +
          '(127.0.0.1:5432 with trust auth, 127.0.0.1:5672 guest/guest), run `docker compose up -d`, ' +
          `or make a Docker engine available for testcontainers (${error.message}).`,
      );
    });
    databaseUrl ??= containers.databaseUrl;
    amqpUrl ??= containers.amqpUrl;
    stops.push(...containers.stops);
  }

  project.provide('databaseUrl', databaseUrl!);
  project.provide('amqpUrl', amqpUrl!);
  return async () => {
    for (const stop of stops) await stop();
  };
}

function reachable(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host, port, timeout: 1000 });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('timeout', () => {
      socket.destroy();
      resolve(false);
    });
    socket.once('error', () => resolve(false));
  });
}

async function startContainers(needPostgres: boolean, needRabbit: boolean) {
  const { GenericContainer, Wait } = await import('testcontainers');
  const result: { databaseUrl?: string; amqpUrl?: string; stops: (() => Promise<unknown>)[] } = { stops: [] };
  if (needPostgres) {
    const postgres = await new GenericContainer('postgres:15')
      .withEnvironment({ POSTGRES_HOST_AUTH_METHOD: 'trust' })
      .withExposedPorts(5432)
      .withWaitStrategy(Wait.forLogMessage(/database system is ready to accept connections/, 2))
      .start();
    result.databaseUrl = `postgres://postgres@${postgres.getHost()}:${postgres.getMappedPort(5432)}/postgres`;
    result.stops.push(() => postgres.stop());
  }
  if (needRabbit) {
    const rabbit = await new GenericContainer('rabbitmq:3.10')
      .withExposedPorts(5672)
      .withWaitStrategy(Wait.forLogMessage(/Server startup complete/))
      .start();
    result.amqpUrl = `amqp://guest:guest@${rabbit.getHost()}:${rabbit.getMappedPort(5672)}`;
    result.stops.push(() => rabbit.stop());
  }
  return result;
}
