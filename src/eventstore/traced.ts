import { SpanAttribute, SpanKind, currentTraceparent, traced } from '../infra/tracing.js';
import { type EventStore, streamCategory } from './types.js';

/**
 * The event store with every append in a span, and the span's `traceparent` kept in the appended events' metadata,
 * so whatever the log later sets in motion (the relay's messages, the fire, the delivery) continues the trace.
 * Installed only when tracing is on.
 */
export function tracedEventStore(store: EventStore): EventStore {
  return {
    get dependency() {
      return store.dependency;
    },
    append: (streamId, events, options) => {
      const category = streamCategory(streamId);
      const attributes = {
        'alertops.stream.category': category,
        'alertops.event.types': [...new Set(events.map((event) => event.type))],
        ...(options.metadata.teamId ? { [SpanAttribute.teamId]: options.metadata.teamId } : {}),
        ...(category === 'alert' ? { [SpanAttribute.alertId]: streamId.slice(category.length + 1) } : {}),
      };
      return traced(
        `append ${category}`,
        attributes,
        () => {
          const traceparent = currentTraceparent();
          return store.append(streamId, events, traceparent ? { ...options, metadata: { ...options.metadata, traceparent } } : options);
        },
        SpanKind.CLIENT,
      );
    },
    readStream: (streamId, options) => store.readStream(streamId, options),
    readAll: (options) => store.readAll(options),
    readLast: (maxCount) => store.readLast(maxCount),
    headPosition: () => store.headPosition(),
    countEvents: (options) => store.countEvents(options),
    readTeamLog: (query) => store.readTeamLog(query),
    watchAppends: (options) => store.watchAppends(options),
    verifyHashChains: (options) => store.verifyHashChains(options),
    checkHealth: () => store.checkHealth(),
    close: () => store.close(),
  };
}
