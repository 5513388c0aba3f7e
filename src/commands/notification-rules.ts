import type { PagingRule, PeopleRules } from '../domain/alert/commands.js';
import { activeRules } from '../domain/contact/decider.js';
import type { CommandDependencies } from './handle-command.js';
import { loadContacts } from './contact-methods.js';

/** Each person's rules that page a verified method, resolved to where they send, from their contact streams. */
export async function rulesOf(deps: CommandDependencies, userIds: readonly string[]): Promise<PeopleRules> {
  const entries = await Promise.all(
    [...new Set(userIds)].map(async (userId): Promise<[string, PagingRule[]]> => {
      const contacts = await loadContacts(deps, userId);
      return [
        userId,
        activeRules(contacts).map(({ rule, method }) => ({
          contactMethodId: method.id,
          delaySeconds: rule.delayMinutes * 60,
          target: method.method.type === 'email' ? { type: 'email', email: method.method.address } : { type: 'webhook', url: method.method.url },
          format: method.method.type === 'webhook' ? method.method.format : 'json',
        })),
      ];
    }),
  );
  return Object.fromEntries(entries);
}
