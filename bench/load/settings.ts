import { z } from 'zod';

export const SCENARIOS = ['event-store', 'ingest', 'ingest-async', 'sustained', 'storm', 'recovery', 'recovery-within-capacity'] as const;
export type ScenarioName = (typeof SCENARIOS)[number];

const flag = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'])
  .transform((value) => value === 'true' || value === '1' || value === 'yes');
const positiveInt = z.coerce.number().int().min(1);
const positive = z.coerce.number().positive();
const nonNegative = z.coerce.number().min(0);

/** Every knob, from the environment; unset values take the issue's targets, or small ones with BENCH_QUICK=1. */
const EnvSchema = z.object({
  BENCH_QUICK: flag.default(false),
  BENCH_RUNS: positiveInt.optional(),
  BENCH_SCENARIOS: z
    .string()
    .transform((list) => list.split(',').map((name) => name.trim()).filter(Boolean))
    .pipe(z.array(z.enum(SCENARIOS)).min(1))
    .optional(),
  BENCH_OUTPUT: z.string().min(1).optional(),
  DATABASE_URL: z.url({ protocol: /^postgres(ql)?$/ }).default('postgres://postgres@127.0.0.1:5432/alertops'),
  AMQP_URL: z.url({ protocol: /^amqps?$/ }).default('amqp://guest:guest@127.0.0.1:5672'),

  BENCH_CLIENTS: positiveInt.default(32),
  BENCH_OPEN_LOOP_CONNECTIONS: positiveInt.default(256),
  BENCH_REQUEST_TIMEOUT_SECONDS: positive.default(30),
  BENCH_RESPONSE_DRAIN_SECONDS: positive.optional(),
  BENCH_MIN_DELAY_SECONDS: positiveInt.default(2),
  BENCH_MAX_DELAY_SECONDS: positiveInt.default(13),
  BENCH_PAGE_DRAIN_SECONDS: positive.optional(),

  BENCH_APPEND_SECONDS: positive.optional(),
  BENCH_INGEST_TRIGGERS: positiveInt.optional(),
  BENCH_INGEST_MAX_SECONDS: positive.optional(),
  BENCH_INGEST_DELAY_SECONDS: positiveInt.default(3600),
  BENCH_INFLIGHT_SETTLE_SECONDS: nonNegative.optional(),
  BENCH_SUSTAINED_RATE: positive.optional(),
  BENCH_SUSTAINED_SECONDS: positive.optional(),
  BENCH_STORM_ALERTS: positiveInt.optional(),
  BENCH_STORM_MAX_SECONDS: positive.optional(),
  BENCH_STORM_ASYNC: flag.default(true),
  BENCH_RECOVERY_RATE: positive.optional(),
  BENCH_RECOVERY_WITHIN_CAPACITY_RATE: positive.optional(),
  BENCH_RECOVERY_SECONDS: positive.optional(),
  BENCH_RECOVERY_KILL_AT_SECONDS: positive.optional(),
  BENCH_RECOVERY_DOWN_SECONDS: positive.default(3),
  BENCH_RECOVERY_DRAIN_SECONDS: positive.optional(),
});

export interface Settings {
  quick: boolean;
  runs: number;
  scenarios: ScenarioName[];
  output: string | null;
  databaseUrl: string;
  amqpUrl: string;
  clients: number;
  openLoopConnections: number;
  requestTimeoutMs: number;
  /** After the last trigger is offered, how long answers may still take before the client abandons them. */
  responseDrainSeconds: number;
  delaysSeconds: number[];
  /** After the last step is due, how long to wait for its page. */
  pageDrainSeconds: number;
  appendSeconds: number;
  ingest: { triggers: number; maxSeconds: number; delaySeconds: number; inFlightSettleSeconds: number };
  sustained: { ratePerSecond: number; seconds: number };
  storm: { alerts: number; maxSeconds: number; respondAsync: boolean };
  recovery: { ratePerSecond: number; seconds: number; killAtSeconds: number; downSeconds: number; drainSeconds: number };
  /** The recovery run again at a rate this machine's engine keeps up with, so the restart's own cost shows apart from a backlog. */
  recoveryWithinCapacityRate: number;
}

