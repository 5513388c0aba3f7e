import { z } from 'zod';
import type { EventDefinition, EventsOf } from '../../eventstore/catalog.js';
import { Sha256Hex, Timestamp } from '../schemas.js';

/*
 * Every session event carries the whole state the session decides on (a rolling state, as equinox's
 * LatestKnownEvent): the state after an event follows from that event alone, so a command reads the stream from the
 * last revision it knows of and costs the same after ten rotations as after ten thousand.
 */

/** A sign-in (or a registration) opened a session with its first refresh token; only the sha256 of its secret is kept. */
export const SessionStarted = z.object({
  sessionId: z.uuid(),
  userId: z.uuid(),
  tokenId: z.uuid(),
  tokenHash: Sha256Hex,
  startedAt: Timestamp,
  /** When the current token stops working unless rotated: never after `absoluteExpiresAt`. */
  expiresAt: Timestamp,
  /** The session's end however often it rotates (SESSION_MAX_DAYS after it started). */
  absoluteExpiresAt: Timestamp,
});

/** The current refresh token was exchanged for the next generation's; every earlier token is spent. */
export const SessionTokenRotated = z.object({
  sessionId: z.uuid(),
  userId: z.uuid(),
  startedAt: Timestamp,
  absoluteExpiresAt: Timestamp,
  generation: z.int().min(1),
  previousTokenId: z.uuid(),
  tokenId: z.uuid(),
  tokenHash: Sha256Hex,
  rotatedAt: Timestamp,
  expiresAt: Timestamp,
});

export const SessionEndReason = z.enum([
  /** Its holder signed out with one of its refresh tokens. */
  'signed_out',
  /** The user ended every session (sign-out everywhere, a password change). */
  'revoked',
  /** Its refresh token, or its absolute lifetime, ran out. */
  'expired',
  /** A spent refresh token came back: someone holds a copy. */
  'refresh_token_reused',
]);
export type SessionEndReason = z.infer<typeof SessionEndReason>;

/** The session is closed for good: none of its refresh tokens opens anything any more. */
export const SessionEnded = z.object({
  sessionId: z.uuid(),
  userId: z.uuid(),
  reason: SessionEndReason,
  /** How far the session had rotated: its token ids are those of generations 0 to this. */
  generation: z.int().min(0),
  /** The token presented when one was (signing out, a reused token). */
  tokenId: z.uuid().nullable(),
  endedAt: Timestamp,
});

export const sessionEventDefinitions = {
  SessionStarted: { schema: SessionStarted, version: 1 },
  SessionTokenRotated: { schema: SessionTokenRotated, version: 1 },
  SessionEnded: { schema: SessionEnded, version: 1 },
} satisfies Record<string, EventDefinition>;

export type SessionEvent = EventsOf<typeof sessionEventDefinitions>;
export type SessionEventOf<T extends SessionEvent['type']> = Extract<SessionEvent, { type: T }>;
