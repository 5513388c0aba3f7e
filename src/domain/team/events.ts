import { z } from 'zod';
import type { EventDefinition, EventsOf } from '../../eventstore/catalog.js';
import { TeamRole } from './roles.js';

const Timestamp = z.iso.datetime({ offset: true });

/** `webhookSecret` signs the team's webhook deliveries; it is made once, here. */
export const TeamCreated = z.object({
  teamId: z.uuid(),
  name: z.string(),
  webhookSecret: z.string(),
  createdBy: z.uuid(),
  createdAt: Timestamp,
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
  TeamCreated: { schema: TeamCreated, version: 1 },
  MemberAdded: { schema: MemberAdded, version: 1 },
  MemberRoleChanged: { schema: MemberRoleChanged, version: 1 },
  MemberRemoved: { schema: MemberRemoved, version: 1 },
  InviteIssued: { schema: InviteIssued, version: 1 },
  InviteRevoked: { schema: InviteRevoked, version: 1 },
  InviteAccepted: { schema: InviteAccepted, version: 1 },
} satisfies Record<string, EventDefinition>;

export type TeamEvent = EventsOf<typeof teamEventDefinitions>;
export type TeamEventOf<T extends TeamEvent['type']> = Extract<TeamEvent, { type: T }>;
