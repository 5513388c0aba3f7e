import { describe, it } from 'vitest';
import { deciderSpecification } from '../decider-specification.js';
import type { MaintenanceCommand, OpenWindow } from './commands.js';
import { MAX_OPEN_WINDOWS, maintenanceWindowDecider } from './decider.js';
import type { MaintenanceEvent } from './events.js';

const spec = deciderSpecification(maintenanceWindowDecider);
const windowId = '00000000-0000-4000-8000-0000000000a1';
const teamId = '00000000-0000-4000-8000-000000000001';
const otherTeamId = '00000000-0000-4000-8000-000000000002';
const flowA = '00000000-0000-4000-8000-00000000f00a';
const flowB = '00000000-0000-4000-8000-00000000f00b';
const t0 = new Date('2026-01-01T00:00:00.000Z');
const after = (minutes: number) => new Date(t0.getTime() + minutes * 60_000);
const iso = (minutes: number) => after(minutes).toISOString();

const create = (overrides: Partial<Extract<MaintenanceCommand, { type: 'CreateMaintenanceWindow' }>> = {}): MaintenanceCommand => ({
  type: 'CreateMaintenanceWindow',
  windowId,
  teamId,
  start: after(10),
  end: after(70),
  reason: 'database upgrade',
  flowIds: null,
  teamFlowIds: [],
  openWindows: [],
  now: t0,
  ...overrides,
});
const created = (flowIds: string[] | null = null): MaintenanceEvent => ({
  type: 'MaintenanceWindowCreated',
  data: { windowId, teamId, start: iso(10), end: iso(70), reason: 'database upgrade', flowIds, createdAt: iso(0) },
});
const open = (startMinutes: number, endMinutes: number, flowIds: string[] | null): OpenWindow => ({
  windowId: '00000000-0000-4000-8000-0000000000b1',
  start: after(startMinutes),
  end: after(endMinutes),
  flowIds,
});

describe('maintenance window decider', () => {
  it('a window covers the whole team when it names no flow', () => spec.given([]).when(create()).then([created()]));

  it('a window may cover some flows of the team', () =>
    spec.given([]).when(create({ flowIds: [flowA], teamFlowIds: [flowA] })).then([created([flowA])]));

  it('a flow that is not the team’s is refused, naming it', () =>
    spec.given([]).when(create({ flowIds: [flowA, flowB], teamFlowIds: [flowA] })).thenThrows('invalid', 'unknown_flow'));

  it('a window ending before it starts is refused', () => spec.given([]).when(create({ end: after(10) })).thenThrows('invalid', 'window_reversed'));

  it('a window longer than 31 days is refused', () =>
    spec.given([]).when(create({ end: after(10 + 31 * 24 * 60 + 1) })).thenThrows('invalid', 'window_too_long'));

  it('a window already over is refused', () =>
    spec.given([]).when(create({ start: after(-60), end: after(-1) })).thenThrows('invalid', 'window_in_past'));

  it('an empty reason is refused', () => spec.given([]).when(create({ reason: '  ' })).thenThrows('invalid', 'invalid_reason'));

  it('a window overlapping another for a flow they share is refused', () => {
    spec.given([]).when(create({ openWindows: [open(60, 120, null)] })).thenThrows('invalid', 'window_overlaps');
    spec
      .given([])
      .when(create({ flowIds: [flowA], teamFlowIds: [flowA], openWindows: [open(0, 20, [flowA, flowB])] }))
      .thenThrows('invalid', 'window_overlaps');
  });

  it('windows may overlap on different flows, or follow each other', () => {
    spec.given([]).when(create({ flowIds: [flowA], teamFlowIds: [flowA], openWindows: [open(0, 120, [flowB])] })).then([created([flowA])]);
    spec.given([]).when(create({ openWindows: [open(0, 10, null), open(70, 80, null)] })).then([created()]);
  });

  it('a team holds a bounded number of windows not ended', () =>
    spec
      .given([])
      .when(create({ openWindows: Array.from({ length: MAX_OPEN_WINDOWS }, (_, index) => open(1000 + index * 2, 1001 + index * 2, null)) }))
      .thenThrows('invalid', 'too_many_windows'));

  it('deleting a window ends it now', () =>
    spec
      .given([created()])
      .when({ type: 'EndMaintenanceWindow', teamId, now: after(20) })
      .then([{ type: 'MaintenanceWindowEnded', data: { windowId, teamId, end: iso(70), endedAt: iso(20) } }]));

  it("another team's window, a deleted one, or one that is over is not found", () => {
    spec.given([created()]).when({ type: 'EndMaintenanceWindow', teamId: otherTeamId, now: after(20) }).thenThrows('not_found');
    spec
      .given([created(), { type: 'MaintenanceWindowEnded', data: { windowId, teamId, end: iso(70), endedAt: iso(20) } }])
      .when({ type: 'EndMaintenanceWindow', teamId, now: after(30) })
      .thenThrows('not_found');
    spec.given([created()]).when({ type: 'EndMaintenanceWindow', teamId, now: after(70) }).thenThrows('not_found');
  });
});
