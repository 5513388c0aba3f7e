import type { FlowNode } from '../flow/node.js';
import type { Severity } from './events.js';

/** The flow as it is when the alert is triggered; its steps are pinned into the alert. */
export interface FlowSnapshot {
  flowId: string;
  version: number;
  repeat: number;
  nodes: FlowNode[];
  /** Minutes an acknowledgement holds before the alert is triggered again; null or absent: for good. */
  ackTimeoutMinutes?: number | null;
}

export type AlertCommand =
  | {
      type: 'TriggerAlert';
      alertId: string;
      teamId: string;
      flow: FlowSnapshot;
      summary: string;
      details: unknown;
      severity: Severity;
      dedupKey: string | null;
      source: string | null;
      now: Date;
      /** The maintenance window the alert is triggered in, looked up by the handler: nobody is paged before it ends. */
      suppression?: { windowId: string; until: Date } | null;
    }
  /** Repeats counted outside the stream: the alert has now been repeated `dedupCount` times, the latest at `at`. */
  | { type: 'RecordRepeats'; dedupCount: number; summary: string; severity: Severity; at: Date }
  | {
      type: 'FireEscalationStep';
      alertId: string;
      epoch: number;
      loop: number;
      step: number;
      deliveryId: string;
      now: Date;
      /** For a step that pages a schedule: who is on call now and still a member, looked up by the handler. */
      onCall?: OnCallResolution;
      /**
       * For a step that pages people (a user or a schedule): each person's notification rules, looked up by the
       * handler; a person without rules is paged at their account's e-mail at once.
       */
      rules?: PeopleRules;
    }
  | { type: 'AcknowledgeAlert'; teamId: string; by: string; now: Date }
  | { type: 'ResolveAlert'; teamId: string; by: string; now: Date }
  | { type: 'EscalateAlert'; teamId: string; by: string; now: Date }
  | { type: 'SnoozeAlert'; teamId: string; by: string; minutes: number; now: Date }
  | { type: 'AddAlertNote'; teamId: string; noteId: string; text: string; by: string; now: Date }
  /** The timer of an acknowledgement timeout or a snooze: fenced by epoch, so a stale or duplicate one is a no-op. */
  | { type: 'ReTriggerAlert'; alertId: string; epoch: number; now: Date }
  /** The maintenance window ended early (deleted): an alert it holds back starts escalating now. */
  | { type: 'EndSuppression'; windowId: string; now: Date }
  | { type: 'ResendNotification'; teamId: string; deliveryId: string; by: string; now: Date }
  | {
      type: 'StartNotificationAttempt';
      deliveryId: string;
      now: Date;
      /** The process that will send; null when it does not take part in liveness. */
      sender: string | null;
      /** Senders known to have stopped: an open attempt of theirs was cut off. */
      deadSenders: readonly string[];
    }
  | {
      type: 'RecordNotificationOutcome';
      deliveryId: string;
      attempt: number;
      outcome: NotificationOutcome;
      now: Date;
    };

/** One notification rule of a person, resolved to where it sends. */
export interface PagingRule {
  contactMethodId: string;
  delaySeconds: number;
  target: { type: 'email'; email: string } | { type: 'webhook'; url: string };
  format: 'json' | 'slack';
}

/** Verified rules by user id. */
export type PeopleRules = Readonly<Record<string, readonly PagingRule[]>>;

export interface OnCallResolution {
  userIds: readonly string[];
  /** Why nobody is paged, when nobody is. */
  reason: string | null;
}

export type NotificationOutcome =
  | { delivered: true; detail: string | null }
  /** `unanswered`: the destination never answered (a timeout, a connection that failed), as opposed to refusing. */
  | { delivered: false; error: string; permanent: boolean; unanswered?: boolean };
