import { isDeepStrictEqual } from 'node:util';
import { conflict, type Decider, DomainError, invalid } from '../decider.js';
import type { OverrideSpec, RotationSpec, ScheduleCommand, TeamMemberIds } from './commands.js';
import type { ScheduleEvent } from './events.js';
import {
  MAX_LIVE_OVERRIDES,
  MAX_OVERRIDE_DAYS,
  MAX_PARTICIPANTS,
  MAX_ROTATIONS,
  MAX_SHIFT_COUNT,
  type Override,
  type Rotation,
  type ScheduleDefinition,
} from './definition.js';
import { isIanaTimeZone } from './time-zone.js';

export interface ActiveSchedule extends ScheduleDefinition {
  scheduleId: string;
  teamId: string;
  name: string;
  rotations: Rotation[];
  /** Overrides not yet ended when the last event was recorded, in the order they were added. */
  overrides: Override[];
}

/** `version` counts the stream's events: its revision + 1, the value If-Match compares against. */
export type ScheduleState =
  | { status: 'none'; version: number }
  | ({ status: 'active'; version: number } & ActiveSchedule)
  | { status: 'deleted'; version: number; scheduleId: string; teamId: string };
export type ActiveScheduleState = Extract<ScheduleState, { status: 'active' }>;

const DAY_MS = 86_400_000;

const scheduleNotFound = () => new DomainError('not_found', 'schedule not found', 'schedule_not_found');

/** Another team's schedule, or a deleted one, does not exist for the caller. */
function requireTeamSchedule(state: ScheduleState, teamId: string): ActiveScheduleState {
  if (state.status !== 'active' || state.teamId !== teamId) throw scheduleNotFound();
  return state;
}

function requireName(name: string): void {
  if (name.trim().length === 0 || name.length > 200) throw invalid('a name has 1 to 200 characters', 'invalid_name');
}

function requireTimeZone(timeZone: string): void {
  if (!isIanaTimeZone(timeZone)) throw invalid(`${timeZone} is not an IANA time zone`, 'invalid_time_zone', 'timeZone');
}

function requireInstant(date: Date, field: string, code: string): string {
  if (Number.isNaN(date.getTime())) throw invalid(`${field} is not a valid instant`, code);
  return date.toISOString();
}

function requireMembers(candidates: readonly { userId: string; field: string }[], teamMemberIds: TeamMemberIds, code: string): void {
  for (const { userId, field } of candidates) {
    if (!teamMemberIds.includes(userId)) throw invalid(`user ${userId} is not a member of this team`, code, field);
  }
}

/**
 * The rotations as they will be recorded. Only participants new to the schedule are checked for membership: a
 * participant who has left the team is skipped when paged, and must not block unrelated edits.
 */
function rotationsFrom(specs: readonly RotationSpec[], teamMemberIds: TeamMemberIds, current: readonly Rotation[] = []): Rotation[] {
  if (specs.length > MAX_ROTATIONS) throw invalid(`a schedule has at most ${MAX_ROTATIONS} rotations`, 'too_many_rotations');
  if (new Set(specs.map((spec) => spec.id)).size !== specs.length) {
    throw invalid('rotation ids must be unique within a schedule', 'duplicate_rotation_id');
  }
  if (new Set(specs.map((spec) => spec.name)).size !== specs.length) {
    throw invalid('rotation names must be unique within a schedule', 'duplicate_rotation_name');
  }
  const knownParticipants = new Set(current.flatMap((rotation) => rotation.participants));
  return specs.map((spec, index) => {
    requireName(spec.name);
    if (spec.participants.length < 1 || spec.participants.length > MAX_PARTICIPANTS) {
      throw invalid(`a rotation has 1 to ${MAX_PARTICIPANTS} participants`, 'invalid_participants');
    }
    const { unit, count } = spec.shift;
    if (!Number.isInteger(count) || count < 1 || count > MAX_SHIFT_COUNT[unit]) {
      throw invalid(`a shift of ${unit} counts 1 to ${MAX_SHIFT_COUNT[unit]} (at most a year)`, 'invalid_shift', `rotations.${index}.shift.count`);
    }
    requireMembers(
      spec.participants.flatMap((userId, at) => (knownParticipants.has(userId) ? [] : [{ userId, field: `rotations.${index}.participants.${at}` }])),
      teamMemberIds,
      'participant_not_member',
    );
    return {
      id: spec.id,
      name: spec.name,
      participants: [...spec.participants],
      start: requireInstant(spec.start, 'a rotation start', 'invalid_rotation_start'),
      shift: { unit, count },
    };
  });
}

