import { createHmac } from 'node:crypto';
import http from 'node:http';
import https from 'node:https';
import type { LookupFunction } from 'node:net';
import type { NotificationAttemptPlan } from '../../commands/alerts.js';
import type { NotificationOutcome } from '../../domain/alert/commands.js';
import type { NotificationChannel } from './channel.js';
import { type HostResolver, type ResolvedAddress, resolveWebhookHost } from './network-guard.js';

export const WEBHOOK_USER_AGENT = 'AlertOps-Webhook/1';
const RESPONSE_EXCERPT_BYTES = 512;

export interface WebhookChannelOptions {
  timeoutMs: number;
  /** Whether loopback, private, link-local and similar addresses may be targets (WEBHOOK_ALLOW_PRIVATE). */
  allowPrivate: boolean;
  webhookSecretOf: (teamId: string) => Promise<string | null>;
  resolve?: HostResolver;
}

/** The exact JSON a webhook receives; the signature covers these bytes. */
export function webhookBody(plan: NotificationAttemptPlan): Buffer {
  const { alert } = plan;
  return Buffer.from(
    JSON.stringify({
      deliveryId: plan.deliveryId,
      alert: { id: alert.id, summary: alert.summary, details: alert.details ?? null, severity: alert.severity, status: alert.status },
      step: plan.step,
      attempt: plan.attempt,
      teamId: plan.teamId,
    }),
  );
}

/** `X-AlertOps-Signature`: receivers recompute the HMAC over the raw body with the team's secret. */
export function webhookSignature(secret: string, body: Buffer | string): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
}

/**
 * POSTs the alert to the target URL. Target problems (refused address, timeout, non-2xx) are failed
 * outcomes; only our own read model being unreachable (the secret lookup) throws.
 */
export function createWebhookChannel(options: WebhookChannelOptions): NotificationChannel {
  return {
    name: 'webhook',
    async send(plan) {
      if (plan.target.type !== 'webhook') {
        return { delivered: false, error: `the webhook channel cannot deliver to a ${plan.target.type} target`, permanent: true };
      }
      const url = new URL(plan.target.url);
      const secret = await options.webhookSecretOf(plan.teamId);
      if (!secret) return { delivered: false, error: `team ${plan.teamId} has no webhook secret yet`, permanent: false };

      const deadline = AbortSignal.timeout(options.timeoutMs);
      const resolution = await untilAborted(
        resolveWebhookHost(url.hostname, {
          allowPrivate: options.allowPrivate,
          ...(options.resolve ? { resolve: options.resolve } : {}),
        }),
        deadline,
      );
      if (!resolution) return timedOut(options.timeoutMs);
      if (!resolution.ok) return { delivered: false, error: resolution.error, permanent: resolution.permanent };

      const body = webhookBody(plan);
      return post(url, resolution.address, body, deadline, options.timeoutMs, {
        'content-type': 'application/json',
        'content-length': String(body.length),
        'user-agent': WEBHOOK_USER_AGENT,
        'x-alertops-delivery': plan.deliveryId,
        'x-alertops-attempt': String(plan.attempt),
        'x-alertops-signature': webhookSignature(secret, body),
      });
    },
  };
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
      settle(deadline.aborted ? timedOut(timeoutMs) : { delivered: false, error: describeNetworkError(error, url), permanent: false });

    // http.request never follows redirects; the pinned lookup makes the socket go to the address we checked.
    const request = transport.request(url, { method: 'POST', headers, signal: deadline, agent: false, lookup: pinnedLookup(address) });
    request.on('error', fail);
    request.on('response', (response) => {
      const excerpt: Buffer[] = [];
      let excerptBytes = 0;
      response.on('data', (chunk: Buffer) => {
        if (excerptBytes < RESPONSE_EXCERPT_BYTES) {
          excerpt.push(chunk);
          excerptBytes += chunk.length;
        }
      });
      response.on('error', fail);
      response.on('aborted', () => fail(new Error('the response was cut off')));
      response.on('end', () => {
        const status = response.statusCode ?? 0;
        const text = Buffer.concat(excerpt).subarray(0, RESPONSE_EXCERPT_BYTES).toString('utf8').replace(/\s+/g, ' ').trim();
        if (status >= 200 && status < 300) return settle({ delivered: true, detail: `HTTP ${status}` });
        const reason = status >= 300 && status < 400
          ? `redirect to ${response.headers.location ?? '(no location)'} not followed`
          : text || response.statusMessage || '';
        settle({ delivered: false, error: `HTTP ${status}${reason ? `: ${reason}` : ''}`, permanent: false });
      });
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
  return { delivered: false, error: `timed out after ${timeoutMs} ms`, permanent: false };
}

function describeNetworkError(error: unknown, url: URL): string {
  const code = (error as NodeJS.ErrnoException).code;
  if (code === 'ECONNREFUSED') return `connection refused by ${url.host}`;
  if (code === 'ECONNRESET') return `connection reset by ${url.host}`;
  const message = error instanceof Error ? error.message : String(error);
  return code && !message.includes(code) ? `${code}: ${message}` : message;
}

async function untilAborted<T>(work: Promise<T>, signal: AbortSignal): Promise<T | null> {
  if (signal.aborted) return null;
  let onAbort: () => void = () => undefined;
  const aborted = new Promise<null>((resolve) => {
    onAbort = () => resolve(null);
    signal.addEventListener('abort', onAbort, { once: true });
  });
  try {
    return await Promise.race([work, aborted]);
  } finally {
    signal.removeEventListener('abort', onAbort);
  }
}
