import { z } from 'zod';
import { TeamRole } from '../domain/team/roles.js';

/** Path parameters. Every id in a path is a uuid; the team comes first, and what it owns after it. */
export const TeamParams = z.object({ teamId: z.uuid() });
export const MemberParams = TeamParams.extend({ userId: z.uuid() });
export const InviteParams = TeamParams.extend({ inviteId: z.uuid() });
export const FlowParams = TeamParams.extend({ flowId: z.uuid() });
export const NodeParams = FlowParams.extend({ nodeId: z.uuid() });
export const FlowKeyParams = FlowParams.extend({ keyId: z.uuid() });
export const AlertParams = TeamParams.extend({ alertId: z.uuid() });
/** An integration key travels in the path: it is the credential, not an id. */
export const IntegrationKeyParams = z.object({ key: z.string().min(8).max(200) });

/** `?limit=`: how many entries one page holds, from 1 to `max`. */
export const pageLimit = (max: number, byDefault: number) => z.coerce.number().int().min(1).max(max).default(byDefault);

export const InviteToken = z.string().min(1).max(300);

/** A team as its member sees it in their list of teams. */
export const TeamMembership = z.object({ id: z.uuid(), name: z.string(), role: TeamRole });
