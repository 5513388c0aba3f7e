import { randomBytes } from 'node:crypto';
import { dropDatabase, ensureDatabaseExists } from '../../../src/infra/postgres.js';
import { BenchChild } from '../child-process.js';
import { AppendMeasured, type AppendMeasurement, type AppendStoreName } from '../protocol.js';
import type { ScenarioContext } from './context.js';

/*
 * AlertOps' PostgreSQL event store beside Emmett's (@event-driven-io/emmett-postgresql) on the same server in the
 * same run: single-event appends with 1 and 8 concurrent writers, each store in a fresh database of its own and a
 * process of its own. The order of the two stores alternates between runs so that drift on a shared machine does
 * not always favour the same one.
 */

export const WRITER_COUNTS = [1, 8];
const WARMUP_SECONDS = 0.5;

export interface AppendComparisonRun {
  measurements: Map<AppendStoreName, AppendMeasurement[]>;
}

export async function eventStoreComparisonRun(context: ScenarioContext, runIndex: number): Promise<AppendComparisonRun> {
  const stores: AppendStoreName[] = runIndex % 2 === 0 ? ['alertops', 'emmett'] : ['emmett', 'alertops'];
  const measurements = new Map<AppendStoreName, AppendMeasurement[]>();
  for (const store of stores) {
    const url = new URL(context.settings.databaseUrl);
    url.pathname = `/alertops_load_appends_${store}_${Date.now().toString(36)}_${randomBytes(3).toString('hex')}`;
    const databaseUrl = url.toString();
    await ensureDatabaseExists(databaseUrl);
    const writer = new BenchChild(`${store} append writer`, new URL('../append-writer.ts', import.meta.url));
    try {
      const timeoutMs = (WARMUP_SECONDS + context.settings.appendSeconds * WRITER_COUNTS.length) * 1000 + 60_000;
      const { measurements: measured } = await writer.request(
        { type: 'measure', store, databaseUrl, writerCounts: WRITER_COUNTS, seconds: context.settings.appendSeconds, warmupSeconds: WARMUP_SECONDS },
        AppendMeasured,
        timeoutMs,
        'append measurements',
      );
      measurements.set(store, measured);
      context.log(`  ${store}: ${measured.map((m) => `${m.writers} writer(s) ${Math.round(m.appends / m.seconds).toLocaleString('en-US')}/s`).join(', ')}`);
    } finally {
      await writer.stop();
      await dropDatabase(databaseUrl);
    }
  }
  return { measurements };
}
