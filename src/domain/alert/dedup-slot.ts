import { z } from 'zod';
import type { EventDefinition } from '../../eventstore/catalog.js';
import type { Decider } from '../decider.js';
import { uuidV5 } from '../deterministic-id.js';

/**
 * A dedup key's slot: which generation of alert currently answers to the key. Generation n's alert id is derived
 * from (team, flow, key, n), so two racing triggers compute the same id and the alert stream's own expected
 * version decides which one opens it; the other folds into it.
 */
export const DedupKeyBound = z.object({ generation: z.int().min(0), alertId: z.uuid() });

export const dedupSlotEventDefinitions = {
  DedupKeyBound: { schema: DedupKeyBound, version: 1 },
} satisfies Record<string, EventDefinition>;

export type DedupSlotEvent = { type: 'DedupKeyBound'; data: z.infer<typeof DedupKeyBound> };
export type DedupSlotCommand = { type: 'BindDedupKey'; generation: number; alertId: string };
export interface DedupSlotState {
  generation: number;
}

const DEDUP_NAMESPACE = '3d0c4f0e-8a57-4d6b-9a39-5b0c2f1f6a11';

/** A dedup key means one thing within one team's flow. */
export interface ScopedDedupKey {
  teamId: string;
  flowId: string;
  dedupKey: string;
}

export function dedupAlertId({ teamId, flowId, dedupKey }: ScopedDedupKey, generation: number): string {
  return uuidV5(JSON.stringify([teamId, flowId, dedupKey, generation]), DEDUP_NAMESPACE);
}

export function dedupSlotStreamId({ teamId, flowId, dedupKey }: ScopedDedupKey): string {
  return `dedup-${uuidV5(JSON.stringify([teamId, flowId, dedupKey]), DEDUP_NAMESPACE)}`;
}

export const initialState = (): DedupSlotState => ({ generation: -1 });

export function evolve(state: DedupSlotState, event: DedupSlotEvent): DedupSlotState {
  return { generation: Math.max(state.generation, event.data.generation) };
}

export function decide(command: DedupSlotCommand, state: DedupSlotState): DedupSlotEvent[] {
  return command.generation > state.generation
    ? [{ type: 'DedupKeyBound', data: { generation: command.generation, alertId: command.alertId } }]
    : [];
}

export const dedupSlotDecider: Decider<DedupSlotCommand, DedupSlotState, DedupSlotEvent> = { initialState, evolve, decide };
