import { randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import { MAX_OPEN_WINDOWS, maintenanceWindowDecider } from '../domain/maintenance/decider.js';
import { maintenanceWindowStreamId } from '../domain/maintenance/identity.js';
import type { Actor, LogPosition } from '../eventstore/types.js';
import { openMaintenanceWindows, teamFlowsAmong } from '../projections/queries/maintenance-windows.js';
import type { ReadModels } from '../projections/read-models.js';
import { type CommandDependencies, commandHandler } from './handle-command.js';

const handleWindow = commandHandler(maintenanceWindowDecider, maintenanceWindowStreamId, (window) =>
  window.status === 'none' ? null : window.teamId,
);

/** Creating a window also reads the team's flows and its windows not ended. */
export interface MaintenanceCommandDependencies extends CommandDependencies {
  db: Kysely<ReadModels>;
}

export interface MaintenanceWindowInput {
  start: string;
  end: string;
  reason: string;
  flowIds?: string[] | undefined;
}

export async function createMaintenanceWindow(
  deps: MaintenanceCommandDependencies,
  input: { teamId: string; window: MaintenanceWindowInput; actor: Actor; now: Date },
): Promise<{ windowId: string; position: LogPosition | null }> {
  const windowId = randomUUID();
  const flowIds = input.window.flowIds ?? null;
  // One more than the cap: enough for the decider to tell the cap is reached.
  const openWindows = await openMaintenanceWindows(deps.db, input.teamId, input.now, { limit: MAX_OPEN_WINDOWS + 1 });
  const result = await handleWindow(
    deps,
    windowId,
    {
      type: 'CreateMaintenanceWindow',
      windowId,
      teamId: input.teamId,
      start: new Date(input.window.start),
      end: new Date(input.window.end),
      reason: input.window.reason,
      flowIds,
      teamFlowIds: await teamFlowsAmong(deps.db, input.teamId, flowIds ?? []),
      openWindows: openWindows.map((window) => ({ windowId: window.id, start: window.start, end: window.end, flowIds: window.flowIds })),
      now: input.now,
    },
    { actor: input.actor, newStream: true },
  );
  return { windowId, position: result.position };
}

/** Deletes a window: it ends now, and the alerts it holds back start escalating (see the maintenance reactor). */
export async function endMaintenanceWindow(
  deps: CommandDependencies,
  input: { teamId: string; windowId: string; actor: Actor; now: Date },
): Promise<{ position: LogPosition | null }> {
  const result = await handleWindow(deps, input.windowId, { type: 'EndMaintenanceWindow', teamId: input.teamId, now: input.now }, { actor: input.actor });
  return { position: result.position };
}
