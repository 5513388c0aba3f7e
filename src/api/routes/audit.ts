import { z } from 'zod';
import { Timestamp } from '../../domain/schemas.js';
import { formatPosition } from '../../eventstore/types.js';
import { webhookTargetsFor } from '../redaction.js';
import { routeGroup } from '../routing.js';
import { pageLimit, TeamParams } from '../schemas.js';

const route = routeGroup({ tag: 'audit' });

const CONFIGURATION_STREAM_CATEGORIES = ['team', 'flow', 'schedule', 'maintenance', 'apitoken', 'subscriptions'];
const SECRET_FIELD = /secret|hash|password|token/i;

/** Secrets and their hashes stay in the log; the audit trail names the change, not the secret. */
function withoutSecrets(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withoutSecrets);
  if (value && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value).map(([key, inner]) => [key, SECRET_FIELD.test(key) ? '[redacted]' : withoutSecrets(inner)]),
    );
  }
  return value;
}

export const auditRoute = route('get', '/teams/:teamId/audit', {
  summary:
    "The team's configuration changes (team, members, invites, flows, schedules, maintenance windows, API tokens), newest first; viewers see webhook URLs redacted",
  permission: 'team:read',
  params: TeamParams,
  query: z.object({
    limit: pageLimit(1000, 200),
    // A global position is a PostgreSQL bigint: a larger number must be refused here, not by the store.
    before: z.coerce.bigint().positive().max(2n ** 63n - 1n).optional(),
  }),
  responses: {
    200: z.array(
      z.object({ position: z.string(), at: Timestamp, stream: z.string(), type: z.string(), actor: z.string(), data: z.unknown() }),
    ),
  },
  async handler({ params, query, role, services }) {
    const events = await services.eventStore.readTeamLog({
      teamId: params.teamId,
      categories: CONFIGURATION_STREAM_CATEGORIES,
      before: query.before,
      maxCount: query.limit,
    });
    return {
      status: 200,
      body: events.map((event) => ({
        position: formatPosition(event.position),
        at: event.recordedAt.toISOString(),
        stream: event.streamId,
        type: event.type,
        actor: event.metadata.actor,
        data: webhookTargetsFor(role, withoutSecrets(services.catalog.parse(event).data)),
      })),
    };
  },
});
