import { randomUUID } from 'node:crypto';
import type { AlertCommand, NotificationOutcome, OnCallResolution } from '../domain/alert/commands.js';
import type { AlertState, OpenAlertState } from '../domain/alert/decider.js';
import type { AlertEvent } from '../domain/alert/events.js';
import type { NodeTarget } from '../domain/flow/node.js';
import type { PageOutcome } from '../infra/metrics.js';
import { dedupAlertId, dedupSlotDecider, dedupSlotStreamId, type ScopedDedupKey } from '../domain/alert/dedup-slot.js';
import { onCallAt } from '../domain/schedule/on-call.js';
import { maintenanceWindowAt } from '../projections/queries/maintenance-windows.js';
import { alertStreamId } from '../domain/alert/identity.js';
import { type NotificationAttemptPlan, notificationAttemptPlan } from '../domain/alert/notification-attempt.js';
import { DomainError, notFound } from '../domain/decider.js';
import type { Actor, LogPosition } from '../eventstore/types.js';
import { handleAlert } from './alert-handler.js';
import { countRepeat, type RepeatCountDependencies } from './alert-repeats.js';
import { aggregateStream, type CommandDependencies, commandHandler } from './handle-command.js';
import { rulesOf } from './notification-rules.js';
import { loadSchedule } from './schedules.js';
import { teamMembers, teamRoleOf } from './teams.js';

const handleDedupSlot = commandHandler(dedupSlotDecider, dedupSlotStreamId, (_slot, key) => key.teamId);

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
export async function triggerAlert(deps: RepeatCountDependencies, request: TriggerAlertInput): Promise<TriggerAlertResult> {
  // The maintenance window look-up is a round trip of its own: it runs beside the dedup slot's read.
  const suppression =
    request.suppression !== undefined ? request.suppression : maintenanceWindowAt(deps.pool, request.teamId, request.flow.flowId, request.now);
  if (request.dedupKey === null) return trigger(deps, randomUUID(), { ...request, suppression: await suppression });

  const key: ScopedDedupKey = { teamId: request.teamId, flowId: request.flow.flowId, dedupKey: request.dedupKey };
  const slotRead = aggregateStream(deps, dedupSlotDecider, dedupSlotStreamId(key));
  const [firstSlot, window] = await Promise.all([slotRead, suppression]);
  const input: TriggerAlertInput = { ...request, suppression: window };
  for (let attempt = 1; attempt <= 5; attempt++) {
    const slot = attempt === 1 ? firstSlot : await aggregateStream(deps, dedupSlotDecider, dedupSlotStreamId(key));
    const currentGeneration = slot.state.generation;
    const nextAlertId = dedupAlertId(key, currentGeneration + 1);
    if (await streamExists(deps, alertStreamId(nextAlertId))) {
      // A trigger opened the next generation but did not get to bind it (crash): finish its work first.
      await bindSlot(deps, key, currentGeneration + 1, nextAlertId, input.actor);
      continue;
    }
    if (currentGeneration >= 0) {
      const currentAlertId = dedupAlertId(key, currentGeneration);
      try {
        return await trigger(deps, currentAlertId, input);
      } catch (error) {
        if (!(error instanceof DomainError && error.code === 'alert_closed')) throw error;
      }
    }
    const result = await trigger(deps, nextAlertId, input);
    await bindSlot(deps, key, currentGeneration + 1, nextAlertId, input.actor);
    return result;
  }
  throw new Error(`dedup key slot ${dedupSlotStreamId(key)} kept changing; giving up`);
}