const endsAfter = (override: Override, instant: Date) => Date.parse(override.end) > instant.getTime();

/** Overrides that have not ended at `now`: the only ones a command can see or touch. */
function liveOverrides(schedule: ActiveSchedule, now: Date): Override[] {
  return schedule.overrides.filter((override) => endsAfter(override, now));
}

function overrideFrom(spec: OverrideSpec, schedule: ActiveSchedule, teamMemberIds: TeamMemberIds, now: Date): Override {
  const start = requireInstant(spec.start, 'an override start', 'invalid_override_period');
  const end = requireInstant(spec.end, 'an override end', 'invalid_override_period');
  const startMs = spec.start.getTime();
  const endMs = spec.end.getTime();
  if (endMs <= startMs) throw invalid('an override ends after it starts', 'override_reversed', 'end');
  if (endMs - startMs > MAX_OVERRIDE_DAYS * DAY_MS) throw invalid(`an override lasts at most ${MAX_OVERRIDE_DAYS} days`, 'override_too_long', 'end');
  if (endMs <= now.getTime()) throw invalid('an override must end in the future', 'override_in_past', 'end');
  requireMembers([{ userId: spec.userId, field: 'userId' }], teamMemberIds, 'override_user_not_member');
  if (schedule.overrides.some((override) => override.id === spec.id)) {
    throw conflict(`override ${spec.id} already exists`, 'override_exists');
  }
  const live = liveOverrides(schedule, now);
  if (live.length >= MAX_LIVE_OVERRIDES) {
    throw invalid(`a schedule has at most ${MAX_LIVE_OVERRIDES} overrides that have not ended`, 'too_many_overrides');
  }
  const overlapped = live.find((override) => Date.parse(override.start) < endMs && startMs < Date.parse(override.end));
  if (overlapped) throw invalid(`the override overlaps override ${overlapped.id}`, 'override_overlaps', 'start');
  return { id: spec.id, userId: spec.userId, start, end };
}

