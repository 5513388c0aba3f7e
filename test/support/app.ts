import amqp from 'amqplib';
import { inject } from 'vitest';
import { type Config, loadConfig } from '../../src/config.js';
import { deleteDelayCascade } from '../../src/infra/delay-cascade.js';
import { createLogger } from '../../src/infra/logger.js';
import { brokerNames } from '../../src/infra/broker-messages.js';
import { type Runtime, startRuntime } from '../../src/runtime.js';
import { createTestDatabase, type TestDatabase, uniqueName } from './database.js';

export interface TestApp {
  url: string;
  runtime: Runtime;
  database: TestDatabase;
  config: Config;
  http: HttpClient;
  /** Stops the service and starts it again on the same database and broker names, with these settings changed. */
  restart(env: Record<string, string>): Promise<void>;
  stop(): Promise<void>;
}

/**
 * The whole service (API and workers) on a random port, with its own database and broker names, and its event log
 * where the test project keeps it (`provide: { eventStore }` in vitest.config.ts) unless `env` says otherwise.
 */
export async function startTestApp(env: Record<string, string> = {}): Promise<TestApp> {
  const database = await createTestDatabase();
  const eventStore = inject('eventStore');
  const baseEnv = {
    ...(eventStore ? { EVENT_STORE: eventStore } : {}),
    NODE_ENV: 'test',
    PORT: '0',
    DATABASE_URL: database.url,
    AMQP_URL: inject('amqpUrl'),
    AMQP_PREFIX: uniqueName('alertops_test').toLowerCase(),
    JWT_SECRET: 'test-secret-that-is-long-enough-for-hs256-signing',
    WEBHOOK_SIGNING_KEY: 'test-webhook-signing-key-that-is-long-enough',
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
    ...env,
  };
  const start = async (config: Config) =>
    startRuntime({ config, api: true, workers: true, migrate: false, logger: createLogger(config.logLevel) });
  const config = loadConfig(baseEnv);
  const runtime = await start(config);
  const app: TestApp = {
    url: runtime.url!,
    runtime,
    database,
    config,
    http: new HttpClient(runtime.url!),
    async restart(changes) {
      await app.runtime.stop();
      app.config = loadConfig({ ...baseEnv, ...changes });
      app.runtime = await start(app.config);
      app.url = app.runtime.url!;
      app.http = new HttpClient(app.url);
    },
    async stop() {
      await app.runtime.stop();
      const connection = await amqp.connect(config.amqpUrl);
      try {
        await deleteDelayCascade(connection, brokerNames(config.amqpPrefix));
      } finally {
        await connection.close();
      }
      await database.drop();
    },
  };
  return app;
}

export interface HttpResponse<T = any> {
  status: number;
  headers: Headers;
  body: T;
}

export interface RequestOptions {
  token?: string;
  headers?: Record<string, string>;
  /** Sent as-is instead of JSON-encoding `body`. */
  raw?: string;
}

export class HttpClient {
  constructor(readonly baseUrl: string) {}

  get<T = any>(path: string, options: RequestOptions = {}) {
    return this.request<T>('GET', path, undefined, options);
  }
  post<T = any>(path: string, body?: unknown, options: RequestOptions = {}) {
    return this.request<T>('POST', path, body, options);
  }
  patch<T = any>(path: string, body?: unknown, options: RequestOptions = {}) {
    return this.request<T>('PATCH', path, body, options);
  }
  put<T = any>(path: string, body?: unknown, options: RequestOptions = {}) {
    return this.request<T>('PUT', path, body, options);
  }
  delete<T = any>(path: string, options: RequestOptions = {}) {
    return this.request<T>('DELETE', path, undefined, options);
  }

  async request<T>(method: string, path: string, body: unknown, options: RequestOptions = {}): Promise<HttpResponse<T>> {
    const headers: Record<string, string> = { ...options.headers };
    if (options.token) headers.authorization = `Bearer ${options.token}`;
    let payload: string | undefined = options.raw;
    if (payload === undefined && body !== undefined) payload = JSON.stringify(body);
    if (payload !== undefined && !Object.keys(headers).some((name) => name.toLowerCase() === 'content-type')) {
      headers['content-type'] = 'application/json';
    }
    const response = await fetch(this.baseUrl + path, { method, headers, body: payload });
    const text = await response.text();
    let parsed: unknown = text;
    if (text && /json/.test(response.headers.get('content-type') ?? '')) parsed = JSON.parse(text);
    return { status: response.status, headers: response.headers, body: parsed as T };
  }
}
