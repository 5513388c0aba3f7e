import { DateTime } from 'luxon';
import { describe, expect, it } from 'vitest';
import { DomainError } from '../decider.js';
import type { Override, Rotation, ScheduleDefinition, Shift } from './definition.js';
import { onCallAt, type ScheduledShift, shiftsBetween } from './on-call.js';

const A = '00000000-0000-4000-8000-00000000000a';
const B = '00000000-0000-4000-8000-00000000000b';
const C = '00000000-0000-4000-8000-00000000000c';
const D = '00000000-0000-4000-8000-00000000000d';

let ids = 0;
const nextId = () => `00000000-0000-4000-8000-${String(++ids).padStart(12, '0')}`;
const daily: Shift = { unit: 'days', count: 1 };
const weekly: Shift = { unit: 'weeks', count: 1 };

const rotation = (name: string, start: string, shift: Shift, participants = [A, B, C]): Rotation => ({ id: nextId(), name, participants, start, shift });
const override = (userId: string, start: string, end: string): Override => ({ id: nextId(), userId, start, end });
const schedule = (timeZone: string, rotations: Rotation[], overrides: Override[] = []): ScheduleDefinition => ({ timeZone, rotations, overrides });

const at = (instant: string) => new Date(instant);
const answerAt = (definition: ScheduleDefinition, instant: string) => {
  const { users, source, until } = onCallAt(definition, at(instant));
  return { users, source, until: until?.toISOString() ?? null };
};
const listed = (shifts: ScheduledShift[]) =>
  shifts.map(({ start, end, users, source }) => ({ start: start.toISOString(), end: end.toISOString(), users, source }));
const localStarts = (shifts: ScheduledShift[], timeZone: string) =>
  shifts.map((shift) => DateTime.fromJSDate(shift.start, { zone: timeZone }).toFormat('ccc HH:mm ZZ'));

/** Whatever the schedule, the shifts tile the range, neighbours differ, and each agrees with onCallAt at both ends. */
function expectConsistent(definition: ScheduleDefinition, shifts: ScheduledShift[], from: Date, to: Date) {
  expect(shifts[0]!.start).toEqual(from);
  expect(shifts.at(-1)!.end).toEqual(to);
  shifts.forEach((shift, index) => {
    const next = shifts[index + 1];
    if (next) {
      expect(next.start).toEqual(shift.end);
      expect({ users: next.users, source: next.source }).not.toEqual({ users: shift.users, source: shift.source });
    }
    for (const instant of [shift.start, new Date(shift.end.getTime() - 1)]) {
      const { users, source, until } = onCallAt(definition, instant);
      expect({ users, source }).toEqual({ users: shift.users, source: shift.source });
      if (next) expect(until).toEqual(shift.end);
    }
  });
}

