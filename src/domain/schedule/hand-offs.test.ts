import { DateTime } from 'luxon';
import { describe, expect, it } from 'vitest';
import type { Rotation, Shift } from './definition.js';
import { rotationTimeline } from './hand-offs.js';

const users = ['00000000-0000-4000-8000-00000000000a', '00000000-0000-4000-8000-00000000000b', '00000000-0000-4000-8000-00000000000c'];
const rotation = (start: string, shift: Shift): Rotation => ({ id: users[0]!, name: 'primary', participants: users, start, shift });

/**
 * Hand-offs the long way, from the calendar: the start's local date plus n shifts of days, at the start's wall time,
 * the first occurrence where that wall time happens twice.
 */
function handOffsByCalendar(start: string, timeZone: string, daysPerShift: number, until: number): number[] {
  const first = DateTime.fromISO(start, { zone: timeZone });
  const firstDate = DateTime.fromObject({ year: first.year, month: first.month, day: first.day }, { zone: 'UTC' });
  const instants = [Date.parse(start)];
  for (let index = 1; instants.at(-1)! <= until; index++) {
    const date = firstDate.plus({ days: index * daysPerShift });
    const wallTime = DateTime.fromObject(
      { year: date.year, month: date.month, day: date.day, hour: first.hour, minute: first.minute, second: first.second, millisecond: first.millisecond },
      { zone: timeZone },
    );
    instants.push(Math.min(...wallTime.getPossibleOffsets().map((occurrence) => occurrence.toMillis())));
  }
  return instants;
}

/** Deterministic spread of instants, so a failure names the instant it failed at. */
function* instantsBetween(from: number, to: number, count: number): Generator<number> {
  let seed = 20_260_329;
  for (let n = 0; n < count; n++) {
    seed = (seed * 1_103_515_245 + 12_345) % 2_147_483_648;
    yield from + Math.floor((seed / 2_147_483_648) * (to - from));
  }
}

describe('rotation hand-offs', () => {
  const cases: [timeZone: string, start: string, shift: Shift][] = [
    ['Europe/Berlin', '2026-01-05T08:00:00.000Z', { unit: 'days', count: 1 }],
    ['Europe/Berlin', '2026-01-05T01:30:00.000Z', { unit: 'days', count: 1 }],
    ['Europe/Berlin', '2026-01-05T08:00:00.000Z', { unit: 'weeks', count: 1 }],
    ['America/New_York', '2026-01-05T14:00:00.000Z', { unit: 'days', count: 3 }],
    ['America/New_York', '2026-06-01T06:30:00.000Z', { unit: 'days', count: 1 }],
    ['America/New_York', '2026-01-05T14:00:00.000Z', { unit: 'weeks', count: 2 }],
    ['Australia/Lord_Howe', '2026-01-05T15:15:00.000Z', { unit: 'days', count: 1 }],
    ['America/Santiago', '2026-01-05T03:30:00.000Z', { unit: 'days', count: 2 }],
    ['Asia/Kolkata', '2026-01-05T03:30:00.000Z', { unit: 'weeks', count: 1 }],
  ];

  it.each(cases)('in %s from %s every %o, the shift at any instant is the one the calendar gives', (timeZone, start, shift) => {
    const from = Date.parse(start);
    const to = from + 3 * 365 * 86_400_000;
    const daysPerShift = shift.unit === 'weeks' ? 7 * shift.count : shift.count;
    const handOffs = handOffsByCalendar(start, timeZone, daysPerShift, to);
    const timeline = rotationTimeline(rotation(start, shift), timeZone);
    const nominal = daysPerShift * 86_400_000;
    const aroundOffsetChanges = handOffs.filter((handOff, n) => n > 0 && n < handOffs.length - 1 && handOffs[n + 1]! - handOff !== nominal);
    if (timeZone !== 'Asia/Kolkata') expect(aroundOffsetChanges.length).toBeGreaterThanOrEqual(6);
    const probes = [...instantsBetween(from, to, 200), ...[...handOffs.slice(1, 4), ...aroundOffsetChanges].flatMap((handOff) => [handOff - 1, handOff])];
    for (const at of probes) {
      const index = handOffs.findIndex((handOff, n) => handOff <= at && at < handOffs[n + 1]!);
      expect(timeline.shiftAt(at), new Date(at).toISOString()).toEqual({
        index,
        userId: users[index % users.length],
        start: handOffs[index],
        end: handOffs[index + 1],
      });
    }
  });

  it('hours shifts last exactly their hours, whatever the zone does', () => {
    const timeline = rotationTimeline(rotation('2026-03-28T08:00:00.000Z', { unit: 'hours', count: 7 }), 'Europe/Berlin');
    const shift = timeline.shiftAt(Date.parse('2027-03-28T01:00:00.000Z'))!;
    expect(shift.end - shift.start).toBe(7 * 3_600_000);
    expect((shift.start - Date.parse('2026-03-28T08:00:00.000Z')) % (7 * 3_600_000)).toBe(0);
  });

  it('nobody is on before the first hand-off', () => {
    const timeline = rotationTimeline(rotation('2026-03-28T08:00:00.000Z', { unit: 'days', count: 1 }), 'Europe/Berlin');
    expect(timeline.shiftAt(Date.parse('2026-03-28T07:59:59.999Z'))).toBeNull();
    expect(timeline.shiftAt(Date.parse('2026-03-28T08:00:00.000Z'))?.index).toBe(0);
  });

  it('the next change skips hand-offs to the same person, and there is none with one person', () => {
    const start = '2026-03-02T08:00:00.000Z';
    const [a, b] = users as [string, string];
    const turns = rotationTimeline({ ...rotation(start, { unit: 'days', count: 1 }), participants: [a, a, b] }, 'Europe/Berlin');
    expect(turns.nextChangeAfter(turns.shiftAt(Date.parse(start))!)).toBe(Date.parse('2026-03-04T08:00:00.000Z'));
    const alone = rotationTimeline({ ...rotation(start, { unit: 'days', count: 1 }), participants: [a] }, 'Europe/Berlin');
    expect(alone.nextChangeAfter(alone.shiftAt(Date.parse(start))!)).toBeNull();
  });

  it('five years after its start, the shift is found from the calendar, not by walking the shifts', () => {
    const timeline = rotationTimeline(rotation('2026-03-27T08:00:00.000Z', { unit: 'days', count: 1 }), 'Europe/Berlin');
    const fiveYearsOn = Date.parse('2031-07-15T07:30:00.000Z');
    expect(timeline.shiftAt(fiveYearsOn)).toEqual({
      index: 1_936,
      userId: users[1_936 % 3],
      start: Date.parse('2031-07-15T07:00:00.000Z'),
      end: Date.parse('2031-07-16T07:00:00.000Z'),
    });
  });
});