export function loadSettings(env: NodeJS.ProcessEnv = process.env): Settings {
  const blankAsUnset = Object.fromEntries(Object.entries(env).filter(([, value]) => value !== ''));
  const parsed = EnvSchema.safeParse(blankAsUnset);
  if (!parsed.success) {
    throw new Error(`invalid bench settings:\n  ${parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`).join('\n  ')}`);
  }
  const e = parsed.data;
  const quick = e.BENCH_QUICK;
  const pick = <T>(value: T | undefined, full: T, small: T): T => value ?? (quick ? small : full);
  if (e.BENCH_MAX_DELAY_SECONDS < e.BENCH_MIN_DELAY_SECONDS) throw new Error('BENCH_MAX_DELAY_SECONDS is below BENCH_MIN_DELAY_SECONDS');
  const recoverySeconds = pick(e.BENCH_RECOVERY_SECONDS, 40, 20);
  const killAtSeconds = pick(e.BENCH_RECOVERY_KILL_AT_SECONDS, 10, 4);
  if (killAtSeconds >= recoverySeconds) throw new Error('BENCH_RECOVERY_KILL_AT_SECONDS must fall inside BENCH_RECOVERY_SECONDS');
  return {
    quick,
    runs: pick(e.BENCH_RUNS, 3, 1),
    scenarios: e.BENCH_SCENARIOS ?? [...SCENARIOS],
    output: e.BENCH_OUTPUT ?? null,
    databaseUrl: e.DATABASE_URL,
    amqpUrl: e.AMQP_URL,
    clients: e.BENCH_CLIENTS,
    openLoopConnections: e.BENCH_OPEN_LOOP_CONNECTIONS,
    requestTimeoutMs: e.BENCH_REQUEST_TIMEOUT_SECONDS * 1000,
    responseDrainSeconds: pick(e.BENCH_RESPONSE_DRAIN_SECONDS, 20, 10),
    delaysSeconds: Array.from({ length: e.BENCH_MAX_DELAY_SECONDS - e.BENCH_MIN_DELAY_SECONDS + 1 }, (_, index) => e.BENCH_MIN_DELAY_SECONDS + index),
    pageDrainSeconds: pick(e.BENCH_PAGE_DRAIN_SECONDS, 30, 15),
    appendSeconds: pick(e.BENCH_APPEND_SECONDS, 5, 1),
    ingest: {
      triggers: pick(e.BENCH_INGEST_TRIGGERS, 10_000, 300),
      maxSeconds: pick(e.BENCH_INGEST_MAX_SECONDS, 60, 20),
      delaySeconds: e.BENCH_INGEST_DELAY_SECONDS,
      inFlightSettleSeconds: pick(e.BENCH_INFLIGHT_SETTLE_SECONDS, 5, 2),
    },
    sustained: { ratePerSecond: pick(e.BENCH_SUSTAINED_RATE, 300, 50), seconds: pick(e.BENCH_SUSTAINED_SECONDS, 60, 10) },
    storm: { alerts: pick(e.BENCH_STORM_ALERTS, 10_000, 500), maxSeconds: pick(e.BENCH_STORM_MAX_SECONDS, 60, 30), respondAsync: e.BENCH_STORM_ASYNC },
    recoveryWithinCapacityRate: pick(e.BENCH_RECOVERY_WITHIN_CAPACITY_RATE, 60, 20),
    recovery: {
      ratePerSecond: pick(e.BENCH_RECOVERY_RATE, 300, 50),
      seconds: recoverySeconds,
      killAtSeconds,
      downSeconds: e.BENCH_RECOVERY_DOWN_SECONDS,
      drainSeconds: pick(e.BENCH_RECOVERY_DRAIN_SECONDS, 75, 60),
    },
  };
}