async function trigger(deps: RepeatCountDependencies, alertId: string, input: TriggerAlertInput): Promise<TriggerAlertResult> {
  const result = await handleAlert(
    deps,
    alertId,
    { type: 'TriggerAlert', alertId, ...withoutActor(input) },
    { actor: input.actor, newStream: input.dedupKey === null },
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

async function bindSlot(deps: CommandDependencies, key: ScopedDedupKey, generation: number, alertId: string, actor: Actor) {
  await handleDedupSlot(deps, key, { type: 'BindDedupKey', generation, alertId }, { actor });
}

/** The alert currently answering to a dedup key, if any generation was ever opened. */
export async function findAlertByDedupKey(
  deps: CommandDependencies,
  teamId: string,
  flowId: string,
  dedupKey: string,
): Promise<string | null> {
  const key: ScopedDedupKey = { teamId, flowId, dedupKey };
  const { generation } = (await aggregateStream(deps, dedupSlotDecider, dedupSlotStreamId(key))).state;
  const next = dedupAlertId(key, generation + 1);
  if (await streamExists(deps, alertStreamId(next))) return next;
  return generation >= 0 ? dedupAlertId(key, generation) : null;
}

export type AlertAction = 'acknowledge' | 'resolve' | 'escalate';

const actionCommand = { acknowledge: 'AcknowledgeAlert', resolve: 'ResolveAlert', escalate: 'EscalateAlert' } as const;

/** Acknowledge, resolve or escalate-now on behalf of a user or integration; repeating one is a no-op. */
export async function actOnAlert(
  deps: CommandDependencies,
  input: { teamId: string; alertId: string; action: AlertAction; actor: Actor; now: Date },
): Promise<{ status: OpenAlertState['status']; changed: boolean; position: LogPosition | null }> {
  const result = await handleAlert(
    deps,
    input.alertId,
    { type: actionCommand[input.action], teamId: input.teamId, by: input.actor, now: input.now },
    { actor: input.actor },
  );
  if (result.state.status === 'none') throw notFound('alert not found');
  return { status: result.state.status, changed: result.events.length > 0, position: result.position };
}

/** Snoozes the alert: acknowledged until `minutes` from now, then triggered again unless resolved first. */
export async function snoozeAlert(
  deps: CommandDependencies,
  input: { teamId: string; alertId: string; minutes: number; actor: Actor; now: Date },
): Promise<{ status: OpenAlertState['status']; snoozedUntil: string; position: LogPosition | null }> {
  const result = await handleAlert(
    deps,
    input.alertId,
    { type: 'SnoozeAlert', teamId: input.teamId, by: input.actor, minutes: input.minutes, now: input.now },
    { actor: input.actor },
  );
  const snoozed = result.events.find((event) => event.type === 'AlertSnoozed');
  if (result.state.status === 'none' || snoozed?.type !== 'AlertSnoozed') throw notFound('alert not found');
  return { status: result.state.status, snoozedUntil: snoozed.data.until, position: result.position };
}

export async function addAlertNote(
  deps: CommandDependencies,
  input: { teamId: string; alertId: string; text: string; actor: Actor; now: Date },
): Promise<{ noteId: string; text: string; at: string; position: LogPosition | null }> {
  const noteId = randomUUID();
  const result = await handleAlert(
    deps,
    input.alertId,
    { type: 'AddAlertNote', teamId: input.teamId, noteId, text: input.text, by: input.actor, now: input.now },
    { actor: input.actor },
  );
  const added = result.events.find((event) => event.type === 'AlertNoteAdded');
  if (added?.type !== 'AlertNoteAdded') throw notFound('alert not found');
  return { noteId, text: added.data.text, at: added.data.at, position: result.position };
}

/** The way in for the timer of an acknowledgement timeout or a snooze: fenced by epoch, a stale or duplicate one is a no-op. */
export async function retriggerAlert(
  deps: CommandDependencies,
  input: { alertId: string; epoch: number; now: Date },
): Promise<{ retriggered: boolean; position: LogPosition | null }> {
  const result = await handleAlert(deps, input.alertId, { type: 'ReTriggerAlert', ...input }, { actor: 'system:escalation' });
  return { retriggered: result.events.length > 0, position: result.position };
}

/** A maintenance window deleted early: the alert it holds back escalates from now (a no-op once it has started). */
export async function endSuppression(deps: CommandDependencies, input: { alertId: string; windowId: string; now: Date }): Promise<boolean> {
  const result = await handleAlert(
    deps,
    input.alertId,
    { type: 'EndSuppression', windowId: input.windowId, now: input.now },
    { actor: 'system:maintenance' },
  );
  return result.events.length > 0;
}

/** Sends a page that reached nobody again, under its delivery id; the notifier takes it from the log. */
export async function resendNotification(
  deps: CommandDependencies,
  input: { teamId: string; alertId: string; deliveryId: string; actor: Actor; now: Date },
): Promise<{ position: LogPosition | null }> {
  const result = await handleAlert(
    deps,
    input.alertId,
    { type: 'ResendNotification', teamId: input.teamId, deliveryId: input.deliveryId, by: input.actor, now: input.now },
    { actor: input.actor },
  );
  return { position: result.position };
}

/** What a step that pages people fires with, looked up here so the decider stays pure. */
type StepLookup = Pick<Extract<AlertCommand, { type: 'FireEscalationStep' }>, 'onCall' | 'rules'>;

/** The timer's way in: fenced by epoch and pending step, so a stale or duplicate timer never fires twice. */
export async function fireEscalationStep(
  deps: CommandDependencies,
  input: { alertId: string; epoch: number; loop: number; step: number; now: Date },
): Promise<{ fired: boolean; lagMs: number | null; position: LogPosition | null }> {
  const fire = (lookup: StepLookup | undefined) =>
    handleAlert(
      deps,
      input.alertId,
      { type: 'FireEscalationStep', deliveryId: randomUUID(), ...input, ...lookup },
      { actor: 'system:escalation' },
    );
  // Only a step that pages people needs lookups (who is on call, their rules). The state this process last saw says
  // whether this is one; such a step decides nothing without them, so a stale guess is corrected from the state
  // read afresh.
  const seen = deps.streamCache?.get(alertStreamId(input.alertId))?.state as AlertState | undefined;
  let result = await fire(seen ? await lookupFor(deps, seen, input) : undefined);
  if (result.events.length === 0) {
    const lookup = await lookupFor(deps, result.state, input);
    if (lookup) result = await fire(lookup);
  }
  const firedEvent = result.events.find((event) => event.type === 'EscalationStepFired');
  return {
    fired: firedEvent !== undefined,
    lagMs: firedEvent?.type === 'EscalationStepFired' ? firedEvent.data.lagMs : null,
    position: result.position,
  };
}

/** The lookups the step needs when it is pending in this state and pages people; undefined otherwise. */
async function lookupFor(
  deps: CommandDependencies,
  state: AlertState,
  step: { epoch: number; loop: number; step: number; now: Date },
): Promise<StepLookup | undefined> {
  if (state.status !== 'triggered' || !state.pending) return undefined;
  const { pending } = state;
  if (state.epoch !== step.epoch || pending.loop !== step.loop || pending.step !== step.step) return undefined;
  const target = state.steps[pending.step]?.target;
  if (target?.type === 'schedule') {
    const onCall = await resolveOnCall(deps, state.teamId, target.scheduleId, step.now);
    return { onCall, rules: await rulesOf(deps, onCall.userIds) };
  }
  if (target?.type === 'user') {
    const member = (await teamRoleOf(deps, state.teamId, target.userId)) !== null;
    // Someone who left the team is not paged by their rules; the user target then fails as it always did.
    return { rules: member ? await rulesOf(deps, [target.userId]) : {} };
  }
  return undefined;
}

/** Who a schedule step pages when it fires: those on call now who are still members of the team. */
async function resolveOnCall(deps: CommandDependencies, teamId: string, scheduleId: string, now: Date): Promise<OnCallResolution> {
  const schedule = await loadSchedule(deps, teamId, scheduleId);
  if (!schedule) return { userIds: [], reason: 'the schedule no longer exists' };
  const { users } = onCallAt(schedule, now);
  const roles = await teamMembers(deps, teamId);
  const members = users.filter((userId) => roles[userId] !== undefined);
  if (members.length > 0) return { userIds: members, reason: null };
  return { userIds: [], reason: users.length > 0 ? 'nobody on call is a member of the team any more' : 'nobody on call' };
}

/** What became of a notification's attempt, as the appended events say, and where it went. */
export interface RecordedPage {
  outcome: PageOutcome;
  target: NodeTarget;
}

function pageOutcomeOf(event: AlertEvent): { outcome: PageOutcome; deliveryId: string } | null {
  switch (event.type) {
    case 'NotificationDelivered':
      return { outcome: 'delivered', deliveryId: event.data.deliveryId };
    case 'NotificationFailed':
      return { outcome: event.data.retryAt === null ? 'abandoned' : 'failed', deliveryId: event.data.deliveryId };
    case 'NotificationOutcomeUnknown':
      return { outcome: 'unknown', deliveryId: event.data.deliveryId };
    default:
      return null;
  }
}

function pagesOf(events: readonly AlertEvent[], state: AlertState): RecordedPage[] {
  if (state.status === 'none') return [];
  return events.flatMap((event) => {
    const page = pageOutcomeOf(event);
    const target = page && state.notifications[page.deliveryId]?.target;
    return page && target ? [{ outcome: page.outcome, target }] : [];
  });
}

/**
 * Records the attempt before anything is sent; the plan is null when there is nothing to send (done, cancelled, not
 * due). An earlier attempt cut off mid-flight is resolved first: `pages` says so.
 */
export async function startNotificationAttempt(
  deps: CommandDependencies,
  input: { alertId: string; deliveryId: string; now: Date; sender: string | null; deadSenders: readonly string[] },
): Promise<{ plan: NotificationAttemptPlan | null; pages: RecordedPage[] }> {
  const result = await handleAlert(
    deps,
    input.alertId,
    { type: 'StartNotificationAttempt', deliveryId: input.deliveryId, now: input.now, sender: input.sender, deadSenders: input.deadSenders },
    { actor: 'system:notifier' },
  );
  const pages = pagesOf(result.events, result.state);
  const started = result.events.find((event) => event.type === 'NotificationAttemptStarted');
  if (!started || started.type !== 'NotificationAttemptStarted' || result.state.status === 'none') return { plan: null, pages };
  return { plan: notificationAttemptPlan(result.state, input.deliveryId, started.data.attempt), pages };
}

export async function recordNotificationOutcome(
  deps: CommandDependencies,
  input: { alertId: string; deliveryId: string; attempt: number; outcome: NotificationOutcome; now: Date },
): Promise<RecordedPage[]> {
  const result = await handleAlert(deps, input.alertId, { type: 'RecordNotificationOutcome', ...input }, { actor: 'system:notifier' });
  return pagesOf(result.events, result.state);
}

async function streamExists(deps: CommandDependencies, streamId: string): Promise<boolean> {
  return (await deps.eventStore.readStream(streamId, { maxCount: 1 })).length > 0;
}
