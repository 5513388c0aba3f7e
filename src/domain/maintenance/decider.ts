import { conflict, type Decider, DomainError, invalid } from '../decider.js';
import type { MaintenanceCommand, OpenWindow } from './commands.js';
import type { MaintenanceEvent } from './events.js';

export type MaintenanceWindowState =
  | { status: 'none' }
  | { status: 'open'; windowId: string; teamId: string; start: string; end: string; flowIds: string[] | null }
  | { status: 'ended'; windowId: string; teamId: string; endedAt: string };

/** Windows of a team that have not ended; more would make every trigger's look-up and every overlap check longer. */
export const MAX_OPEN_WINDOWS = 50;
export const MAX_WINDOW_DAYS = 31;
/** How far ahead a window may start. */
export const MAX_LEAD_DAYS = 365;
export const MAX_REASON_LENGTH = 500;
export const MAX_WINDOW_FLOWS = 100;

const DAY_MS = 86_400_000;

const windowNotFound = () => new DomainError('not_found', 'maintenance window not found', 'maintenance_window_not_found');

const sharesFlows = (a: readonly string[] | null, b: readonly string[] | null) =>
  a === null || b === null || a.some((flowId) => b.includes(flowId));

function requirePeriod(start: Date, end: Date, now: Date): void {
  if (Number.isNaN(start.getTime())) throw invalid('start is not a valid instant', 'invalid_window', 'start');
  if (Number.isNaN(end.getTime())) throw invalid('end is not a valid instant', 'invalid_window', 'end');
  if (end.getTime() <= start.getTime()) throw invalid('a maintenance window ends after it starts', 'window_reversed', 'end');
  if (end.getTime() - start.getTime() > MAX_WINDOW_DAYS * DAY_MS) {
    throw invalid(`a maintenance window lasts at most ${MAX_WINDOW_DAYS} days`, 'window_too_long', 'end');
  }
  if (end.getTime() <= now.getTime()) throw invalid('a maintenance window must end in the future', 'window_in_past', 'end');
  if (start.getTime() - now.getTime() > MAX_LEAD_DAYS * DAY_MS) {
    throw invalid(`a maintenance window starts within ${MAX_LEAD_DAYS} days`, 'window_too_far', 'start');
  }
}

function requireFlows(flowIds: readonly string[] | null, teamFlowIds: readonly string[]): void {
  if (flowIds === null) return;
  if (flowIds.length === 0 || flowIds.length > MAX_WINDOW_FLOWS) {
    throw invalid(`a maintenance window names 1 to ${MAX_WINDOW_FLOWS} flows, or none for the whole team`, 'invalid_window_flows', 'flowIds');
  }
  flowIds.forEach((flowId, index) => {
    if (flowIds.indexOf(flowId) !== index) throw invalid(`flow ${flowId} is named twice`, 'duplicate_flow', `flowIds.${index}`);
    if (!teamFlowIds.includes(flowId)) throw invalid(`flow ${flowId} is not a flow of this team`, 'unknown_flow', `flowIds.${index}`);
  });
}

function requireRoom(command: { start: Date; end: Date; flowIds: readonly string[] | null; openWindows: readonly OpenWindow[] }): void {
  if (command.openWindows.length >= MAX_OPEN_WINDOWS) {
    throw invalid(`a team has at most ${MAX_OPEN_WINDOWS} maintenance windows that have not ended`, 'too_many_windows');
  }
  const overlapped = command.openWindows.find(
    (window) =>
      window.start.getTime() < command.end.getTime() &&
      command.start.getTime() < window.end.getTime() &&
      sharesFlows(window.flowIds, command.flowIds),
  );
  if (overlapped) {
    throw invalid(`the window overlaps maintenance window ${overlapped.windowId} for a flow they share`, 'window_overlaps', 'start');
  }
}

export function decide(command: MaintenanceCommand, state: MaintenanceWindowState): MaintenanceEvent[] {
  switch (command.type) {
    case 'CreateMaintenanceWindow': {
      if (state.status !== 'none') throw conflict(`maintenance window ${command.windowId} already exists`, 'maintenance_window_exists');
      const reason = command.reason.trim();
      if (reason.length === 0 || reason.length > MAX_REASON_LENGTH) {
        throw invalid(`a reason has 1 to ${MAX_REASON_LENGTH} characters`, 'invalid_reason', 'reason');
      }
      requirePeriod(command.start, command.end, command.now);
      requireFlows(command.flowIds, command.teamFlowIds);
      requireRoom(command);
      return [
        {
          type: 'MaintenanceWindowCreated',
          data: {
            windowId: command.windowId,
            teamId: command.teamId,
            start: command.start.toISOString(),
            end: command.end.toISOString(),
            reason,
            flowIds: command.flowIds === null ? null : [...command.flowIds],
            createdAt: command.now.toISOString(),
          },
        },
      ];
    }
    case 'EndMaintenanceWindow': {
      // Another team's window, a deleted one, or one already over does not exist for the caller.
      if (state.status !== 'open' || state.teamId !== command.teamId) throw windowNotFound();
      if (Date.parse(state.end) <= command.now.getTime()) throw windowNotFound();
      return [
        { type: 'MaintenanceWindowEnded', data: { windowId: state.windowId, teamId: state.teamId, end: state.end, endedAt: command.now.toISOString() } },
      ];
    }
  }
}

export function evolve(state: MaintenanceWindowState, event: MaintenanceEvent): MaintenanceWindowState {
  switch (event.type) {
    case 'MaintenanceWindowCreated': {
      const { windowId, teamId, start, end, flowIds } = event.data;
      return { status: 'open', windowId, teamId, start, end, flowIds };
    }
    case 'MaintenanceWindowEnded':
      return { status: 'ended', windowId: event.data.windowId, teamId: event.data.teamId, endedAt: event.data.endedAt };
  }
}

export const initialState = (): MaintenanceWindowState => ({ status: 'none' });

export const maintenanceWindowDecider: Decider<MaintenanceCommand, MaintenanceWindowState, MaintenanceEvent> = { initialState, evolve, decide };
