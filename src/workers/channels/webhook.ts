import http from 'node:http';
import https from 'node:https';
import type { LookupFunction } from 'node:net';
import type { NotificationOutcome } from '../../domain/alert/commands.js';
import type { NotificationAttemptPlan } from '../../domain/alert/notification-attempt.js';
import { traceHeaders } from '../../infra/tracing.js';
import { webhookSignatureHeader } from '../../infra/webhook-secrets.js';
import type { ActionLinkOf } from './action-links.js';
import type { NotificationChannel } from './channel.js';
import { type HostResolver, type ResolvedAddress, resolveWebhookHost, untilAborted, type WebhookNetworkPolicy } from '../../infra/network-guard.js';

export const WEBHOOK_USER_AGENT = 'AlertOps-Webhook/1';

export interface WebhookChannelOptions {
  timeoutMs: number;
  /** Which non-public addresses may be targets (WEBHOOK_ALLOW_PRIVATE, WEBHOOK_ALLOW_LOOPBACK). */
  policy: WebhookNetworkPolicy;
  /** The team's `whsec_` secrets a delivery made at `now` is signed with, current first; null when the team is unknown. */
  signingSecretsOf: (teamId: string, now: Date) => Promise<string[] | null>;
  actionLinkOf: ActionLinkOf;
  clock?: () => Date;
  resolve?: HostResolver;
}

/**
 * The exact JSON a webhook receives; the signature covers these bytes. Both actions lead to the one action page, whose
 * form posts the action (the fragment points at its button): following a link never acts by itself.
 */
export function webhookBody(plan: NotificationAttemptPlan, actionLink: string): Buffer {
  const { alert } = plan;
  return Buffer.from(
    JSON.stringify({
      deliveryId: plan.deliveryId,
      alert: { id: alert.id, summary: alert.summary, details: alert.details ?? null, severity: alert.severity, status: alert.status },
      step: plan.step,
      attempt: plan.attempt,
      teamId: plan.teamId,
      actions: { acknowledge: `${actionLink}#acknowledge`, resolve: `${actionLink}#resolve` },
    }),
  );
}

/** Slack's mrkdwn reads <, > and & as markup: the alert's own text is escaped. */
const mrkdwnText = (text: string) => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** An incoming-webhook message (Slack, Mattermost): `text` for notifications, a block for the message itself. */
export function slackMessageBody(plan: NotificationAttemptPlan, actionLink: string): Buffer {
  const { alert } = plan;
  const button = (label: string, action: 'acknowledge' | 'resolve') => ({
    type: 'button',
    text: { type: 'plain_text', text: label },
    url: `${actionLink}#${action}`,
  });
  const text = `[${alert.severity.toUpperCase()}] ${alert.summary} (${alert.status}, step ${plan.step + 1})`;
  return Buffer.from(
    JSON.stringify({
      text,
      blocks: [
        { type: 'section', text: { type: 'mrkdwn', text: `*${mrkdwnText(alert.summary)}*\nSeverity: ${alert.severity} · Status: ${alert.status} · Step ${plan.step + 1}` } },
        { type: 'actions', elements: [button('Acknowledge', 'acknowledge'), button('Resolve', 'resolve')] },
        { type: 'context', elements: [{ type: 'mrkdwn', text: `Alert ${alert.id} · delivery ${plan.deliveryId}` }] },
      ],
    }),
  );
}

/**
 * POSTs the alert to the target URL, signed as Standard Webhooks specify. Target problems (refused address, timeout,
 * non-2xx) are failed outcomes described in our own words; nothing the target sends back is kept. Only our own read
 * model being unreachable (the secret lookup) throws.
 */
export function createWebhookChannel(options: WebhookChannelOptions): NotificationChannel {
  const clock = options.clock ?? (() => new Date());
  return {
    name: 'webhook',
    async send(plan) {
      if (plan.target.type !== 'webhook') {
        return { delivered: false, error: `the webhook channel cannot deliver to a ${plan.target.type} target`, permanent: true };
      }
      const url = new URL(plan.target.url);
      const now = clock();
      const secrets = await options.signingSecretsOf(plan.teamId, now);
      if (!secrets || secrets.length === 0) return { delivered: false, error: 'the team has no webhook signing secret yet', permanent: false };

      const actionLink = options.actionLinkOf(plan);
      const body = plan.format === 'slack' ? slackMessageBody(plan, actionLink) : webhookBody(plan, actionLink);
      return postSignedWebhook({
        url,
        messageId: plan.deliveryId,
        body,
        secrets,
        now,
        timeoutMs: options.timeoutMs,
        policy: options.policy,
        ...(options.resolve ? { resolve: options.resolve } : {}),
        headers: { 'x-alertops-delivery': plan.deliveryId, 'x-alertops-attempt': String(plan.attempt) },
      });
    },
  };
}

