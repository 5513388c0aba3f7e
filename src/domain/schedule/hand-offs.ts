import { DateTime } from 'luxon';
import type { Rotation } from './definition.js';

const HOUR_MS = 3_600_000;
const DAY_MS = 86_400_000;

/** Days since the epoch of the local calendar date: counting dates, not elapsed time. */
const calendarDay = (dateTime: DateTime) => Date.UTC(dateTime.year, dateTime.month - 1, dateTime.day) / DAY_MS;

/** One shift of a rotation, in epoch milliseconds: `userId` is on from `start` until `end`. */
export interface RotationShift {
  index: number;
  userId: string;
  start: number;
  end: number;
}

/** A rotation's hand-offs in its schedule's time zone. */
export interface RotationTimeline {
  readonly rotation: Rotation;
  /** When the rotation's first shift begins; nobody is on before. */
  readonly start: number;
  /** The shift on at `at`; null before the rotation starts. */
  shiftAt(at: number): RotationShift | null;
  /** The first hand-off after `shift` to someone else; null when the rotation only ever has one person on. */
  nextChangeAfter(shift: RotationShift): number | null;
}

/**
 * `hours` shifts last a fixed time. `days` and `weeks` shifts hand off at the wall time of the rotation's start in
 * `timeZone`, whatever the offset that day: the n-th hand-off is the start's local date plus n shifts, at that time.
 * A wall time the clocks skip that day hands off as long after the skip as it would have been after midnight (02:30
 * when the clocks jump from 02:00 to 03:00 becomes 03:30); a wall time that happens twice hands off the first time.
 */
export function rotationTimeline(rotation: Rotation, timeZone: string): RotationTimeline {
  const start = Date.parse(rotation.start);
  const { participants } = rotation;
  const { unit, count } = rotation.shift;
  const first = DateTime.fromMillis(start, { zone: timeZone });
  const daysPerShift = unit === 'weeks' ? 7 * count : count;

  const firstDay = calendarDay(first);
  /** Zone lookups are the cost here, and consecutive shifts share their hand-offs. */
  const calendarHandOffs = new Map<number, number>();

  const handOffAt = (index: number): number => {
    if (unit === 'hours') return start + index * count * HOUR_MS;
    if (index === 0) return start;
    let instant = calendarHandOffs.get(index);
    if (instant === undefined) {
      const wallTime = first.plus({ days: index * daysPerShift });
      instant = Math.min(...wallTime.getPossibleOffsets().map((occurrence) => occurrence.toMillis()));
      if (calendarHandOffs.size >= 1_000) calendarHandOffs.clear();
      calendarHandOffs.set(index, instant);
    }
    return instant;
  };

  /**
   * Exact for `hours`. For calendar shifts, the local dates between the start and `at` divided by the shift's days:
   * one shift too far when `at` is on a hand-off date before the hand-off time.
   */
  const estimatedIndex = (at: number): number => {
    if (unit === 'hours') return Math.floor((at - start) / (count * HOUR_MS));
    const days = calendarDay(DateTime.fromMillis(at, { zone: timeZone })) - firstDay;
    return Math.max(0, Math.floor(days / daysPerShift));
  };

  return {
    rotation,
    start,
    shiftAt(at) {
      if (at < start) return null;
      let index = estimatedIndex(at);
      let shiftStart = handOffAt(index);
      while (index > 0 && shiftStart > at) shiftStart = handOffAt(--index);
      let next = handOffAt(index + 1);
      while (next <= at) {
        index += 1;
        shiftStart = next;
        next = handOffAt(index + 1);
      }
      return { index, userId: participants[index % participants.length]!, start: shiftStart, end: next };
    },
    nextChangeAfter({ index, userId }) {
      for (let step = 1; step < participants.length; step++) {
        if (participants[(index + step) % participants.length] !== userId) return handOffAt(index + step);
      }
      return null;
    },
  };
}
