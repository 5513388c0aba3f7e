import { alertsProjection, inFlightProjection } from './alerts.js';
import { apiTokensProjection } from './api-tokens.js';
import { contactMethodsProjection } from './contact-methods.js';
import { flowsProjection } from './flows.js';
import { incidentAnalyticsProjection } from './incident-analytics.js';
import { invitesProjection } from './invites.js';
import { maintenanceWindowsProjection } from './maintenance-windows.js';
import type { Projection } from './projection.js';
import { schedulesProjection } from './schedules.js';
import { sessionsProjection } from './sessions.js';
import { subscriptionsProjection } from './subscriptions.js';
import { teamsProjection } from './teams.js';
import { usersProjection } from './users.js';

/** The read models, kept together by one subscription; a command's response waits until it has passed its position. */
export const readModelProjections: readonly Projection[] = [
  alertsProjection,
  inFlightProjection,
  flowsProjection,
  usersProjection,
  sessionsProjection,
  teamsProjection,
  invitesProjection,
  schedulesProjection,
  contactMethodsProjection,
  maintenanceWindowsProjection,
  incidentAnalyticsProjection,
  apiTokensProjection,
  subscriptionsProjection,
];
