import { randomInt, randomUUID } from 'node:crypto';
import type { Config } from '../config.js';
import { type ContactState, contactDecider } from '../domain/contact/decider.js';
import type { ContactMethodSpec, NotificationRule } from '../domain/contact/events.js';
import { contactStreamId, VERIFICATION_CODE_TTL_MINUTES } from '../domain/contact/identity.js';
import { invalid, notFound } from '../domain/decider.js';
import { userDecider } from '../domain/user/decider.js';
import { userStreamId } from '../domain/user/identity.js';
import type { LogPosition } from '../eventstore/types.js';
import type { Mailer } from '../infra/mailer.js';
import { webhookTargetRefusal } from '../infra/network-guard.js';
import { sha256Hex } from '../infra/secret-tokens.js';
import { aggregateStream, type CommandDependencies, commandHandler } from './handle-command.js';

const handleContact = commandHandler(contactDecider, contactStreamId);

export interface ContactCommandDependencies extends CommandDependencies {
  config: Pick<Config, 'webhookAllowPrivate' | 'webhookAllowLoopback'>;
  /** Null: e-mail is disabled, so an address other than the account's cannot be verified. */
  mailer: Mailer | null;
}

interface Change {
  position: LogPosition | null;
}

/** The code is salted with the method's id, so one code's hash says nothing about another method's. */
const verificationCodeHash = (contactMethodId: string, code: string) => sha256Hex(`${contactMethodId}.${code}`);

/** A person's contact methods and rules as their contact stream has them. */
export async function loadContacts(deps: CommandDependencies, userId: string): Promise<ContactState> {
  return (await aggregateStream(deps, contactDecider, contactStreamId(userId))).state;
}

export async function addContactMethod(
  deps: ContactCommandDependencies,
  input: { userId: string; method: ContactMethodSpec; now: Date },
): Promise<Change & { contactMethodId: string; verified: boolean }> {
  const { userId, method, now } = input;
  const { state: account } = await aggregateStream(deps, userDecider, userStreamId(userId));
  if (account.status !== 'registered') throw notFound('user not found');
  if (method.type === 'webhook') {
    const refusal = await webhookTargetRefusal(method.url, {
      policy: { allowPrivate: deps.config.webhookAllowPrivate, allowLoopback: deps.config.webhookAllowLoopback },
    });
    if (refusal) throw invalid(refusal, 'webhook_target_refused');
  }
  const needsCode = method.type === 'email' && method.address !== account.email;
  if (needsCode && !deps.mailer) throw invalid('e-mail is disabled (SMTP_URL is not set): the address cannot be verified', 'email_disabled');
  const contactMethodId = randomUUID();
  const code = String(randomInt(0, 1_000_000)).padStart(6, '0');
  const result = await handleContact(
    deps,
    userId,
    {
      type: 'AddContactMethod',
      userId,
      contactMethodId,
      method,
      accountEmail: account.email,
      verificationCodeHash: verificationCodeHash(contactMethodId, code),
      now,
    },
    { actor: `user:${userId}` },
  );
  if (needsCode && method.type === 'email') {
    await deps.mailer!.send({
      to: method.address,
      subject: `Your AlertOps verification code: ${code}`,
      text: [
        `Your AlertOps verification code is ${code}.`,
        '',
        `Confirm this address with POST /me/contact-methods/${contactMethodId}/verify {"code": "${code}"}`,
        `within ${VERIFICATION_CODE_TTL_MINUTES} minutes. If you did not add this address, ignore this message.`,
      ].join('\n'),
      messageId: `verify-${contactMethodId}@alertops`,
    });
  }
  return { contactMethodId, verified: !needsCode, position: result.position };
}

/** A wrong code is recorded (it counts against the attempts left) and then refused. */
export async function verifyContactMethod(
  deps: CommandDependencies,
  input: { userId: string; contactMethodId: string; code: string; now: Date },
): Promise<Change> {
  const result = await handleContact(
    deps,
    input.userId,
    { type: 'VerifyContactMethod', contactMethodId: input.contactMethodId, codeHash: verificationCodeHash(input.contactMethodId, input.code), now: input.now },
    { actor: `user:${input.userId}` },
  );
  if (result.events.some((event) => event.type === 'VerificationCodeRejected')) {
    throw invalid('the verification code is wrong', 'wrong_verification_code');
  }
  return { position: result.position };
}

export async function removeContactMethod(deps: CommandDependencies, input: { userId: string; contactMethodId: string; now: Date }): Promise<Change> {
  const result = await handleContact(
    deps,
    input.userId,
    { type: 'RemoveContactMethod', contactMethodId: input.contactMethodId, now: input.now },
    { actor: `user:${input.userId}` },
  );
  return { position: result.position };
}

export async function replaceNotificationRules(
  deps: CommandDependencies,
  input: { userId: string; rules: NotificationRule[]; now: Date },
): Promise<Change> {
  const result = await handleContact(
    deps,
    input.userId,
    { type: 'ReplaceNotificationRules', userId: input.userId, rules: input.rules, now: input.now },
    { actor: `user:${input.userId}` },
  );
  return { position: result.position };
}
