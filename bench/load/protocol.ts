import { z } from 'zod';

/*
 * Messages between the orchestrator and its child processes (Node IPC). Each side parses what it receives.
 */

// Webhook receiver

export const Page = z.object({
  deliveryId: z.string().nullable(),
  alertId: z.string().nullable(),
  step: z.number().nullable(),
  attempt: z.number().nullable(),
  path: z.string(),
  receivedAt: z.number(),
});
export type Page = z.infer<typeof Page>;

export const ReceiverRequest = z.discriminatedUnion('type', [z.object({ type: z.literal('progress') }), z.object({ type: z.literal('pages') })]);
export type ReceiverRequest = z.infer<typeof ReceiverRequest>;

export const ReceiverListening = z.object({ type: z.literal('listening'), port: z.int() });
export const ReceiverProgress = z.object({
  type: z.literal('progress'),
  requests: z.int(),
  distinctAlerts: z.int(),
  lastArrival: z.number().nullable(),
});
export type ReceiverProgress = z.infer<typeof ReceiverProgress>;
export const ReceiverPages = z.object({ type: z.literal('pages'), pages: z.array(Page) });

// Load client

export const FlowSpec = z.object({ delaySeconds: z.int().min(1) });

export const ClientSetup = z.object({
  type: z.literal('setup'),
  baseUrl: z.url(),
  hookBaseUrl: z.url(),
  flows: z.array(FlowSpec).min(1),
});
export type ClientSetup = z.infer<typeof ClientSetup>;

export const ClientSetupDone = z.object({
  type: z.literal('setupDone'),
  teamId: z.uuid(),
  flows: z.array(z.object({ id: z.uuid(), delaySeconds: z.int() })),
});

const CommonPlan = {
  respondAsync: z.boolean(),
  requestTimeoutMs: z.number().positive(),
  /** Epoch ms at which the first trigger is offered. */
  startAt: z.number(),
  /** Epoch ms after which every request still outstanding is abandoned. */
  abandonAt: z.number(),
};

export const LoadPlan = z.discriminatedUnion('mode', [
  z.object({
    mode: z.literal('closed'),
    clients: z.int().min(1),
    total: z.int().min(1),
    /** Epoch ms after which no new trigger is started. */
    stopOfferingAt: z.number(),
    ...CommonPlan,
  }),
  z.object({
    mode: z.literal('open'),
    ratePerSecond: z.number().positive(),
    seconds: z.number().positive(),
    connections: z.int().min(1),
    ...CommonPlan,
  }),
]);
export type LoadPlan = z.infer<typeof LoadPlan>;

export const ClientRun = z.object({ type: z.literal('run'), plan: LoadPlan });
export const ClientRequest = z.discriminatedUnion('type', [ClientSetup, ClientRun]);

/**
 * One trigger as the client saw it. `scheduledAt` is when it was due to be sent (open loop) or started (closed loop);
 * `sentAt` when a connection took it; `answeredAt` when the answer arrived or the request failed.
 */
export const TriggerRecord = z.object({
  scheduledAt: z.number(),
  sentAt: z.number().nullable(),
  answeredAt: z.number().nullable(),
  status: z.int(),
  alertId: z.string().nullable(),
  error: z.string().nullable(),
  consistencyPending: z.boolean(),
});
export type TriggerRecord = z.infer<typeof TriggerRecord>;

export const ClientFinished = z.object({ type: z.literal('finished'), triggers: z.array(TriggerRecord) });
export const ClientFailed = z.object({ type: z.literal('failed'), error: z.string() });

// Event-store append writer

export const AppendStoreName = z.enum(['alertops', 'emmett']);
export type AppendStoreName = z.infer<typeof AppendStoreName>;

export const AppendRequest = z.object({
  type: z.literal('measure'),
  store: AppendStoreName,
  databaseUrl: z.string(),
  writerCounts: z.array(z.int().min(1)),
  seconds: z.number().positive(),
  warmupSeconds: z.number().min(0),
});
export type AppendRequest = z.infer<typeof AppendRequest>;

export const AppendMeasurement = z.object({
  writers: z.int(),
  appends: z.int(),
  seconds: z.number(),
  latencyP50Ms: z.number(),
  latencyP99Ms: z.number(),
});
export type AppendMeasurement = z.infer<typeof AppendMeasurement>;

export const AppendMeasured = z.object({ type: z.literal('measured'), measurements: z.array(AppendMeasurement) });
export const AppendFailed = z.object({ type: z.literal('failed'), error: z.string() });
