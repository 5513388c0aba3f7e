import { z } from 'zod';
import type { EventDefinition, EventsOf } from '../../eventstore/catalog.js';
import { Sha256Hex, Timestamp } from '../schemas.js';

export const ContactMethodSpec = z.discriminatedUnion('type', [
  z.object({ type: z.literal('email'), address: z.string() }),
  z.object({ type: z.literal('webhook'), url: z.string(), format: z.enum(['json', 'slack']) }),
]);
export type ContactMethodSpec = z.infer<typeof ContactMethodSpec>;

export const NotificationRule = z.object({ contactMethodId: z.uuid(), delayMinutes: z.number().min(0) });
export type NotificationRule = z.infer<typeof NotificationRule>;

/** A method was added; `verified` is false while a code e-mailed to the address is awaited. */
export const ContactMethodAdded = z.object({
  userId: z.uuid(),
  contactMethodId: z.uuid(),
  method: ContactMethodSpec,
  verified: z.boolean(),
  addedAt: Timestamp,
});

/** A code was e-mailed to the method's address; only its sha256 (salted with the method's id) is kept. */
export const VerificationCodeIssued = z.object({
  userId: z.uuid(),
  contactMethodId: z.uuid(),
  codeHash: Sha256Hex,
  expiresAt: Timestamp,
});

export const VerificationCodeRejected = z.object({
  userId: z.uuid(),
  contactMethodId: z.uuid(),
  attempts: z.int().min(1),
  rejectedAt: Timestamp,
});

export const ContactMethodVerified = z.object({ userId: z.uuid(), contactMethodId: z.uuid(), verifiedAt: Timestamp });

export const ContactMethodRemoved = z.object({ userId: z.uuid(), contactMethodId: z.uuid(), removedAt: Timestamp });

/** The whole rule list, in order; a method's removal replaces it without that method's rules. */
export const NotificationRulesReplaced = z.object({
  userId: z.uuid(),
  rules: z.array(NotificationRule),
  replacedAt: Timestamp,
});

export const contactEventDefinitions = {
  ContactMethodAdded: { schema: ContactMethodAdded, version: 1 },
  VerificationCodeIssued: { schema: VerificationCodeIssued, version: 1 },
  VerificationCodeRejected: { schema: VerificationCodeRejected, version: 1 },
  ContactMethodVerified: { schema: ContactMethodVerified, version: 1 },
  ContactMethodRemoved: { schema: ContactMethodRemoved, version: 1 },
  NotificationRulesReplaced: { schema: NotificationRulesReplaced, version: 1 },
} satisfies Record<string, EventDefinition>;

export type ContactEvent = EventsOf<typeof contactEventDefinitions>;
export type ContactEventOf<T extends ContactEvent['type']> = Extract<ContactEvent, { type: T }>;
