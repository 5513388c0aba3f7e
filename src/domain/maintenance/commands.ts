/** A window of the team that has not ended, as the handler found it: what a new window must not overlap. */
export interface OpenWindow {
  windowId: string;
  start: Date;
  end: Date;
  /** null: the whole team. */
  flowIds: readonly string[] | null;
}

export type MaintenanceCommand =
  | {
      type: 'CreateMaintenanceWindow';
      windowId: string;
      teamId: string;
      start: Date;
      end: Date;
      reason: string;
      flowIds: readonly string[] | null;
      /** Which of `flowIds` are the team's flows, looked up by the handler. */
      teamFlowIds: readonly string[];
      /** The team's windows that have not ended at `now`, looked up by the handler. */
      openWindows: readonly OpenWindow[];
      now: Date;
    }
  | { type: 'EndMaintenanceWindow'; teamId: string; now: Date };
