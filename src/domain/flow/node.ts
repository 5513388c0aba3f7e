import { z } from 'zod';

export const NodeTarget = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('user'), userId: z.uuid() }),
  z.strictObject({ type: z.literal('email'), email: z.email().max(254) }),
  z.strictObject({ type: z.literal('webhook'), url: z.url({ protocol: /^https?$/ }).max(2048) }),
  /** Whoever the team's schedule has on call when the step fires, each paged as a `user` target. */
  z.strictObject({ type: z.literal('schedule'), scheduleId: z.uuid() }),
]);
export type NodeTarget = z.infer<typeof NodeTarget>;

export const RetryPolicy = z.strictObject({
  maxAttempts: z.int().min(1).max(20),
  backoffSeconds: z.number().min(0).max(86_400),
});
export type RetryPolicy = z.infer<typeof RetryPolicy>;

export const DEFAULT_RETRY: RetryPolicy = { maxAttempts: 3, backoffSeconds: 30 };

/** One escalation step as a user defines it. Delays may be fractional (millisecond precision). */
export const FlowNodeInput = z.strictObject({
  name: z.string().trim().min(1).max(200),
  delaySeconds: z.number().min(0).max(7 * 86_400),
  target: NodeTarget,
  retry: RetryPolicy.optional(),
});
export type FlowNodeInput = z.infer<typeof FlowNodeInput>;

export const FlowNode = z.object({
  id: z.uuid(),
  name: z.string(),
  delaySeconds: z.number(),
  target: NodeTarget,
  retry: RetryPolicy,
});
export type FlowNode = z.infer<typeof FlowNode>;
