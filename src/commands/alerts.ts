import { randomUUID } from 'node:crypto';
import type { AlertCommand, NotificationOutcome, OnCallResolution } from '../domain/alert/commands.js';
import { alertDecider, type AlertState, type OpenAlertState } from '../domain/alert/decider.js';
import { dedupAlertId, dedupSlotDecider, type DedupSlotEvent, dedupSlotStreamId } from '../domain/alert/dedup-slot.js';
import { DomainError, fold, notFound } from '../domain/decider.js';
import type { NodeTarget } from '../domain/flow/node.js';
import type { Actor, LogPosition } from '../eventstore/types.js';
import { countRepeat, type RepeatCountDependencies } from './alert-repeats.js';
import { onCallAt } from '../domain/schedule/on-call.js';
import { aggregateStream, type CommandDependencies, handleCommand } from './handle-command.js';
import { loadSchedule } from './schedules.js';
import { teamRoleOf } from './teams.js';

import { alertStreamId } from '../domain/alert/identity.js';
const teamOf = (state: AlertState) => (state.status === 'none' ? null : state.teamId);

/** The trigger command without its alert id (chosen here: random, or derived from the dedup key), plus who asked. */
export type TriggerAlertInput = Omit<Extract<AlertCommand, { type: 'TriggerAlert' }>, 'type' | 'alertId'> & { actor: Actor };

export interface TriggerAlertResult {
  alertId: string;
  status: OpenAlertState['status'];
  deduplicated: boolean;
  position: LogPosition | null;
}

/**
 * Opens an alert, or folds the trigger into the open alert of the same team, flow and dedup key.
 * Concurrent triggers with one dedup key open one alert (see dedup-slot.ts for why this is race-free).
 */
export async function triggerAlert(deps: RepeatCountDependencies, input: TriggerAlertInput): Promise<TriggerAlertResult> {
  if (input.dedupKey === null) return trigger(deps, randomUUID(), input);

  const slotStream = dedupSlotStreamId(input.teamId, input.flow.flowId, input.dedupKey);
  for (let attempt = 1; attempt <= 5; attempt++) {
    const slot = fold(dedupSlotDecider, await readDedupSlot(deps, slotStream));
    const currentGeneration = slot.generation;
    const nextAlertId = dedupAlertId(input.teamId, input.flow.flowId, input.dedupKey, currentGeneration + 1);
    if (await streamExists(deps, alertStreamId(nextAlertId))) {
      // A trigger opened the next generation but did not get to bind it (crash): finish its work first.
      await bindSlot(deps, slotStream, currentGeneration + 1, nextAlertId, input);
      continue;
    }
    if (currentGeneration >= 0) {
      const currentAlertId = dedupAlertId(input.teamId, input.flow.flowId, input.dedupKey, currentGeneration);
      try {
        return await trigger(deps, currentAlertId, input);
      } catch (error) {
        if (!(error instanceof DomainError && error.code === 'alert_closed')) throw error;
      }
    }
    const result = await trigger(deps, nextAlertId, input);
    await bindSlot(deps, slotStream, currentGeneration + 1, nextAlertId, input);
    return result;
  }
  throw new Error(`dedup key slot ${slotStream} kept changing; giving up`);
}

async function trigger(deps: RepeatCountDependencies, alertId: string, input: TriggerAlertInput): Promise<TriggerAlertResult> {
  const result = await handleCommand(
    deps,
    alertDecider,
    alertStreamId(alertId),
    { type: 'TriggerAlert', alertId, ...withoutActor(input) },
    { actor: input.actor, teamId: input.teamId },
    { newStream: input.dedupKey === null },
  );
  const state = result.state as OpenAlertState;
  // A trigger decides nothing only when it repeats an alert whose stream no longer records repeats one by one.
  const counted = result.events.length === 0;
  if (counted) {
    await countRepeat(deps, {
      alertId,
      teamId: state.teamId,
      recordedRepeats: state.dedupCount,
      summary: input.summary,
      severity: input.severity,
      now: input.now,
    });
  }
  const deduplicated = counted || result.events.some((event) => event.type === 'AlertDeduplicated');
  return { alertId, status: state.status, deduplicated, position: result.position };
}

function withoutActor({ actor: _actor, ...command }: TriggerAlertInput) {
  return command;
}

async function bindSlot(deps: CommandDependencies, slotStream: string, generation: number, alertId: string, input: TriggerAlertInput) {
  await handleCommand(deps, dedupSlotDecider, slotStream, { type: 'BindDedupKey', generation, alertId }, {
    actor: input.actor,
    teamId: input.teamId,
  });
}

/** The alert currently answering to a dedup key, if any generation was ever opened. */
export async function findAlertByDedupKey(
  deps: CommandDependencies,
  teamId: string,
  flowId: string,
  dedupKey: string,
): Promise<string | null> {
  const slot = fold(dedupSlotDecider, await readDedupSlot(deps, dedupSlotStreamId(teamId, flowId, dedupKey)));
  const next = dedupAlertId(teamId, flowId, dedupKey, slot.generation + 1);
  if (await streamExists(deps, alertStreamId(next))) return next;
  return slot.generation >= 0 ? dedupAlertId(teamId, flowId, dedupKey, slot.generation) : null;
}

