import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from './support/app.js';
import { startWebhookReceiver, type WebhookReceiver } from './support/webhook-receiver.js';

const run = promisify(execFile);

/** The README's "Try it" walkthrough, exactly as written there, run against a real service. */
function tryItScript(): string {
  const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
  const match = /<!-- try-it -->\s*```sh\n([\s\S]*?)```/.exec(readme);
  if (!match) throw new Error('README.md has no try-it block');
  return match[1]!;
}

describe('README walkthrough', () => {
  let app: TestApp;
  let receiver: WebhookReceiver;
  beforeAll(async () => {
    receiver = await startWebhookReceiver();
    // The defaults a developer following the README gets: loopback webhooks allowed, nothing else non-public.
    app = await startTestApp({ NODE_ENV: 'development' });
    expect(app.config).toMatchObject({ webhookAllowLoopback: true, webhookAllowPrivate: false });
  });
  afterAll(async () => {
    await app?.stop();
    await receiver?.stop();
  });

  it('pages the webhook, acknowledges the alert and asks a schedule who is on call, with the documented commands', async () => {
    const { stdout } = await run('bash', ['-euo', 'pipefail', '-c', tryItScript()], {
      env: { ...process.env, BASE: app.url, HOOK: `${receiver.url}/page` },
      timeout: 60_000,
    });
    const lines = stdout.trim().split('\n');
    expect(lines[0]).toBe('acknowledged');
    expect(lines.at(-1)).toBe('on call: Ada');
    const types = lines.slice(1, -1).map((line) => line.split(' ')[0]);
    expect(types).toEqual(expect.arrayContaining(['AlertTriggered', 'EscalationStepFired', 'NotificationDelivered', 'AlertAcknowledged']));
    expect(types.filter((type) => type === 'EscalationStepFired')).toHaveLength(1);
    expect(receiver.requests).toHaveLength(1);
    expect(receiver.requests[0]!.path).toBe('/page');
    expect((receiver.requests[0]!.json as { alert: { summary: string } }).alert.summary).toBe('Checkout error rate above 5%');
  });
});
