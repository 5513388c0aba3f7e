import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { z } from 'zod';

const booleanFlag = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'])
  .transform((value) => value === 'true' || value === '1' || value === 'yes');

/** `false` (the default), `true` (one proxy in front), or how many proxies in front append to X-Forwarded-For. */
const proxyHops = z.union([booleanFlag.transform((trusted) => (trusted ? 1 : 0)), z.coerce.number().int().min(1).max(16)]);

const EnvSchema = z.object({
  NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
  PORT: z.coerce.number().int().min(0).max(65535).default(3000),
  DATABASE_URL: z.url({ protocol: /^postgres(ql)?$/ }).default('postgres://postgres@127.0.0.1:5432/alertops'),
  AMQP_URL: z.url({ protocol: /^amqps?$/ }).default('amqp://guest:guest@127.0.0.1:5672'),
  EVENT_STORE: z.enum(['postgres', 'esdb']).default('postgres'),
  ESDB_URL: z.string().min(1).optional(),
  SMTP_URL: z.url({ protocol: /^smtps?$/ }).optional(),
  SMTP_FROM: z.string().min(3).default('AlertOps <alertops@localhost>'),
  JWT_SECRET: z.string().min(32, 'JWT_SECRET must be at least 32 characters').optional(),
  WEBHOOK_ALLOW_PRIVATE: booleanFlag.optional(),
  // Must stay well below the notification attempt lease (30 s).
  WEBHOOK_TIMEOUT_MS: z.coerce.number().int().min(100).max(20_000).default(5000),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  ACCESS_TOKEN_TTL_SECONDS: z.coerce.number().int().min(30).max(86_400).default(900),
  REFRESH_TOKEN_TTL_DAYS: z.coerce.number().int().min(1).max(365).default(30),
  SESSION_MAX_DAYS: z.coerce.number().int().min(1).max(3650).default(90),
  TRUST_PROXY: proxyHops.default(0),
  READ_YOUR_WRITES_TIMEOUT_MS: z.coerce.number().int().min(0).max(30_000).default(5000),
  SWEEPER_GRACE_SECONDS: z.coerce.number().min(1).max(3600).default(30),
  SWEEPER_INTERVAL_SECONDS: z.coerce.number().min(0.1).max(3600).default(10),
  MAX_BODY_BYTES: z.coerce.number().int().min(1024).max(10 * 1024 * 1024).default(256 * 1024),
  AMQP_PREFIX: z.string().regex(/^[a-z0-9][a-z0-9._-]*$/).default('alertops'),
  STATE_DIR: z.string().default('.alertops'),
});

export type Config = {
  nodeEnv: 'development' | 'production' | 'test';
  port: number;
  databaseUrl: string;
  amqpUrl: string;
  eventStore: 'postgres' | 'esdb';
  esdbUrl: string | undefined;
  smtpUrl: string | undefined;
  smtpFrom: string;
  jwtSecret: string;
  webhookAllowPrivate: boolean;
  webhookTimeoutMs: number;
  logLevel: z.infer<typeof EnvSchema>['LOG_LEVEL'];
  accessTokenTtlSeconds: number;
  refreshTokenTtlDays: number;
  /** A session ends this many days after sign-in, however often its refresh token rotates. */
  sessionMaxDays: number;
  /** Proxies in front whose X-Forwarded-For entries are trusted for the client address (0: none, use the socket's). */
  trustProxyHops: number;
  readYourWritesTimeoutMs: number;
  sweeperGraceSeconds: number;
  sweeperIntervalSeconds: number;
  maxBodyBytes: number;
  amqpPrefix: string;
};

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
  if (e.EVENT_STORE === 'esdb' && !e.ESDB_URL) {
    throw new ConfigurationError('invalid configuration:\n  ESDB_URL: required when EVENT_STORE=esdb');
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
    jwtSecret: e.JWT_SECRET ?? developmentJwtSecret(e.NODE_ENV, e.STATE_DIR),
    webhookAllowPrivate: e.WEBHOOK_ALLOW_PRIVATE ?? e.NODE_ENV !== 'production',
    webhookTimeoutMs: e.WEBHOOK_TIMEOUT_MS,
    logLevel: e.LOG_LEVEL,
    accessTokenTtlSeconds: e.ACCESS_TOKEN_TTL_SECONDS,
    refreshTokenTtlDays: e.REFRESH_TOKEN_TTL_DAYS,
    sessionMaxDays: e.SESSION_MAX_DAYS,
    trustProxyHops: e.TRUST_PROXY,
    readYourWritesTimeoutMs: e.READ_YOUR_WRITES_TIMEOUT_MS,
    sweeperGraceSeconds: e.SWEEPER_GRACE_SECONDS,
    sweeperIntervalSeconds: e.SWEEPER_INTERVAL_SECONDS,
    maxBodyBytes: e.MAX_BODY_BYTES,
    amqpPrefix: e.AMQP_PREFIX,
  };
}

// Development convenience: a secret generated once and kept on disk so tokens survive restarts.
function developmentJwtSecret(nodeEnv: Config['nodeEnv'], stateDir: string): string {
  if (nodeEnv === 'production') {
    throw new ConfigurationError('invalid configuration:\n  JWT_SECRET: required when NODE_ENV=production');
  }
  const file = resolve(stateDir, 'jwt-secret');
  if (existsSync(file)) {
    const stored = readFileSync(file, 'utf8').trim();
    if (stored.length >= 32) return stored;
  }
  const secret = randomBytes(48).toString('base64url');
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, secret, { mode: 0o600 });
  return secret;
}
