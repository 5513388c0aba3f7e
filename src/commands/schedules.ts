import { randomUUID } from 'node:crypto';
import { type Kysely, sql } from 'kysely';
import type { RotationSpec, ScheduleCommand } from '../domain/schedule/commands.js';
import { DomainError } from '../domain/decider.js';
import { type ActiveScheduleState, scheduleDecider } from '../domain/schedule/decider.js';
import type { OverrideInput, RotationInput, ScheduleInput, SchedulePatch } from '../domain/schedule/definition.js';
import { scheduleStreamId } from '../domain/schedule/identity.js';
import type { Actor, LogPosition } from '../eventstore/types.js';
import { membersAmong } from '../projections/queries/teams.js';
import type { ReadModels } from '../projections/read-models.js';
import { aggregateStream, type CommandDependencies, commandHandler, StaleVersionError } from './handle-command.js';

const handleSchedule = commandHandler(scheduleDecider, scheduleStreamId, (schedule) => (schedule.status === 'none' ? null : schedule.teamId));

/** Schedule commands also read the team's current members and the flows that page a schedule. */
export interface ScheduleCommandDependencies extends CommandDependencies {
  db: Kysely<ReadModels>;
}

export interface ScheduleChange {
  /** The schedule's version after the command; unchanged when the command changed nothing. */
  version: number;
  changed: boolean;
  position: LogPosition | null;
}

interface EditInput {
  teamId: string;
  scheduleId: string;
  actor: Actor;
  now: Date;
  /** The version the caller last saw (If-Match); a newer schedule refuses the edit with StaleVersionError. */
  expectedVersion?: number;
}

/** The schedule from its own stream (authoritative); null when it does not exist, was deleted or is another team's. */
export async function loadSchedule(deps: CommandDependencies, teamId: string, scheduleId: string): Promise<ActiveScheduleState | null> {
  const { state } = await aggregateStream(deps, scheduleDecider, scheduleStreamId(scheduleId));
  return state.status === 'active' && state.teamId === teamId ? state : null;
}

function toRotationSpecs(rotations: readonly RotationInput[]): RotationSpec[] {
  return rotations.map((rotation) => ({
    id: rotation.id ?? randomUUID(),
    name: rotation.name,
    participants: rotation.participants,
    start: new Date(rotation.start),
    shift: rotation.shift,
  }));
}

export async function createSchedule(
  deps: ScheduleCommandDependencies,
  input: { teamId: string; schedule: ScheduleInput; actor: Actor; now: Date },
): Promise<{ scheduleId: string; version: number; position: LogPosition | null }> {
  const scheduleId = randomUUID();
  const rotations = toRotationSpecs(input.schedule.rotations);
  const result = await handleSchedule(
    deps,
    scheduleId,
    {
      type: 'CreateSchedule',
      scheduleId,
      teamId: input.teamId,
      name: input.schedule.name,
      timeZone: input.schedule.timeZone,
      rotations,
      teamMemberIds: await membersAmong(deps.db, input.teamId, rotations.flatMap((rotation) => rotation.participants)),
      now: input.now,
    },
    { actor: input.actor, newStream: true },
  );
  return { scheduleId, version: result.revision + 1, position: result.position };
}

export async function updateSchedule(deps: ScheduleCommandDependencies, input: EditInput & { patch: SchedulePatch }): Promise<ScheduleChange> {
  const rotations = input.patch.rotations === undefined ? undefined : toRotationSpecs(input.patch.rotations);
  return editSchedule(deps, input, {
    type: 'UpdateSchedule',
    teamId: input.teamId,
    ...(input.patch.name === undefined ? {} : { name: input.patch.name }),
    ...(input.patch.timeZone === undefined ? {} : { timeZone: input.patch.timeZone }),
    ...(rotations === undefined ? {} : { rotations }),
    teamMemberIds: await membersAmong(deps.db, input.teamId, (rotations ?? []).flatMap((rotation) => rotation.participants)),
    now: input.now,
  });
}

export async function deleteSchedule(deps: ScheduleCommandDependencies, input: EditInput): Promise<ScheduleChange> {
  return editSchedule(deps, input, {
    type: 'DeleteSchedule',
    teamId: input.teamId,
    usedByFlowIds: await flowsPaging(deps, input.teamId, input.scheduleId),
    now: input.now,
  });
}

export async function addScheduleOverride(
  deps: ScheduleCommandDependencies,
  input: EditInput & { override: OverrideInput },
): Promise<ScheduleChange & { overrideId: string }> {
  const overrideId = randomUUID();
  const change = await editSchedule(deps, input, {
    type: 'AddScheduleOverride',
    teamId: input.teamId,
    override: { id: overrideId, userId: input.override.userId, start: new Date(input.override.start), end: new Date(input.override.end) },
    teamMemberIds: await membersAmong(deps.db, input.teamId, [input.override.userId]),
    now: input.now,
  });
  return { ...change, overrideId };
}

export async function removeScheduleOverride(deps: ScheduleCommandDependencies, input: EditInput & { overrideId: string }): Promise<ScheduleChange> {
  return editSchedule(deps, input, { type: 'RemoveScheduleOverride', teamId: input.teamId, overrideId: input.overrideId, now: input.now });
}

async function editSchedule(deps: ScheduleCommandDependencies, input: EditInput, command: ScheduleCommand): Promise<ScheduleChange> {
  try {
    const result = await handleSchedule(deps, input.scheduleId, command, {
      actor: input.actor,
      ...(input.expectedVersion === undefined ? {} : { expectedRevision: input.expectedVersion - 1 }),
    });
    return { version: result.revision + 1, changed: result.events.length > 0, position: result.position };
  } catch (error) {
    // A stale If-Match is checked before the decider runs; it must not reveal that another team's schedule exists.
    if (error instanceof StaleVersionError && !(await loadSchedule(deps, input.teamId, input.scheduleId))) {
      throw new DomainError('not_found', 'schedule not found', 'schedule_not_found');
    }
    throw error;
  }
}


/** The team's flows with a node that pages this schedule. */
async function flowsPaging(deps: ScheduleCommandDependencies, teamId: string, scheduleId: string): Promise<string[]> {
  const flows = await deps.db
    .selectFrom('flows')
    .select('id')
    .where('team_id', '=', teamId)
    .where(sql<boolean>`nodes @> ${JSON.stringify([{ target: { type: 'schedule', scheduleId } }])}::jsonb`)
    .execute();
  return flows.map((flow) => flow.id);
}
