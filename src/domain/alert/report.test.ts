import { describe, expect, it } from 'vitest';
import { alertHistory, reportEvents, type HistoryCommand } from '../../../test/support/alert-history.js';
import type { FlowNode } from '../flow/node.js';
import { incidentReport, IncidentReport, type ReportEvent, usersNamedIn } from './report.js';
import { formatDuration, incidentReportMarkdown } from './report-markdown.js';

const alertId = '00000000-0000-4000-8000-00000000a1e7';
const teamId = '00000000-0000-4000-8000-000000000001';
const flowId = '00000000-0000-4000-8000-00000000f10a';
const alice = '00000000-0000-4000-8000-0000000a11ce';
const bob = '00000000-0000-4000-8000-000000000b0b';
const methodId = '00000000-0000-4000-8000-00000000c0de';
const t0 = Date.parse('2026-01-01T00:00:00.000Z');
const at = (seconds: number) => new Date(t0 + seconds * 1000);
const iso = (seconds: number) => at(seconds).toISOString();

const nodes: FlowNode[] = [
  { id: '00000000-0000-4000-8000-000000000001', name: 'ops hook', delaySeconds: 0, target: { type: 'webhook', url: 'https://hooks.example.com/ops' }, retry: { maxAttempts: 2, backoffSeconds: 10 } },
  { id: '00000000-0000-4000-8000-000000000002', name: 'alice', delaySeconds: 60, target: { type: 'user', userId: alice }, retry: { maxAttempts: 1, backoffSeconds: 1 } },
];
const delivery = (n: number) => `00000000-0000-4000-8000-00000000d00${n}`;
const names: Record<string, string> = { [alice]: 'Alice Liddell', [bob]: 'Bob' };
const nameOf = (userId: string) => names[userId] ?? null;

const run: HistoryCommand[] = [
  { type: 'TriggerAlert', alertId, teamId, flow: { flowId, version: 4, repeat: 0, nodes }, summary: 'checkout down', details: null, severity: 'critical', dedupKey: 'checkout', source: 'api', now: at(0), actor: `user:${bob}` },
  { type: 'FireEscalationStep', alertId, epoch: 0, loop: 0, step: 0, deliveryId: delivery(1), now: new Date(t0 + 200) },
  { type: 'StartNotificationAttempt', deliveryId: delivery(1), now: new Date(t0 + 300), sender: 'n1', deadSenders: [] },
  { type: 'RecordNotificationOutcome', deliveryId: delivery(1), attempt: 1, outcome: { delivered: false, error: 'HTTP 500', permanent: false }, now: new Date(t0 + 500) },
  { type: 'TriggerAlert', alertId, teamId, flow: { flowId, version: 4, repeat: 0, nodes }, summary: 'checkout down', details: null, severity: 'critical', dedupKey: 'checkout', source: 'api', now: at(5) },
  { type: 'StartNotificationAttempt', deliveryId: delivery(1), now: new Date(t0 + 10_500), sender: 'n1', deadSenders: [] },
  { type: 'RecordNotificationOutcome', deliveryId: delivery(1), attempt: 2, outcome: { delivered: true, detail: 'HTTP 200' }, now: new Date(t0 + 10_600) },
  {
    type: 'FireEscalationStep', alertId, epoch: 0, loop: 0, step: 1, deliveryId: delivery(2), now: new Date(t0 + 60_050),
    rules: { [alice]: [{ contactMethodId: methodId, delaySeconds: 0, target: { type: 'email', email: 'alice@example.com' }, format: 'json' }] },
  },
  { type: 'AcknowledgeAlert', teamId, by: `user:${alice}`, now: at(90), actor: `user:${alice}` },
  { type: 'ResolveAlert', teamId, by: `user:${bob}`, now: at(300), actor: `user:${bob}` },
];

function withForeignEvents(events: ReportEvent[]): ReportEvent[] {
  const acknowledged = events.findIndex((event) => event.type === 'AlertAcknowledged');
  const note: ReportEvent = { version: 0, at: iso(120), type: 'AlertNoteAdded', actor: `user:${alice}`, data: { alertId, noteId: 'n-1', text: 'rolled back\nthe deploy', by: `user:${alice}`, at: iso(120) } };
  const unknown: ReportEvent = { version: 0, at: iso(121), type: 'SomethingNewHappened', actor: 'system:future', data: { alertId, what: 'a feature this code predates' } };
  const merged = [...events.slice(0, acknowledged + 1), note, unknown, ...events.slice(acknowledged + 1)];
  return merged.map((event, version) => ({ ...event, version }));
}

