import { z } from 'zod';
import { actOnAlert, type AlertAction } from '../../commands/alerts.js';
import type { Actor } from '../../eventstore/types.js';
import { type ActionLinkClaims, actionLinkKey, readActionToken } from '../../infra/action-link-tokens.js';
import { actionErrorPage, type ActionPageAlert, actionPage } from '../action-page.js';
import { forbiddenProblem, HttpProblem, notFoundProblem } from '../problem.js';
import { routeGroup } from '../routing.js';
import type { ApiServices } from '../services.js';

const route = routeGroup({ tag: 'action links' });

/** The token is the credential: it names the alert, the delivery and its recipient, and is checked before anything. */
const ActionLinkParams = z.object({ token: z.string().min(1).max(2048) });

const PAGE_SUMMARY = "The alert's summary, status and the actions still open to it, for the person a page went to";

/** The alert an action link opens, and who acts through it; refused (nothing done) unless it still stands. */
async function openActionLink(services: ApiServices, token: string): Promise<{ claims: ActionLinkClaims; alert: ActionPageAlert; actor: Actor }> {
  const reading = readActionToken(actionLinkKey(services.config.jwtSecret), token, services.clock());
  if (reading.status === 'invalid') throw notFoundProblem('This link is not valid. Open the alert in AlertOps instead.');
  if (reading.status === 'expired') throw new HttpProblem(410, 'Gone', 'This link has expired. Open the alert in AlertOps instead.');
  const { claims } = reading;
  const alert = await services.db
    .selectFrom('alerts')
    .select(['summary', 'severity', 'status'])
    .where('id', '=', claims.alertId)
    .where('team_id', '=', claims.teamId)
    .executeTakeFirst();
  if (!alert) throw notFoundProblem('This link leads to no alert.');
  if (claims.userId) {
    const member = await services.db
      .selectFrom('team_members')
      .select('user_id')
      .where('team_id', '=', claims.teamId)
      .where('user_id', '=', claims.userId)
      .executeTakeFirst();
    if (!member) throw forbiddenProblem('This link was sent to someone who is no longer a member of the team.');
  }
  return { claims, alert, actor: claims.userId ? `user:${claims.userId}` : `link:${claims.deliveryId}` };
}

const showActionPage = route('get', '/a/:token', {
  summary: PAGE_SUMMARY,
  permission: 'public',
  params: ActionLinkParams,
  responses: { 200: z.string() },
  errorPage: actionErrorPage,
  async handler({ params, services }) {
    const { alert } = await openActionLink(services, params.token);
    const page = actionPage(params.token, alert);
    return { status: 200, body: page.html, headers: page.headers };
  },
});

/** Acts, then sends the browser back to the page (POST-redirect-GET), which shows the status the action left. */
function actionRoute(action: Extract<AlertAction, 'acknowledge' | 'resolve'>, summary: string) {
  return route('post', `/a/:token/${action}`, {
    summary,
    permission: 'public',
    params: ActionLinkParams,
    responses: { 303: null },
    errorPage: actionErrorPage,
    replayable: false,
    async handler({ params, services }) {
      const { claims, actor } = await openActionLink(services, params.token);
      const result = await actOnAlert(services, { teamId: claims.teamId, alertId: claims.alertId, action, actor, now: services.clock() });
      // Relative to /a/<token>/<action>, so it holds behind a proxy that serves AlertOps under a path.
      return { status: 303, headers: { Location: `../${params.token}`, 'Cache-Control': 'no-store', 'Referrer-Policy': 'no-referrer' }, position: result.position };
    },
  });
}

export const actionLinkRoutes = [
  showActionPage,
  actionRoute('acknowledge', 'Acknowledge the alert of an action link (a second use changes nothing), then show its page'),
  actionRoute('resolve', 'Resolve the alert of an action link (a second use changes nothing), then show its page'),
];
