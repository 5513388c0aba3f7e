import { describe, expect, it } from 'vitest';
import { createCatalog } from '../../catalog.js';
import type { Rotation } from './definition.js';
import { type ScheduleEvent, scheduleEventDefinitions } from './events.js';

const scheduleId = '00000000-0000-4000-8000-0000000005c0';
const at = '2026-03-01T12:00:00.000Z';
const rotation: Rotation = {
  id: '00000000-0000-4000-8000-000000000101',
  name: 'primary',
  participants: ['00000000-0000-4000-8000-00000000000a'],
  start: '2026-03-02T08:00:00.000Z',
  shift: { unit: 'days', count: 1 },
};
const override = { id: '00000000-0000-4000-8000-000000000201', userId: '00000000-0000-4000-8000-00000000000a', start: at, end: '2026-03-01T18:00:00.000Z' };

const oneOfEach: ScheduleEvent[] = [
  { type: 'ScheduleCreated', data: { scheduleId, teamId: '00000000-0000-4000-8000-000000000001', name: 'ops', timeZone: 'Europe/Berlin', rotations: [rotation], createdAt: at } },
  { type: 'ScheduleRenamed', data: { scheduleId, name: 'ops 2', at } },
  { type: 'ScheduleTimeZoneChanged', data: { scheduleId, timeZone: 'UTC', at } },
  { type: 'ScheduleRotationsReplaced', data: { scheduleId, rotations: [], at } },
  { type: 'ScheduleOverrideAdded', data: { scheduleId, override, at } },
  { type: 'ScheduleOverrideRemoved', data: { scheduleId, overrideId: override.id, at } },
  { type: 'ScheduleDeleted', data: { scheduleId, at } },
];

describe('schedule events', () => {
  it('are registered in the catalog', () => {
    const catalog = createCatalog();
    for (const type of Object.keys(scheduleEventDefinitions)) expect(catalog.schemaVersionOf(type)).toBe(1);
  });

  it('every event type reads back as written', () => {
    const catalog = createCatalog();
    expect(oneOfEach.map((event) => event.type).sort()).toEqual(Object.keys(scheduleEventDefinitions).sort());
    for (const event of oneOfEach) {
      const stored = { type: event.type, schemaVersion: catalog.schemaVersionOf(event.type), data: JSON.parse(JSON.stringify(event.data)), eventId: scheduleId };
      expect(catalog.parse(stored)).toEqual(event);
    }
  });

  it('a stored zone the runtime no longer knows still reads, so the stream stays readable', () => {
    const catalog = createCatalog();
    const stored = { type: 'ScheduleTimeZoneChanged', schemaVersion: 1, data: { scheduleId, timeZone: 'Retired/Zone', at }, eventId: scheduleId };
    expect(catalog.parse(stored)).toEqual({ type: 'ScheduleTimeZoneChanged', data: { scheduleId, timeZone: 'Retired/Zone', at } });
  });
});
