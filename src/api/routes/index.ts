import type { AnyRouteSpec } from '../routing.js';
import { actionLinkRoutes } from './action-links.js';
import { alertRoutes } from './alerts.js';
import { apiTokenRoutes } from './api-tokens.js';
import { auditRoute } from './audit.js';
import { authRoutes } from './auth.js';
import { contactMethodRoutes } from './contact-methods.js';
import { flowRoutes } from './flows.js';
import { incidentReviewRoutes } from './incident-review.js';
import { integrationRoutes } from './integrations.js';
import { inviteRoutes } from './invites.js';
import { maintenanceWindowRoutes } from './maintenance-windows.js';
import { meRoute } from './me.js';
import { notificationRoutes } from './notifications.js';
import { pagerDutyRoutes } from './pagerduty.js';
import { scheduleRoutes } from './schedules.js';
import { subscriptionRoutes } from './subscriptions.js';
import { teamRoutes } from './teams.js';

export const routes: readonly AnyRouteSpec[] = [
  ...alertRoutes,
  auditRoute,
  ...flowRoutes,
  ...scheduleRoutes,
  ...integrationRoutes,
  ...pagerDutyRoutes,
  ...apiTokenRoutes,
  ...authRoutes,
  meRoute,
  ...contactMethodRoutes,
  ...teamRoutes,
  ...inviteRoutes,
  ...actionLinkRoutes,
  ...maintenanceWindowRoutes,
  ...notificationRoutes,
  ...incidentReviewRoutes,
  ...subscriptionRoutes,
];
