import { invalid } from '../decider.js';
import type { ScheduleDefinition } from './definition.js';
import { rotationTimeline, type RotationTimeline } from './hand-offs.js';
import { isIanaTimeZone } from './time-zone.js';

export const OVERRIDE_SOURCE = 'override';
export const MAX_SHIFT_RANGE_DAYS = 31;

/** Who is on call: `source` names the rotation, or is `override`; nobody on call is `users: []`, `source: null`. */
export interface OnCallAnswer {
  users: string[];
  source: string | null;
}

export interface OnCall extends OnCallAnswer {
  /** The next instant the answer changes; null when it never will (one person, nothing ahead). */
  until: Date | null;
}

export interface ScheduledShift extends OnCallAnswer {
  start: Date;
  end: Date;
}

/** The answer at an instant, and the next instant it may change (every change happens at one of those instants). */
interface Resolution {
  answer: OnCallAnswer;
  next: number | null;
}

interface TimedOverride {
  userId: string;
  start: number;
  end: number;
}

const earliest = (...instants: (number | null)[]): number | null => {
  const known = instants.filter((instant): instant is number => instant !== null);
  return known.length === 0 ? null : Math.min(...known);
};

const sameAnswer = (a: OnCallAnswer, b: OnCallAnswer) =>
  a.source === b.source && a.users.length === b.users.length && a.users.every((user, index) => user === b.users[index]);

/** The top-most rotation with someone on shift wins; a rotation always has someone on from its start on. */
function resolveLayers(timelines: readonly RotationTimeline[], at: number): Resolution {
  for (let layer = timelines.length - 1; layer >= 0; layer--) {
    const timeline = timelines[layer]!;
    const shift = timeline.shiftAt(at);
    if (!shift) continue;
    const higherStarts = timelines.slice(layer + 1).map((higher) => higher.start);
    return {
      answer: { users: [shift.userId], source: timeline.rotation.name },
      next: earliest(timeline.nextChangeAfter(shift), ...higherStarts),
    };
  }
  return { answer: { users: [], source: null }, next: earliest(...timelines.map((timeline) => timeline.start)) };
}

function resolveOverrides(overrides: readonly TimedOverride[], at: number): Resolution | null {
  for (let index = overrides.length - 1; index >= 0; index--) {
    const override = overrides[index]!;
    if (override.start > at || override.end <= at) continue;
    const laterStarts = overrides.slice(index + 1).map((later) => later.start).filter((start) => start > at);
    return { answer: { users: [override.userId], source: OVERRIDE_SOURCE }, next: earliest(override.end, ...laterStarts) };
  }
  return null;
}

function scheduleResolver(schedule: ScheduleDefinition): (at: number) => Resolution {
  if (!isIanaTimeZone(schedule.timeZone)) throw invalid(`${schedule.timeZone} is not an IANA time zone`, 'invalid_time_zone');
  const timelines = schedule.rotations.map((rotation) => rotationTimeline(rotation, schedule.timeZone));
  const overrides = schedule.overrides.map((override) => ({
    userId: override.userId,
    start: Date.parse(override.start),
    end: Date.parse(override.end),
  }));
  return (at) => {
    const overridden = resolveOverrides(overrides, at);
    if (overridden) return overridden;
    const layers = resolveLayers(timelines, at);
    const nextOverrideStart = earliest(...overrides.map((override) => override.start).filter((start) => start > at));
    return { answer: layers.answer, next: earliest(layers.next, nextOverrideStart) };
  };
}

/**
 * Steps from one possible change to the next until the answer really changes (a hand-off to the same person does
 * not), or until `horizon` when nothing after it matters to the caller.
 */
function onCallFrom(resolve: (at: number) => Resolution, at: number, horizon = Infinity): { answer: OnCallAnswer; until: number | null } {
  const { answer, next } = resolve(at);
  let until = next;
  while (until !== null && until < horizon) {
    const later = resolve(until);
    if (!sameAnswer(later.answer, answer)) break;
    until = later.next;
  }
  return { answer, until };
}

function instant(date: Date, field: string): number {
  const time = date.getTime();
  if (Number.isNaN(time)) throw invalid(`${field} is not a valid instant`, `invalid_${field}`);
  return time;
}

/**
 * Who is on call at `at`. Rotations are layers: the last one in the list that has someone on shift wins, and an
 * override replaces the layers for its period (where overrides overlap, the one added last wins).
 */
export function onCallAt(schedule: ScheduleDefinition, at: Date): OnCall {
  const { answer, until } = onCallFrom(scheduleResolver(schedule), instant(at, 'at'));
  return { ...answer, until: until === null ? null : new Date(until) };
}

/**
 * The shifts from `from` until `to` (at most 31 days), in order and covering the range without a gap: the first
 * starts at `from` and the last ends at `to`, cut there if it runs on. A shift is a stretch with one answer, so a
 * hand-off to the same person continues the shift, and a stretch with nobody on call is a shift with `users: []`.
 */
export function shiftsBetween(schedule: ScheduleDefinition, from: Date, to: Date): ScheduledShift[] {
  const start = instant(from, 'from');
  const end = instant(to, 'to');
  if (end <= start) throw invalid('`to` must be after `from`', 'invalid_shift_range');
  if (end - start > MAX_SHIFT_RANGE_DAYS * 86_400_000) {
    throw invalid(`shifts are listed for at most ${MAX_SHIFT_RANGE_DAYS} days at a time`, 'shift_range_too_long');
  }
  const resolve = scheduleResolver(schedule);
  const shifts: ScheduledShift[] = [];
  for (let cursor = start; cursor < end; ) {
    const { answer, until } = onCallFrom(resolve, cursor, end);
    const shiftEnd = until === null ? end : Math.min(until, end);
    shifts.push({ ...answer, start: new Date(cursor), end: new Date(shiftEnd) });
    cursor = shiftEnd;
  }
  return shifts;
}
