import { z } from 'zod';
import type { EventMetadata } from './types.js';

/** Event metadata as read back from any store: parsed, never trusted. */
export const EventMetadataSchema = z.object({
  actor: z.string().regex(/^(user|integration|system|link|token):.+/) as z.ZodType<EventMetadata['actor']>,
  correlationId: z.string(),
  causationId: z.string().nullable(),
  teamId: z.string().nullable(),
  traceparent: z
    .string()
    .regex(/^[0-9a-f]{2}-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$/)
    .optional()
    .catch(undefined),
});
