import { quoteIdentifier, type Pool, withTransaction } from '../infra/postgres.js';
import { EVENTS_CHANNEL } from '../eventstore/postgres.js';

/**
 * Empties a projection's tables and moves its checkpoint back to the start of the log, in one transaction,
 * so nobody ever sees the read model half-cleared. Whichever runner holds the subscription then replays:
 * a live one finds its checkpoint moved (its compare-and-set fails), reloads it and starts over.
 */
export async function rebuildProjection(pool: Pool, projection: { name: string; tables: readonly string[] }): Promise<void> {
  await withTransaction(pool, async (client) => {
    if (projection.tables.length > 0) {
      await client.query(`truncate ${projection.tables.map(quoteIdentifier).join(', ')}`);
    }
    await client.query(
      `insert into subscription_checkpoints (subscription_name) values ($1)
       on conflict (subscription_name) do update set transaction_id = '0', global_position = 0, updated_at = now()`,
      [projection.name],
    );
    // Wakes an idle runner at once; it would also notice at its next poll.
    await client.query('select pg_notify($1, $2)', [EVENTS_CHANNEL, projection.name]);
  });
}