describe('incident report', () => {
  const events = withForeignEvents(reportEvents(alertHistory(alertId, teamId, run)));
  const report = incidentReport(events, nameOf)!;

  it('gives trigger, acknowledgement and resolution times with the durations between them', () => {
    expect(IncidentReport.parse(report)).toEqual(report);
    expect(report).toMatchObject({
      alert: { id: alertId, teamId, summary: 'checkout down', severity: 'critical', dedupKey: 'checkout', status: 'resolved' },
      flow: { id: flowId, version: 4, repeat: 0 },
      triggeredAt: iso(0),
      acknowledgedAt: iso(90),
      acknowledgedBy: { actor: `user:${alice}`, name: 'Alice Liddell' },
      resolvedAt: iso(300),
      resolvedBy: { actor: `user:${bob}`, name: 'Bob' },
      timeToAcknowledgeMs: 90_000,
      timeToResolveMs: 300_000,
      repeats: { count: 1, lastAt: iso(5) },
      nextStep: null,
    });
    expect(report.flow.steps.map((step) => step.name)).toEqual(['ops hook', 'alice']);
  });

  it('gives every step with its due and fire times and lag, who was paged through which channel, and every attempt', () => {
    expect(report.steps).toHaveLength(2);
    const [first, second] = report.steps;
    expect(first).toMatchObject({ loop: 0, step: 0, name: 'ops hook', dueAt: iso(0), firedAt: new Date(t0 + 200).toISOString(), lagMs: 200 });
    expect(first!.pages).toEqual([
      expect.objectContaining({
        deliveryId: delivery(1), channel: 'webhook', recipient: null, status: 'delivered', deliveredAt: new Date(t0 + 10_600).toISOString(),
        attempts: [
          { attempt: 1, startedAt: new Date(t0 + 300).toISOString(), outcome: 'failed', outcomeAt: new Date(t0 + 500).toISOString(), error: 'HTTP 500', detail: null, retryAt: new Date(t0 + 10_500).toISOString() },
          { attempt: 2, startedAt: new Date(t0 + 10_500).toISOString(), outcome: 'delivered', outcomeAt: new Date(t0 + 10_600).toISOString(), error: null, detail: 'HTTP 200', retryAt: null },
        ],
      }),
    ]);
    expect(second).toMatchObject({ step: 1, name: 'alice', dueAt: iso(60), lagMs: 50 });
    expect(second!.pages).toEqual([
      expect.objectContaining({ channel: 'email', target: { type: 'email', email: 'alice@example.com' }, recipient: { userId: alice, name: 'Alice Liddell' }, status: 'pending', attempts: [] }),
    ]);
  });

  it('reads notes by their type name, and lists events it does not know in the timeline', () => {
    expect(report.notes).toEqual([{ noteId: 'n-1', text: 'rolled back\nthe deploy', by: { actor: `user:${alice}`, name: 'Alice Liddell' }, at: iso(120) }]);
    expect(report.timeline.map((entry) => entry.type)).toContain('SomethingNewHappened');
    expect(report.timeline).toHaveLength(events.length);
    expect(report.lifecycle.map((change) => change.change)).toEqual(['exhausted', 'acknowledged', 'resolved']);
  });

  it('reads snoozes and their end, acknowledgement timeouts and resends', () => {
    const base = reportEvents(alertHistory(alertId, teamId, run.slice(0, 4)));
    const next = base.length;
    const later: ReportEvent[] = [
      { version: next, at: iso(20), type: 'AlertSnoozed', actor: `user:${bob}`, data: { alertId, epoch: 1, by: `user:${bob}`, at: iso(20), until: iso(620) } },
      { version: next + 1, at: iso(25), type: 'NotificationResendRequested', actor: `user:${alice}`, data: { alertId, deliveryId: delivery(1), by: `user:${alice}`, at: iso(25) } },
      { version: next + 2, at: iso(30), type: 'AcknowledgementTimedOut', actor: 'system:escalation', data: { alertId, epoch: 2, at: iso(30) } },
    ];
    const snoozedReport = incidentReport([...base, ...later.slice(0, 2)], nameOf)!;
    expect(snoozedReport.alert.status).toBe('acknowledged');
    expect(snoozedReport.lifecycle).toEqual([{ at: iso(20), change: 'snoozed', by: { actor: `user:${bob}`, name: 'Bob' }, until: iso(620) }]);
    expect(snoozedReport.steps[0]!.pages[0]!.resends).toEqual([{ by: { actor: `user:${alice}`, name: 'Alice Liddell' }, at: iso(25) }]);
    const ended = incidentReport([...base, later[0]!, { version: next + 1, at: iso(620), type: 'SnoozeEnded', actor: 'system:escalation', data: { alertId, epoch: 2, at: iso(620) } }], nameOf)!;
    expect(ended.alert.status).toBe('triggered');
    expect(ended.lifecycle.map((entry) => entry.change)).toEqual(['snoozed', 'snooze_ended']);
    const timedOut = incidentReport([...base, ...later], nameOf)!;
    expect(timedOut.alert.status).toBe('triggered');
    expect(timedOut.lifecycle.at(-1)).toEqual({ at: iso(30), change: 'acknowledgement_timed_out', by: null, until: null });
  });

  it('gives who was on call for a schedule step, each named and paged', () => {
    const scheduleId = '00000000-0000-4000-8000-000000005c4e';
    const onCallNodes: FlowNode[] = [{ id: nodes[0]!.id, name: 'primary on call', delaySeconds: 0, target: { type: 'schedule', scheduleId }, retry: { maxAttempts: 1, backoffSeconds: 1 } }];
    const scheduleRun = reportEvents(
      alertHistory(alertId, teamId, [
        { type: 'TriggerAlert', alertId, teamId, flow: { flowId, version: 1, repeat: 0, nodes: onCallNodes }, summary: 'queue stuck', details: null, severity: 'warning', dedupKey: null, source: 'api', now: at(0) },
        { type: 'FireEscalationStep', alertId, epoch: 0, loop: 0, step: 0, deliveryId: delivery(1), now: new Date(t0 + 40), onCall: { userIds: [alice, bob], reason: null }, rules: {} },
      ]),
    );
    const [step] = incidentReport(scheduleRun, nameOf)!.steps;
    expect(step!.onCall).toEqual({ scheduleId, users: [{ userId: alice, name: 'Alice Liddell' }, { userId: bob, name: 'Bob' }], reason: null });
    expect(step!.pages.map((page) => [page.channel, page.recipient?.name])).toEqual([['user', 'Alice Liddell'], ['user', 'Bob']]);
    expect(incidentReportMarkdown(incidentReport(scheduleRun, nameOf)!)).toContain(`On call on schedule \`${scheduleId}\`: Alice Liddell (user:${alice}), Bob (user:${bob}).`);
  });

  it('names every user the events mention', () => {
    expect(usersNamedIn(events).sort()).toEqual([alice, bob].sort());
  });

  it('is null for a stream that does not start with a trigger', () => {
    expect(incidentReport(events.slice(1), nameOf)).toBeNull();
  });

  it('renders markdown a reviewer can read', () => {
    const markdown = incidentReportMarkdown(report);
    expect(markdown).toContain('# Incident report: checkout down');
    expect(markdown).toContain(`| Acknowledged | ${iso(90)} by Alice Liddell (user:${alice}) (1 min 30 s after the trigger) |`);
    expect(markdown).toContain('| Time to resolve | 5 min 0 s |');
    expect(markdown).toContain(`Due ${iso(0)}, fired ${new Date(t0 + 200).toISOString()}, lag 200 ms.`);
    expect(markdown).toContain(`  - attempt 1: started ${new Date(t0 + 300).toISOString()}, failed at ${new Date(t0 + 500).toISOString()}: HTTP 500, retry at ${new Date(t0 + 10_500).toISOString()}`);
    expect(markdown).toContain(`- Alice Liddell (user:${alice}) by e-mail alice@example.com: **pending**`);
    expect(markdown).toContain('  > rolled back\n  > the deploy');
    expect(markdown).toMatch(/\| \d+ \| \S+ \| SomethingNewHappened \| system:future \|/);
  });

  it('formats durations for people', () => {
    expect([850, 12_345, 303_000, 7_500_000, 3 * 86_400_000 + 4 * 3_600_000].map(formatDuration)).toEqual(['850 ms', '12.3 s', '5 min 3 s', '2 h 5 min', '3 d 4 h']);
  });
});
