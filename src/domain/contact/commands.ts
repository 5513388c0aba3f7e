import type { ContactMethodSpec, NotificationRule } from './events.js';

export type ContactCommand =
  | {
      type: 'AddContactMethod';
      userId: string;
      contactMethodId: string;
      method: ContactMethodSpec;
      /** The account's own address: an email method at it needs no verification. */
      accountEmail: string;
      /** sha256 of the code e-mailed to an address other than the account's. */
      verificationCodeHash: string;
      now: Date;
    }
  | { type: 'VerifyContactMethod'; contactMethodId: string; codeHash: string; now: Date }
  | { type: 'RemoveContactMethod'; contactMethodId: string; now: Date }
  | { type: 'ReplaceNotificationRules'; userId: string; rules: NotificationRule[]; now: Date };
