import { z } from 'zod';
import type { EventDefinition, EventsOf } from '../../eventstore/catalog.js';
import { Timestamp } from '../schemas.js';

/** The roles a token may act with: it reads, or works alerts, flows and schedules; it never manages the team. */
export const ApiTokenRole = z.enum(['member', 'viewer']);
export type ApiTokenRole = z.infer<typeof ApiTokenRole>;

/** Only the sha256 of the token's secret is kept; the token itself is shown once. */
export const ApiTokenCreated = z.object({
  tokenId: z.uuid(),
  teamId: z.uuid(),
  name: z.string(),
  role: ApiTokenRole,
  tokenHash: z.string().regex(/^[0-9a-f]{64}$/),
  createdBy: z.uuid(),
  createdAt: Timestamp,
});

export const ApiTokenRevoked = z.object({
  tokenId: z.uuid(),
  teamId: z.uuid(),
  revokedBy: z.uuid(),
  revokedAt: Timestamp,
});

export const apiTokenEventDefinitions = {
  ApiTokenCreated: { schema: ApiTokenCreated, version: 1 },
  ApiTokenRevoked: { schema: ApiTokenRevoked, version: 1 },
} satisfies Record<string, EventDefinition>;

export type ApiTokenEvent = EventsOf<typeof apiTokenEventDefinitions>;
export type ApiTokenEventOf<T extends ApiTokenEvent['type']> = Extract<ApiTokenEvent, { type: T }>;
