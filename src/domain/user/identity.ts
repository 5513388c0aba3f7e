import { z } from 'zod';
import { uuidV5 } from '../deterministic-id.js';

const USER_NAMESPACE = '9f3b6a52-3c1e-4d7a-8b0f-6e2d5c4a1b90';

/** Emails are compared case-insensitively and without surrounding blanks, everywhere. */
export function normalizeEmail(email: string): string {
  return email.trim().toLowerCase();
}

/** An email address as it arrives from outside, normalized on the way in. */
export const EmailAddress = z.string().trim().toLowerCase().pipe(z.email().max(254));

/**
 * A user's id follows from the normalized email, so two racing registrations of one address write to the same
 * stream and the event store's `no_stream` expectation lets exactly one of them through.
 */
export function userIdForEmail(email: string): string {
  return uuidV5(normalizeEmail(email), USER_NAMESPACE);
}

export const userStreamId = (userId: string) => `user-${userId}`;
