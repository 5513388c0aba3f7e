import { z } from 'zod';
import { teamsOf } from '../../projections/queries/teams.js';
import { notFoundProblem } from '../problem.js';
import { routeGroup } from '../routing.js';
import { TeamMembership } from '../schemas.js';

const route = routeGroup({ tag: 'auth' });

export const meRoute = route('get', '/me', {
  summary: 'The signed-in user and the teams they belong to, with their role in each',
  permission: 'signed-in',
  responses: { 200: z.object({ id: z.uuid(), email: z.string(), name: z.string(), teams: z.array(TeamMembership) }) },
  async handler({ user, services }) {
    const profile = await services.db.selectFrom('users').select(['id', 'email', 'name']).where('id', '=', user.id).executeTakeFirst();
    if (!profile) throw notFoundProblem('user not found');
    return { status: 200, body: { ...profile, teams: await teamsOf(services.db, user.id) } };
  },
});
