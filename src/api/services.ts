import type { Kysely } from 'kysely';
import type { Config } from '../config.js';
import type { CommandDependencies } from '../commands/handle-command.js';
import type { Logger } from '../infra/logger.js';
import type { Mailer } from '../infra/mailer.js';
import type { Metrics } from '../infra/metrics.js';
import type { Pool } from '../infra/postgres.js';
import type { ProjectionProgress } from '../projections/progress.js';
import type { ReadModels } from '../projections/read-models.js';
import type { AccessTokens } from './auth/access-token.js';
import type { TriggerQuota } from './trigger-quota.js';

/** Everything a route may use. Built once per process by the runtime. */
export interface ApiServices extends CommandDependencies {
  config: Config;
  logger: Logger;
  pool: Pool;
  db: Kysely<ReadModels>;
  progress: ProjectionProgress;
  metrics: Metrics;
  accessTokens: AccessTokens;
  triggerQuota: TriggerQuota;
  /** SMTP when SMTP_URL is set; null means e-mail is disabled. */
  mailer: Mailer | null;
  clock: () => Date;
  /** The dependencies /readyz reports on, each usable or not. */
  readiness: () => Promise<Record<string, 'ok' | 'unavailable'>>;
}
