import { hashIntegrationKey, type LoadedFlow, loadFlow } from '../../commands/flows.js';
import { notFoundProblem } from '../problem.js';
import type { ApiServices } from '../services.js';

/** What an integration key opens: one flow of one team. */
export interface Integration {
  keyId: string;
  teamId: string;
  flow: LoadedFlow;
}

/** The flow an integration key belongs to; null for an unknown or revoked key, whatever it looks like. */
export async function findIntegration(services: ApiServices, key: string): Promise<Integration | null> {
  const integration = await services.db
    .selectFrom('integration_keys')
    .select(['id', 'team_id', 'flow_id'])
    .where('key_hash', '=', hashIntegrationKey(key))
    .where('revoked_at', 'is', null)
    .executeTakeFirst();
  if (!integration) return null;
  const flow = await loadFlow(services, integration.flow_id);
  if (!flow || flow.teamId !== integration.team_id) return null;
  return { keyId: integration.id, teamId: integration.team_id, flow };
}

/** The flow an integration key belongs to; an unknown or revoked key is a 404. */
export async function integrationOf(services: ApiServices, key: string): Promise<Integration> {
  const integration = await findIntegration(services, key);
  if (!integration) throw notFoundProblem('unknown integration key');
  return integration;
}
