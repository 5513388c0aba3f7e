import { createCatalog } from '../catalog.js';
import { loadConfig } from '../config.js';
import type { EventCatalog } from '../eventstore/catalog.js';
import type { EventStore } from '../eventstore/types.js';
import { createLogger } from '../infra/logger.js';
import { assertSchemaCurrent } from '../infra/migrate.js';
import { createPool, type Pool } from '../infra/postgres.js';
import { openEventStore } from '../runtime.js';

export interface ToolContext {
  databaseUrl: string;
  pool: Pool;
  eventStore: EventStore;
  catalog: EventCatalog;
}

/** What the operator commands need: the configured database (schema must be current) and event store. */
export async function withToolContext<T>(work: (context: ToolContext) => Promise<T>): Promise<T> {
  const config = loadConfig();
  if (config.eventStore === 'memory') {
    throw new Error('EVENT_STORE=memory keeps the event log inside the service process: no other process, this command included, can read it');
  }
  const pool = createPool(config.databaseUrl, { max: 4, applicationName: 'alertops-cli' });
  try {
    await assertSchemaCurrent(pool);
    // Operator commands print their answers on stdout: the store's connection states stay out of them.
    const eventStore = await openEventStore(config, pool, createLogger('silent'));
    try {
      return await work({ databaseUrl: config.databaseUrl, pool, eventStore, catalog: createCatalog() });
    } finally {
      await eventStore.close();
    }
  } finally {
    await pool.end();
  }
}
