import { describe, expect, it } from 'vitest';
import { OverrideInput, RotationInput, ScheduleInput, SchedulePatch } from './definition.js';
import { TimeZone } from './time-zone.js';

const userId = '00000000-0000-4000-8000-00000000000a';
const rotation = { name: 'primary', participants: [userId], start: '2026-03-02T09:00:00+01:00', shift: { unit: 'days', count: 1 } };
const failedPaths = (result: { success: boolean; error?: { issues: { path: PropertyKey[] }[] } }) =>
  result.error?.issues.map((issue) => issue.path.join('.')) ?? [];

describe('schedule input', () => {
  it('a time zone is an IANA zone name', () => {
    for (const zone of ['Europe/Berlin', 'America/New_York', 'America/Argentina/Buenos_Aires', 'UTC', 'Etc/GMT+5']) expect(TimeZone.safeParse(zone).success).toBe(true);
    for (const zone of ['Mars/Olympus', 'Europe/Berlinn', '+01:00', 'GMT+1', 'CET ', '', 'x'.repeat(65)]) expect(TimeZone.safeParse(zone).success).toBe(false);
  });

  it('names the field that is wrong', () => {
    expect(failedPaths(ScheduleInput.safeParse({ name: 'ops', timeZone: 'Nowhere/Land' }))).toEqual(['timeZone']);
    expect(failedPaths(ScheduleInput.safeParse({ name: 'ops', timeZone: 'UTC', rotations: [{ ...rotation, shift: { unit: 'days', count: 0 } }] }))).toEqual([
      'rotations.0.shift.count',
    ]);
    expect(failedPaths(SchedulePatch.safeParse({ rotations: [{ ...rotation, participants: [] }] }))).toEqual(['rotations.0.participants']);
    expect(failedPaths(OverrideInput.safeParse({ userId, start: '2026-03-02T10:00:00Z', end: '2026-03-02T09:00:00Z' }))).toEqual(['end']);
  });

  it('a shift lasts at most a year of its unit', () => {
    const shift = (unit: string, count: number) => RotationInput.safeParse({ ...rotation, shift: { unit, count } }).success;
    expect([shift('hours', 8_760), shift('days', 365), shift('weeks', 52)]).toEqual([true, true, true]);
    expect([shift('hours', 8_761), shift('days', 366), shift('weeks', 53), shift('months', 1), shift('days', 1.5)]).toEqual([false, false, false, false, false]);
  });

  it('a schedule has at most 10 rotations of at most 100 participants; unknown fields are refused', () => {
    expect(ScheduleInput.safeParse({ name: 'ops', timeZone: 'UTC', rotations: Array.from({ length: 11 }, () => rotation) }).success).toBe(false);
    expect(RotationInput.safeParse({ ...rotation, participants: Array.from({ length: 101 }, () => userId) }).success).toBe(false);
    expect(RotationInput.safeParse({ ...rotation, layer: 2 }).success).toBe(false);
    expect(ScheduleInput.parse({ name: ' ops ', timeZone: 'UTC' })).toEqual({ name: 'ops', timeZone: 'UTC', rotations: [] });
  });
});
