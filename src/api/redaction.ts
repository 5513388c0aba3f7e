import { can, type TeamRole } from '../domain/team/roles.js';

const REDACTED = 'redacted';

/** A path segment that names what follows it as a credential: `/token/<secret>`. */
const CREDENTIAL_NAME = /^(token|tokens|key|keys|apikey|api[-_]?key|secret|secrets|password|passwd|auth|access[-_]?token|sig|signature|credentials?)$/i;

function decoded(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}

/** Long random-looking segments are how chat and incident tools put the credential into a webhook URL. */
function looksSecret(segment: string): boolean {
  const text = decoded(segment);
  if (text.length >= 24) return true;
  return text.length >= 12 && /\d/.test(text) && /[A-Za-z]/.test(text);
}

/**
 * The URL with what may be a credential replaced: userinfo, the query, the fragment, and any path segment that looks
 * like a token or follows one named like a credential. Scheme, host and port stay, so a reader can tell where it goes.
 */
export function redactWebhookUrl(url: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return REDACTED;
  }
  const segments = parsed.pathname.split('/');
  const path = segments
    .map((segment, index) => (segment && (looksSecret(segment) || CREDENTIAL_NAME.test(decoded(segments[index - 1] ?? ''))) ? REDACTED : segment))
    .join('/');
  const userinfo = parsed.username || parsed.password ? `${REDACTED}@` : '';
  return `${parsed.protocol}//${userinfo}${parsed.host}${path}${parsed.search ? `?${REDACTED}` : ''}${parsed.hash ? `#${REDACTED}` : ''}`;
}

/** A copy of `value` in which every webhook target (`{type: 'webhook', url}`, however deep) has its URL redacted. */
export function redactWebhookTargets<T>(value: T): T {
  if (Array.isArray(value)) return value.map(redactWebhookTargets) as T;
  if (value === null || typeof value !== 'object') return value;
  const entries = Object.entries(value).map(([key, inner]) => [key, redactWebhookTargets(inner)] as const);
  const copy = Object.fromEntries(entries) as Record<string, unknown>;
  if (copy.type === 'webhook' && typeof copy.url === 'string') copy.url = redactWebhookUrl(copy.url);
  return copy as T;
}

/** What a member of this role may see of webhook targets: the URLs in full, or redacted (viewers). */
export function webhookTargetsFor<T>(role: TeamRole, value: T): T {
  return can(role, 'webhook-urls:read') ? value : redactWebhookTargets(value);
}

/**
 * A notification's target as the team may see it: a person's own webhook (a notification rule's delivery) is their
 * credential, redacted for everyone; a flow's webhook as the role allows.
 */
export function notificationTargetFor<T>(role: TeamRole, target: T, personal: boolean): T {
  return personal ? redactWebhookTargets(target) : webhookTargetsFor(role, target);
}
