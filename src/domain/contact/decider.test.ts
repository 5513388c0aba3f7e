import { describe, expect, it } from 'vitest';
import { fold } from '../decider.js';
import { deciderSpecification } from '../decider-specification.js';
import type { ContactCommand } from './commands.js';
import { activeRules, contactDecider } from './decider.js';
import type { ContactEvent } from './events.js';
import { MAX_CONTACT_METHODS, MAX_NOTIFICATION_RULES, MAX_VERIFICATION_ATTEMPTS } from './identity.js';

const spec = deciderSpecification(contactDecider);
const userId = '00000000-0000-4000-8000-00000000a5e7';
const mail = '00000000-0000-4000-8000-0000000000c1';
const hook = '00000000-0000-4000-8000-0000000000c2';
const own = '00000000-0000-4000-8000-0000000000c3';
const hash = (n: number) => String(n).repeat(64).slice(0, 64);
const t0 = new Date('2026-01-01T00:00:00.000Z');
const later = (minutes: number) => new Date(t0.getTime() + minutes * 60_000);
const iso = (minutes: number) => later(minutes).toISOString();

const addMail: ContactCommand = {
  type: 'AddContactMethod', userId, contactMethodId: mail, method: { type: 'email', address: 'pager@example.com' },
  accountEmail: 'ada@example.com', verificationCodeHash: hash(1), now: t0,
};
const mailAdded: ContactEvent = {
  type: 'ContactMethodAdded', data: { userId, contactMethodId: mail, method: { type: 'email', address: 'pager@example.com' }, verified: false, addedAt: iso(0) },
};
const codeIssued: ContactEvent = { type: 'VerificationCodeIssued', data: { userId, contactMethodId: mail, codeHash: hash(1), expiresAt: iso(15) } };
const hookAdded: ContactEvent = {
  type: 'ContactMethodAdded',
  data: { userId, contactMethodId: hook, method: { type: 'webhook', url: 'https://hooks.example.com/me', format: 'slack' }, verified: true, addedAt: iso(0) },
};
const verified: ContactEvent = { type: 'ContactMethodVerified', data: { userId, contactMethodId: mail, verifiedAt: iso(1) } };
const verify = (codeHash: string, minutes = 1): ContactCommand => ({ type: 'VerifyContactMethod', contactMethodId: mail, codeHash, now: later(minutes) });
const rejected = (attempts: number): ContactEvent => ({ type: 'VerificationCodeRejected', data: { userId, contactMethodId: mail, attempts, rejectedAt: iso(1) } });
const rules = (...list: [string, number][]) => list.map(([contactMethodId, delayMinutes]) => ({ contactMethodId, delayMinutes }));
const replaceRules = (...list: [string, number][]): ContactCommand => ({ type: 'ReplaceNotificationRules', userId, rules: rules(...list), now: later(2) });

describe('contact decider', () => {
  it('an address other than the account’s is added unverified, with a code to confirm it', () => {
    spec.given([]).when(addMail).then([mailAdded, codeIssued]);
  });

  it('the account’s own address and a webhook need no code', () => {
    spec
      .given([])
      .when({ ...addMail, contactMethodId: own, method: { type: 'email', address: 'ada@example.com' } })
      .then([{ type: 'ContactMethodAdded', data: { userId, contactMethodId: own, method: { type: 'email', address: 'ada@example.com' }, verified: true, addedAt: iso(0) } }]);
    spec
      .given([])
      .when({ ...addMail, contactMethodId: hook, method: { type: 'webhook', url: 'https://hooks.example.com/me', format: 'slack' } })
      .then([hookAdded]);
  });

  it('a person has a bounded number of methods', () => {
    const many: ContactEvent[] = Array.from({ length: MAX_CONTACT_METHODS }, (_, n) => ({
      ...hookAdded, data: { ...hookAdded.data, contactMethodId: `00000000-0000-4000-8000-${String(n).padStart(12, '0')}` },
    }));
    spec.given(many).when(addMail).thenThrows('conflict', 'too_many_contact_methods');
  });

  it('the right code verifies the method', () => {
    spec.given([mailAdded, codeIssued]).when(verify(hash(1))).then([verified]);
  });

  it('a wrong code is counted, and enough of them lock the verification', () => {
    spec.given([mailAdded, codeIssued]).when(verify(hash(2))).then([rejected(1)]);
    const wrongs = Array.from({ length: MAX_VERIFICATION_ATTEMPTS }, (_, n) => rejected(n + 1));
    spec.given([mailAdded, codeIssued, ...wrongs]).when(verify(hash(1))).thenThrows('conflict', 'verification_locked');
  });

  it('an expired code verifies nothing', () => {
    spec.given([mailAdded, codeIssued]).when(verify(hash(1), 15)).thenThrows('gone', 'verification_expired');
  });

  it('verifying a verified method changes nothing, and an unknown one is not found', () => {
    spec.given([mailAdded, codeIssued, verified]).when(verify(hash(1))).thenNothingHappens();
    spec.given([]).when(verify(hash(1))).thenThrows('not_found');
  });

  it('rules name only verified methods of the person, at most a bounded number', () => {
    spec.given([mailAdded, codeIssued]).when(replaceRules([mail, 0])).thenThrows('invalid', 'contact_method_unverified');
    spec.given([hookAdded]).when(replaceRules([mail, 0])).thenThrows('not_found');
    const tooMany = Array.from({ length: MAX_NOTIFICATION_RULES + 1 }, (_, n): [string, number] => [hook, n]);
    spec.given([hookAdded]).when(replaceRules(...tooMany)).thenThrows('invalid', 'too_many_notification_rules');
    spec
      .given([mailAdded, codeIssued, verified, hookAdded])
      .when(replaceRules([mail, 0], [hook, 5]))
      .then([{ type: 'NotificationRulesReplaced', data: { userId, rules: rules([mail, 0], [hook, 5]), replacedAt: iso(2) } }]);
  });

  it('removing a method drops the rules that paged it', () => {
    const ruled: ContactEvent = { type: 'NotificationRulesReplaced', data: { userId, rules: rules([mail, 0], [hook, 5]), replacedAt: iso(2) } };
    spec
      .given([mailAdded, codeIssued, verified, hookAdded, ruled])
      .when({ type: 'RemoveContactMethod', contactMethodId: hook, now: later(3) })
      .then([
        { type: 'ContactMethodRemoved', data: { userId, contactMethodId: hook, removedAt: iso(3) } },
        { type: 'NotificationRulesReplaced', data: { userId, rules: rules([mail, 0]), replacedAt: iso(3) } },
      ]);
  });

  it('only rules of verified methods page', () => {
    const ruled: ContactEvent = { type: 'NotificationRulesReplaced', data: { userId, rules: rules([hook, 5]), replacedAt: iso(2) } };
    const state = fold(contactDecider, [hookAdded, ruled]);
    expect(activeRules(state).map(({ method }) => method.id)).toEqual([hook]);
  });
});
