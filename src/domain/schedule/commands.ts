import type { Shift } from './definition.js';

/**
 * Which users named in the command are current members of the team. The command handler looks them up in the
 * team's membership because the decider cannot see another aggregate.
 */
export type TeamMemberIds = readonly string[];

export interface RotationSpec {
  id: string;
  name: string;
  participants: readonly string[];
  /** The first hand-off; its wall time in the schedule's zone is the hand-off time of `days` and `weeks` shifts. */
  start: Date;
  shift: Shift;
}

export interface OverrideSpec {
  id: string;
  userId: string;
  start: Date;
  end: Date;
}

export type ScheduleCommand =
  | {
      type: 'CreateSchedule';
      scheduleId: string;
      teamId: string;
      name: string;
      timeZone: string;
      rotations: readonly RotationSpec[];
      teamMemberIds: TeamMemberIds;
      now: Date;
    }
  /** A PATCH: each field given replaces the schedule's; `rotations` replaces the whole ordered list. */
  | {
      type: 'UpdateSchedule';
      teamId: string;
      name?: string;
      timeZone?: string;
      rotations?: readonly RotationSpec[];
      teamMemberIds: TeamMemberIds;
      now: Date;
    }
  /** `usedByFlowIds`: the team's flows with a node targeting this schedule, looked up by the command handler. */
  | { type: 'DeleteSchedule'; teamId: string; usedByFlowIds: readonly string[]; now: Date }
  | { type: 'AddScheduleOverride'; teamId: string; override: OverrideSpec; teamMemberIds: TeamMemberIds; now: Date }
  | { type: 'RemoveScheduleOverride'; teamId: string; overrideId: string; now: Date };