/**
 * POSTs a JSON body to a checked address, signed as Standard Webhooks specify with every one of `secrets`: the one
 * way anything leaves for a webhook, pages and lifecycle events alike. Never throws; every way the send can go wrong is
 * a failed outcome in our own words.
 */
export async function postSignedWebhook(request: {
  url: URL;
  /** The `webhook-id`: the same on every attempt of one message, so receivers can drop repeats. */
  messageId: string;
  body: Buffer;
  secrets: readonly string[];
  now: Date;
  timeoutMs: number;
  policy: WebhookNetworkPolicy;
  resolve?: HostResolver;
  headers?: Record<string, string>;
}): Promise<NotificationOutcome> {
  const { url, body, timeoutMs } = request;
  const deadline = AbortSignal.timeout(timeoutMs);
  const resolution = await untilAborted(
    resolveWebhookHost(url.hostname, { policy: request.policy, ...(request.resolve ? { resolve: request.resolve } : {}) }),
    deadline,
  );
  if (!resolution) return timedOut(timeoutMs);
  if (!resolution.ok) return { delivered: false, error: resolution.error, permanent: resolution.permanent };
  const timestamp = Math.floor(request.now.getTime() / 1000);
  return post(url, resolution.address, body, deadline, timeoutMs, {
    'content-type': 'application/json',
    'content-length': String(body.length),
    'user-agent': WEBHOOK_USER_AGENT,
    'webhook-id': request.messageId,
    'webhook-timestamp': String(timestamp),
    'webhook-signature': webhookSignatureHeader(request.secrets, request.messageId, timestamp, body),
    ...request.headers,
    ...traceHeaders(),
  });
}

function post(
  url: URL,
  address: ResolvedAddress,
  body: Buffer,
  deadline: AbortSignal,
  timeoutMs: number,
  headers: Record<string, string>,
): Promise<NotificationOutcome> {
  const transport = url.protocol === 'https:' ? https : http;
  return new Promise((resolve) => {
    let settled = false;
    const settle = (outcome: NotificationOutcome) => {
      if (settled) return;
      settled = true;
      resolve(outcome);
    };
    const fail = (error: unknown) =>
      settle(deadline.aborted ? timedOut(timeoutMs) : { delivered: false, error: describeNetworkError(error), permanent: false, unanswered: true });

    // http.request never follows redirects; the pinned lookup makes the socket go to the address we checked.
    const request = transport.request(url, { method: 'POST', headers, signal: deadline, agent: false, lookup: pinnedLookup(address) });
    request.on('error', fail);
    request.on('response', (response) => {
      // The status is the whole answer: the body (and any Location) is the target's to say, not ours to keep.
      const status = response.statusCode ?? 0;
      if (status >= 200 && status < 300) settle({ delivered: true, detail: `HTTP ${status}` });
      else if (status >= 300 && status < 400) settle({ delivered: false, error: `redirect refused (HTTP ${status})`, permanent: false });
      else settle({ delivered: false, error: `HTTP ${status}`, permanent: false });
      request.destroy();
    });
    request.end(body);
  });
}

function pinnedLookup(address: ResolvedAddress): LookupFunction {
  return ((_hostname: string, options: { all?: boolean }, callback: (...args: unknown[]) => void) => {
    if (options.all) callback(null, [{ address: address.address, family: address.family }]);
    else callback(null, address.address, address.family);
  }) as LookupFunction;
}

function timedOut(timeoutMs: number): NotificationOutcome {
  return { delivered: false, error: `timeout after ${timeoutMs} ms`, permanent: false, unanswered: true };
}

const networkErrors: Record<string, string> = {
  ECONNREFUSED: 'connection refused',
  ECONNRESET: 'connection reset',
  ETIMEDOUT: 'connection timed out',
  EHOSTUNREACH: 'host unreachable',
  ENETUNREACH: 'network unreachable',
  EPIPE: 'connection closed while sending',
};

/** Our own words for a failed exchange: the error code, never a message that could quote the target. */
function describeNetworkError(error: unknown): string {
  const code = (error as NodeJS.ErrnoException).code ?? '';
  const known = networkErrors[code];
  if (known) return known;
  if (/^(ERR_TLS|ERR_SSL|CERT_|UNABLE_TO_|DEPTH_ZERO|SELF_SIGNED|HOSTNAME_MISMATCH)/.test(code)) return `TLS handshake failed (${code})`;
  if (code.startsWith('HPE_')) return `invalid HTTP response (${code})`;
  return /^[A-Z0-9_]+$/.test(code) ? `network error (${code})` : 'network error';
}
