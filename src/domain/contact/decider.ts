import { conflict, type Decider, gone, invalid, notFound } from '../decider.js';
import type { ContactCommand } from './commands.js';
import type { ContactEvent, ContactMethodSpec, NotificationRule } from './events.js';
import { MAX_CONTACT_METHODS, MAX_NOTIFICATION_RULES, MAX_VERIFICATION_ATTEMPTS, VERIFICATION_CODE_TTL_MINUTES } from './identity.js';

export interface ContactMethod {
  id: string;
  method: ContactMethodSpec;
  verified: boolean;
  /** The pending verification, while the method is not verified. */
  verification: { codeHash: string; expiresAt: string; attempts: number } | null;
}

export interface ContactState {
  userId: string | null;
  /** In the order they were added. */
  methods: ContactMethod[];
  rules: NotificationRule[];
}

export const initialState = (): ContactState => ({ userId: null, methods: [], rules: [] });

const MINUTE_MS = 60_000;

function withMethod(state: ContactState, id: string, change: (method: ContactMethod) => ContactMethod): ContactState {
  return { ...state, methods: state.methods.map((method) => (method.id === id ? change(method) : method)) };
}

export function evolve(state: ContactState, event: ContactEvent): ContactState {
  const userId = event.data.userId;
  switch (event.type) {
    case 'ContactMethodAdded': {
      const { contactMethodId: id, method, verified } = event.data;
      return { ...state, userId, methods: [...state.methods, { id, method, verified, verification: null }] };
    }
    case 'VerificationCodeIssued': {
      const { codeHash, expiresAt } = event.data;
      return withMethod(state, event.data.contactMethodId, (method) => ({ ...method, verification: { codeHash, expiresAt, attempts: 0 } }));
    }
    case 'VerificationCodeRejected':
      return withMethod(state, event.data.contactMethodId, (method) =>
        method.verification ? { ...method, verification: { ...method.verification, attempts: event.data.attempts } } : method,
      );
    case 'ContactMethodVerified':
      return withMethod(state, event.data.contactMethodId, (method) => ({ ...method, verified: true, verification: null }));
    case 'ContactMethodRemoved':
      return { ...state, userId, methods: state.methods.filter((method) => method.id !== event.data.contactMethodId) };
    case 'NotificationRulesReplaced':
      return { ...state, userId, rules: event.data.rules };
  }
}

function methodOf(state: ContactState, contactMethodId: string): ContactMethod {
  const method = state.methods.find((candidate) => candidate.id === contactMethodId);
  if (!method) throw notFound('contact method not found');
  return method;
}

export function decide(command: ContactCommand, state: ContactState): ContactEvent[] {
  switch (command.type) {
    case 'AddContactMethod': {
      const { userId, contactMethodId, method, now } = command;
      if (state.methods.length >= MAX_CONTACT_METHODS) {
        throw conflict(`a person has at most ${MAX_CONTACT_METHODS} contact methods`, 'too_many_contact_methods');
      }
      const verified = method.type === 'webhook' || method.address === command.accountEmail;
      const added: ContactEvent = { type: 'ContactMethodAdded', data: { userId, contactMethodId, method, verified, addedAt: now.toISOString() } };
      if (verified) return [added];
      const expiresAt = new Date(now.getTime() + VERIFICATION_CODE_TTL_MINUTES * MINUTE_MS).toISOString();
      return [added, { type: 'VerificationCodeIssued', data: { userId, contactMethodId, codeHash: command.verificationCodeHash, expiresAt } }];
    }
    case 'VerifyContactMethod': {
      const method = methodOf(state, command.contactMethodId);
      if (method.verified) return [];
      const { verification } = method;
      const userId = state.userId!;
      if (!verification || verification.attempts >= MAX_VERIFICATION_ATTEMPTS) {
        throw conflict('too many wrong codes: remove the contact method and add it again', 'verification_locked');
      }
      if (command.now.getTime() >= Date.parse(verification.expiresAt)) {
        throw gone('the verification code has expired: remove the contact method and add it again', 'verification_expired');
      }
      if (command.codeHash !== verification.codeHash) {
        return [
          {
            type: 'VerificationCodeRejected',
            data: { userId, contactMethodId: method.id, attempts: verification.attempts + 1, rejectedAt: command.now.toISOString() },
          },
        ];
      }
      return [{ type: 'ContactMethodVerified', data: { userId, contactMethodId: method.id, verifiedAt: command.now.toISOString() } }];
    }
    case 'RemoveContactMethod': {
      const method = methodOf(state, command.contactMethodId);
      const userId = state.userId!;
      const at = command.now.toISOString();
      const removed: ContactEvent = { type: 'ContactMethodRemoved', data: { userId, contactMethodId: method.id, removedAt: at } };
      const rules = state.rules.filter((rule) => rule.contactMethodId !== method.id);
      if (rules.length === state.rules.length) return [removed];
      return [removed, { type: 'NotificationRulesReplaced', data: { userId, rules, replacedAt: at } }];
    }
    case 'ReplaceNotificationRules': {
      const { rules } = command;
      if (rules.length > MAX_NOTIFICATION_RULES) {
        throw invalid(`a person has at most ${MAX_NOTIFICATION_RULES} notification rules`, 'too_many_notification_rules');
      }
      for (const rule of rules) {
        const method = methodOf(state, rule.contactMethodId);
        if (!method.verified) throw invalid(`contact method ${method.id} is not verified yet`, 'contact_method_unverified');
      }
      return [{ type: 'NotificationRulesReplaced', data: { userId: command.userId, rules, replacedAt: command.now.toISOString() } }];
    }
  }
}

/** The rules that page a person: those whose method is still there and verified, with the method they page. */
export function activeRules(state: ContactState): { rule: NotificationRule; method: ContactMethod }[] {
  return state.rules.flatMap((rule) => {
    const method = state.methods.find((candidate) => candidate.id === rule.contactMethodId);
    return method?.verified ? [{ rule, method }] : [];
  });
}

/**
 * A person's contact methods and notification rules, in a stream of their own (contact-<userId>), so the user's
 * stream stays small. Capped at MAX_CONTACT_METHODS methods and MAX_NOTIFICATION_RULES rules.
 */
export const contactDecider: Decider<ContactCommand, ContactState, ContactEvent> = { initialState, evolve, decide };
