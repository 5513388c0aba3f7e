import type { Kysely } from 'kysely';
import type { ReadModels } from '../../projections/read-models.js';
import type { RecipientDirectory } from './channel.js';

/** Recipients as the identity read models know them at send time: a member's current address, the team's secret generation. */
export function readModelDirectory(db: Kysely<ReadModels>): RecipientDirectory {
  return {
    async memberEmail(teamId, userId) {
      const member = await db
        .selectFrom('team_members')
        .leftJoin('users', 'users.id', 'team_members.user_id')
        .select('users.email')
        .where('team_members.team_id', '=', teamId)
        .where('team_members.user_id', '=', userId)
        .executeTakeFirst();
      if (!member) return { status: 'not_member' };
      return member.email ? { status: 'member', email: member.email } : { status: 'no_address' };
    },
    async webhookSecretGenerationOf(teamId) {
      const team = await db
        .selectFrom('teams')
        .select(['webhook_secret_generation', 'webhook_secret_rotated_at'])
        .where('id', '=', teamId)
        .executeTakeFirst();
      return team ? { generation: team.webhook_secret_generation, rotatedAt: team.webhook_secret_rotated_at } : null;
    },
  };
}
