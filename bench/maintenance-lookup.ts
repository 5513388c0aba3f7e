import { randomUUID } from 'node:crypto';
import { createCatalog } from '../src/catalog.js';
import { triggerAlert } from '../src/commands/alerts.js';
import type { FlowNode } from '../src/domain/flow/node.js';
import { PostgresEventStore } from '../src/eventstore/postgres.js';
import { migrate } from '../src/infra/migrate.js';
import { createPool, dropDatabase, ensureDatabaseExists } from '../src/infra/postgres.js';
import { maintenanceWindowAt } from '../src/projections/queries/maintenance-windows.js';

/*
 * What the maintenance-window look-up adds to a trigger. One team with the most windows it may hold open (50), and
 * years of past windows (5,000) in the table beside 200 other teams' windows; triggers of the team one after another,
 * without and with a dedup key, half with the look-up skipped (as before windows existed), interleaved so load on
 * the machine hits all alike.
 * `tsx bench/maintenance-lookup.ts`
 */

const TRIGGERS = Number(process.env.BENCH_TRIGGERS ?? 400);
const DAY_MS = 86_400_000;

const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;

async function main() {
  const url = new URL(process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres');
  url.pathname = `/alertops_bench_maintenance_${Date.now().toString(36)}`;
  await ensureDatabaseExists(url.toString());
  const pool = createPool(url.toString(), { max: 4 });
  try {
    await migrate(pool);
    const teamId = randomUUID();
    const flowId = randomUUID();
    const now = Date.now();
    const rows: unknown[][] = [];
    for (let index = 0; index < 5000; index++) rows.push([randomUUID(), teamId, new Date(now - (index + 2) * DAY_MS), new Date(now - (index + 1) * DAY_MS - 1000), null]);
    for (let index = 0; index < 50; index++) rows.push([randomUUID(), teamId, new Date(now + (index + 1) * DAY_MS), new Date(now + (index + 1) * DAY_MS + 3_600_000), JSON.stringify([flowId])]);
    for (let team = 0; team < 200; team++) {
      const otherTeam = randomUUID();
      for (let index = 0; index < 50; index++) rows.push([randomUUID(), otherTeam, new Date(now - DAY_MS), new Date(now + (index + 1) * DAY_MS), null]);
    }
    for (let offset = 0; offset < rows.length; offset += 1000) {
      const chunk = rows.slice(offset, offset + 1000);
      await pool.query(
        `insert into maintenance_windows (id, team_id, starts_at, ends_at, reason, flow_ids, created_at)
         select id, team_id, starts_at, ends_at, 'bench', flow_ids::jsonb, now()
           from unnest($1::uuid[], $2::uuid[], $3::timestamptz[], $4::timestamptz[], $5::text[]) as t(id, team_id, starts_at, ends_at, flow_ids)`,
        [0, 1, 2, 3, 4].map((column) => chunk.map((row) => row[column])),
      );
    }
    await pool.query('analyze maintenance_windows');

    const deps = { eventStore: new PostgresEventStore(pool), catalog: createCatalog(), pool };
    const node: FlowNode = { id: randomUUID(), name: 'ops', delaySeconds: 60, target: { type: 'email', email: 'ops@example.com' }, retry: { maxAttempts: 1, backoffSeconds: 1 } };
    const flow = { flowId, version: 1, repeat: 0, nodes: [node] };
    const variants = ['without', 'with', 'dedup key, without', 'dedup key, with'] as const;
    const timings = Object.fromEntries(variants.map((variant) => [variant, [] as number[]])) as Record<(typeof variants)[number], number[]>;
    for (let index = 0; index < TRIGGERS * 2; index++) {
      const variant = variants[index % variants.length]!;
      const started = performance.now();
      await triggerAlert(deps, {
        teamId, flow, summary: 'bench', details: null, severity: 'error', dedupKey: variant.startsWith('dedup') ? `key-${index}` : null,
        source: 'bench', actor: 'system:bench', now: new Date(),
        ...(variant.endsWith('without') ? { suppression: null } : {}),
      });
      timings[variant].push(performance.now() - started);
    }
    const lookups: number[] = [];
    for (let index = 0; index < TRIGGERS; index++) {
      const started = performance.now();
      await maintenanceWindowAt(pool, teamId, flowId, new Date());
      lookups.push(performance.now() - started);
    }
    const plan = await pool.query<{ 'QUERY PLAN': string }>(
      `explain (analyze, buffers) select id, ends_at from maintenance_windows
        where team_id = $1 and ends_at > $3 and starts_at <= $3 and (flow_ids is null or flow_ids ? $2::text)
        order by ends_at desc limit 1`,
      [teamId, flowId, new Date()],
    );
    const report = (name: string, values: number[]) => {
      const sorted = [...values].sort((a, b) => a - b);
      const mean = values.reduce((sum, value) => sum + value, 0) / values.length;
      console.log(`${name}: n=${values.length} mean ${mean.toFixed(2)} ms, p50 ${percentile(sorted, 50).toFixed(2)} ms, p99 ${percentile(sorted, 99).toFixed(2)} ms`);
    };
    console.log(`maintenance_windows rows: ${rows.length}`);
    for (const variant of variants) report(`trigger (${variant} the window look-up)`, timings[variant]);
    report('window look-up alone', lookups);
    console.log(plan.rows.map((row) => row['QUERY PLAN']).join('\n'));
  } finally {
    await pool.end();
    await dropDatabase(url.toString());
  }
}

await main();
