import { z } from 'zod';
import type { TeamPermission } from '../domain/team/roles.js';
import type { Actor, LogPosition } from '../eventstore/types.js';
import type { StreamPermission } from './authorization.js';
import { etag, type VersionedResource } from './if-match.js';
import type { RouteInput, RouteSpec } from './routing.js';
import type { ApiServices } from './services.js';

/** What a command that changes a versioned resource answers. */
export interface VersionedChange {
  version: number;
  position: LogPosition | null;
}

/** The caller of an edit, and the version they last saw (If-Match). */
export interface EditCaller {
  actor: Actor;
  expectedVersion: number | undefined;
}

export interface VersionedEditSpec<Params, Body, Edit, Change extends VersionedChange> {
  summary: string;
  params: z.ZodType<Params>;
  body?: z.ZodType<Body>;
  status?: 201;
  command(request: { params: Params; body: Body; services: ApiServices }, edit: Edit): Promise<Change>;
  /** The id the answer carries beside the version (of the resource or of the part changed or added). */
  names?(params: Params, change: Change): string;
}

const Version = z.object({ version: z.int() });
const IdAndVersion = z.object({ id: z.uuid(), version: z.int() });

/**
 * A change to an existing versioned resource of a team: authorized from the team's stream, honouring If-Match,
 * answering the resource's new version (and the id `names` gives) in the body and the ETag. `editOf` says which
 * resource the path names and who edits it, as the resource's commands take it.
 */
export function versionedEdit<Params, Body, Edit, Change extends VersionedChange>(
  resource: VersionedResource,
  permission: TeamPermission,
  editOf: (params: Params, caller: EditCaller, services: ApiServices) => Edit,
  spec: VersionedEditSpec<Params, Body, Edit, Change>,
): RouteSpec<StreamPermission, Params, unknown, Body> & { params: z.ZodType<Params> } {
  const { command, names, status = 200, ...declaration } = spec;
  return {
    ...declaration,
    permission: { team: permission, source: 'stream' },
    versioned: { resource, ifMatch: true },
    responses: { [status]: names ? IdAndVersion : Version },
    async handler({ params, body, actor, services, expectedVersion }: RouteInput<StreamPermission, Params, unknown, Body>) {
      const change = await command({ params, body, services }, editOf(params, { actor, expectedVersion }, services));
      const answer = names ? { id: names(params, change), version: change.version } : { version: change.version };
      return { status, body: answer, headers: etag(change.version), position: change.position };
    },
  };
}
