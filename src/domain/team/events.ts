import { z } from 'zod';
import type { EventDefinition, EventsOf } from '../../eventstore/catalog.js';
import { Timestamp } from '../schemas.js';
import { TeamRole } from './roles.js';

/** The team's webhook signing secret starts at generation 0; the secret is derived, never recorded. */
export const TeamCreated = z.object({
  teamId: z.uuid(),
  name: z.string(),
  createdBy: z.uuid(),
  createdAt: Timestamp,
});

/**
 * Version 1 carried the team's webhook secret in plain text. That secret is never used again: the team signs with
 * generation 0 of a derived secret, so the upcast event drops it.
 */
function withoutPlaintextWebhookSecret(data: unknown): unknown {
  if (!data || typeof data !== 'object') return data;
  const { webhookSecret: _plaintext, ...rest } = data as Record<string, unknown>;
  return rest;
}

/** The team signs webhook deliveries with a new generation of its secret from now on (the previous one for a day more). */
export const WebhookSecretRotated = z.object({
  teamId: z.uuid(),
  generation: z.int().min(1),
  rotatedBy: z.uuid(),
  rotatedAt: Timestamp,
});

export const MemberAdded = z.object({
  teamId: z.uuid(),
  userId: z.uuid(),
  role: TeamRole,
  /** The invite the member joined through; null for the team's creator. */
  inviteId: z.uuid().nullable(),
  addedAt: Timestamp,
});

export const MemberRoleChanged = z.object({
  teamId: z.uuid(),
  userId: z.uuid(),
  previousRole: TeamRole,
  role: TeamRole,
  changedBy: z.uuid(),
  changedAt: Timestamp,
});

export const MemberRemoved = z.object({
  teamId: z.uuid(),
  userId: z.uuid(),
  role: TeamRole,
  removedBy: z.uuid(),
  removedAt: Timestamp,
});

/** Only the sha256 of the invite token's secret is kept; the token itself is shown once. */
export const InviteIssued = z.object({
  teamId: z.uuid(),
  inviteId: z.uuid(),
  email: z.string(),
  role: TeamRole,
  tokenHash: z.string().regex(/^[0-9a-f]{64}$/),
  issuedBy: z.uuid(),
  issuedAt: Timestamp,
  expiresAt: Timestamp,
});

export const InviteRevoked = z.object({
  teamId: z.uuid(),
  inviteId: z.uuid(),
  revokedBy: z.uuid(),
  revokedAt: Timestamp,
});

export const InviteAccepted = z.object({
  teamId: z.uuid(),
  inviteId: z.uuid(),
  userId: z.uuid(),
  acceptedAt: Timestamp,
});

export const teamEventDefinitions = {
  TeamCreated: { schema: TeamCreated, version: 2, upcasters: { 1: withoutPlaintextWebhookSecret } },
  MemberAdded: { schema: MemberAdded, version: 1 },
  MemberRoleChanged: { schema: MemberRoleChanged, version: 1 },
  MemberRemoved: { schema: MemberRemoved, version: 1 },
  InviteIssued: { schema: InviteIssued, version: 1 },
  InviteRevoked: { schema: InviteRevoked, version: 1 },
  InviteAccepted: { schema: InviteAccepted, version: 1 },
  WebhookSecretRotated: { schema: WebhookSecretRotated, version: 1 },
} satisfies Record<string, EventDefinition>;

export type TeamEvent = EventsOf<typeof teamEventDefinitions>;
export type TeamEventOf<T extends TeamEvent['type']> = Extract<TeamEvent, { type: T }>;
