import type { AnyRouteSpec } from '../routing.js';
import { alertRoutes } from './alerts.js';
import { auditRoute } from './audit.js';
import { flowRoutes } from './flows.js';

export const routes: readonly AnyRouteSpec[] = [
  ...alertRoutes,
  auditRoute,
  ...flowRoutes,
];
