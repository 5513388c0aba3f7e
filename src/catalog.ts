import { alertEventDefinitions } from './domain/alert/events.js';
import { apiTokenEventDefinitions } from './domain/api-token/events.js';
import { dedupSlotEventDefinitions } from './domain/alert/dedup-slot.js';
import { contactEventDefinitions } from './domain/contact/events.js';
import { flowEventDefinitions } from './domain/flow/events.js';
import { maintenanceEventDefinitions } from './domain/maintenance/events.js';
import { scheduleEventDefinitions } from './domain/schedule/events.js';
import { subscriptionEventDefinitions } from './domain/subscription/events.js';
import { sessionEventDefinitions } from './domain/session/events.js';
import { teamEventDefinitions } from './domain/team/events.js';
import { userEventDefinitions } from './domain/user/events.js';
import { EventCatalog } from './eventstore/catalog.js';

/** Every event type the system writes, with its schema and upcasters. */
export function createCatalog(): EventCatalog {
  return new EventCatalog()
    .register(alertEventDefinitions)
    .register(dedupSlotEventDefinitions)
    .register(flowEventDefinitions)
    .register(userEventDefinitions)
    .register(sessionEventDefinitions)
    .register(teamEventDefinitions)
    .register(scheduleEventDefinitions)
    .register(contactEventDefinitions)
    .register(maintenanceEventDefinitions)
    .register(apiTokenEventDefinitions)
    .register(subscriptionEventDefinitions);
}
