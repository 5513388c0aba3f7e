import { z } from 'zod';
import type { EventDefinition, EventsOf } from '../../eventstore/catalog.js';
import { Sha256Hex, Timestamp } from '../schemas.js';

/** The password hash is kept with the registration: the stream is the only place it lives. */
export const UserRegistered = z.object({
  userId: z.uuid(),
  email: z.string(),
  name: z.string(),
  passwordHash: z.string(),
  registeredAt: Timestamp,
});

/** The user chose a new password (after proving the current one); the hash replaces the previous one. */
export const PasswordChanged = z.object({
  userId: z.uuid(),
  passwordHash: z.string(),
  changedAt: Timestamp,
});

/**
 * Every session the user had is over: sessions started, and access tokens issued, before `revokedAt` are refused
 * from then on.
 */
export const AllSessionsRevoked = z.object({
  userId: z.uuid(),
  reason: z.enum(['signed_out_everywhere', 'password_changed']),
  revokedAt: Timestamp,
});

/*
 * RefreshTokenIssued, RefreshTokenRotated and RefreshTokenReuseDetected were recorded in the user's stream before
 * sessions had streams of their own (session-<id>). They are kept so that older logs still read; a user's state
 * ignores them, and the sessions they describe no longer open anything.
 */

/** A sign-in started a refresh-token family; only the sha256 of the token's secret is kept. */
export const RefreshTokenIssued = z.object({
  userId: z.uuid(),
  familyId: z.uuid(),
  tokenId: z.uuid(),
  tokenHash: Sha256Hex,
  issuedAt: Timestamp,
  expiresAt: Timestamp,
});

/** The family's current token was exchanged for a new one; the previous token is spent. */
export const RefreshTokenRotated = z.object({
  userId: z.uuid(),
  familyId: z.uuid(),
  previousTokenId: z.uuid(),
  tokenId: z.uuid(),
  tokenHash: Sha256Hex,
  rotatedAt: Timestamp,
  expiresAt: Timestamp,
});

/** A spent token came back: someone holds a copy, so the whole family is revoked. */
export const RefreshTokenReuseDetected = z.object({
  userId: z.uuid(),
  familyId: z.uuid(),
  tokenId: z.uuid(),
  detectedAt: Timestamp,
});

export const userEventDefinitions = {
  UserRegistered: { schema: UserRegistered, version: 1 },
  PasswordChanged: { schema: PasswordChanged, version: 1 },
  AllSessionsRevoked: { schema: AllSessionsRevoked, version: 1 },
  RefreshTokenIssued: { schema: RefreshTokenIssued, version: 1 },
  RefreshTokenRotated: { schema: RefreshTokenRotated, version: 1 },
  RefreshTokenReuseDetected: { schema: RefreshTokenReuseDetected, version: 1 },
} satisfies Record<string, EventDefinition>;

export type UserEvent = EventsOf<typeof userEventDefinitions>;
export type UserEventOf<T extends UserEvent['type']> = Extract<UserEvent, { type: T }>;
