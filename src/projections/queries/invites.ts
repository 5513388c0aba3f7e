import type { Kysely } from 'kysely';
import { secretTokenId } from '../../infra/secret-tokens.js';
import type { ReadModels } from '../read-models.js';

/** The team of the invite a token names (its id part finds the invite); null when it names none. */
export async function inviteTeamId(db: Kysely<ReadModels>, token: string): Promise<string | null> {
  const inviteId = secretTokenId(token);
  if (!inviteId) return null;
  const invite = await db.selectFrom('invites').select('team_id').where('id', '=', inviteId).executeTakeFirst();
  return invite?.team_id ?? null;
}
