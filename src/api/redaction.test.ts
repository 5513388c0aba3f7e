import { describe, expect, it } from 'vitest';
import { redactWebhookTargets, redactWebhookUrl, webhookTargetsFor } from './redaction.js';

describe('webhook URL redaction', () => {
  it.each([
    ['https://user:pa55word@hooks.example.com/alert', 'https://redacted@hooks.example.com/alert'],
    ['https://hooks.example.com:8443/alert?token=abc&team=payments', 'https://hooks.example.com:8443/alert?redacted'],
    [
      'https://hooks.slack.com/services/T00000000/B00000000/XXXXXXXXXXXXXXXXXXXXXXXX',
      'https://hooks.slack.com/services/T00000000/B00000000/redacted',
    ],
    [
      'https://discord.com/api/webhooks/123456789012345678/aBcD-eFgH_1234567890abcdefghijklmnopqrstuvwxyzABCDEF',
      'https://discord.com/api/webhooks/123456789012345678/redacted',
    ],
    ['https://events.example.com/v2/enqueue/0f9d3a2b-8c1e-4f6a-9b7d-2e5c8a1f3b4d', 'https://events.example.com/v2/enqueue/redacted'],
    ['https://example.com/hook/token/s3cr3t', 'https://example.com/hook/token/redacted'],
    ['https://example.com/hook/api-key/short', 'https://example.com/hook/api-key/redacted'],
    ['http://[2001:db8::1]:9000/hook#k=v', 'http://[2001:db8::1]:9000/hook#redacted'],
    ['https://alertmanager-receiver.example.com/alertops-webhook/page', 'https://alertmanager-receiver.example.com/alertops-webhook/page'],
    ['https://example.com/', 'https://example.com/'],
  ])('%s -> %s', (url, redacted) => {
    expect(redactWebhookUrl(url)).toBe(redacted);
  });

  it('redacts every webhook target however deep in an event or a row, and nothing else', () => {
    const url = 'https://ops:hunter2@hooks.example.com/x?key=1';
    const value = {
      target: { type: 'webhook', url },
      steps: [{ name: 'a', target: { type: 'webhook', url } }, { name: 'b', target: { type: 'email', email: 'x@example.com' } }],
      note: url,
    };

    expect(redactWebhookTargets(value)).toEqual({
      target: { type: 'webhook', url: 'https://redacted@hooks.example.com/x?redacted' },
      steps: [
        { name: 'a', target: { type: 'webhook', url: 'https://redacted@hooks.example.com/x?redacted' } },
        { name: 'b', target: { type: 'email', email: 'x@example.com' } },
      ],
      note: url,
    });
    expect(value.target.url).toBe(url);
  });

  it('viewers get redacted URLs; members, admins and owners see them in full', () => {
    const target = { type: 'webhook', url: 'https://hooks.example.com/?token=abc' };
    expect(webhookTargetsFor('viewer', target)).toEqual({ type: 'webhook', url: 'https://hooks.example.com/?redacted' });
    for (const role of ['member', 'admin', 'owner'] as const) expect(webhookTargetsFor(role, target)).toBe(target);
  });
});
