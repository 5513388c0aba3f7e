import { z } from 'zod';
import {
  addContactMethod,
  removeContactMethod,
  replaceNotificationRules,
  verifyContactMethod,
} from '../../commands/contact-methods.js';
import { MAX_NOTIFICATION_RULES, MAX_RULE_DELAY_MINUTES } from '../../domain/contact/identity.js';
import { EmailAddress } from '../../domain/user/identity.js';
import { noContent, routeGroup } from '../routing.js';

const route = routeGroup({ tag: 'contact methods' });

const ContactMethodParams = z.object({ contactMethodId: z.uuid() });
const ContactMethodInput = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('email'), address: EmailAddress }),
  z.strictObject({ type: z.literal('webhook'), url: z.url({ protocol: /^https?$/ }).max(2048), format: z.enum(['json', 'slack']) }),
]);
const ContactMethodView = z.discriminatedUnion('type', [
  z.object({ id: z.uuid(), type: z.literal('email'), address: z.string(), verified: z.boolean() }),
  z.object({ id: z.uuid(), type: z.literal('webhook'), url: z.string(), format: z.enum(['json', 'slack']), verified: z.boolean() }),
]);
const NotificationRules = z
  .array(z.strictObject({ contactMethodId: z.uuid(), delayMinutes: z.int().min(0).max(MAX_RULE_DELAY_MINUTES) }))
  .max(MAX_NOTIFICATION_RULES);

const add = route('post', '/me/contact-methods', {
  summary:
    "Add a contact method: an e-mail address (one other than the account's is verified by a 6-digit code e-mailed to it) or a webhook (json, or slack for an incoming webhook)",
  permission: 'signed-in',
  body: ContactMethodInput,
  responses: { 201: z.object({ id: z.uuid(), verified: z.boolean() }) },
  async handler({ body, user, services }) {
    const added = await addContactMethod(services, { userId: user.id, method: body, now: services.clock() });
    return {
      status: 201,
      body: { id: added.contactMethodId, verified: added.verified },
      headers: { Location: `/me/contact-methods/${added.contactMethodId}` },
      position: added.position,
    };
  },
});

const list = route('get', '/me/contact-methods', {
  summary: "The signed-in user's contact methods, oldest first",
  permission: 'signed-in',
  responses: { 200: z.array(ContactMethodView) },
  async handler({ user, services }) {
    const rows = await services.db.selectFrom('contact_methods').selectAll().where('user_id', '=', user.id).orderBy('created_at').orderBy('id').execute();
    return {
      status: 200,
      body: rows.map((row) =>
        row.type === 'email'
          ? { id: row.id, type: row.type, address: row.address!, verified: row.verified }
          : { id: row.id, type: row.type, url: row.url!, format: row.format!, verified: row.verified },
      ),
    };
  },
});

const remove = route('delete', '/me/contact-methods/:contactMethodId', {
  summary: 'Remove a contact method, and the notification rules that page it',
  permission: 'signed-in',
  params: ContactMethodParams,
  responses: { 204: null },
  handler: ({ params, user, services }) => noContent(removeContactMethod(services, { userId: user.id, contactMethodId: params.contactMethodId, now: services.clock() })),
});

const verify = route('post', '/me/contact-methods/:contactMethodId/verify', {
  summary: 'Confirm an e-mail contact method with the code e-mailed to it (422 when wrong; a few wrong codes or an expired one need the method added again)',
  permission: 'signed-in',
  params: ContactMethodParams,
  body: z.strictObject({ code: z.string().regex(/^\d{6}$/, 'six digits') }),
  responses: { 204: null },
  handler: ({ params, body, user, services }) =>
    noContent(verifyContactMethod(services, { userId: user.id, contactMethodId: params.contactMethodId, code: body.code, now: services.clock() })),
});

const getRules = route('get', '/me/notification-rules', {
  summary: "The signed-in user's notification rules, in order; none means pages go to the account's e-mail at once",
  permission: 'signed-in',
  responses: { 200: NotificationRules },
  async handler({ user, services }) {
    const row = await services.db.selectFrom('notification_rules').select('rules').where('user_id', '=', user.id).executeTakeFirst();
    return { status: 200, body: row?.rules ?? [] };
  },
});

const putRules = route('put', '/me/notification-rules', {
  summary: "Replace the signed-in user's notification rules: each pages one of their verified contact methods, delayMinutes after a step pages them",
  permission: 'signed-in',
  body: NotificationRules,
  responses: { 204: null },
  handler: ({ body, user, services }) => noContent(replaceNotificationRules(services, { userId: user.id, rules: body, now: services.clock() })),
});

export const contactMethodRoutes = [add, list, remove, verify, getRules, putRules];
