import { describe, expect, it } from 'vitest';
import { lifecycleTypeOf } from './subscription-reactor.js';

describe('which alert events subscribers hear of', () => {
  it('names the lifecycle of an alert by its events', () => {
    expect(lifecycleTypeOf({ type: 'AlertTriggered', data: {} })).toBe('alert.triggered');
    expect(lifecycleTypeOf({ type: 'AlertAcknowledged', data: {} })).toBe('alert.acknowledged');
    expect(lifecycleTypeOf({ type: 'AlertResolved', data: {} })).toBe('alert.resolved');
    expect(lifecycleTypeOf({ type: 'EscalationStepFired', data: {} })).toBe('alert.escalated');
    expect(lifecycleTypeOf({ type: 'AlertEscalatedManually', data: {} })).toBe('alert.escalated');
  });

  it('a note is named by its event type', () => {
    expect(lifecycleTypeOf({ type: 'AlertNoteAdded', data: { noteId: 'n', text: 'looking', by: 'user:u', at: '2026-01-01T00:00:00.000Z' } })).toBe(
      'alert.note_added',
    );
  });

  it('a failed page counts once it is given up, not while a retry is due', () => {
    expect(lifecycleTypeOf({ type: 'NotificationFailed', data: { retryAt: null } })).toBe('notification.failed');
    expect(lifecycleTypeOf({ type: 'NotificationFailed', data: { retryAt: '2026-01-01T00:00:10.000Z' } })).toBeNull();
  });

  it('the engine’s own bookkeeping is not a lifecycle event', () => {
    for (const type of ['EscalationStepScheduled', 'NotificationRequested', 'NotificationDelivered', 'AlertDeduplicated', 'NotificationCancelled']) {
      expect(lifecycleTypeOf({ type, data: {} })).toBeNull();
    }
  });
});
