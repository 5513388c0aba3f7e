import { alertEventDefinitions } from './domain/alert/events.js';
import { dedupSlotEventDefinitions } from './domain/alert/dedup-slot.js';
import { flowEventDefinitions } from './domain/flow/events.js';
import { EventCatalog } from './eventstore/catalog.js';

/** Every event type the system writes, with its schema and upcasters. */
export function createCatalog(): EventCatalog {
  return new EventCatalog()
    .register(alertEventDefinitions)
    .register(dedupSlotEventDefinitions)
    .register(flowEventDefinitions);
}
