import type { Projection, ProjectedEvent } from './projection.js';
import { describeTable, ReadModelBatch, type ReadModelTransaction, type TableShape } from './read-model-batch.js';
import type { Subscription } from './runner.js';

/** The subscription that keeps every read model: one reading of the log, one transaction per batch for all of them. */
export const READ_MODELS = 'read-models';

export interface ReadModelSubscriptionOptions {
  name?: string;
  /** Where each table's rows go (a rebuild writes beside the live tables). */
  tableName?: (table: string) => string;
}

/**
 * Applies projections to a batch set-based (see ReadModelBatch): each projection sees only the events it reads, in
 * log order, and every table is written with a handful of statements whatever the batch's size.
 */
export function readModelSubscription(projections: readonly Projection[], options: ReadModelSubscriptionOptions = {}): Subscription {
  const tableName = options.tableName ?? ((table: string) => table);
  const handles = new Set(projections.flatMap((projection) => [...projection.handles]));
  let shapes: Promise<TableShape[]> | null = null;

  const describe = (tx: ReadModelTransaction) => {
    shapes ??= (async () => {
      const described: TableShape[] = [];
      for (const projection of projections) {
        for (const [table, key] of Object.entries(projection.keys)) described.push(await describeTable(tx, table, key, tableName(table)));
      }
      return described;
    })().catch((error: unknown) => {
      shapes = null;
      throw error;
    });
    return shapes;
  };

  return {
    name: options.name ?? READ_MODELS,
    handles,
    async handleBatch(tx, events) {
      const batch = new ReadModelBatch(await describe(tx));
      const views = batch.views();
      await batch.run(tx, () => {
        for (const event of events) {
          for (const projection of projections) {
            if (projection.handles.has(event.type)) projection.apply(views, event as ProjectedEvent);
          }
        }
      });
    },
  };
}