export type AlertAction = 'acknowledge' | 'resolve' | 'escalate';

const actionCommand = { acknowledge: 'AcknowledgeAlert', resolve: 'ResolveAlert', escalate: 'EscalateAlert' } as const;

/** Acknowledge, resolve or escalate-now on behalf of a user or integration; repeating one is a no-op. */
export async function actOnAlert(
  deps: CommandDependencies,
  input: { teamId: string; alertId: string; action: AlertAction; actor: Actor; now: Date },
): Promise<{ status: OpenAlertState['status']; changed: boolean; position: LogPosition | null }> {
  const result = await handleCommand(
    deps,
    alertDecider,
    alertStreamId(input.alertId),
    { type: actionCommand[input.action], teamId: input.teamId, by: input.actor, now: input.now },
    { actor: input.actor, teamId: input.teamId },
  );
  if (result.state.status === 'none') throw notFound('alert not found');
  return { status: result.state.status, changed: result.events.length > 0, position: result.position };
}

/** The timer's way in: fenced by epoch and pending step, so a stale or duplicate timer never fires twice. */
export async function fireEscalationStep(
  deps: CommandDependencies,
  input: { alertId: string; epoch: number; loop: number; step: number; now: Date },
): Promise<{ fired: boolean; lagMs: number | null; position: LogPosition | null }> {
  const streamId = alertStreamId(input.alertId);
  const { state } = await aggregateStream(deps, alertDecider, streamId);
  const target = state.status === 'triggered' && state.pending ? state.steps[state.pending.step]?.target : undefined;
  const onCall = target?.type === 'schedule' ? await resolveOnCall(deps, (state as OpenAlertState).teamId, target.scheduleId, input.now) : undefined;
  const result = await handleCommand(
    deps,
    alertDecider,
    streamId,
    { type: 'FireEscalationStep', deliveryId: randomUUID(), ...input, ...(onCall ? { onCall } : {}) },
    { actor: 'system:escalation', teamId: teamOf },
  );
  const firedEvent = result.events.find((event) => event.type === 'EscalationStepFired');
  return {
    fired: firedEvent !== undefined,
    lagMs: firedEvent?.type === 'EscalationStepFired' ? firedEvent.data.lagMs : null,
    position: result.position,
  };
}

/** Who a schedule step pages when it fires: those on call now who are still members of the team. */
async function resolveOnCall(deps: CommandDependencies, teamId: string, scheduleId: string, now: Date): Promise<OnCallResolution> {
  const schedule = await loadSchedule(deps, teamId, scheduleId);
  if (!schedule) return { userIds: [], reason: 'the schedule no longer exists' };
  const { users } = onCallAt(schedule, now);
  const members: string[] = [];
  for (const userId of users) if (await teamRoleOf(deps, teamId, userId)) members.push(userId);
  if (members.length > 0) return { userIds: members, reason: null };
  return { userIds: [], reason: users.length > 0 ? 'nobody on call is a member of the team any more' : 'nobody on call' };
}

export interface NotificationAttemptPlan {
  alertId: string;
  teamId: string;
  deliveryId: string;
  attempt: number;
  loop: number;
  step: number;
  target: NodeTarget;
  alert: { id: string; summary: string; details: unknown; severity: string; status: OpenAlertState['status'] };
}

/** Records the attempt before anything is sent; null when there is nothing to send (done, cancelled, not due). */
export async function startNotificationAttempt(
  deps: CommandDependencies,
  input: { alertId: string; deliveryId: string; now: Date; sender: string | null; deadSenders: readonly string[] },
): Promise<NotificationAttemptPlan | null> {
  const result = await handleCommand(
    deps,
    alertDecider,
    alertStreamId(input.alertId),
    { type: 'StartNotificationAttempt', deliveryId: input.deliveryId, now: input.now, sender: input.sender, deadSenders: input.deadSenders },
    { actor: 'system:notifier', teamId: teamOf },
  );
  const started = result.events.find((event) => event.type === 'NotificationAttemptStarted');
  if (!started || started.type !== 'NotificationAttemptStarted' || result.state.status === 'none') return null;
  const state = result.state;
  const notification = state.notifications[input.deliveryId]!;
  return {
    alertId: state.alertId,
    teamId: state.teamId,
    deliveryId: input.deliveryId,
    attempt: started.data.attempt,
    loop: notification.loop,
    step: notification.step,
    target: notification.target,
    alert: { id: state.alertId, summary: state.summary, details: state.details, severity: state.severity, status: state.status },
  };
}

export async function recordNotificationOutcome(
  deps: CommandDependencies,
  input: { alertId: string; deliveryId: string; attempt: number; outcome: NotificationOutcome; now: Date },
): Promise<void> {
  await handleCommand(
    deps,
    alertDecider,
    alertStreamId(input.alertId),
    { type: 'RecordNotificationOutcome', ...input },
    { actor: 'system:notifier', teamId: teamOf },
  );
}

async function readDedupSlot(deps: CommandDependencies, streamId: string) {
  return (await deps.eventStore.readStream(streamId)).map((event) => deps.catalog.parse<DedupSlotEvent>(event));
}

async function streamExists(deps: CommandDependencies, streamId: string): Promise<boolean> {
  return (await deps.eventStore.readStream(streamId, { maxCount: 1 })).length > 0;
}