export function decide(command: ScheduleCommand, state: ScheduleState): ScheduleEvent[] {
  const at = command.now.toISOString();
  switch (command.type) {
    case 'CreateSchedule': {
      if (state.status !== 'none') throw conflict(`schedule ${command.scheduleId} already exists`, 'schedule_exists');
      requireName(command.name);
      requireTimeZone(command.timeZone);
      const rotations = rotationsFrom(command.rotations, command.teamMemberIds);
      return [
        {
          type: 'ScheduleCreated',
          data: { scheduleId: command.scheduleId, teamId: command.teamId, name: command.name, timeZone: command.timeZone, rotations, createdAt: at },
        },
      ];
    }
    case 'UpdateSchedule': {
      const schedule = requireTeamSchedule(state, command.teamId);
      const { scheduleId } = schedule;
      const events: ScheduleEvent[] = [];
      if (command.name !== undefined && command.name !== schedule.name) {
        requireName(command.name);
        events.push({ type: 'ScheduleRenamed', data: { scheduleId, name: command.name, at } });
      }
      if (command.timeZone !== undefined && command.timeZone !== schedule.timeZone) {
        requireTimeZone(command.timeZone);
        events.push({ type: 'ScheduleTimeZoneChanged', data: { scheduleId, timeZone: command.timeZone, at } });
      }
      if (command.rotations !== undefined) {
        const rotations = rotationsFrom(command.rotations, command.teamMemberIds, schedule.rotations);
        if (!isDeepStrictEqual(rotations, schedule.rotations)) {
          events.push({ type: 'ScheduleRotationsReplaced', data: { scheduleId, rotations, at } });
        }
      }
      return events;
    }
    case 'DeleteSchedule': {
      const schedule = requireTeamSchedule(state, command.teamId);
      if (command.usedByFlowIds.length > 0) {
        throw conflict(`the schedule is a target of flow ${command.usedByFlowIds.join(', ')}`, 'schedule_in_use');
      }
      return [{ type: 'ScheduleDeleted', data: { scheduleId: schedule.scheduleId, at } }];
    }
    case 'AddScheduleOverride': {
      const schedule = requireTeamSchedule(state, command.teamId);
      const override = overrideFrom(command.override, schedule, command.teamMemberIds, command.now);
      return [{ type: 'ScheduleOverrideAdded', data: { scheduleId: schedule.scheduleId, override, at } }];
    }
    case 'RemoveScheduleOverride': {
      const schedule = requireTeamSchedule(state, command.teamId);
      if (!liveOverrides(schedule, command.now).some((override) => override.id === command.overrideId)) {
        throw new DomainError('not_found', `override ${command.overrideId} not found`, 'override_not_found');
      }
      return [{ type: 'ScheduleOverrideRemoved', data: { scheduleId: schedule.scheduleId, overrideId: command.overrideId, at } }];
    }
  }
}

/**
 * Overrides are forgotten once they have ended, as of each event folded: the state, and with it the work of every
 * command, stays bounded by the live overrides however long the schedule lives.
 */
function withoutEndedOverrides(overrides: readonly Override[], at: string): Override[] {
  const instant = new Date(at);
  return overrides.filter((override) => endsAfter(override, instant));
}

function evolveActive(schedule: ActiveScheduleState, event: ScheduleEvent): ScheduleState {
  const version = schedule.version + 1;
  if (event.type === 'ScheduleCreated') return { ...schedule, version };
  if (event.type === 'ScheduleDeleted') return { status: 'deleted', version, scheduleId: schedule.scheduleId, teamId: schedule.teamId };
  const next = { ...schedule, version, overrides: withoutEndedOverrides(schedule.overrides, event.data.at) };
  switch (event.type) {
    case 'ScheduleRenamed':
      return { ...next, name: event.data.name };
    case 'ScheduleTimeZoneChanged':
      return { ...next, timeZone: event.data.timeZone };
    case 'ScheduleRotationsReplaced':
      return { ...next, rotations: event.data.rotations };
    case 'ScheduleOverrideAdded':
      return { ...next, overrides: [...next.overrides, event.data.override] };
    case 'ScheduleOverrideRemoved':
      return { ...next, overrides: next.overrides.filter((override) => override.id !== event.data.overrideId) };
  }
}

export function evolve(state: ScheduleState, event: ScheduleEvent): ScheduleState {
  switch (state.status) {
    case 'none': {
      if (event.type !== 'ScheduleCreated') return { ...state, version: state.version + 1 };
      const e = event.data;
      return {
        status: 'active',
        version: state.version + 1,
        scheduleId: e.scheduleId,
        teamId: e.teamId,
        name: e.name,
        timeZone: e.timeZone,
        rotations: e.rotations,
        overrides: [],
      };
    }
    case 'active':
      return evolveActive(state, event);
    case 'deleted':
      return { ...state, version: state.version + 1 };
  }
}

export const initialState = (): ScheduleState => ({ status: 'none', version: 0 });

export const scheduleDecider: Decider<ScheduleCommand, ScheduleState, ScheduleEvent> = { initialState, evolve, decide };
