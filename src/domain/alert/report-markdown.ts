import type { NodeTarget } from '../flow/node.js';
import type { IncidentReport } from './report.js';

type Actor = NonNullable<IncidentReport['acknowledgedBy']>;
type Page = IncidentReport['steps'][number]['pages'][number];

/** 850 ms, 12.3 s, 5 min 3 s, 2 h 5 min, 3 d 4 h. */
export function formatDuration(ms: number): string {
  const sign = ms < 0 ? '-' : '';
  const abs = Math.abs(ms);
  if (abs < 1000) return `${sign}${Math.round(abs)} ms`;
  if (abs < 60_000) return `${sign}${(abs / 1000).toFixed(1)} s`;
  const seconds = Math.round(abs / 1000);
  if (seconds < 3600) return `${sign}${Math.floor(seconds / 60)} min ${seconds % 60} s`;
  const minutes = Math.round(seconds / 60);
  if (minutes < 1440) return `${sign}${Math.floor(minutes / 60)} h ${minutes % 60} min`;
  const hours = Math.round(minutes / 60);
  return `${sign}${Math.floor(hours / 24)} d ${hours % 24} h`;
}

/** Text from outside (summaries, notes, errors) kept on its line and out of the table's syntax. */
const inline = (text: string) => text.replace(/\s+/g, ' ').replace(/([\\|`*_[\]<>])/g, '\\$1');

const who = (actor: Actor) => (actor.name ? `${inline(actor.name)} (${actor.actor})` : actor.actor);
const personName = (person: { userId: string; name: string | null }) => (person.name ? `${inline(person.name)} (user:${person.userId})` : `user:${person.userId}`);

function targetText(target: NodeTarget): string {
  switch (target.type) {
    case 'user':
      return `user:${target.userId}`;
    case 'email':
      return `e-mail ${inline(target.email)}`;
    case 'webhook':
      return `webhook ${inline(target.url)}`;
    case 'schedule':
      return `schedule ${target.scheduleId}`;
  }
}

function pageLines(page: Page): string[] {
  const to = page.recipient ? `${personName(page.recipient)} by ${targetText(page.target)}` : targetText(page.target);
  const lines = [`- ${to}: **${page.status.replace('_', ' ')}**${page.notBefore ? ` (not before ${page.notBefore})` : ''} — delivery \`${page.deliveryId}\``];
  for (const attempt of page.attempts) {
    const outcome =
      attempt.outcome === 'in_flight'
        ? 'no outcome recorded'
        : `${attempt.outcome} at ${attempt.outcomeAt}${attempt.error ? `: ${inline(attempt.error)}` : ''}${attempt.retryAt ? `, retry at ${attempt.retryAt}` : ''}`;
    lines.push(`  - attempt ${attempt.attempt}: started ${attempt.startedAt}, ${outcome}`);
  }
  if (page.cancelled) lines.push(`  - cancelled at ${page.cancelled.at}: the alert was ${page.cancelled.reason}`);
  for (const resend of page.resends) lines.push(`  - resend requested at ${resend.at} by ${who(resend.by)}`);
  return lines;
}

/** The report as a human reviewer reads it. */
export function incidentReportMarkdown(report: IncidentReport): string {
  const { alert, flow } = report;
  const after = (ms: number | null) => (ms === null ? '' : ` (${formatDuration(ms)} after the trigger)`);
  const lines: string[] = [
    `# Incident report: ${inline(alert.summary)}`,
    '',
    '| | |',
    '|---|---|',
    `| Alert | \`${alert.id}\` |`,
    `| Severity | ${alert.severity} |`,
    `| Status | ${alert.status} |`,
    `| Flow | \`${flow.id}\` version ${flow.version} (${flow.steps.length} steps, repeated ${flow.repeat} times) |`,
    `| Triggered | ${report.triggeredAt}${alert.source ? ` from ${inline(alert.source)}` : ''} |`,
    `| Acknowledged | ${report.acknowledgedAt ? `${report.acknowledgedAt} by ${who(report.acknowledgedBy!)}${after(report.timeToAcknowledgeMs)}` : 'never'} |`,
    `| Resolved | ${report.resolvedAt ? `${report.resolvedAt} by ${who(report.resolvedBy!)}${after(report.timeToResolveMs)}` : 'not yet'} |`,
    `| Time to acknowledge | ${report.timeToAcknowledgeMs === null ? '—' : formatDuration(report.timeToAcknowledgeMs)} |`,
    `| Time to resolve | ${report.timeToResolveMs === null ? '—' : formatDuration(report.timeToResolveMs)} |`,
    `| Repeats | ${report.repeats.count}${alert.dedupKey ? ` (dedup key \`${inline(alert.dedupKey)}\`)` : ''}${report.repeats.lastAt ? `, last at ${report.repeats.lastAt}` : ''} |`,
    '',
    '## Escalation',
    '',
  ];
  if (report.steps.length === 0) lines.push('No step fired.', '');
  for (const step of report.steps) {
    lines.push(
      `### Step ${step.step + 1}${step.name ? ` "${inline(step.name)}"` : ''}, loop ${step.loop + 1}`,
      '',
      `Due ${step.dueAt}, fired ${step.firedAt}, lag ${formatDuration(step.lagMs)}.${step.target ? ` Target: ${targetText(step.target)}.` : ''}`,
      '',
    );
    if (step.onCall) {
      const onCall = step.onCall.users.length ? step.onCall.users.map(personName).join(', ') : `nobody (${inline(step.onCall.reason ?? 'nobody on call')})`;
      lines.push(`On call on schedule \`${step.onCall.scheduleId}\`: ${onCall}.`, '');
    }
    if (step.pages.length === 0) lines.push('Nobody was paged.', '');
    else lines.push(...step.pages.flatMap(pageLines), '');
  }
  if (report.nextStep) lines.push(`Next: step ${report.nextStep.step + 1}, loop ${report.nextStep.loop + 1}, due ${report.nextStep.dueAt}.`, '');

  lines.push('## Changes', '');
  if (report.lifecycle.length === 0) lines.push('None.');
  for (const change of report.lifecycle) {
    lines.push(`- ${change.at} ${change.change.replaceAll('_', ' ')}${change.by ? ` by ${who(change.by)}` : ''}${change.until ? ` until ${change.until}` : ''}`);
  }
  lines.push('', '## Notes', '');
  if (report.notes.length === 0) lines.push('None.');
  for (const note of report.notes) lines.push(`- ${note.at} ${who(note.by)}:`, ...note.text.split("\n").map((line) => `  > ${inline(line)}`));
  lines.push('', '## Timeline', '', '| # | Recorded | Event | Actor |', '|---|---|---|---|');
  for (const entry of report.timeline) lines.push(`| ${entry.version} | ${entry.at} | ${entry.type} | ${entry.actor} |`);
  if (!report.complete) lines.push('', `The stream holds more events than a report reads; this one stops after event ${report.timeline.at(-1)?.version ?? 0}.`);
  return `${lines.join('\n')}\n`;
}
