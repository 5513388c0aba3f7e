import type { Selectable } from 'kysely';
import type { ContactEvent } from '../domain/contact/events.js';
import { defineProjection } from './projection.js';
import type { ContactMethodsTable, NotificationRulesTable } from './read-models.js';

type ContactTables = { contact_methods: Selectable<ContactMethodsTable>; notification_rules: Selectable<NotificationRulesTable> };

/** People's contact methods (never a verification code) and their notification rules, for listing. */
export const contactMethodsProjection = defineProjection<ContactTables, ContactEvent>()({
  name: 'contact_methods',
  keys: { contact_methods: ['id'], notification_rules: ['user_id'] },
  handlers: {
    ContactMethodAdded({ contact_methods }, { data: e }) {
      const { method } = e;
      contact_methods.put({
        id: e.contactMethodId,
        user_id: e.userId,
        type: method.type,
        address: method.type === 'email' ? method.address : null,
        url: method.type === 'webhook' ? method.url : null,
        format: method.type === 'webhook' ? method.format : null,
        verified: e.verified,
        created_at: new Date(e.addedAt),
      });
    },
    VerificationCodeIssued() {},
    VerificationCodeRejected() {},
    ContactMethodVerified({ contact_methods }, { data }) {
      contact_methods.update({ id: data.contactMethodId }, { verified: true });
    },
    ContactMethodRemoved({ contact_methods }, { data }) {
      contact_methods.delete({ id: data.contactMethodId });
    },
    NotificationRulesReplaced({ notification_rules }, { data, recordedAt }) {
      notification_rules.put({ user_id: data.userId, rules: data.rules, updated_at: recordedAt });
    },
  },
});
