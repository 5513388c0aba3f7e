import { Command } from 'commander';
import { ConfigurationError, loadConfig } from './config.js';
import { createLogger } from './infra/logger.js';
import { migrate } from './infra/migrate.js';
import { createPool, ensureDatabaseExists } from './infra/postgres.js';
import { startRuntime } from './runtime.js';
import { withToolContext } from './tooling/context.js';
import { addOperatorCommands } from './tooling/operator-commands.js';

const program = new Command('alertops').description('AlertOps: alerting and escalation').showHelpAfterError();

function fail(error: unknown): never {
  const message = error instanceof Error ? error.message : String(error);
  process.stderr.write(`alertops: ${message}\n`);
  process.exit(error instanceof ConfigurationError ? 78 : 1);
}

async function serve(roles: { api: boolean; workers: boolean; migrate: boolean }): Promise<void> {
  const config = loadConfig();
  const logger = createLogger(config.logLevel);
  const runtime = await startRuntime({ config, logger, ...roles });
  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down');
    const forced = setTimeout(() => process.exit(1), 15_000);
    forced.unref();
    runtime.stop().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.on('SIGINT', () => shutdown('SIGINT'));
  process.on('SIGTERM', () => shutdown('SIGTERM'));
}

program
  .command('start', { isDefault: true })
  .description('migrate the database, then serve the API and run every worker in this process')
  .action(() => serve({ api: true, workers: true, migrate: true }).catch(fail));

program
  .command('api')
  .description('serve the HTTP API only (the schema must be current)')
  .action(() => serve({ api: true, workers: false, migrate: false }).catch(fail));

program
  .command('worker')
  .description('run projections and escalation workers only (the schema must be current)')
  .action(() => serve({ api: false, workers: true, migrate: false }).catch(fail));

program
  .command('migrate')
  .description('create the database if missing and apply pending migrations')
  .action(async () => {
    try {
      const config = loadConfig();
      await ensureDatabaseExists(config.databaseUrl);
      const pool = createPool(config.databaseUrl, { max: 1 });
      try {
        const { applied } = await migrate(pool);
        process.stdout.write(applied.length ? `applied: ${applied.join(', ')}\n` : 'schema is up to date\n');
      } finally {
        await pool.end();
      }
    } catch (error) {
      fail(error);
    }
  });

addOperatorCommands(program, {
  withContext: withToolContext,
  print: (text) => process.stdout.write(text),
  setExitCode: (code) => (process.exitCode = code),
  onInterrupt: (stop) => process.once('SIGINT', stop),
});

await program.parseAsync(process.argv).catch(fail);
