import { randomUUID } from 'node:crypto';
import { attemptPlan } from '../../../test/support/attempt-plan.js';
import { describe, expect, it } from 'vitest';
import type { NotificationAttemptPlan } from '../../domain/alert/notification-attempt.js';
import { actionLinkKey, readActionToken } from '../../infra/action-link-tokens.js';
import { actionLinks } from './action-links.js';

const key = actionLinkKey('server-secret-for-action-link-tests-long-enough');
const sentAt = new Date('2026-03-01T10:00:00Z');

const planFor = (target: NotificationAttemptPlan['target']) => attemptPlan(target);

describe('action links of pages', () => {
  let base = 'http://127.0.0.1:3000';
  const linkOf = actionLinks({ key, ttlHours: 24, publicUrl: () => base, clock: () => sentAt });
  const tokenOf = (link: string) => link.slice(link.lastIndexOf('/') + 1);

  it("binds a member's page to them, and expires the TTL after it was sent", () => {
    const userId = randomUUID();
    const plan = planFor({ type: 'user', userId });
    expect(readActionToken(key, tokenOf(linkOf(plan)), sentAt)).toEqual({
      status: 'valid',
      claims: { alertId: plan.alertId, deliveryId: plan.deliveryId, teamId: plan.teamId, userId, expiresAt: new Date('2026-03-02T10:00:00Z') },
    });
  });

  it('binds the page of an address or a webhook to nobody', () => {
    for (const target of [{ type: 'email', email: 'oncall@example.com' }, { type: 'webhook', url: 'https://hooks.example.com/x' }] as const) {
      const reading = readActionToken(key, tokenOf(linkOf(planFor(target))), sentAt);
      expect(reading.status === 'valid' && reading.claims.userId).toBeNull();
    }
  });

  it('points at the public URL as it is when the page is sent', () => {
    expect(linkOf(planFor({ type: 'email', email: 'a@example.com' }))).toMatch(/^http:\/\/127\.0\.0\.1:3000\/a\/[A-Za-z0-9_-]+\.[A-Za-z0-9_-]{43}$/);
    base = 'https://alertops.example.com';
    expect(linkOf(planFor({ type: 'email', email: 'a@example.com' }))).toMatch(/^https:\/\/alertops\.example\.com\/a\//);
  });
});
