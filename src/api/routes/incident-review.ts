import { z } from 'zod';
import { IncidentReport } from '../../domain/alert/report.js';
import { incidentReportMarkdown } from '../../domain/alert/report-markdown.js';
import type { TeamRole } from '../../domain/team/roles.js';
import { Timestamp } from '../../domain/schemas.js';
import { incidentAnalytics, MAX_ANALYTICS_RANGE_DAYS } from '../../projections/queries/incident-analytics.js';
import { incidentReportOf } from '../../projections/queries/incident-report.js';
import { badRequest, notFoundProblem } from '../problem.js';
import { redactWebhookTargets, webhookTargetsFor } from '../redaction.js';
import { routeGroup } from '../routing.js';
import { AlertParams, pageLimit, TeamParams } from '../schemas.js';

const route = routeGroup({ tag: 'incident review' });

const DAY_MS = 86_400_000;
const DEFAULT_ANALYTICS_RANGE_DAYS = 30;

/** The report as the team may see it: a person's own webhook is redacted for everyone, a flow's as the role allows (see notificationTargetFor). */
function reportFor(role: TeamRole, report: IncidentReport): IncidentReport {
  const personalRequest = (entry: IncidentReport['timeline'][number]) =>
    entry.type === 'NotificationRequested' && typeof entry.data === 'object' && entry.data !== null && 'recipient' in entry.data;
  return webhookTargetsFor(role, {
    ...report,
    steps: report.steps.map((step) => ({ ...step, pages: step.pages.map((page) => (page.recipient ? redactWebhookTargets(page) : page)) })),
    timeline: report.timeline.map((entry) => (personalRequest(entry) ? { ...entry, data: redactWebhookTargets(entry.data) } : entry)),
  });
}

const reportRoute = route('get', '/teams/:teamId/alerts/:alertId/report', {
  summary:
    'One reviewable account of the alert, computed from its events: trigger, acknowledgement and resolution times, every step with due and fire times and lag, who was paged through which channel with every attempt, notes, repeats, the flow version; `format=md` for markdown',
  permission: 'team:read',
  params: AlertParams,
  query: z.object({ format: z.enum(['json', 'md']).default('json') }),
  responses: { 200: IncidentReport },
  async handler({ params, query, role, services }) {
    const report = await incidentReportOf(services, params.alertId, params.teamId);
    if (!report) throw notFoundProblem('alert not found');
    const visible = reportFor(role, report);
    if (query.format === 'md') return { status: 200, body: incidentReportMarkdown(visible), headers: { 'Content-Type': 'text/markdown; charset=utf-8' } };
    return { status: 200, body: visible };
  },
});

const DurationStats = z.object({ count: z.int(), mean: z.number().nullable(), p90: z.number().nullable() });
const FlowAnalytics = z.object({
  flowId: z.uuid(),
  name: z.string().nullable(),
  alertsTriggered: z.int(),
  timeToAcknowledgeMs: DurationStats,
  timeToResolveMs: DurationStats,
  pages: z.int(),
  undeliveredPages: z.int(),
  pagesPerPerson: z.array(z.object({ userId: z.uuid(), name: z.string().nullable(), pages: z.int() })),
  escalationLagMs: z.object({ steps: z.int(), p99: z.number().nullable() }),
});
const Analytics = z.object({
  from: Timestamp,
  to: Timestamp,
  flows: z.array(FlowAnalytics),
  /** The next page: pass it as `after`; null on the last page. */
  next: z.uuid().nullable(),
});

const analyticsRoute = route('get', '/teams/:teamId/analytics', {
  summary: `Per flow (in order of id, paged) over [from, to) (default the last ${DEFAULT_ANALYTICS_RANGE_DAYS} days, at most ${MAX_ANALYTICS_RANGE_DAYS}): alerts triggered, mean and p90 time to acknowledge and to resolve (ms), pages per person, undelivered pages, escalation lag p99 (ms)`,
  permission: 'team:read',
  params: TeamParams,
  query: z.object({
    from: Timestamp.optional(),
    to: Timestamp.optional(),
    limit: pageLimit(500, 100),
    /** The next page: the flows after this one (`next` of the previous page); flows come in order of id. */
    after: z.uuid().optional(),
  }),
  responses: { 200: Analytics },
  async handler({ params, query, services }) {
    const to = query.to ? new Date(query.to) : services.clock();
    const from = query.from ? new Date(query.from) : new Date(to.getTime() - DEFAULT_ANALYTICS_RANGE_DAYS * DAY_MS);
    const rangeRefused = (message: string, code: string) => badRequest(message, { code, errors: [{ path: 'query.to', message }] });
    if (to.getTime() <= from.getTime()) throw rangeRefused('`to` must be after `from`', 'invalid_analytics_range');
    if (to.getTime() - from.getTime() > MAX_ANALYTICS_RANGE_DAYS * DAY_MS) {
      throw rangeRefused(`at most ${MAX_ANALYTICS_RANGE_DAYS} days per call`, 'analytics_range_too_long');
    }
    const { flows, more } = await incidentAnalytics(services.db, params.teamId, from, to, { limit: query.limit, ...(query.after ? { after: query.after } : {}) });
    return { status: 200, body: { from: from.toISOString(), to: to.toISOString(), flows, next: more ? flows.at(-1)!.flowId : null } };
  },
});

export const incidentReviewRoutes = [reportRoute, analyticsRoute];
