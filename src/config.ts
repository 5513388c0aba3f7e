import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { z } from 'zod';
import type { FlowLimits } from './domain/flow/commands.js';
import type { TracingSettings } from './infra/tracing.js';

const booleanFlag = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'])
  .transform((value) => value === 'true' || value === '1' || value === 'yes');

/** `false` (the default), `true` (one proxy in front), or how many proxies in front append to X-Forwarded-For. */
const proxyHops = z.union([booleanFlag.transform((trusted) => (trusted ? 1 : 0)), z.coerce.number().int().min(1).max(16)]);

/** OTLP over HTTP, protobuf (OpenTelemetry's default) or JSON; gRPC is not offered. */
const OtlpProtocol = z.enum(['http/protobuf', 'http/json'], 'traces are exported over OTLP/HTTP: set http/protobuf or http/json');

const EnvSchema = z.object({
  NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
  PORT: z.coerce.number().int().min(0).max(65535).default(3000),
  DATABASE_URL: z.url({ protocol: /^postgres(ql)?$/ }).default('postgres://postgres@127.0.0.1:5432/alertops'),
  AMQP_URL: z.url({ protocol: /^amqps?$/ }).default('amqp://guest:guest@127.0.0.1:5672'),
  EVENT_STORE: z.enum(['postgres', 'esdb', 'memory']).default('postgres'),
  ESDB_URL: z.string().regex(/^esdb(\+discover)?:\/\/\S+$/, 'ESDB_URL must be an esdb:// or esdb+discover:// connection string').optional(),
  SMTP_URL: z.url({ protocol: /^smtps?$/ }).optional(),
  SMTP_FROM: z.string().min(3).default('AlertOps <alertops@localhost>'),
  JWT_SECRET: z.string().min(32, 'JWT_SECRET must be at least 32 characters').optional(),
  WEBHOOK_SIGNING_KEY: z.string().min(32, 'WEBHOOK_SIGNING_KEY must be at least 32 characters').optional(),
  WEBHOOK_ALLOW_PRIVATE: booleanFlag.default(false),
  WEBHOOK_ALLOW_LOOPBACK: booleanFlag.optional(),
  // Must stay well below the notification attempt lease (30 s).
  WEBHOOK_TIMEOUT_MS: z.coerce.number().int().min(100).max(20_000).default(5000),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  ACCESS_TOKEN_TTL_SECONDS: z.coerce.number().int().min(30).max(86_400).default(900),
  REFRESH_TOKEN_TTL_DAYS: z.coerce.number().int().min(1).max(365).default(30),
  SESSION_MAX_DAYS: z.coerce.number().int().min(1).max(3650).default(90),
  TRUST_PROXY: proxyHops.default(0),
  PUBLIC_URL: z
    .url({ protocol: /^https?$/ })
    .refine((url) => !/[?#]/.test(url), 'PUBLIC_URL must have no query or fragment')
    .transform((url) => url.replace(/\/+$/, ''))
    .optional(),
  ACTION_LINK_TTL_HOURS: z.coerce.number().positive().max(24 * 30).default(24),
  READ_YOUR_WRITES_TIMEOUT_MS: z.coerce.number().int().min(0).max(30_000).default(5000),
  SWEEPER_GRACE_SECONDS: z.coerce.number().min(1).max(3600).default(30),
  SWEEPER_INTERVAL_SECONDS: z.coerce.number().min(0.1).max(3600).default(10),
  MAX_BODY_BYTES: z.coerce.number().int().min(1024).max(10 * 1024 * 1024).default(256 * 1024),
  AMQP_PREFIX: z.string().regex(/^[a-z0-9][a-z0-9._-]*$/).default('alertops'),
  QUOTA_TRIGGERS_PER_MINUTE: z.coerce.number().int().min(1).max(10_000_000).default(6000),
  QUOTA_OPEN_ALERTS: z.coerce.number().int().min(1).max(10_000_000).default(10_000),
  QUOTA_FLOW_NODES: z.coerce.number().int().min(1).max(50).default(50),
  QUOTA_FLOW_REPEAT: z.coerce.number().int().min(0).max(10).default(10),
  QUOTA_NOTIFICATION_ATTEMPTS: z.coerce.number().int().min(1).max(20).default(10),
  QUOTA_MIN_RETRY_BACKOFF_SECONDS: z.coerce.number().min(0).max(3600).default(0.1),
  STATE_DIR: z.string().default('.alertops'),
  METRICS_TOKEN: z
    .string()
    .min(16, 'METRICS_TOKEN must be at least 16 characters')
    .regex(/^[A-Za-z0-9._~+/=-]+$/, 'METRICS_TOKEN must be a bearer token (letters, digits and ._~+/=-)')
    .optional(),
  OTEL_SDK_DISABLED: booleanFlag.default(false),
  OTEL_EXPORTER_OTLP_ENDPOINT: z.url({ protocol: /^https?$/ }).optional(),
  OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: z.url({ protocol: /^https?$/ }).optional(),
  OTEL_EXPORTER_OTLP_PROTOCOL: OtlpProtocol.optional(),
  OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: OtlpProtocol.optional(),
  OTEL_SERVICE_NAME: z.string().min(1).default('alertops'),
  OTEL_RESOURCE_ATTRIBUTES: z.string().optional(),
  OTEL_TRACES_SAMPLER: z
    .enum(['always_on', 'always_off', 'traceidratio', 'parentbased_always_on', 'parentbased_always_off', 'parentbased_traceidratio'])
    .default('parentbased_always_on'),
  OTEL_TRACES_SAMPLER_ARG: z.coerce.number().min(0).max(1).default(1),
  OTEL_BSP_SCHEDULE_DELAY: z.coerce.number().int().min(0).max(600_000).default(5000),
});

export type Config = {
  nodeEnv: 'development' | 'production' | 'test';
  port: number;
  databaseUrl: string;
  amqpUrl: string;
  /** Where the event log lives; `memory` keeps it in this process only (tests and demos). */
  eventStore: 'postgres' | 'esdb' | 'memory';
  esdbUrl: string | undefined;
  smtpUrl: string | undefined;
  smtpFrom: string;
  jwtSecret: string;
  /** Server key every team's webhook signing secret is derived from (with the team id and the secret's generation). */
  webhookSigningKey: string;
  /** Webhook targets may be on private, link-local, unique-local and other non-public networks (loopback included). */
  webhookAllowPrivate: boolean;
  /** Webhook targets may be on loopback (127.0.0.0/8, ::1). */
  webhookAllowLoopback: boolean;
  webhookTimeoutMs: number;
  logLevel: z.infer<typeof EnvSchema>['LOG_LEVEL'];
  accessTokenTtlSeconds: number;
  refreshTokenTtlDays: number;
  /** A session ends this many days after sign-in, however often its refresh token rotates. */
  sessionMaxDays: number;
  /** Proxies in front whose X-Forwarded-For entries are trusted for the client address (0: none, use the socket's). */
  trustProxyHops: number;
  /** Base of the links pages carry (`${publicUrl}/a/<token>`); null: the address the API listens on. */
  publicUrl: string | null;
  actionLinkTtlHours: number;
  readYourWritesTimeoutMs: number;
  sweeperGraceSeconds: number;
  sweeperIntervalSeconds: number;
  maxBodyBytes: number;
  amqpPrefix: string;
  quotas: { triggersPerMinute: number; openAlerts: number };
  flowLimits: FlowLimits;
  /** Bearer token /metrics requires; null: /metrics is open (keep it off the public network). */
  metricsToken: string | null;
  /** OTLP/HTTP trace export (OTEL_* variables); null when no endpoint is set or OTEL_SDK_DISABLED=true. */
  tracing: TracingSettings | null;
  /** Settings that run less safely than production would; start-up logs one warning for each. */
  relaxedSettings: RelaxedSetting[];
};

export interface RelaxedSetting {
  setting: string;
  warning: string;
}

export class ConfigurationError extends Error {
  override name = 'ConfigurationError';
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const blankAsUnset = Object.fromEntries(Object.entries(env).filter(([, value]) => value !== ''));
  const parsed = EnvSchema.safeParse(blankAsUnset);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`);
    throw new ConfigurationError(`invalid configuration:\n  ${problems.join('\n  ')}`);
  }
  const e = parsed.data;
  const problems: string[] = [];
  if (e.EVENT_STORE === 'esdb' && !e.ESDB_URL) problems.push('ESDB_URL: required when EVENT_STORE=esdb');
  if (e.NODE_ENV === 'production') {
    if (e.EVENT_STORE === 'memory') problems.push('EVENT_STORE: memory loses the event log when the process stops; not allowed when NODE_ENV=production');
    if (!e.JWT_SECRET) problems.push('JWT_SECRET: required when NODE_ENV=production');
    if (!e.WEBHOOK_SIGNING_KEY) problems.push('WEBHOOK_SIGNING_KEY: required when NODE_ENV=production');
  }
  if (problems.length > 0) throw new ConfigurationError(`invalid configuration:\n  ${problems.join('\n  ')}`);

  const relaxedSettings: RelaxedSetting[] = [];
  if (blankAsUnset.NODE_ENV === undefined) {
    relaxedSettings.push({
      setting: 'NODE_ENV',
      warning: 'NODE_ENV is not set: running with development defaults (set NODE_ENV=production to deploy)',
    });
  }
  if (e.EVENT_STORE === 'memory') {
    relaxedSettings.push({
      setting: 'EVENT_STORE',
      warning: 'the event log is kept in this process only (EVENT_STORE=memory): it is lost when the process stops and no other process sees it',
    });
  }
  const jwtSecret = e.JWT_SECRET ?? generatedSecret('JWT_SECRET', 'jwt-secret', e.NODE_ENV, e.STATE_DIR, relaxedSettings);
  const webhookSigningKey =
    e.WEBHOOK_SIGNING_KEY ?? generatedSecret('WEBHOOK_SIGNING_KEY', 'webhook-signing-key', e.NODE_ENV, e.STATE_DIR, relaxedSettings);
  const webhookAllowLoopback = e.WEBHOOK_ALLOW_LOOPBACK ?? e.NODE_ENV !== 'production';
  if (e.WEBHOOK_ALLOW_PRIVATE) {
    relaxedSettings.push({
      setting: 'WEBHOOK_ALLOW_PRIVATE',
      warning: 'webhooks may target private, loopback, link-local, unique-local and cloud-metadata addresses (WEBHOOK_ALLOW_PRIVATE=true)',
    });
  } else if (webhookAllowLoopback) {
    const why = e.WEBHOOK_ALLOW_LOOPBACK === undefined ? `the ${e.NODE_ENV} default` : 'WEBHOOK_ALLOW_LOOPBACK=true';
    relaxedSettings.push({
      setting: 'WEBHOOK_ALLOW_LOOPBACK',
      warning: `webhooks may target loopback addresses (${why}; set WEBHOOK_ALLOW_LOOPBACK=false to refuse them)`,
    });
  }
  return {
    nodeEnv: e.NODE_ENV,
    port: e.PORT,
    databaseUrl: e.DATABASE_URL,
    amqpUrl: e.AMQP_URL,
    eventStore: e.EVENT_STORE,
    esdbUrl: e.ESDB_URL,
    smtpUrl: e.SMTP_URL,
    smtpFrom: e.SMTP_FROM,
    jwtSecret,
    webhookSigningKey,
    webhookAllowPrivate: e.WEBHOOK_ALLOW_PRIVATE,
    webhookAllowLoopback,
    webhookTimeoutMs: e.WEBHOOK_TIMEOUT_MS,
    logLevel: e.LOG_LEVEL,
    accessTokenTtlSeconds: e.ACCESS_TOKEN_TTL_SECONDS,
    refreshTokenTtlDays: e.REFRESH_TOKEN_TTL_DAYS,
    sessionMaxDays: e.SESSION_MAX_DAYS,
    trustProxyHops: e.TRUST_PROXY,
    publicUrl: e.PUBLIC_URL ?? null,
    actionLinkTtlHours: e.ACTION_LINK_TTL_HOURS,
    readYourWritesTimeoutMs: e.READ_YOUR_WRITES_TIMEOUT_MS,
    sweeperGraceSeconds: e.SWEEPER_GRACE_SECONDS,
    sweeperIntervalSeconds: e.SWEEPER_INTERVAL_SECONDS,
    maxBodyBytes: e.MAX_BODY_BYTES,
    amqpPrefix: e.AMQP_PREFIX,
    quotas: { triggersPerMinute: e.QUOTA_TRIGGERS_PER_MINUTE, openAlerts: e.QUOTA_OPEN_ALERTS },
    flowLimits: {
      maxNodes: e.QUOTA_FLOW_NODES,
      maxRepeat: e.QUOTA_FLOW_REPEAT,
      maxAttempts: e.QUOTA_NOTIFICATION_ATTEMPTS,
      minBackoffSeconds: e.QUOTA_MIN_RETRY_BACKOFF_SECONDS,
    },
    metricsToken: e.METRICS_TOKEN ?? null,
    tracing: tracingSettings(e),
    relaxedSettings,
  };
}

function tracingSettings(e: z.infer<typeof EnvSchema>): TracingSettings | null {
  const tracesUrl =
    e.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT ?? (e.OTEL_EXPORTER_OTLP_ENDPOINT && `${e.OTEL_EXPORTER_OTLP_ENDPOINT.replace(/\/+$/, '')}/v1/traces`);
  if (!tracesUrl || e.OTEL_SDK_DISABLED) return null;
  return {
    tracesUrl,
    protocol: e.OTEL_EXPORTER_OTLP_TRACES_PROTOCOL ?? e.OTEL_EXPORTER_OTLP_PROTOCOL ?? 'http/protobuf',
    serviceName: e.OTEL_SERVICE_NAME,
    resourceAttributes: e.OTEL_RESOURCE_ATTRIBUTES,
    sampler: e.OTEL_TRACES_SAMPLER,
    samplerRatio: e.OTEL_TRACES_SAMPLER_ARG,
    exportDelayMs: e.OTEL_BSP_SCHEDULE_DELAY,
  };
}

/**
 * A secret the environment did not give (never in production). Development keeps it on disk so tokens and webhook
 * secrets survive restarts; tests get one for this process only, so no file is written and no key is shared.
 */
function generatedSecret(
  setting: string,
  fileName: string,
  nodeEnv: Config['nodeEnv'],
  stateDir: string,
  relaxedSettings: RelaxedSetting[],
): string {
  if (nodeEnv !== 'development') {
    relaxedSettings.push({ setting, warning: `${setting} is not set: using a secret generated for this process only (NODE_ENV=${nodeEnv})` });
    return randomBytes(48).toString('base64url');
  }
  const file = resolve(stateDir, fileName);
  relaxedSettings.push({ setting, warning: `${setting} is not set: using the development secret kept in ${file} (set it in production)` });
  if (existsSync(file)) {
    const stored = readFileSync(file, 'utf8').trim();
    if (stored.length >= 32) return stored;
  }
  const secret = randomBytes(48).toString('base64url');
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, secret, { mode: 0o600 });
  return secret;
}
