import { EventCatalog } from './eventstore/catalog.js';

/** Every event type the system writes, with its schema and upcasters. */
export function createCatalog(): EventCatalog {
  return new EventCatalog();
}
