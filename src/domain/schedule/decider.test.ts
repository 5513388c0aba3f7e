import { describe, expect, it } from 'vitest';
import { fold } from '../decider.js';
import { deciderSpecification } from '../decider-specification.js';
import type { OverrideSpec, RotationSpec, ScheduleCommand } from './commands.js';
import { scheduleDecider } from './decider.js';
import { MAX_LIVE_OVERRIDES, type Override, type Rotation } from './definition.js';
import type { ScheduleEvent } from './events.js';

const spec = deciderSpecification(scheduleDecider);
const scheduleId = '00000000-0000-4000-8000-0000000005c0';
const teamId = '00000000-0000-4000-8000-000000000001';
const otherTeamId = '00000000-0000-4000-8000-000000000002';
const alice = '00000000-0000-4000-8000-00000000a11c';
const bob = '00000000-0000-4000-8000-000000000b0b';
const carol = '00000000-0000-4000-8000-0000000ca201';
const stranger = '00000000-0000-4000-8000-00000000bbbb';
const members = [alice, bob, carol];
const flowId = '00000000-0000-4000-8000-00000000f10a';

const now = new Date('2026-03-01T12:00:00.000Z');
const iso = (date: Date) => date.toISOString();
const hoursAfter = (date: Date, hours: number) => new Date(date.getTime() + hours * 3_600_000);

const rotationId = (n: number) => `00000000-0000-4000-8000-0000000001${String(n).padStart(2, '0')}`;
const overrideId = (n: number) => `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`;

const rotationSpec = (n: number, changes: Partial<RotationSpec> = {}): RotationSpec => ({
  id: rotationId(n),
  name: `layer ${n}`,
  participants: [alice, bob],
  start: new Date('2026-03-02T09:00:00+01:00'),
  shift: { unit: 'days', count: 1 },
  ...changes,
});
const recordedRotation = (n: number, changes: Partial<Rotation> = {}): Rotation => ({
  id: rotationId(n),
  name: `layer ${n}`,
  participants: [alice, bob],
  start: '2026-03-02T08:00:00.000Z',
  shift: { unit: 'days', count: 1 },
  ...changes,
});

const create = (changes: Partial<Extract<ScheduleCommand, { type: 'CreateSchedule' }>> = {}): ScheduleCommand => ({
  type: 'CreateSchedule',
  scheduleId,
  teamId,
  name: 'primary on-call',
  timeZone: 'Europe/Berlin',
  rotations: [rotationSpec(1)],
  teamMemberIds: members,
  now,
  ...changes,
});
const update = (changes: Omit<Partial<Extract<ScheduleCommand, { type: 'UpdateSchedule' }>>, 'type'>): ScheduleCommand => ({
  type: 'UpdateSchedule',
  teamId,
  teamMemberIds: members,
  now,
  ...changes,
});
const overrideSpec = (n: number, startHours: number, endHours: number, userId = carol): OverrideSpec => ({
  id: overrideId(n),
  userId,
  start: hoursAfter(now, startHours),
  end: hoursAfter(now, endHours),
});
const addOverride = (override: OverrideSpec, at = now, team = teamId): ScheduleCommand => ({
  type: 'AddScheduleOverride',
  teamId: team,
  override,
  teamMemberIds: members,
  now: at,
});
const removeOverride = (n: number, at = now): ScheduleCommand => ({ type: 'RemoveScheduleOverride', teamId, overrideId: overrideId(n), now: at });
const remove = (usedByFlowIds: string[] = [], team = teamId): ScheduleCommand => ({ type: 'DeleteSchedule', teamId: team, usedByFlowIds, now });

const created = (rotations: Rotation[] = [recordedRotation(1)]): ScheduleEvent => ({
  type: 'ScheduleCreated',
  data: { scheduleId, teamId, name: 'primary on-call', timeZone: 'Europe/Berlin', rotations, createdAt: iso(now) },
});
const recordedOverride = (spec: OverrideSpec): Override => ({ id: spec.id, userId: spec.userId, start: iso(spec.start), end: iso(spec.end) });
const overrideAdded = (spec: OverrideSpec, at = now): ScheduleEvent => ({
  type: 'ScheduleOverrideAdded',
  data: { scheduleId, override: recordedOverride(spec), at: iso(at) },
});
const overrideRemoved = (n: number, at = now): ScheduleEvent => ({
  type: 'ScheduleOverrideRemoved',
  data: { scheduleId, overrideId: overrideId(n), at: iso(at) },
});
const deleted: ScheduleEvent = { type: 'ScheduleDeleted', data: { scheduleId, at: iso(now) } };