describe('on call', () => {
  describe('daily and weekly hand-offs keep their local time across daylight-saving changes', () => {
    it('Europe/Berlin, daily, spring forward: 09:00 local on both sides, the short day 23 hours long', () => {
      const definition = schedule('Europe/Berlin', [rotation('primary', '2026-03-27T08:00:00.000Z', daily)]);
      const shifts = shiftsBetween(definition, at('2026-03-27T08:00:00.000Z'), at('2026-03-31T07:00:00.000Z'));
      expect(listed(shifts)).toEqual([
        { start: '2026-03-27T08:00:00.000Z', end: '2026-03-28T08:00:00.000Z', users: [A], source: 'primary' },
        { start: '2026-03-28T08:00:00.000Z', end: '2026-03-29T07:00:00.000Z', users: [B], source: 'primary' },
        { start: '2026-03-29T07:00:00.000Z', end: '2026-03-30T07:00:00.000Z', users: [C], source: 'primary' },
        { start: '2026-03-30T07:00:00.000Z', end: '2026-03-31T07:00:00.000Z', users: [A], source: 'primary' },
      ]);
      expect(localStarts(shifts, 'Europe/Berlin')).toEqual(['Fri 09:00 +01:00', 'Sat 09:00 +01:00', 'Sun 09:00 +02:00', 'Mon 09:00 +02:00']);
    });

    it('Europe/Berlin, daily, fall back: 09:00 local on both sides, the long day 25 hours long', () => {
      const definition = schedule('Europe/Berlin', [rotation('primary', '2026-10-23T07:00:00.000Z', daily)]);
      const shifts = shiftsBetween(definition, at('2026-10-23T07:00:00.000Z'), at('2026-10-27T08:00:00.000Z'));
      expect(listed(shifts).map(({ start, users }) => [start, users])).toEqual([
        ['2026-10-23T07:00:00.000Z', [A]],
        ['2026-10-24T07:00:00.000Z', [B]],
        ['2026-10-25T08:00:00.000Z', [C]],
        ['2026-10-26T08:00:00.000Z', [A]],
      ]);
      expect(shifts[1]!.end.getTime() - shifts[1]!.start.getTime()).toBe(25 * 3_600_000);
      expect(localStarts(shifts, 'Europe/Berlin')).toEqual(['Fri 09:00 +02:00', 'Sat 09:00 +02:00', 'Sun 09:00 +01:00', 'Mon 09:00 +01:00']);
    });

    it('Europe/Berlin, weekly: Monday 09:00 local before and after both changes', () => {
      const spring = schedule('Europe/Berlin', [rotation('primary', '2026-03-23T08:00:00.000Z', weekly, [A, B])]);
      const springShifts = shiftsBetween(spring, at('2026-03-23T08:00:00.000Z'), at('2026-04-13T07:00:00.000Z'));
      expect(listed(springShifts).map(({ start, users }) => [start, users])).toEqual([
        ['2026-03-23T08:00:00.000Z', [A]],
        ['2026-03-30T07:00:00.000Z', [B]],
        ['2026-04-06T07:00:00.000Z', [A]],
      ]);
      const fall = schedule('Europe/Berlin', [rotation('primary', '2026-10-19T07:00:00.000Z', weekly, [A, B])]);
      const fallShifts = shiftsBetween(fall, at('2026-10-19T07:00:00.000Z'), at('2026-11-09T08:00:00.000Z'));
      expect(localStarts(fallShifts, 'Europe/Berlin')).toEqual(['Mon 09:00 +02:00', 'Mon 09:00 +01:00', 'Mon 09:00 +01:00']);
      expect(fallShifts[0]!.end).toEqual(at('2026-10-26T08:00:00.000Z'));
    });

    it('America/New_York, daily: 09:00 local across the March and November changes', () => {
      const spring = schedule('America/New_York', [rotation('primary', '2026-03-06T14:00:00.000Z', daily)]);
      const springShifts = shiftsBetween(spring, at('2026-03-06T14:00:00.000Z'), at('2026-03-10T13:00:00.000Z'));
      expect(listed(springShifts).map(({ start, users }) => [start, users])).toEqual([
        ['2026-03-06T14:00:00.000Z', [A]],
        ['2026-03-07T14:00:00.000Z', [B]],
        ['2026-03-08T13:00:00.000Z', [C]],
        ['2026-03-09T13:00:00.000Z', [A]],
      ]);
      expect(localStarts(springShifts, 'America/New_York')).toEqual(['Fri 09:00 -05:00', 'Sat 09:00 -05:00', 'Sun 09:00 -04:00', 'Mon 09:00 -04:00']);
      const fall = schedule('America/New_York', [rotation('primary', '2026-10-30T13:00:00.000Z', daily)]);
      const fallShifts = shiftsBetween(fall, at('2026-10-30T13:00:00.000Z'), at('2026-11-03T14:00:00.000Z'));
      expect(listed(fallShifts).map(({ start }) => start)).toEqual([
        '2026-10-30T13:00:00.000Z',
        '2026-10-31T13:00:00.000Z',
        '2026-11-01T14:00:00.000Z',
        '2026-11-02T14:00:00.000Z',
      ]);
      expect(localStarts(fallShifts, 'America/New_York')).toEqual(['Fri 09:00 -04:00', 'Sat 09:00 -04:00', 'Sun 09:00 -05:00', 'Mon 09:00 -05:00']);
    });

    it('America/New_York, weekly: Monday 09:00 local across both changes', () => {
      const spring = schedule('America/New_York', [rotation('primary', '2026-03-02T14:00:00.000Z', weekly, [A, B])]);
      expect(answerAt(spring, '2026-03-09T12:59:59.999Z')).toEqual({ users: [A], source: 'primary', until: '2026-03-09T13:00:00.000Z' });
      expect(answerAt(spring, '2026-03-09T13:00:00.000Z')).toEqual({ users: [B], source: 'primary', until: '2026-03-16T13:00:00.000Z' });
      const fall = schedule('America/New_York', [rotation('primary', '2026-10-26T13:00:00.000Z', weekly, [A, B])]);
      expect(answerAt(fall, '2026-11-02T13:30:00.000Z')).toEqual({ users: [A], source: 'primary', until: '2026-11-02T14:00:00.000Z' });
      expect(answerAt(fall, '2026-11-02T14:00:00.000Z')).toEqual({ users: [B], source: 'primary', until: '2026-11-09T14:00:00.000Z' });
    });

    it('a hand-off time the clocks skip happens as long after the skip as it would have after 02:00 (02:30 becomes 03:30)', () => {
      const definition = schedule('Europe/Berlin', [rotation('night', '2026-03-27T01:30:00.000Z', daily, [A, B])]);
      const shifts = shiftsBetween(definition, at('2026-03-27T01:30:00.000Z'), at('2026-03-31T00:30:00.000Z'));
      expect(localStarts(shifts, 'Europe/Berlin')).toEqual(['Fri 02:30 +01:00', 'Sat 02:30 +01:00', 'Sun 03:30 +02:00', 'Mon 02:30 +02:00']);
    });

    it('a hand-off time that happens twice hands off the first time, however far the start is from the change', () => {
      const fromWinter = schedule('Europe/Berlin', [rotation('night', '2026-01-01T01:30:00.000Z', daily, [A, B])]);
      const fromSummer = schedule('Europe/Berlin', [rotation('night', '2026-10-20T00:30:00.000Z', daily, [A, B])]);
      for (const definition of [fromWinter, fromSummer]) {
        expect(onCallAt(definition, at('2026-10-25T00:00:00.000Z')).until).toEqual(at('2026-10-25T00:30:00.000Z'));
        expect(onCallAt(definition, at('2026-10-25T00:30:00.000Z')).until).toEqual(at('2026-10-26T01:30:00.000Z'));
      }
    });
  });

  it('hours shifts are fixed durations: a 12-hour rotation hands off every 12 hours of elapsed time across the change', () => {
    const spring = schedule('Europe/Berlin', [rotation('follow the sun', '2026-03-28T08:00:00.000Z', { unit: 'hours', count: 12 }, [A, B])]);
    const springShifts = shiftsBetween(spring, at('2026-03-28T08:00:00.000Z'), at('2026-03-30T08:00:00.000Z'));
    expect(listed(springShifts).map(({ start, users }) => [start, users])).toEqual([
      ['2026-03-28T08:00:00.000Z', [A]],
      ['2026-03-28T20:00:00.000Z', [B]],
      ['2026-03-29T08:00:00.000Z', [A]],
      ['2026-03-29T20:00:00.000Z', [B]],
    ]);
    expect(localStarts(springShifts, 'Europe/Berlin')).toEqual(['Sat 09:00 +01:00', 'Sat 21:00 +01:00', 'Sun 10:00 +02:00', 'Sun 22:00 +02:00']);
    const fall = schedule('Europe/Berlin', [rotation('follow the sun', '2026-10-24T07:00:00.000Z', { unit: 'hours', count: 12 }, [A, B])]);
    const fallShifts = shiftsBetween(fall, at('2026-10-24T07:00:00.000Z'), at('2026-10-26T07:00:00.000Z'));
    expect(fallShifts.map((shift) => shift.end.getTime() - shift.start.getTime())).toEqual([12, 12, 12, 12].map((hours) => hours * 3_600_000));
    expect(localStarts(fallShifts, 'Europe/Berlin')).toEqual(['Sat 09:00 +02:00', 'Sat 21:00 +02:00', 'Sun 08:00 +01:00', 'Sun 20:00 +01:00']);
  });

  describe('layers', () => {
    const base = () => rotation('weekdays', '2026-03-02T08:00:00.000Z', daily, [A, B]);

    it('a later layer wins from its start; until then the earlier one answers, until the later one starts', () => {
      const definition = schedule('Europe/Berlin', [base(), rotation('cover', '2026-03-08T20:00:00.000Z', weekly, [C, D])]);
      expect(answerAt(definition, '2026-03-08T10:00:00.000Z')).toEqual({ users: [A], source: 'weekdays', until: '2026-03-08T20:00:00.000Z' });
      expect(answerAt(definition, '2026-03-08T20:00:00.000Z')).toEqual({ users: [C], source: 'cover', until: '2026-03-15T20:00:00.000Z' });
    });

    it("the earlier layer's hand-offs underneath do not end the answer", () => {
      const definition = schedule('Europe/Berlin', [base(), rotation('cover', '2026-03-01T08:00:00.000Z', weekly, [C, D])]);
      expect(answerAt(definition, '2026-03-03T12:00:00.000Z')).toEqual({ users: [C], source: 'cover', until: '2026-03-08T08:00:00.000Z' });
    });

    it('the order of the layers decides, not their starts', () => {
      const definition = schedule('Europe/Berlin', [rotation('late', '2026-03-09T08:00:00.000Z', daily, [C]), base()]);
      expect(answerAt(definition, '2026-03-10T12:00:00.000Z')).toEqual({ users: [A], source: 'weekdays', until: '2026-03-11T08:00:00.000Z' });
    });

    it('a layer of one person that nothing covers never changes: until is null', () => {
      const definition = schedule('UTC', [rotation('solo', '2026-03-02T08:00:00.000Z', daily, [D])]);
      expect(answerAt(definition, '2030-01-01T00:00:00.000Z')).toEqual({ users: [D], source: 'solo', until: null });
    });

    it('hand-offs to the same person continue the answer until someone else takes over', () => {
      const definition = schedule('Europe/Berlin', [rotation('doubles', '2026-03-02T08:00:00.000Z', daily, [A, A, B])]);
      expect(answerAt(definition, '2026-03-02T09:00:00.000Z')).toEqual({ users: [A], source: 'doubles', until: '2026-03-04T08:00:00.000Z' });
      expect(answerAt(definition, '2026-03-04T08:00:00.000Z')).toEqual({ users: [B], source: 'doubles', until: '2026-03-05T08:00:00.000Z' });
    });
  });

  describe('gaps', () => {
    it('before the first rotation starts nobody is on call, until it starts', () => {
      const definition = schedule('Europe/Berlin', [rotation('late', '2026-03-09T08:00:00.000Z', daily), rotation('later', '2026-03-20T08:00:00.000Z', daily)]);
      expect(answerAt(definition, '2026-03-01T00:00:00.000Z')).toEqual({ users: [], source: null, until: '2026-03-09T08:00:00.000Z' });
    });

    it('a schedule without rotations has nobody on call, for good', () =>
      expect(answerAt(schedule('Europe/Berlin', []), '2026-03-01T00:00:00.000Z')).toEqual({ users: [], source: null, until: null }));

    it('shifts list a gap as a shift with nobody', () => {
      const definition = schedule('UTC', [rotation('late', '2026-03-02T08:00:00.000Z', daily, [A])]);
      expect(listed(shiftsBetween(definition, at('2026-03-01T00:00:00.000Z'), at('2026-03-03T00:00:00.000Z')))).toEqual([
        { start: '2026-03-01T00:00:00.000Z', end: '2026-03-02T08:00:00.000Z', users: [], source: null },
        { start: '2026-03-02T08:00:00.000Z', end: '2026-03-03T00:00:00.000Z', users: [A], source: 'late' },
      ]);
    });
  });

  describe('overrides', () => {
    const layers = () => [rotation('primary', '2026-03-02T08:00:00.000Z', daily, [A, B])];

    it('an override replaces the layers for its period', () => {
      const definition = schedule('Europe/Berlin', layers(), [override(C, '2026-03-03T12:00:00.000Z', '2026-03-03T18:00:00.000Z')]);
      expect(answerAt(definition, '2026-03-03T10:00:00.000Z')).toEqual({ users: [B], source: 'primary', until: '2026-03-03T12:00:00.000Z' });
      expect(answerAt(definition, '2026-03-03T12:00:00.000Z')).toEqual({ users: [C], source: 'override', until: '2026-03-03T18:00:00.000Z' });
      expect(answerAt(definition, '2026-03-03T18:00:00.000Z')).toEqual({ users: [B], source: 'primary', until: '2026-03-04T08:00:00.000Z' });
    });

    it('an override across a hand-off hands over to whoever the layers have on when it ends', () => {
      const definition = schedule('Europe/Berlin', layers(), [override(C, '2026-03-03T20:00:00.000Z', '2026-03-04T10:00:00.000Z')]);
      expect(answerAt(definition, '2026-03-04T08:00:00.000Z')).toEqual({ users: [C], source: 'override', until: '2026-03-04T10:00:00.000Z' });
      expect(answerAt(definition, '2026-03-04T10:00:00.000Z')).toEqual({ users: [A], source: 'primary', until: '2026-03-05T08:00:00.000Z' });
    });

    it('an override of the person already on shift still changes the source', () => {
      const definition = schedule('Europe/Berlin', layers(), [override(B, '2026-03-03T12:00:00.000Z', '2026-03-03T18:00:00.000Z')]);
      expect(answerAt(definition, '2026-03-03T10:00:00.000Z').until).toBe('2026-03-03T12:00:00.000Z');
    });

    it('adjacent overrides of one person are one stretch; of two people, two', () => {
      const same = schedule('Europe/Berlin', layers(), [
        override(C, '2026-03-03T12:00:00.000Z', '2026-03-03T18:00:00.000Z'),
        override(C, '2026-03-03T18:00:00.000Z', '2026-03-03T20:00:00.000Z'),
      ]);
      expect(answerAt(same, '2026-03-03T13:00:00.000Z')).toEqual({ users: [C], source: 'override', until: '2026-03-03T20:00:00.000Z' });
      const two = schedule('Europe/Berlin', layers(), [
        override(C, '2026-03-03T12:00:00.000Z', '2026-03-03T18:00:00.000Z'),
        override(D, '2026-03-03T18:00:00.000Z', '2026-03-03T20:00:00.000Z'),
      ]);
      expect(answerAt(two, '2026-03-03T13:00:00.000Z')).toEqual({ users: [C], source: 'override', until: '2026-03-03T18:00:00.000Z' });
      expect(answerAt(two, '2026-03-03T18:00:00.000Z')).toEqual({ users: [D], source: 'override', until: '2026-03-03T20:00:00.000Z' });
    });

    it('where overrides overlap, the one added last wins', () => {
      const definition = schedule('Europe/Berlin', layers(), [
        override(C, '2026-03-03T12:00:00.000Z', '2026-03-03T18:00:00.000Z'),
        override(D, '2026-03-03T14:00:00.000Z', '2026-03-03T16:00:00.000Z'),
      ]);
      expect(answerAt(definition, '2026-03-03T13:00:00.000Z')).toEqual({ users: [C], source: 'override', until: '2026-03-03T14:00:00.000Z' });
      expect(answerAt(definition, '2026-03-03T15:00:00.000Z')).toEqual({ users: [D], source: 'override', until: '2026-03-03T16:00:00.000Z' });
      expect(answerAt(definition, '2026-03-03T16:00:00.000Z')).toEqual({ users: [C], source: 'override', until: '2026-03-03T18:00:00.000Z' });
    });

    it('an override puts someone on call where the layers have nobody', () => {
      const definition = schedule('Europe/Berlin', layers(), [override(C, '2026-03-01T00:00:00.000Z', '2026-03-01T06:00:00.000Z')]);
      expect(answerAt(definition, '2026-03-01T01:00:00.000Z')).toEqual({ users: [C], source: 'override', until: '2026-03-01T06:00:00.000Z' });
      expect(answerAt(definition, '2026-03-01T06:00:00.000Z')).toEqual({ users: [], source: null, until: '2026-03-02T08:00:00.000Z' });
    });
  });

  describe('shifts between two instants', () => {
    const definition = () =>
      schedule(
        'Europe/Berlin',
        [rotation('primary', '2026-03-02T08:00:00.000Z', daily), rotation('weekend', '2026-03-07T08:00:00.000Z', { unit: 'hours', count: 6 }, [D, D, A])],
        [override(C, '2026-03-10T00:00:00.000Z', '2026-03-12T00:00:00.000Z'), override(B, '2026-03-29T00:30:00.000Z', '2026-03-29T03:00:00.000Z')],
      );

    it('over 31 days, ordered, covering the range, identical neighbours merged, each agreeing with onCallAt', () => {
      const from = at('2026-03-01T00:00:00.000Z');
      const to = at('2026-04-01T00:00:00.000Z');
      const shifts = shiftsBetween(definition(), from, to);
      expectConsistent(definition(), shifts, from, to);
      expect(listed(shifts).slice(0, 4)).toEqual([
        { start: '2026-03-01T00:00:00.000Z', end: '2026-03-02T08:00:00.000Z', users: [], source: null },
        { start: '2026-03-02T08:00:00.000Z', end: '2026-03-03T08:00:00.000Z', users: [A], source: 'primary' },
        { start: '2026-03-03T08:00:00.000Z', end: '2026-03-04T08:00:00.000Z', users: [B], source: 'primary' },
        { start: '2026-03-04T08:00:00.000Z', end: '2026-03-05T08:00:00.000Z', users: [C], source: 'primary' },
      ]);
      expect(listed(shifts).find((shift) => shift.start === '2026-03-07T08:00:00.000Z')).toEqual({
        start: '2026-03-07T08:00:00.000Z',
        end: '2026-03-07T20:00:00.000Z',
        users: [D],
        source: 'weekend',
      });
      expect(listed(shifts).filter((shift) => shift.source === 'override')).toEqual([
        { start: '2026-03-10T00:00:00.000Z', end: '2026-03-12T00:00:00.000Z', users: [C], source: 'override' },
        { start: '2026-03-29T00:30:00.000Z', end: '2026-03-29T03:00:00.000Z', users: [B], source: 'override' },
      ]);
    });

    it('a shift that runs past either end is cut there', () => {
      const shifts = shiftsBetween(definition(), at('2026-03-03T12:00:00.000Z'), at('2026-03-04T12:00:00.000Z'));
      expect(listed(shifts)).toEqual([
        { start: '2026-03-03T12:00:00.000Z', end: '2026-03-04T08:00:00.000Z', users: [B], source: 'primary' },
        { start: '2026-03-04T08:00:00.000Z', end: '2026-03-04T12:00:00.000Z', users: [C], source: 'primary' },
      ]);
    });

    it('a range longer than 31 days, empty or reversed is refused', () => {
      const refusal = (from: string, to: string) => {
        try {
          shiftsBetween(definition(), at(from), at(to));
        } catch (error) {
          return error instanceof DomainError ? `${error.kind} ${error.code}` : String(error);
        }
        return 'accepted';
      };
      expect(refusal('2026-03-01T00:00:00.000Z', '2026-04-01T00:00:00.001Z')).toBe('invalid shift_range_too_long');
      expect(refusal('2026-03-01T00:00:00.000Z', '2026-03-01T00:00:00.000Z')).toBe('invalid invalid_shift_range');
      expect(refusal('2026-03-02T00:00:00.000Z', '2026-03-01T00:00:00.000Z')).toBe('invalid invalid_shift_range');
      expect(refusal('not a date', '2026-03-01T00:00:00.000Z')).toBe('invalid invalid_from');
    });

    it('an hourly rotation over 31 days lists every shift', () => {
      const hourly = schedule('America/New_York', [rotation('hourly', '2026-03-01T00:00:00.000Z', { unit: 'hours', count: 1 }, [A, B])]);
      const from = at('2026-03-01T00:00:00.000Z');
      const to = at('2026-04-01T00:00:00.000Z');
      const shifts = shiftsBetween(hourly, from, to);
      expect(shifts).toHaveLength(31 * 24);
      expectConsistent(hourly, shifts.slice(0, 48), from, shifts[47]!.end);
    });
  });

  it('an instant years after the start is computed from the calendar, quickly', () => {
    const definition = schedule(
      'Europe/Berlin',
      [
        rotation('daily', '2026-03-27T08:00:00.000Z', daily),
        rotation('weekly', '2026-03-30T07:00:00.000Z', { unit: 'weeks', count: 2 }, [A, B, C, D]),
        rotation('hourly', '2026-03-27T08:00:00.000Z', { unit: 'hours', count: 8 }, [C, D]),
      ],
    );
    const dailyOnly = schedule('Europe/Berlin', [definition.rotations[0]!]);
    expect(answerAt(dailyOnly, '2031-07-15T07:30:00.000Z')).toEqual({ users: [[A, B, C][1_936 % 3]], source: 'daily', until: '2031-07-16T07:00:00.000Z' });

    const fiveYears = 5 * 365 * 86_400_000;
    const started = performance.now();
    for (let n = 0; n < 300; n++) onCallAt(definition, new Date(Date.parse('2026-03-27T08:00:00.000Z') + (fiveYears * n) / 300 + n * 997));
    // Walking shift by shift from the start would take several seconds here.
    expect(performance.now() - started).toBeLessThan(2_000);
  });

  it('a schedule whose zone is not an IANA zone is refused', () => {
    for (const timeZone of ['Mars/Olympus', '+01:00', '']) {
      const definition = schedule(timeZone, [rotation('primary', '2026-03-02T08:00:00.000Z', daily)]);
      expect(() => onCallAt(definition, at('2026-03-03T00:00:00.000Z'))).toThrow(expect.objectContaining({ kind: 'invalid', code: 'invalid_time_zone' }));
      expect(() => shiftsBetween(definition, at('2026-03-03T00:00:00.000Z'), at('2026-03-04T00:00:00.000Z'))).toThrow(
        expect.objectContaining({ code: 'invalid_time_zone' }),
      );
    }
  });
});
