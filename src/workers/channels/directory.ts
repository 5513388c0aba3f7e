import type { Kysely } from 'kysely';
import type { ReadModels } from '../../projections/read-models.js';
import type { RecipientDirectory } from './channel.js';

/** Recipients as the identity read models know them at send time: a member's current address, the team's secret. */
export function readModelDirectory(db: Kysely<ReadModels>): RecipientDirectory {
  return {
    async emailOfUser(userId) {
      const user = await db.selectFrom('users').select('email').where('id', '=', userId).executeTakeFirst();
      return user?.email ?? null;
    },
    async webhookSecretOf(teamId) {
      const team = await db.selectFrom('teams').select('webhook_secret').where('id', '=', teamId).executeTakeFirst();
      return team?.webhook_secret ?? null;
    },
  };
}