const stateAfter = (events: ScheduleEvent[]) => fold(scheduleDecider, events);
const overridesAfter = (events: ScheduleEvent[]) => {
  const state = stateAfter(events);
  return state.status === 'active' ? state.overrides.map((override) => override.id) : [];
};

describe('schedule decider', () => {
  describe('creating', () => {
    it('records the schedule with its rotations, starts as UTC instants', () => spec.given([]).when(create()).then([created()]));

    it('a schedule without rotations has nobody on call yet, and is allowed', () =>
      spec.given([]).when(create({ rotations: [] })).then([created([])]));

    it('a schedule id that exists cannot be created again, deleted or not', () => {
      spec.given([created()]).when(create()).thenThrows('conflict', 'schedule_exists');
      spec.given([created(), deleted]).when(create()).thenThrows('conflict', 'schedule_exists');
    });

    it('the time zone must be an IANA zone', () => {
      for (const timeZone of ['Mars/Olympus', 'Europe/Berlinn', '+01:00', 'GMT+1', '']) {
        spec.given([]).when(create({ timeZone })).thenThrows('invalid', 'invalid_time_zone');
      }
      for (const timeZone of ['UTC', 'America/New_York', 'America/Argentina/Buenos_Aires', 'Etc/GMT+5']) {
        spec.given([]).when(create({ timeZone })).then([{ ...created(), data: { ...created().data, timeZone } } as ScheduleEvent]);
      }
    });

    it('a name has 1 to 200 characters', () => {
      spec.given([]).when(create({ name: '  ' })).thenThrows('invalid', 'invalid_name');
      spec.given([]).when(create({ name: 'x'.repeat(201) })).thenThrows('invalid', 'invalid_name');
      spec.given([]).when(create({ rotations: [rotationSpec(1, { name: '' })] })).thenThrows('invalid', 'invalid_name');
    });

    it('a schedule has at most 10 rotations', () => {
      const rotations = Array.from({ length: 11 }, (_, n) => rotationSpec(n));
      spec.given([]).when(create({ rotations })).thenThrows('invalid', 'too_many_rotations');
      spec.given([]).when(create({ rotations: rotations.slice(0, 10) })).then([created(Array.from({ length: 10 }, (_, n) => recordedRotation(n)))]);
    });

    it('rotation ids and names are unique within the schedule', () => {
      spec.given([]).when(create({ rotations: [rotationSpec(1), rotationSpec(2, { id: rotationId(1) })] })).thenThrows('invalid', 'duplicate_rotation_id');
      spec.given([]).when(create({ rotations: [rotationSpec(1), rotationSpec(2, { name: 'layer 1' })] })).thenThrows('invalid', 'duplicate_rotation_name');
    });

    it('a rotation has 1 to 100 participants, who may take more than one turn', () => {
      spec.given([]).when(create({ rotations: [rotationSpec(1, { participants: [] })] })).thenThrows('invalid', 'invalid_participants');
      const many = Array.from({ length: 101 }, (_, n) => (n % 2 === 0 ? alice : bob));
      spec.given([]).when(create({ rotations: [rotationSpec(1, { participants: many })] })).thenThrows('invalid', 'invalid_participants');
      spec.given([]).when(create({ rotations: [rotationSpec(1, { participants: many.slice(0, 100) })] })).then([
        created([recordedRotation(1, { participants: many.slice(0, 100) })]),
      ]);
    });

    it('participants must be members of the team', () =>
      spec.given([]).when(create({ rotations: [rotationSpec(1, { participants: [alice, stranger] })] })).thenThrows('invalid', 'participant_not_member'));

    it('a shift counts from 1 up to a year of its unit', () => {
      const refused = [
        { unit: 'hours', count: 0 },
        { unit: 'hours', count: 8_761 },
        { unit: 'days', count: 366 },
        { unit: 'weeks', count: 53 },
        { unit: 'days', count: 1.5 },
      ] as const;
      for (const shift of refused) spec.given([]).when(create({ rotations: [rotationSpec(1, { shift })] })).thenThrows('invalid', 'invalid_shift');
      const allowed = [
        { unit: 'hours', count: 8_760 },
        { unit: 'days', count: 365 },
        { unit: 'weeks', count: 52 },
      ] as const;
      for (const shift of allowed) spec.given([]).when(create({ rotations: [rotationSpec(1, { shift })] })).then([created([recordedRotation(1, { shift })])]);
    });

    it('a rotation starts at a valid instant', () =>
      spec.given([]).when(create({ rotations: [rotationSpec(1, { start: new Date('not a date') })] })).thenThrows('invalid', 'invalid_rotation_start'));
  });

  describe('updating (a PATCH)', () => {
    it('renames', () =>
      spec.given([created()]).when(update({ name: 'secondary' })).then([{ type: 'ScheduleRenamed', data: { scheduleId, name: 'secondary', at: iso(now) } }]));

    it('changes the time zone, refusing one that is not IANA', () => {
      spec.given([created()]).when(update({ timeZone: 'America/New_York' })).then([
        { type: 'ScheduleTimeZoneChanged', data: { scheduleId, timeZone: 'America/New_York', at: iso(now) } },
      ]);
      spec.given([created()]).when(update({ timeZone: 'America/Gotham' })).thenThrows('invalid', 'invalid_time_zone');
    });

    it('replaces the rotations as a whole', () =>
      spec.given([created()]).when(update({ rotations: [rotationSpec(2), rotationSpec(1, { shift: { unit: 'weeks', count: 1 } })] })).then([
        {
          type: 'ScheduleRotationsReplaced',
          data: { scheduleId, rotations: [recordedRotation(2), recordedRotation(1, { shift: { unit: 'weeks', count: 1 } })], at: iso(now) },
        },
      ]));

    it('records one event per field changed, in one decision', () =>
      spec.given([created()]).when(update({ name: 'secondary', timeZone: 'UTC', rotations: [] })).then([
        { type: 'ScheduleRenamed', data: { scheduleId, name: 'secondary', at: iso(now) } },
        { type: 'ScheduleTimeZoneChanged', data: { scheduleId, timeZone: 'UTC', at: iso(now) } },
        { type: 'ScheduleRotationsReplaced', data: { scheduleId, rotations: [], at: iso(now) } },
      ]));

    it('a PATCH that changes nothing records nothing', () => {
      spec.given([created()]).when(update({})).thenNothingHappens();
      spec.given([created()]).when(update({ name: 'primary on-call', timeZone: 'Europe/Berlin', rotations: [rotationSpec(1)] })).thenNothingHappens();
      spec.given([created()]).when(update({ rotations: [rotationSpec(1, { start: new Date('2026-03-02T08:00:00Z') })] })).thenNothingHappens();
    });

    it('the replaced rotations keep to the same bounds as at creation', () => {
      spec.given([created()]).when(update({ rotations: Array.from({ length: 11 }, (_, n) => rotationSpec(n)) })).thenThrows('invalid', 'too_many_rotations');
      spec.given([created()]).when(update({ rotations: [rotationSpec(1, { shift: { unit: 'weeks', count: 0 } })] })).thenThrows('invalid', 'invalid_shift');
      spec.given([created()]).when(update({ rotations: [rotationSpec(1, { participants: [] })] })).thenThrows('invalid', 'invalid_participants');
    });

    it('a participant new to the schedule must be a member; one already in it is not checked again', () => {
      spec.given([created()]).when(update({ rotations: [rotationSpec(1, { participants: [alice, bob, stranger] })] })).thenThrows('invalid', 'participant_not_member');
      const withoutBob = [alice, carol];
      spec.given([created()]).when(update({ rotations: [rotationSpec(1, { participants: [bob, alice], name: 'renamed' })], teamMemberIds: withoutBob })).then([
        {
          type: 'ScheduleRotationsReplaced',
          data: { scheduleId, rotations: [recordedRotation(1, { participants: [bob, alice], name: 'renamed' })], at: iso(now) },
        },
      ]);
    });

    it("another team's schedule, an unknown one and a deleted one do not exist", () => {
      spec.given([created()]).when({ ...update({ name: 'mine' }), teamId: otherTeamId } as ScheduleCommand).thenThrows('not_found', 'schedule_not_found');
      spec.given([]).when(update({ name: 'x' })).thenThrows('not_found', 'schedule_not_found');
      spec.given([created(), deleted]).when(update({ name: 'x' })).thenThrows('not_found', 'schedule_not_found');
    });
  });

  describe('deleting', () => {
    it('deletes a schedule no flow targets', () => spec.given([created()]).when(remove()).then([deleted]));

    it('a schedule a flow targets cannot be deleted', () => spec.given([created()]).when(remove([flowId])).thenThrows('conflict', 'schedule_in_use'));

    it("another team's schedule does not exist", () => spec.given([created()]).when(remove([], otherTeamId)).thenThrows('not_found', 'schedule_not_found'));

    it('a deleted schedule refuses everything', () => {
      const history = [created(), overrideAdded(overrideSpec(1, 1, 2)), deleted];
      const commands: ScheduleCommand[] = [
        update({ name: 'again' }),
        update({ rotations: [] }),
        remove(),
        addOverride(overrideSpec(2, 3, 4)),
        removeOverride(1),
      ];
      for (const command of commands) spec.given(history).when(command).thenThrows('not_found', 'schedule_not_found');
      spec.given(history).when(create()).thenThrows('conflict', 'schedule_exists');
    });
  });

  describe('overrides', () => {
    it('adds an override', () => spec.given([created()]).when(addOverride(overrideSpec(1, 1, 9))).then([overrideAdded(overrideSpec(1, 1, 9))]));

    it('an override that has already started is allowed while it has not ended', () =>
      spec.given([created()]).when(addOverride(overrideSpec(1, -2, 1))).then([overrideAdded(overrideSpec(1, -2, 1))]));

    it('an override ends after it starts', () => {
      spec.given([created()]).when(addOverride(overrideSpec(1, 9, 1))).thenThrows('invalid', 'override_reversed');
      spec.given([created()]).when(addOverride(overrideSpec(1, 9, 9))).thenThrows('invalid', 'override_reversed');
    });

    it('an override lasts at most 90 days', () => {
      spec.given([created()]).when(addOverride(overrideSpec(1, 0, 90 * 24 + 1))).thenThrows('invalid', 'override_too_long');
      spec.given([created()]).when(addOverride(overrideSpec(1, 0, 90 * 24))).then([overrideAdded(overrideSpec(1, 0, 90 * 24))]);
    });

    it('an override that has already ended is refused', () => {
      spec.given([created()]).when(addOverride(overrideSpec(1, -9, -1))).thenThrows('invalid', 'override_in_past');
      spec.given([created()]).when(addOverride(overrideSpec(1, -9, 0))).thenThrows('invalid', 'override_in_past');
    });

    it('an invalid instant is refused', () =>
      spec.given([created()]).when(addOverride({ ...overrideSpec(1, 1, 2), start: new Date(Number.NaN) })).thenThrows('invalid', 'invalid_override_period'));

    it('the person on call instead must be a member of the team', () =>
      spec.given([created()]).when(addOverride(overrideSpec(1, 1, 2, stranger))).thenThrows('invalid', 'override_user_not_member'));

    it('an override id already in the schedule is refused', () =>
      spec.given([created(), overrideAdded(overrideSpec(1, 1, 2))]).when(addOverride(overrideSpec(1, 5, 6))).thenThrows('conflict', 'override_exists'));

    it('overrides do not overlap, whoever they are for; adjacent ones are fine', () => {
      const given = [created(), overrideAdded(overrideSpec(1, 10, 20))];
      for (const [start, end] of [[5, 11], [19, 25], [12, 13], [0, 30], [10, 20]] as const) {
        spec.given(given).when(addOverride(overrideSpec(2, start, end, alice))).thenThrows('invalid', 'override_overlaps');
      }
      spec.given(given).when(addOverride(overrideSpec(2, 5, 10, alice))).then([overrideAdded(overrideSpec(2, 5, 10, alice))]);
      spec.given(given).when(addOverride(overrideSpec(2, 20, 30, alice))).then([overrideAdded(overrideSpec(2, 20, 30, alice))]);
    });

    it('an override that has ended neither overlaps nor can be removed', () => {
      const given = [created(), overrideAdded(overrideSpec(1, 1, 2))];
      const later = hoursAfter(now, 2);
      spec.given(given).when(addOverride({ ...overrideSpec(2, 0, 5), start: now }, later)).then([overrideAdded({ ...overrideSpec(2, 0, 5), start: now }, later)]);
      spec.given(given).when(removeOverride(1, later)).thenThrows('not_found', 'override_not_found');
    });

    it(`a schedule holds at most ${MAX_LIVE_OVERRIDES} overrides that have not ended; ended ones do not count`, () => {
      const full = [created(), ...Array.from({ length: MAX_LIVE_OVERRIDES }, (_, n) => overrideAdded(overrideSpec(n + 1, n + 1, n + 2)))];
      const next = overrideSpec(MAX_LIVE_OVERRIDES + 1, MAX_LIVE_OVERRIDES + 1, MAX_LIVE_OVERRIDES + 2);
      spec.given(full).when(addOverride(next)).thenThrows('invalid', 'too_many_overrides');
      const afterTheFirstEnded = hoursAfter(now, 2);
      spec.given(full).when(addOverride(next, afterTheFirstEnded)).then([overrideAdded(next, afterTheFirstEnded)]);
    });

    it('removes an override, including one under way', () => {
      spec.given([created(), overrideAdded(overrideSpec(1, 1, 2))]).when(removeOverride(1)).then([overrideRemoved(1)]);
      spec.given([created(), overrideAdded(overrideSpec(1, -1, 2))]).when(removeOverride(1)).then([overrideRemoved(1)]);
    });

    it('an unknown override, or one already removed, is not found', () => {
      spec.given([created()]).when(removeOverride(1)).thenThrows('not_found', 'override_not_found');
      spec.given([created(), overrideAdded(overrideSpec(1, 1, 2)), overrideRemoved(1)]).when(removeOverride(1)).thenThrows('not_found', 'override_not_found');
    });

    it("overrides cannot be added to or removed from another team's schedule", () => {
      spec.given([created()]).when(addOverride(overrideSpec(1, 1, 2), now, otherTeamId)).thenThrows('not_found', 'schedule_not_found');
      spec.given([created(), overrideAdded(overrideSpec(1, 1, 2))])
        .when({ type: 'RemoveScheduleOverride', teamId: otherTeamId, overrideId: overrideId(1), now })
        .thenThrows('not_found', 'schedule_not_found');
    });
  });

  describe('state', () => {
    it('the version counts every event of the stream (its revision + 1)', () => {
      expect(stateAfter([]).version).toBe(0);
      expect(stateAfter([created()]).version).toBe(1);
      expect(stateAfter([created(), overrideAdded(overrideSpec(1, 1, 2)), overrideRemoved(1)]).version).toBe(3);
      expect(stateAfter([created(), deleted]).version).toBe(2);
    });

    it('keeps overrides in the order they were added', () =>
      expect(overridesAfter([created(), overrideAdded(overrideSpec(2, 5, 6)), overrideAdded(overrideSpec(1, 1, 2))])).toEqual([overrideId(2), overrideId(1)]));

    it('forgets overrides that had ended when a later event was recorded', () => {
      const history = [created(), overrideAdded(overrideSpec(1, 1, 2)), overrideAdded(overrideSpec(2, 3, 4))];
      expect(overridesAfter(history)).toEqual([overrideId(1), overrideId(2)]);
      const rename = (at: Date): ScheduleEvent => ({ type: 'ScheduleRenamed', data: { scheduleId, name: 'later', at: iso(at) } });
      expect(overridesAfter([...history, rename(hoursAfter(now, 2))])).toEqual([overrideId(2)]);
      expect(overridesAfter([...history, rename(hoursAfter(now, 4))])).toEqual([]);
    });

    it('state stays bounded by the live overrides however many have come and gone', () => {
      const history: ScheduleEvent[] = [created()];
      for (let day = 0; day < 2_000; day++) history.push(overrideAdded(overrideSpec(day + 1, day * 24 + 1, day * 24 + 2), hoursAfter(now, day * 24)));
      expect(overridesAfter(history)).toEqual([overrideId(2_000)]);
    });

    it('deletion keeps only what refusals need', () =>
      expect(stateAfter([created(), deleted])).toEqual({ status: 'deleted', version: 2, scheduleId, teamId }));
  });
});
