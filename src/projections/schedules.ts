import type { Selectable } from 'kysely';
import type { ScheduleEvent } from '../domain/schedule/events.js';
import { defineProjection, type ProjectedEvent, type ReadModelViews } from './projection.js';
import type { ScheduleOverridesTable, SchedulesTable } from './read-models.js';

type ScheduleTables = { schedules: Selectable<SchedulesTable>; schedule_overrides: Selectable<ScheduleOverridesTable> };
type Views = ReadModelViews<ScheduleTables, { schedules: ['id']; schedule_overrides: ['id'] }>;

/** Every schedule event moves `version` to its stream revision + 1: the version If-Match compares against. */
function touchSchedule({ schedules }: Views, event: ProjectedEvent<ScheduleEvent>, change: Partial<ScheduleTables['schedules']> = {}) {
  schedules.update({ id: event.data.scheduleId }, { ...change, version: event.streamVersion + 1, updated_at: event.recordedAt });
}

/** Schedules with their rotations, and their overrides (past ones too, until removed). */
export const schedulesProjection = defineProjection<ScheduleTables, ScheduleEvent>()({
  name: 'schedules',
  keys: { schedules: ['id'], schedule_overrides: ['id'] },
  handlers: {
    ScheduleCreated({ schedules }, { data: e, streamVersion, recordedAt }) {
      schedules.put({
        id: e.scheduleId, team_id: e.teamId, name: e.name, time_zone: e.timeZone, rotations: e.rotations, version: streamVersion + 1,
        created_at: new Date(e.createdAt), updated_at: recordedAt,
      });
    },
    ScheduleRenamed: (readModel, event) => touchSchedule(readModel, event, { name: event.data.name }),
    ScheduleTimeZoneChanged: (readModel, event) => touchSchedule(readModel, event, { time_zone: event.data.timeZone }),
    ScheduleRotationsReplaced: (readModel, event) => touchSchedule(readModel, event, { rotations: event.data.rotations }),
    ScheduleOverrideAdded(readModel, event) {
      const schedule = readModel.schedules.get({ id: event.data.scheduleId });
      if (!schedule) return;
      const { override } = event.data;
      readModel.schedule_overrides.put({
        id: override.id, schedule_id: schedule.id, team_id: schedule.team_id, user_id: override.userId,
        starts_at: new Date(override.start), ends_at: new Date(override.end), created_at: event.recordedAt,
      });
      touchSchedule(readModel, event);
    },
    ScheduleOverrideRemoved(readModel, event) {
      readModel.schedule_overrides.delete({ id: event.data.overrideId });
      touchSchedule(readModel, event);
    },
    ScheduleDeleted({ schedules }, { data }) {
      schedules.delete({ id: data.scheduleId });
    },
  },
});
